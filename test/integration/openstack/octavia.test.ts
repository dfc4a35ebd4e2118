/**
 * The `openstack-octavia` LoadBalancerAdapter against a real Octavia: a load balancer and pool made
 * with the `openstack` CLI as the tenant, then members added, drained, put in maintenance, made
 * active again and removed through the adapter, each change checked with the CLI; then the load balancer
 * contract every LoadBalancerAdapter runs (test/contract/load-balancer-contract.ts) on the same pool.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { createLoadBalancerAdapter, type OpenStackLoadBalancerAdapter } from '../../../adapters/openstack/index.js';
import { isSkygateError } from '../../../src/core/errors.js';
import { runLoadBalancerContract } from '../../contract/load-balancer-contract.js';
import { quietLog, readEnv, tenantSettings } from './openstack-env.js';

const run = promisify(execFile);
/** The `openstack` CLI as the tenant; answers its JSON output. */
async function cli(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('openstack', [...args, '-f', 'json'], {
    env: { ...process.env, ...readEnv('tenant') },
    timeout: 240_000,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

const name = `it-lb-${randomUUID().slice(0, 8)}`;
let lbId: string | undefined;
let poolId: string;
let lb: OpenStackLoadBalancerAdapter;
/** A member as the CLI shows it (`member list` has no admin state, `member show` has). */
const member = async (address: string) => {
  const members = (await run('openstack', ['loadbalancer', 'member', 'list', poolId, '-f', 'json'], {
    env: { ...process.env, ...readEnv('tenant') },
  }).then((r) => JSON.parse(r.stdout))) as Array<{ id: string; address: string }>;
  const id = members.find((m) => m.address === address)?.id;
  if (id === undefined) return undefined;
  return (await cli('loadbalancer', 'member', 'show', poolId, id)) as { weight: number; admin_state_up: boolean };
};

before(async () => {
  const created = await cli('loadbalancer', 'create', '--name', name, '--vip-subnet-id', 'skygate-subnet', '--wait');
  lbId = String(created.id);
  const pool = await cli(
    'loadbalancer',
    'pool',
    'create',
    '--name',
    `${name}-web`,
    '--loadbalancer',
    lbId,
    '--protocol',
    'HTTP',
    '--lb-algorithm',
    'ROUND_ROBIN',
    '--wait',
  );
  poolId = String(pool.id);
  lb = await createLoadBalancerAdapter({
    providerId: 'os-lb',
    settings: tenantSettings({ loadBalancer: name }),
    dataDir: '.',
    log: quietLog,
  });
});

after(async () => {
  if (lbId)
    await run('openstack', ['loadbalancer', 'delete', '--cascade', '--wait', lbId], {
      env: { ...process.env, ...readEnv('tenant') },
    });
});

it('lists the pools of the configured load balancer', { timeout: 120_000 }, async () => {
  assert.deepEqual(await lb.listPools(), [{ id: poolId, name: `${name}-web` }]);
});

it('adds members; adding one again only sets its weight', { timeout: 240_000 }, async () => {
  const a = await lb.registerTarget(poolId, { address: '192.0.2.10', port: 8080, weight: 5 });
  assert.deepEqual({ id: a.id, state: a.state, weight: a.weight }, { id: '192.0.2.10:8080', state: 'active', weight: 5 });
  await lb.registerTarget(poolId, { address: '192.0.2.11', port: 8080 });
  const again = await lb.registerTarget(poolId, { address: '192.0.2.11', port: 8080, weight: 3 });
  assert.equal(again.weight, 3);
  const targets = await lb.listTargets(poolId);
  assert.deepEqual(targets.map((t) => t.id).sort(), ['192.0.2.10:8080', '192.0.2.11:8080']);
  // noop back ends run no health monitor: Octavia cannot say, so neither does the adapter
  assert.ok(
    targets.every((t) => t.health === 'unknown'),
    JSON.stringify(targets),
  );
  assert.equal((await member('192.0.2.11'))?.weight, 3);
});

it('drains with weight 0, maintains with admin state down, and gives the weight back', { timeout: 240_000 }, async () => {
  await lb.setTargetState(poolId, '192.0.2.10:8080', 'draining');
  let m = await member('192.0.2.10');
  assert.deepEqual({ weight: m?.weight, up: m?.admin_state_up }, { weight: 0, up: true });
  const drained = (await lb.listTargets(poolId)).find((t) => t.id === '192.0.2.10:8080');
  assert.deepEqual({ state: drained?.state, health: drained?.health }, { state: 'draining', health: 'draining' });

  await lb.setTargetState(poolId, '192.0.2.10:8080', 'maintenance');
  m = await member('192.0.2.10');
  assert.equal(m?.admin_state_up, false);
  assert.equal((await lb.listTargets(poolId)).find((t) => t.id === '192.0.2.10:8080')?.state, 'maintenance');

  await lb.setTargetState(poolId, '192.0.2.10:8080', 'active');
  m = await member('192.0.2.10');
  assert.deepEqual({ weight: m?.weight, up: m?.admin_state_up }, { weight: 5, up: true }, 'the weight before draining is back');
});

it('removes members; an unknown one is not_found', { timeout: 240_000 }, async () => {
  await lb.deregisterTarget(poolId, '192.0.2.11:8080');
  assert.equal(await member('192.0.2.11'), undefined);
  assert.deepEqual(
    (await lb.listTargets(poolId)).map((t) => t.id),
    ['192.0.2.10:8080'],
  );
  await assert.rejects(lb.deregisterTarget(poolId, '192.0.2.99:80'), (e) => isSkygateError(e) && e.code === 'not_found');
});

// The pool still holds 192.0.2.10:8080 from the tests above; the contract adds and removes a target of its own.
runLoadBalancerContract('openstack-octavia', async () => ({
  lb,
  poolId,
  target: { address: '192.0.2.20', port: 8080 },
  unknownTargetId: '192.0.2.99:8080',
  unknownPoolId: randomUUID(),
  timeoutMs: 240_000,
  cleanup: async () => {},
}));
