/**
 * SigV4 verification against requests signed by the AWS SDK's signer (@smithy/signature-v4): what passes,
 * and the EC2 code each kind of bad signature gets. A frozen clock makes freshness checks exact.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { Ec2Error } from '../../src/api/ec2/ec2-errors.js';
import { type SignedRequest, verifySigV4 } from '../../src/api/ec2/sigv4-verify.js';
import type { Principal } from '../../src/core/model.js';

const KEY_ID = 'AKIATESTTESTTESTTEST';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = Date.parse('2025-06-01T12:00:00Z');
const principal: Principal = { tokenId: 'tok-1', name: 'ci', role: 'operator' };
const resolve = async (id: string) => (id === KEY_ID ? { secret: SECRET, principal } : undefined);

type Signable = Parameters<SignatureV4['sign']>[0];

/** Signs a POST the way the SDK does and answers it as the router hands it to the verifier. */
async function signed(
  body: string,
  opts: {
    region?: string;
    service?: string;
    at?: number;
    secret?: string;
    query?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
): Promise<SignedRequest> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: KEY_ID, secretAccessKey: opts.secret ?? SECRET },
    region: opts.region ?? 'sim-east',
    service: opts.service ?? 'ec2',
    sha256: Sha256,
  });
  const request = {
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 8080,
    path: '/ec2',
    query: opts.query ?? {},
    headers: { host: '127.0.0.1:8080', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...opts.headers },
    body,
  } as Signable;
  const out = await signer.sign(request, { signingDate: new Date(opts.at ?? NOW) });
  const headers = Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: 'POST', path: '/ec2', query: opts.query ?? {}, headers, body: Buffer.from(body) };
}

async function codeOf(req: SignedRequest, now = NOW): Promise<string> {
  try {
    await verifySigV4(req, resolve, now);
  } catch (e) {
    assert.ok(e instanceof Ec2Error, String(e));
    return e.code;
  }
  assert.fail('verified');
}

const BODY = 'Action=DescribeInstances&Version=2016-11-15';

describe('verifySigV4', () => {
  it('accepts what the SDK signed and answers the key, region and principal', async () => {
    const v = await verifySigV4(await signed(BODY, { region: 'sim-west' }), resolve, NOW);
    assert.deepEqual(v, { accessKeyId: KEY_ID, region: 'sim-west', principal });
  });

  it('accepts a signed query string too, and a clock up to 5 minutes off either way', async () => {
    await verifySigV4(
      await signed('', { query: { Action: 'DescribeRegions', Version: '2016-11-15', 'Filter.1.Name': 'a b' } }),
      resolve,
      NOW,
    );
    await verifySigV4(await signed(BODY), resolve, NOW + 4.9 * 60_000);
    await verifySigV4(await signed(BODY), resolve, NOW - 4.9 * 60_000);
  });

  it('accepts a pre-signed request until it expires', async () => {
    const signer = new SignatureV4({
      credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
      region: 'sim-east',
      service: 'ec2',
      sha256: Sha256,
    });
    const url = await signer.presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: '/ec2',
        query: { Action: 'DescribeRegions' },
        headers: { host: '127.0.0.1:8080' },
      } as Signable,
      { signingDate: new Date(NOW), expiresIn: 60 },
    );
    const req: SignedRequest = {
      method: 'GET',
      path: '/ec2',
      query: url.query as Record<string, string>,
      headers: { host: '127.0.0.1:8080' },
      body: Buffer.alloc(0),
    };
    assert.equal((await verifySigV4(req, resolve, NOW + 30_000)).accessKeyId, KEY_ID);
    assert.equal(await codeOf(req, NOW + 61_000), 'RequestExpired');
    assert.equal(await codeOf({ ...req, query: { ...req.query, Action: 'RunInstances' } }), 'SignatureDoesNotMatch');
  });

  it('refuses a changed body, a changed header, another secret, another service', async () => {
    const good = await signed(BODY);
    assert.equal(await codeOf({ ...good, body: Buffer.from(`${BODY}&DryRun=true`) }), 'SignatureDoesNotMatch');
    assert.equal(await codeOf({ ...good, headers: { ...good.headers, 'content-type': 'text/plain' } }), 'SignatureDoesNotMatch');
    assert.equal(await codeOf({ ...good, headers: { ...good.headers, host: 'evil:8080' } }), 'SignatureDoesNotMatch');
    assert.equal(await codeOf({ ...good, path: '/ec2/other' }), 'SignatureDoesNotMatch');
    assert.equal(await codeOf(await signed(BODY, { secret: `${SECRET}x` })), 'SignatureDoesNotMatch');
    assert.equal(await codeOf(await signed(BODY, { service: 's3' })), 'SignatureDoesNotMatch');
  });

  it('checks a request sent again as strictly: a signature computed before is reused only for the very same inputs', async () => {
    const good = await signed(BODY);
    for (let i = 0; i < 3; i++) assert.equal((await verifySigV4(good, resolve, NOW)).accessKeyId, KEY_ID);
    // The same request after it was verified (its signature kept), each part changed in turn, is still refused.
    assert.equal(await codeOf({ ...good, body: Buffer.from(`${BODY}&DryRun=true`) }), 'SignatureDoesNotMatch');
    assert.equal(await codeOf({ ...good, headers: { ...good.headers, host: 'evil:8080' } }), 'SignatureDoesNotMatch');
    assert.equal(await codeOf({ ...good, query: { Action: 'TerminateInstances' } }), 'SignatureDoesNotMatch');
    // A key whose secret changed (rotated) no longer accepts what the old secret signed.
    const rotated = async (id: string) => (id === KEY_ID ? { secret: `${SECRET}-new`, principal } : undefined);
    await assert.rejects(verifySigV4(good, rotated, NOW), (e) => e instanceof Ec2Error && e.code === 'SignatureDoesNotMatch');
    assert.equal((await verifySigV4(good, resolve, NOW)).accessKeyId, KEY_ID);
  });

  it('refuses an unknown key, a stale or future date, and a missing or malformed Authorization', async () => {
    const good = await signed(BODY);
    const auth = String(good.headers.authorization);
    assert.equal(
      await codeOf({ ...good, headers: { ...good.headers, authorization: auth.replace(KEY_ID, 'AKIAUNKNOWNUNKNOWN00') } }),
      'AuthFailure',
    );
    assert.equal(await codeOf(good, NOW + 5 * 60_000 + 1000), 'RequestExpired');
    assert.equal(await codeOf(good, NOW - 5 * 60_000 - 1000), 'RequestExpired');
    const { authorization: _a, ...unsigned } = good.headers;
    assert.equal(await codeOf({ ...good, headers: unsigned }), 'MissingAuthenticationToken');
    assert.equal(
      await codeOf({ ...good, headers: { ...good.headers, authorization: 'AWS4-ECDSA-P256-SHA256 Credential=x' } }),
      'IncompleteSignature',
    );
    assert.equal(
      await codeOf({ ...good, headers: { ...good.headers, authorization: auth.replace(/Signature=[0-9a-f]+/, '') } }),
      'IncompleteSignature',
    );
    const { 'x-amz-date': _d, ...undated } = good.headers;
    assert.equal(await codeOf({ ...good, headers: undated }), 'IncompleteSignature');
    const otherDay = auth.replace('/20250601/', '/20250602/');
    assert.equal(await codeOf({ ...good, headers: { ...good.headers, authorization: otherDay } }), 'SignatureDoesNotMatch');
  });

  it('checks a signed payload hash against the body instead of trusting it', async () => {
    const good = await signed(BODY);
    assert.ok(String(good.headers.authorization).includes('x-amz-content-sha256'), 'the SDK signs the payload hash header');
    assert.equal(
      await codeOf({ ...good, body: Buffer.from('Action=TerminateInstances&Version=2016-11-15') }),
      'SignatureDoesNotMatch',
    );
    // A client that signed "UNSIGNED-PAYLOAD" did not sign the body, which EC2 requires.
    const unsignedPayload = await signed(BODY, { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    assert.equal(await codeOf(unsignedPayload), 'SignatureDoesNotMatch');
  });
});
