/** The server's public face: each front at its mount, the open probes at the root, one fallback for the rest. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway();
});
after(async () => {
  await gw.close();
});

describe('server mounts', () => {
  it('answers the probes and metrics at the root without a token', async () => {
    const ready = await fetch(`${gw.url}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { status: string; checks: Record<string, { status: string }> };
    assert.equal(body.status, 'ok');
    assert.equal(body.checks.store?.status, 'ok');
    assert.equal(body.checks.providers?.status, 'ok');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    // Requests to every front are timed by the server, under their full route.
    await fetch(`${gw.url}/healthz`);
    await gw.api('get', '/v1/providers');
    const again = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /skygate_http_request_seconds/);
    assert.match(again, /skygate_http_request_seconds_count\{method="GET",route="\/v1\/providers",status="200"\}/);
    assert.match(again, /skygate_http_request_seconds_count\{method="GET",route="\/healthz",status="200"\}/);
  });

  it('routes /v1 to the REST front and /ec2 to the EC2 front, each in its own dialect', async () => {
    const rest = await fetch(`${gw.url}/v1/nothing-here`);
    assert.equal(rest.status, 401, 'the REST front asks for its token first');
    assert.match(rest.headers.get('content-type') ?? '', /application\/problem\+json/);

    const ec2 = await fetch(`${gw.url}/ec2`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeInstances&Version=2016-11-15',
    });
    assert.equal(ec2.status, 401);
    assert.match(ec2.headers.get('content-type') ?? '', /xml/);
    assert.match(await ec2.text(), /<Code>[A-Za-z]+<\/Code>/);
  });

  it('answers any other path with a problem naming it', async () => {
    const res = await fetch(`${gw.url}/nowhere`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    const problem = (await res.json()) as { code: string; detail: string };
    assert.equal(problem.code, 'not_found');
    assert.match(problem.detail, /GET \/nowhere/);
  });
});
