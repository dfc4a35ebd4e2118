/**
 * Networks at the local OpenStack (neutron-server API only, ML2): create, repeat, list, rename and retag, delete,
 * and a network with a port in use, checked against what neutron itself then holds. Booting a server on a created
 * network is left out: with no ML2 mechanism driver there is nothing to bind its port (see the adapter's README).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { ServiceClient } from '../../../adapters/openstack/http.js';
import type { OpenStackCloudAdapter } from '../../../adapters/openstack/index.js';
import { Neutron, neutronBase } from '../../../adapters/openstack/neutron.js';
import { OpenStackNetworks } from '../../../adapters/openstack/openstack-networks.js';
import { isSkygateError } from '../../../src/core/errors.js';
import { call, tenantAdapter } from './openstack-env.js';

const NEUTRON = 'http://127.0.0.1:9696/v2.0';
const run = `it-net-${randomUUID().slice(0, 8)}`;
let adapter: OpenStackCloudAdapter;
const made: string[] = [];

interface Net {
  id: string;
  name: string;
  tags: string[];
}
interface Subnet {
  cidr: string;
  gateway_ip: string;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(isSkygateError(e), `expected a SkygateError, got ${String(e)}`);
    return e.code;
  }
  return assert.fail('expected the call to fail');
}

before(async () => {
  adapter = await tenantAdapter();
});

after(async () => {
  for (const id of made) await adapter.deleteNetwork(id).catch(() => undefined);
});

it('claims networks: the catalog has neutron', () => {
  assert.equal(adapter.capabilities().networks, true);
});

it('creates a network with its subnet, tagged; a repeat with the token answers the same one', { timeout: 60_000 }, async () => {
  const spec = { name: `${run}-a`, cidr: '10.77.0.0/24', gateway: '10.77.0.254', tags: { team: 'web' }, clientToken: `${run}-a` };
  const net = await adapter.createNetwork(spec);
  made.push(net.nativeId);
  assert.equal(net.name, spec.name);
  assert.equal(net.cidr, '10.77.0.0/24');
  assert.equal(net.gateway, '10.77.0.254');
  assert.deepEqual(net.tags, { team: 'web' });
  assert.ok(Date.parse(net.createdAt) > Date.now() - 600_000, `createdAt ${net.createdAt}`);

  const shown = (await call('tenant', 'GET', `${NEUTRON}/networks/${net.nativeId}`)).body as { network: Net };
  assert.deepEqual(shown.network.tags.sort(), [`skygate-token:${spec.clientToken}`, 'skygate:network', 'team=web'].sort());
  const subnets = (await call('tenant', 'GET', `${NEUTRON}/subnets?network_id=${net.nativeId}`)).body as { subnets: Subnet[] };
  assert.deepEqual(
    subnets.subnets.map((s) => [s.cidr, s.gateway_ip]),
    [['10.77.0.0/24', '10.77.0.254']],
  );

  const again = await adapter.createNetwork(spec);
  assert.equal(again.nativeId, net.nativeId, 'the same network, not a second');
  const named = (await call('tenant', 'GET', `${NEUTRON}/networks?name=${spec.name}`)).body as { networks: Net[] };
  assert.equal(named.networks.length, 1);
});

it("lists only skygate's networks, and never touches the project's own", { timeout: 60_000 }, async () => {
  const listed = await adapter.listNetworks();
  const mine = listed.find((n) => n.name === `${run}-a`);
  assert.ok(mine, 'the created network is listed');
  assert.equal(mine.cidr, '10.77.0.0/24');
  const own = (await call('tenant', 'GET', `${NEUTRON}/networks?name=skygate-net`)).body as { networks: Net[] };
  const ownId = own.networks[0]?.id;
  assert.ok(ownId, 'docker/openstack/openstack.sh made skygate-net for the tenant');
  assert.ok(!listed.some((n) => n.nativeId === ownId), 'skygate-net is not listed');
  assert.equal(await codeOf(adapter.deleteNetwork(ownId)), 'not_found');
  assert.equal(await codeOf(adapter.updateNetwork(ownId, { name: 'x' })), 'not_found');
  const still = (await call('tenant', 'GET', `${NEUTRON}/networks/${ownId}`)).body as { network: Net };
  assert.equal(still.network.name, 'skygate-net');
});

it('renames and replaces tags; neutron holds the new name and tags, marker and token kept', { timeout: 60_000 }, async () => {
  const id = made[0] as string;
  const changed = await adapter.updateNetwork(id, { name: `${run}-b`, tags: { env: 'prod' } });
  assert.equal(changed.name, `${run}-b`);
  assert.deepEqual(changed.tags, { env: 'prod' });
  assert.equal(changed.cidr, '10.77.0.0/24');
  const shown = (await call('tenant', 'GET', `${NEUTRON}/networks/${id}`)).body as { network: Net };
  assert.equal(shown.network.name, `${run}-b`);
  assert.deepEqual(shown.network.tags.sort(), ['env=prod', `skygate-token:${run}-a`, 'skygate:network'].sort());
});

it('refuses to delete a network with a port in use (conflict), then deletes it once the port is gone', {
  timeout: 60_000,
}, async () => {
  const net = await adapter.createNetwork({ name: `${run}-c`, cidr: '10.78.0.0/28', clientToken: `${run}-c` });
  made.push(net.nativeId);
  assert.equal(net.gateway, '10.78.0.1', 'the first host by default');
  const port = await call('tenant', 'POST', `${NEUTRON}/ports`, { port: { network_id: net.nativeId, name: `${run}-port` } });
  assert.equal(port.status, 201, JSON.stringify(port.body));
  const portId = (port.body as { port: { id: string } }).port.id;
  assert.equal(await codeOf(adapter.deleteNetwork(net.nativeId)), 'conflict');
  assert.ok(
    (await adapter.listNetworks()).some((n) => n.nativeId === net.nativeId),
    'still there',
  );
  assert.equal((await call('tenant', 'DELETE', `${NEUTRON}/ports/${portId}`)).status, 204);
  await adapter.deleteNetwork(net.nativeId);
  assert.ok(!(await adapter.listNetworks()).some((n) => n.nativeId === net.nativeId), 'gone');
  assert.equal((await call('tenant', 'GET', `${NEUTRON}/networks/${net.nativeId}`)).status, 404);
  assert.equal(await codeOf(adapter.deleteNetwork(net.nativeId)), 'not_found');
});

/**
 * No server can be booted on a created network here (nothing binds its port), so the ports lookup that tells an
 * instance's network is run as the adapter runs it, on ports made directly with the device ids of two servers
 * (random ids: neutron does not check them): real neutron filters on the repeated `device_id` and answers the
 * fields asked for; a server whose addresses name the network but whose port is elsewhere reports none.
 */
it('tells which created network a server is on from its ports (neutron filters by repeated device_id)', {
  timeout: 60_000,
}, async () => {
  const net = await adapter.createNetwork({ name: `${run}-d`, cidr: '10.79.0.0/28', clientToken: `${run}-d` });
  made.push(net.nativeId);
  const on = randomUUID();
  const off = randomUUID();
  const port = await call('tenant', 'POST', `${NEUTRON}/ports`, {
    port: { network_id: net.nativeId, name: `${run}-d-port`, device_id: on, device_owner: 'compute:nova' },
  });
  assert.equal(port.status, 201, JSON.stringify(port.body));
  const portId = (port.body as { port: { id: string } }).port.id;
  try {
    const http = new ServiceClient(adapter.keystone, 'network', { provider: 'os-test', timeoutMs: 30_000, base: neutronBase });
    const networks = new OpenStackNetworks(new Neutron(http));
    const addresses = { [net.name]: [{ addr: '10.79.0.5' }] };
    const found = await networks.createdNetworksOf([
      { id: on, status: 'ACTIVE', addresses },
      { id: off, status: 'ACTIVE', addresses },
    ]);
    assert.deepEqual([...found], [[on, net.nativeId]]);
  } finally {
    assert.equal((await call('tenant', 'DELETE', `${NEUTRON}/ports/${portId}`)).status, 204);
  }
});
