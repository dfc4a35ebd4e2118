/**
 * Repeated failed authentication from one address is throttled: 429 with Retry-After (problem+json on
 * REST, RequestLimitExceeded on EC2), counted in /metrics, with a bounded memory of addresses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validateResponse } from '../../src/api/rest/openapi-validator.js';
import { AuthThrottle } from '../../src/core/services/auth-throttle.js';
import { SkygateError } from '../../src/core/errors.js';
import { rawEc2 } from '../helpers/ec2-signer.js';
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const MAX = 3;
const env = { SKYGATE_AUTH_MAX_FAILURES: String(MAX), SKYGATE_AUTH_FAILURE_WINDOW_MS: '60000' };

async function metric(gw: TestGateway, front: string, outcome: string): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`skygate_auth_failures_total{front="${front}",outcome="${outcome}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

async function restGet(gw: TestGateway, token: string) {
  const res = await fetch(`${gw.url}/v1/providers`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(validateResponse('GET', '/v1/providers', res.status, res.headers.get('content-type') ?? undefined, body), []);
  return { status: res.status, headers: res.headers, body };
}

describe('REST: failed bearer tokens', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ env });
  });
  after(async () => {
    await gw.close();
  });

  it(`answers 401 ${MAX} times, then 429 with Retry-After, even to a good token from that address`, async () => {
    const rejectedBefore = await metric(gw, 'rest', 'rejected');
    const throttledBefore = await metric(gw, 'rest', 'throttled');
    // A missing token is a misconfigured client, not a guess: it does not count.
    for (let i = 0; i < MAX + 2; i++) assert.equal((await fetch(`${gw.url}/v1/providers`)).status, 401);
    for (let i = 0; i < MAX; i++) assert.equal((await restGet(gw, `guess-${i}`)).status, 401);
    const refused = await restGet(gw, 'guess-next');
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
    const wait = Number(refused.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After is the rest of the window (${wait})`);
    assert.equal(refused.body.code, 'throttled');
    assert.match(String(refused.body.detail), /too many failed authentication attempts from this address/);
    // Refused before the token is looked at, or guessing could go on at full speed.
    assert.equal((await restGet(gw, ADMIN_TOKEN)).status, 429);
    assert.equal((await metric(gw, 'rest', 'rejected')) - rejectedBefore, MAX);
    assert.equal((await metric(gw, 'rest', 'throttled')) - throttledBefore, 2);
  });
});

describe('EC2: failed signatures', () => {
  let gw: TestGateway;
  let creds: { accessKeyId: string; secretAccessKey: string };
  before(async () => {
    gw = await startTestGateway({ env });
    const key = await gw.api('post', '/v1/access-keys', { name: 'throttle' });
    creds = { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey };
  });
  after(async () => {
    await gw.close();
  });

  it(`answers SignatureDoesNotMatch ${MAX} times, then RequestLimitExceeded with 429 and Retry-After`, async () => {
    const params = { Action: 'DescribeRegions', Version: '2016-11-15' };
    assert.equal((await rawEc2(gw.url, creds, params)).status, 200);
    const rejectedBefore = await metric(gw, 'ec2', 'rejected');
    const wrong = { ...creds, secretAccessKey: `${creds.secretAccessKey}x` };
    for (let i = 0; i < MAX; i++) assert.equal((await rawEc2(gw.url, wrong, params)).code, 'SignatureDoesNotMatch');
    const refused = await fetch(`${gw.url}/ec2`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'AWS4-HMAC-SHA256 Credential=x' },
      body: 'Action=DescribeRegions&Version=2016-11-15',
    });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.match(await refused.text(), /<Code>RequestLimitExceeded<\/Code>/);
    const good = await rawEc2(gw.url, creds, params);
    assert.equal(good.code, 'RequestLimitExceeded', 'a good signature from that address waits too');
    assert.equal((await metric(gw, 'ec2', 'rejected')) - rejectedBefore, MAX);
  });
});

describe('AuthThrottle', () => {
  it('forgets an address when its window ends, and keeps at most maxAddresses', () => {
    let now = 0;
    const t = new AuthThrottle({ maxFailures: 2, windowMs: 1_000, maxAddresses: 100 }, () => now);
    t.fail('a', 'rest');
    t.fail('a', 'rest');
    assert.throws(
      () => t.check('a', 'rest'),
      (e: unknown) => e instanceof SkygateError && e.retryAfter === 1,
    );
    t.check('b', 'rest');
    now = 1_000;
    t.check('a', 'rest');
    for (let i = 0; i < 1_000; i++) t.fail(`10.0.${i >> 8}.${i & 255}`, 'rest');
    assert.equal(t.size, 100, 'memory stays bounded under many addresses');
  });
});
