/**
 * The HTTP edge's answers to requests that are wrong at the HTTP level: bodies that are not what their
 * Content-Encoding says, missing content types, wrong methods, missing tokens, paths under /ec2 and
 * duplicate EC2 parameters. Each against a real gateway on a real socket.
 */
import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { after, before, describe, it } from 'node:test';
import { validateResponse } from '../../src/api/rest/openapi-validator.js';
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway();
});
after(async () => {
  await gw.close();
});

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** A REST call by fetch, its answer checked against the spec and read as a problem. */
async function rest(method: string, path: string, init: { headers?: Record<string, string>; body?: string | Blob } = {}) {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: init.headers,
    ...(init.body !== undefined && { body: init.body }),
  });
  const text = await res.text();
  const body = text === '' ? undefined : (JSON.parse(text) as { code: string; detail: string; field?: string; status: number });
  assert.deepEqual(
    validateResponse(method, path.split('?')[0] ?? path, res.status, res.headers.get('content-type') ?? undefined, body),
    [],
    `${method} ${path} -> ${res.status} matches the spec`,
  );
  return { status: res.status, headers: res.headers, body };
}

const ec2Form = 'Action=DescribeInstances&Version=2016-11-15';

describe('HTTP edge: Content-Encoding', () => {
  for (const encoding of ['gzip', 'deflate']) {
    it(`REST: a body labelled ${encoding} that is not is a 400 naming the encoding`, async () => {
      const res = await rest('POST', '/v1/tokens', {
        headers: { ...auth, 'content-type': 'application/json', 'content-encoding': encoding },
        body: '{"name":"x","role":"viewer"}',
      });
      assert.equal(res.status, 400);
      assert.equal(res.body?.field, 'header.content-encoding');
      assert.match(res.body?.detail ?? '', /not valid data of its Content-Encoding/);
    });

    it(`EC2: a body labelled ${encoding} that is not is a 400 in EC2's XML`, async () => {
      const res = await fetch(`${gw.url}/ec2`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': encoding },
        body: ec2Form,
      });
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type') ?? '', /xml/);
      const text = await res.text();
      assert.match(text, /<Code>MalformedQueryString<\/Code>/);
      assert.match(text, /not valid data of its Content-Encoding/);
    });
  }

  it('an unsupported encoding is a 415, REST and EC2', async () => {
    const r = await rest('POST', '/v1/tokens', {
      headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'x-squash' },
      body: '{"name":"x","role":"viewer"}',
    });
    assert.equal(r.status, 415);
    assert.equal(r.body?.field, 'header.content-encoding');
    assert.match(r.body?.detail ?? '', /x-squash/);
    const e = await fetch(`${gw.url}/ec2`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'x-squash' },
      body: ec2Form,
    });
    assert.equal(e.status, 415);
    assert.match(await e.text(), /<Code>UnsupportedEncoding<\/Code>/);
  });
});

describe('HTTP edge: content type, method, authentication', () => {
  it('a JSON body without Content-Type is a 415 saying the type is missing, not "body is required"', async () => {
    // A Blob of no type, not a string, so that fetch adds no Content-Type of its own.
    const res = await rest('POST', '/v1/tokens', {
      headers: auth,
      body: new Blob(['{"name":"x","role":"viewer"}']),
    });
    assert.equal(res.status, 415);
    assert.equal(res.body?.field, 'header.content-type');
    assert.match(res.body?.detail ?? '', /is missing; a body must be sent as application\/json/);
    const wrong = await rest('POST', '/v1/tokens', {
      headers: { ...auth, 'content-type': 'text/plain' },
      body: '{"name":"x","role":"viewer"}',
    });
    assert.equal(wrong.status, 415);
    assert.match(wrong.body?.detail ?? '', /must be application\/json/);
  });

  it('a wrong method on a known path is a 405 with Allow; an unknown path stays 404', async () => {
    const res = await rest('DELETE', '/v1/providers', { headers: auth });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    assert.equal(res.body?.field, 'method');
    const put = await rest('PUT', '/v1/operations', { headers: auth });
    assert.equal(put.status, 405);
    assert.match(put.headers.get('allow') ?? '', /GET/);
    const unknown = await rest('GET', '/v1/no-such-collection', { headers: auth });
    assert.equal(unknown.status, 404);
  });

  it('a 401 carries WWW-Authenticate: Bearer', async () => {
    const none = await rest('GET', '/v1/providers');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="skygate"');
    const bad = await rest('GET', '/v1/providers', { headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('www-authenticate'), 'Bearer realm="skygate", error="invalid_token"');
  });
});

describe('HTTP edge: the EC2 front', () => {
  it('answers any path under /ec2 in its XML error format', async () => {
    for (const path of ['/ec2/foo', '/ec2/foo/bar?Action=DescribeInstances']) {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST' });
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /text\/xml/);
      assert.ok(res.headers.get('x-amzn-requestid'));
      const text = await res.text();
      assert.match(text, /<Code>InvalidAction<\/Code>/);
      assert.match(text, /served at \/ec2, not at \/ec2\/foo/);
    }
  });

  it('refuses a duplicate Action in a correctly signed request', async () => {
    const key = await gw.api('post', '/v1/access-keys', { name: 'dup-action' });
    const url = new URL(`${gw.url}/ec2`);
    const signer = new SignatureV4({
      credentials: { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey },
      region: 'sim-east',
      service: 'ec2',
      sha256: Sha256,
    });
    const query = { Action: ['DescribeInstances', 'TerminateInstances'], Version: '2016-11-15', 'InstanceId.1': 'i-1' };
    const signed = await signer.sign({
      method: 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers: { host: url.host },
    });
    const search = 'Action=DescribeInstances&Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-1';
    const { host: _h, ...headers } = signed.headers;
    const res = await fetch(`${url.origin}/ec2?${search}`, { headers });
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assert.match(text, /<Code>MalformedQueryString<\/Code>/);
    assert.match(text, /Action is given more than once/);
  });
});
