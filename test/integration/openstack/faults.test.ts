/**
 * Faults with a real gateway in front: wrong credentials, Keystone down, a catalog without block
 * storage, nova failing in the middle of an operation, and the token expiring (revoked) in the middle
 * of one. The gateway must keep serving, and say what is wrong, naming the provider's request id.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createCloudAdapter } from '../../../adapters/openstack/index.js';
import { isSkygateError } from '../../../src/core/errors.js';
import type { Operation } from '../../../src/core/model.js';
import { waitFor } from '../../contract/cloud-adapter-contract.js';
import { simProviders, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { FaultProxy } from './fault-proxy.js';
import {
  baseImage,
  openstackProvider,
  quietLog,
  revokeToken,
  startService,
  stopService,
  TINY_FLAVOR,
  tenantAdapter,
  tenantSettings,
} from './openstack-env.js';

const SIM = simProviders(20).slice(0, 1);
/** A server path with its id: what the wait step polls (not /servers/detail, which the inventory reads). */
const SERVER_GET = /^\/v2\.1\/servers\/[0-9a-f-]{36}$/;

const health = async (gw: TestGateway, id: string) => {
  const res = await gw.api('get', `/v1/providers/${id}/health`);
  assert.equal(res.status, 200);
  return res.body as { status: string; message?: string };
};

const createOn = async (gw: TestGateway, provider: string, body: Record<string, unknown>): Promise<Operation> => {
  const res = await gw.api('post', '/v1/instances', { provider, name: `it-faults-${randomUUID().slice(0, 8)}`, ...body });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return gw.waitOperation((res.body as Operation).id, 120_000);
};

describe('wrong credentials', { timeout: 120_000 }, () => {
  it('are logged clearly at start-up and the adapter still starts', async () => {
    const errors: string[] = [];
    const log = { info() {}, warn() {}, error: (_o: object, msg?: string) => errors.push(msg ?? '') };
    const adapter = await createCloudAdapter({
      providerId: 'os-bad',
      settings: tenantSettings({ password: 'not-the-password' }),
      dataDir: '.',
      log,
    });
    assert.equal(errors.length, 1);
    assert.match(
      errors[0] ?? '',
      /openstack provider 'os-bad' cannot authenticate: Keystone at .* refused the credentials of user 'skygate-tenant'/,
    );
    assert.equal(adapter.capabilities().instances, false, 'nothing is claimed before Keystone accepted the credentials');
    const h = await adapter.health();
    assert.equal(h.status, 'down');
    assert.match(h.message ?? '', /refused the credentials/);
    await assert.rejects(adapter.listFlavors(), (e) => isSkygateError(e) && e.code === 'unauthorized');
  });

  it('show on the provider health at the gateway, and the other providers are unaffected', async () => {
    const gw = await startTestGateway({ providers: [...SIM, openstackProvider('os-bad', { password: 'not-the-password' })] });
    try {
      const bad = await health(gw, 'os-bad');
      assert.equal(bad.status, 'down');
      assert.match(bad.message ?? '', /refused the credentials of user 'skygate-tenant'/);
      assert.equal((await health(gw, 'sim-east')).status, 'up');
      const list = await gw.api('get', '/v1/instances?fresh=true');
      assert.equal(list.status, 200);
      const statuses = Object.fromEntries(
        (list.body as { providers: Array<{ id: string; status: string }> }).providers.map((p) => [p.id, p.status]),
      );
      assert.equal(statuses['sim-east'], 'fresh');
      assert.equal(statuses['os-bad'], 'unavailable');
    } finally {
      await gw.close();
    }
  });
});

describe('Keystone down', { timeout: 300_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ providers: [...SIM, openstackProvider('os')] });
    assert.equal((await health(gw, 'os')).status, 'up');
  });
  after(async () => {
    await gw.close();
  });

  it('marks the provider down while the sim keeps answering; recovers when Keystone is back', async () => {
    await stopService('keystone');
    try {
      const down = await health(gw, 'os');
      assert.equal(down.status, 'down');
      assert.match(down.message ?? '', /keystone at http:\/\/127\.0\.0\.1:5000 is unreachable \(ECONNREFUSED\)/);
      assert.equal((await health(gw, 'sim-east')).status, 'up');
      const providers = await gw.api('get', '/v1/providers');
      assert.equal(providers.status, 200);
      const op = await createOn(gw, 'sim-east', { flavorId: 'sim.small', imageId: 'img-cirros-0-6' });
      assert.equal(op.status, 'succeeded', JSON.stringify(op.error));

      // an adapter that starts while Keystone is down starts all the same, claiming nothing
      const cold = await createCloudAdapter({ providerId: 'os-cold', settings: tenantSettings(), dataDir: '.', log: quietLog });
      assert.equal(cold.capabilities().volumes, false);
      await assert.rejects(cold.listInstances(), (e) => isSkygateError(e) && e.code === 'provider_unavailable');
    } finally {
      await startService('keystone');
    }
    await waitFor(
      'os health',
      () => health(gw, 'os').then((h) => h.status),
      (s) => s === 'up',
      60_000,
    );
  });
});

describe('a catalog without block storage (RegionTwo)', { timeout: 120_000 }, () => {
  it('reports volumes absent; lists are empty and creates fail as unsupported, not 500', async () => {
    const adapter = await tenantAdapter({ region: 'RegionTwo' }, 'os-r2');
    const caps = adapter.capabilities();
    assert.equal(caps.instances, true);
    assert.equal(caps.images, true);
    assert.equal(caps.volumes, false);
    assert.equal(caps.snapshots, false);
    assert.deepEqual(await adapter.listVolumes(), { items: [] });
    await assert.rejects(
      adapter.createVolume({ name: 'x', sizeGiB: 1, clientToken: randomUUID() }),
      (e) => isSkygateError(e) && e.code === 'unsupported' && /no block-storage service .* in region RegionTwo/.test(e.message),
    );

    const gw = await startTestGateway({ providers: [...SIM, openstackProvider('os-r2', { region: 'RegionTwo' })] });
    try {
      const capsRes = await gw.api('get', '/v1/providers/os-r2/capabilities');
      assert.equal(capsRes.status, 200);
      assert.equal((capsRes.body as { volumes: boolean }).volumes, false);
      assert.equal((await health(gw, 'os-r2')).status, 'up');
      const list = await gw.api('get', '/v1/volumes?provider=os-r2&fresh=true');
      assert.equal(list.status, 200);
      const res = await gw.api('post', '/v1/volumes', { provider: 'os-r2', name: 'it-no-cinder', sizeGiB: 1 });
      assert.equal(res.status, 202);
      const op = await gw.waitOperation((res.body as Operation).id, 60_000);
      assert.equal(op.status, 'failed');
      assert.equal(op.error?.code, 'unsupported');
      assert.match(op.error?.message ?? '', /no block-storage service/);
    } finally {
      await gw.close();
    }
  });
});

describe('nova behind a fault proxy, mid-operation', { timeout: 300_000 }, () => {
  let proxy: FaultProxy;
  let gw: TestGateway;
  let imageId: string;
  const created: string[] = [];

  before(async () => {
    const tenant = await tenantAdapter();
    imageId = await baseImage(tenant);
    proxy = await FaultProxy.start('http://127.0.0.1:8774');
    gw = await startTestGateway({
      providers: [...SIM, openstackProvider('os-px', { endpointOverrides: { compute: `${proxy.url}/v2.1` } })],
    });
  });
  after(async () => {
    proxy.hook = undefined;
    const tenant = await tenantAdapter();
    for (const id of created) await tenant.deleteInstance(id).catch(() => undefined);
    await gw.close();
    await proxy.close();
  });

  it("nova answering 500 mid-operation fails it with nova's request id", async () => {
    const requestId = `req-${randomUUID()}`;
    let gets = 0;
    // the create step's own read of the new server passes; the wait step's reads fail
    proxy.hook = (req) => {
      if (req.method !== 'GET' || !SERVER_GET.test(req.path) || ++gets === 1) return undefined;
      return {
        status: 500,
        headers: { 'Content-Type': 'application/json', 'x-openstack-request-id': requestId, 'x-compute-request-id': requestId },
        body: '{"computeFault": {"code": 500, "message": "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/"}}',
      };
    };
    const op = await createOn(gw, 'os-px', { flavorId: TINY_FLAVOR, imageId });
    proxy.hook = undefined;
    if (op.target) created.push(op.target.split(':')[1] as string);
    assert.equal(op.status, 'failed');
    assert.equal(op.steps[0]?.status, 'succeeded', 'the server was created');
    assert.equal(op.steps[1]?.status, 'failed', 'waiting for it failed');
    assert.equal(op.error?.code, 'provider_unavailable');
    assert.equal(op.error?.requestId, requestId);
    assert.match(op.error?.message ?? '', /compute answered 500 .*Unexpected API Error/);
    assert.ok(gets >= 4, `the call was retried before giving up (${gets} reads)`);
  });

  it('a token that stops being valid mid-operation is renewed and the operation succeeds', async () => {
    let gets = 0;
    let revoked: string | undefined;
    proxy.hook = async (req) => {
      if (req.method === 'GET' && SERVER_GET.test(req.path) && ++gets === 2 && req.token) {
        revoked = req.token;
        await revokeToken(req.token); // from now on Keystone refuses it, exactly as an expired one
      }
      return undefined;
    };
    const before = proxy.seen.length;
    const op = await createOn(gw, 'os-px', { flavorId: TINY_FLAVOR, imageId });
    proxy.hook = undefined;
    if (op.target) created.push(op.target.split(':')[1] as string);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.ok(revoked, 'a token was revoked mid-operation');
    const during = proxy.seen.slice(before);
    assert.ok(
      during.some((s) => s.status === 401 && s.token === revoked),
      'nova refused the revoked token',
    );
    const after = during.filter((s) => s.token !== revoked);
    assert.ok(after.length > 0 && after.every((s) => s.status !== 401), 'the renewed token was accepted');
  });
});
