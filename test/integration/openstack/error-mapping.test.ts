/**
 * OpenStack's errors in the taxonomy, provoked for real where OpenStack can be made to produce them
 * (404, 409, quota over-limit by lowering the tenant's quotas, 401 by revoking the token in use, a stopped
 * glance), and through the fault proxy where it cannot (a 429, a nova 500, an HTML 502).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { OpenStackCloudAdapter, parseOpenStackSettings } from '../../../adapters/openstack/index.js';
import { isSkygateError, type SkygateError } from '../../../src/core/errors.js';
import { waitFor } from '../../contract/cloud-adapter-contract.js';
import { FaultProxy } from './fault-proxy.js';
import {
  baseImage,
  quietLog,
  revokeToken,
  limitToUsage,
  startService,
  stopService,
  TINY_FLAVOR,
  tenantAdapter,
  tenantSettings,
} from './openstack-env.js';

const REQUEST_ID = /^req-[0-9a-f-]{36}$/;

async function failure(p: Promise<unknown>): Promise<SkygateError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isSkygateError(e), `expected a SkygateError, got ${String(e)}`);
    return e;
  }
  return assert.fail('expected the call to fail');
}

let adapter: OpenStackCloudAdapter;
let imageId: string;
const servers: string[] = [];
const volumes: string[] = [];

const launch = async (name: string) => {
  const vm = await adapter.createInstance({ name, flavorId: TINY_FLAVOR, imageId, clientToken: randomUUID() });
  servers.push(vm.nativeId);
  await waitFor(
    `${name} running`,
    () => adapter.getInstance(vm.nativeId).then((i) => i.state),
    (s) => s === 'running',
    120_000,
  );
  return vm.nativeId;
};

before(async () => {
  adapter = await tenantAdapter();
  imageId = await baseImage(adapter);
});

after(async () => {
  for (const id of volumes) {
    await adapter.detachVolume(id).catch(() => undefined);
    await waitFor(
      'volume detached',
      () => adapter.getVolume(id).then((v) => v.state),
      (s) => s !== 'in-use' && s !== 'detaching',
      60_000,
    ).catch(() => undefined);
    await adapter.deleteVolume(id).catch(() => undefined);
  }
  for (const id of servers) await adapter.deleteInstance(id).catch(() => undefined);
});

describe('answers from OpenStack itself', { timeout: 300_000 }, () => {
  it('404: unknown server, image and volume are not_found, with the request id', async () => {
    for (const err of [
      await failure(adapter.getInstance(randomUUID())),
      await failure(adapter.getImage(randomUUID())),
      await failure(adapter.getVolume(randomUUID())),
    ]) {
      assert.equal(err.code, 'not_found', err.message);
      assert.match(err.requestId ?? '', REQUEST_ID);
      assert.equal(err.provider, 'os-test');
    }
  });

  it('409: rebooting a stopped server and deleting an attached volume are conflicts', async () => {
    const vm = await launch('it-errors-conflict');
    await adapter.stopInstance(vm);
    await waitFor(
      'stopped',
      () => adapter.getInstance(vm).then((i) => i.state),
      (s) => s === 'stopped',
      120_000,
    );
    const reboot = await failure(adapter.rebootInstance(vm));
    assert.equal(reboot.code, 'conflict', reboot.message);
    assert.match(reboot.message, /stopped/);
    assert.match(reboot.requestId ?? '', REQUEST_ID);

    const vol = await adapter.createVolume({ name: 'it-errors-vol', sizeGiB: 1, clientToken: randomUUID() });
    volumes.push(vol.nativeId);
    await waitFor(
      'available',
      () => adapter.getVolume(vol.nativeId).then((v) => v.state),
      (s) => s === 'available',
      120_000,
    );
    await adapter.attachVolume(vol.nativeId, vm);
    await waitFor(
      'in-use',
      () => adapter.getVolume(vol.nativeId).then((v) => v.state),
      (s) => s === 'in-use',
      120_000,
    );
    // cinder answers 400 "Invalid volume: Volume status must be available or error…": a conflict, not bad input
    const del = await failure(adapter.deleteVolume(vol.nativeId));
    assert.equal(del.code, 'conflict', del.message);
    assert.match(del.requestId ?? '', REQUEST_ID);
  });

  it('over-limit: cinder 413 and nova 403 quota answers are quota_exceeded', async () => {
    const restoreCinder = await limitToUsage('cinder', 'volumes');
    try {
      const err = await failure(adapter.createVolume({ name: 'it-over-quota', sizeGiB: 1, clientToken: randomUUID() }));
      assert.equal(err.code, 'quota_exceeded', err.message);
      assert.match(err.message, /413/);
      assert.equal(err.retryAfter, 0, "cinder's Retry-After: 0 is passed on");
      assert.match(err.requestId ?? '', REQUEST_ID);
    } finally {
      await restoreCinder();
    }
    const restoreNova = await limitToUsage('nova', 'instances');
    try {
      const err = await failure(
        adapter.createInstance({ name: 'it-over-quota', flavorId: TINY_FLAVOR, imageId, clientToken: randomUUID() }),
      );
      assert.equal(err.code, 'quota_exceeded', err.message);
      assert.match(err.message, /403.*[Qq]uota/);
    } finally {
      await restoreNova();
    }
  });

  it('503: a stopped glance is provider_unavailable, and answers again once it is back', { timeout: 300_000 }, async () => {
    await stopService('glance-api');
    try {
      const direct = await failure(adapter.getImage(imageId));
      assert.equal(direct.code, 'provider_unavailable', direct.message);
      assert.match(direct.message, /ECONNREFUSED/);
      // the same outage seen through a proxy in front of glance: a 503 with an HTML page
      const proxy = await FaultProxy.start('http://127.0.0.1:9292');
      try {
        const proxied = await tenantAdapter({ endpointOverrides: { image: proxy.url } });
        const err = await failure(proxied.getImage(imageId));
        assert.equal(err.code, 'provider_unavailable', err.message);
        assert.match(err.message, /answered 503 to GET .*: 503 Service Unavailable No server is available/);
        const health = await proxied.health();
        assert.equal(health.status, 'degraded', 'image down, compute up');
        assert.match(health.message ?? '', /image/);
      } finally {
        await proxy.close();
      }
    } finally {
      await startService('glance-api');
    }
    assert.equal((await adapter.getImage(imageId)).state, 'available');
  });
});

describe('tokens', { timeout: 300_000 }, () => {
  it('401: a token revoked at Keystone is renewed transparently, once', async () => {
    const proxy = await FaultProxy.start('http://127.0.0.1:8774');
    try {
      const a = await tenantAdapter({ endpointOverrides: { compute: `${proxy.url}/v2.1` } });
      await a.listFlavors();
      const [first] = proxy.tokens();
      assert.ok(first);
      await revokeToken(first);
      const flavors = await a.listFlavors();
      assert.ok(flavors.some((f) => f.nativeId === TINY_FLAVOR));
      const statuses = proxy.seen.map((s) => s.status);
      assert.deepEqual(statuses, [200, 401, 200], 'one 401, then the same call with a new token');
      assert.equal(proxy.tokens().length, 2);
    } finally {
      await proxy.close();
    }
  });

  it('renews a token before it expires, without a 401', async () => {
    const proxy = await FaultProxy.start('http://127.0.0.1:8774');
    let clock = Date.now();
    try {
      const settings = parseOpenStackSettings(
        'os-clock',
        tenantSettings({ endpointOverrides: { compute: `${proxy.url}/v2.1` } }),
        () => {},
      );
      const a = new OpenStackCloudAdapter('os-clock', settings, quietLog, () => clock);
      await a.listFlavors();
      await a.listFlavors();
      assert.equal(proxy.tokens().length, 1, 'a fresh token is reused');
      clock += 3600_000 - 60_000; // Keystone's tokens live an hour; renewal starts 5 min before the end
      await a.listFlavors();
      assert.equal(proxy.tokens().length, 2, 'a token near expiry is replaced before use');
      assert.ok(
        proxy.seen.every((s) => s.status === 200),
        'no request was refused',
      );
    } finally {
      await proxy.close();
    }
  });

  it('401 after a renewal is unauthorized, not a loop', async () => {
    const proxy = await FaultProxy.start('http://127.0.0.1:8774');
    proxy.hook = () => ({
      status: 401,
      headers: { 'Content-Type': 'application/json', 'x-openstack-request-id': `req-${randomUUID()}` },
      body: '{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}',
    });
    try {
      const a = await tenantAdapter({ endpointOverrides: { compute: `${proxy.url}/v2.1` } });
      const err = await failure(a.listFlavors());
      assert.equal(err.code, 'unauthorized');
      assert.match(err.message, /requires authentication/);
      assert.equal(proxy.seen.length, 2, 'one renewal, then the error');
    } finally {
      await proxy.close();
    }
  });
});

describe('answers only a proxy can give here', { timeout: 120_000 }, () => {
  let proxy: FaultProxy;
  let a: OpenStackCloudAdapter;
  before(async () => {
    proxy = await FaultProxy.start('http://127.0.0.1:8774');
    a = await tenantAdapter({ endpointOverrides: { compute: `${proxy.url}/v2.1` } });
  });
  after(() => proxy.close());

  const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
    const id = `req-${randomUUID()}`;
    proxy.hook = () => ({ status, body, headers: { 'x-compute-request-id': id, ...headers } });
    return id;
  };

  it('429 with Retry-After is throttled with retryAfter', async () => {
    const id = answer(429, '{"overLimit": {"code": 429, "message": "Rate limit exceeded"}}', { 'Retry-After': '7' });
    const err = await failure(a.listFlavors());
    assert.equal(err.code, 'throttled');
    assert.equal(err.retryAfter, 7);
    assert.equal(err.requestId, id, 'x-compute-request-id is the request id when nova sends only that');
    assert.ok(err.retryable);
  });

  it('413 with Retry-After and no quota (old nova rate limits) is throttled', async () => {
    answer(413, '{"overLimit": {"code": 413, "message": "This request was rate-limited.", "retryAfter": "3"}}', {
      'Retry-After': '3',
    });
    const err = await failure(a.listFlavors());
    assert.equal(err.code, 'throttled');
    assert.equal(err.retryAfter, 3);
  });

  it('a nova 500 is provider_unavailable with its message and request id', async () => {
    const id = answer(500, '{"computeFault": {"code": 500, "message": "Unexpected API Error."}}');
    const err = await failure(a.listFlavors());
    assert.equal(err.code, 'provider_unavailable');
    assert.match(err.message, /500.*Unexpected API Error/);
    assert.equal(err.requestId, id);
  });

  it('an HTML 502 from a proxy is provider_unavailable with the page text', async () => {
    answer(
      502,
      '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>',
      { 'Content-Type': 'text/html' },
    );
    const err = await failure(a.listFlavors());
    assert.equal(err.code, 'provider_unavailable');
    assert.match(err.message, /answered 502 to GET .*: 502 Bad Gateway 502 Bad Gateway nginx$/);
  });

  it('a 200 whose body is not JSON is provider_unavailable, not a crash', async () => {
    answer(200, '<html>maintenance</html>', { 'Content-Type': 'text/html' });
    const err = await failure(a.listFlavors());
    assert.equal(err.code, 'provider_unavailable');
    assert.match(err.message, /not JSON: maintenance/);
  });
});
