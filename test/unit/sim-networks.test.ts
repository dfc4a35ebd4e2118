/** The sim's networks beside the default one: create, list, delete, persistence and the address plan's refusals. */
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

async function sim(): Promise<SimCloudAdapter> {
  const adapter = await createCloudAdapter({ providerId: 'sim-unit', settings: { latencyMs: 0 }, dataDir, log: quiet });
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
});
