/**
 * The sim's networks beside the default one: create, list, update, delete, persistence, the address plan's refusals,
 * and instances launched on one (an address inside the block, the network kept while they live).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createCloudAdapter, type SimCloudAdapter } from '../../adapters/sim/index.js';
import { errorCode } from '../contract/cloud-adapter-contract.js';

const quiet = { info() {}, warn() {}, error() {} };
let dataDir: string;
const open: SimCloudAdapter[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'skygate-sim-networks-'));
});
afterEach(async () => {
  for (const a of open.splice(0)) await a.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function sim(settings: Record<string, unknown> = {}): Promise<SimCloudAdapter> {
  const adapter = await createCloudAdapter({
    providerId: 'sim-unit',
    settings: { latencyMs: 0, ...settings },
    dataDir,
    log: quiet,
  });
  open.push(adapter);
  return adapter;
}

describe('sim networks', () => {
  it('claims the capability, creates, lists and deletes networks, and keeps them across a restart', async () => {
    const a = await sim();
    assert.equal(a.capabilities().networks, true);
    assert.deepEqual(await a.listNetworks(), []);
    const net = await a.createNetwork({ name: 'backend', cidr: '10.20.0.0/24', tags: { team: 'db' }, clientToken: 'tok-1' });
    const retried = await a.createNetwork({ name: 'backend', cidr: '10.20.0.0/24', tags: { team: 'db' }, clientToken: 'tok-1' });
    assert.deepEqual(retried, net, 'a retried create (same client token) returns the first network');
    assert.match(net.nativeId, /^net-[0-9a-f]{17}$/);
    assert.equal(net.gateway, '10.20.0.1', 'the gateway defaults to the first host');
    assert.equal(net.state, 'available');
    assert.deepEqual(net.tags, { team: 'db' });
    const other = await a.createNetwork({ name: 'dmz', cidr: '192.168.8.0/28', gateway: '192.168.8.14', clientToken: 'tok-2' });
    assert.equal(other.gateway, '192.168.8.14');
    assert.deepEqual(
      (await a.listNetworks()).map((n) => [n.name, n.cidr]),
      [
        ['backend', '10.20.0.0/24'],
        ['dmz', '192.168.8.0/28'],
      ],
    );

    await a.close();
    open.splice(0);
    const again = await sim();
    assert.deepEqual(
      (await again.listNetworks()).map((n) => n.nativeId),
      [net.nativeId, other.nativeId],
    );
    await again.deleteNetwork(net.nativeId);
    assert.deepEqual(
      (await again.listNetworks()).map((n) => n.nativeId),
      [other.nativeId],
    );
    assert.equal(await errorCode(again.deleteNetwork(net.nativeId)), 'not_found');
  });

  it('refuses a bad address plan with the field and the reason, and creates nothing', async () => {
    const a = await sim();
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ cidr: 'ten.0.0.0/24' }, 'cidr', /IPv4 block in CIDR notation/],
      [{ cidr: '10.0.0.0' }, 'cidr', /IPv4 block in CIDR notation/],
      [{ cidr: 'fd00::/64' }, 'cidr', /IPv4 block/],
      [{ cidr: '10.0.0.0/8' }, 'cidr', /\/16 to \/28 block \(got \/8\)/],
      [{ cidr: '10.0.0.0/30' }, 'cidr', /\/16 to \/28 block \(got \/30\)/],
      [{ cidr: '10.0.0.5/24' }, 'cidr', /network address \(10\.0\.0\.0\/24\)/],
      [{ cidr: '10.0.0.0/24', gateway: '10.0.1.1' }, 'gateway', /host address inside 10\.0\.0\.0\/24/],
      [{ cidr: '10.0.0.0/24', gateway: '10.0.0.255' }, 'gateway', /host address inside/],
      [{ cidr: '10.0.0.0/24', gateway: 'router' }, 'gateway', /must be an IPv4 address/],
      [{ cidr: '10.0.0.0/24', name: '' }, 'name', /non-empty/],
      [{ cidr: '10.0.0.0/24', clientToken: '' }, 'clientToken', /non-empty/],
    ];
    for (const [extra, field, reason] of cases) {
      await assert.rejects(a.createNetwork({ name: 'n', ...extra } as never), (e: unknown) => {
        const err = e as { code: string; message: string; field?: string };
        assert.equal(err.code, 'invalid_input', JSON.stringify(extra));
        assert.equal(err.field, field, JSON.stringify(extra));
        assert.match(err.message, reason);
        return true;
      });
    }
    assert.deepEqual(await a.listNetworks(), []);
  });

  it('renames a network and replaces its tags in place, keeping both across a restart; bad input changes nothing', async () => {
    const a = await sim();
    const net = await a.createNetwork({ name: 'backend', cidr: '10.20.0.0/24', tags: { team: 'db' }, clientToken: 'tok-u' });
    const renamed = await a.updateNetwork(net.nativeId, { name: 'backend-2' });
    assert.deepEqual(renamed, { ...net, name: 'backend-2' }, 'only the name changed');
    const retagged = await a.updateNetwork(net.nativeId, { tags: { tier: 'data', owner: 'ops' } });
    assert.deepEqual(retagged.tags, { tier: 'data', owner: 'ops' }, 'the tags are the whole new set: team went');
    for (const [change, field] of [
      [{ name: '' }, 'name'],
      [{ name: 'ok', tags: { team: 'x'.repeat(257) } }, 'tags'],
      [{ tags: 'team' }, 'tags'],
    ] as const) {
      await assert.rejects(a.updateNetwork(net.nativeId, change as never), (e: unknown) => {
        assert.equal((e as { code: string }).code, 'invalid_input', JSON.stringify(change));
        assert.equal((e as { field?: string }).field, field);
        return true;
      });
    }
    assert.equal(await errorCode(a.updateNetwork('net-00000000000000000', { name: 'x' })), 'not_found');
    await a.close();
    open.splice(0);
    const again = await sim();
    assert.deepEqual(await again.listNetworks(), [retagged], 'the refused changes left it as it was, and it survived a restart');
  });

  it('gives an instance launched on a network an address inside its block, never the gateway, and keeps the network while it lives', async () => {
    const a = await sim();
    const net = await a.createNetwork({ name: 'tiny', cidr: '192.168.8.0/28', gateway: '192.168.8.2', clientToken: 'tok-n' });
    const spec = (i: number) => ({
      name: `vm-${i}`,
      flavorId: 'sim.small',
      imageId: 'img-cirros-0-6',
      networkId: net.nativeId,
      clientToken: `tok-vm-${i}`,
    });
    const first = await a.createInstance(spec(0));
    assert.equal(first.networkId, net.nativeId);
    assert.equal(first.privateIp, '192.168.8.1');
    assert.deepEqual(await a.createInstance(spec(0)), first, 'a retried create returns the first instance and address');
    const second = await a.createInstance(spec(1));
    assert.equal(second.privateIp, '192.168.8.3', 'the gateway (.2) is skipped');
    const plain = await a.createInstance({ ...spec(2), networkId: undefined });
    assert.equal(plain.networkId, undefined, 'an instance without a network stays on the default one');
    assert.match(plain.privateIp ?? '', /^127\./);
    assert.equal((await a.getInstance(first.nativeId)).networkId, net.nativeId);

    // A /28 has 14 hosts; one is the gateway: 13 instances fill it, the 14th finds no address.
    for (let i = 3; i < 14; i++) await a.createInstance(spec(i));
    const full = await a.createInstance(spec(14)).catch((e: unknown) => e as { code: string; message: string });
    assert.equal((full as { code: string }).code, 'quota_exceeded');
    assert.match((full as { message: string }).message, /192\.168\.8\.0\/28\) has no free address left/);

    const inUse = await a.deleteNetwork(net.nativeId).catch((e: unknown) => e as { code: string; message: string });
    assert.equal((inUse as { code: string }).code, 'conflict');
    assert.match((inUse as { message: string }).message, /in use by instance i-/);
    assert.deepEqual(
      (await a.listNetworks()).map((n) => n.nativeId),
      [net.nativeId],
      'the refused delete left it',
    );
    const onIt = (await a.listInstances()).items.filter((i) => i.networkId === net.nativeId);
    assert.equal(onIt.length, 13);
    for (const i of onIt) await a.deleteInstance(i.nativeId);
    await a.deleteNetwork(net.nativeId);
    assert.deepEqual(await a.listNetworks(), []);
  });

  it('refuses a launch on a network that does not exist, or of a workload image (served on the default network only)', async () => {
    const a = await sim({ workload: { images: [{ id: 'img-kv-app', name: 'kv app' }] } });
    const net = await a.createNetwork({ name: 'n', cidr: '10.9.0.0/24', clientToken: 'tok-w' });
    const base = { name: 'vm', flavorId: 'sim.small', imageId: 'img-cirros-0-6', clientToken: 'tok-x' };
    for (const [extra, reason] of [
      [{ networkId: 'net-00000000000000000' }, /network 'net-00000000000000000' does not exist/],
      [{ networkId: 42 }, /native id of a network/],
      [{ networkId: net.nativeId, imageId: 'img-kv-app' }, /runs a workload, which the sim serves on the default network only/],
    ] as const) {
      await assert.rejects(a.createInstance({ ...base, ...extra } as never), (e: unknown) => {
        assert.equal((e as { code: string }).code, 'invalid_input', JSON.stringify(extra));
        assert.equal((e as { field?: string }).field, 'networkId');
        assert.match((e as Error).message, reason);
        return true;
      });
    }
    assert.deepEqual((await a.listInstances()).items, [], 'nothing was created');
  });
});
