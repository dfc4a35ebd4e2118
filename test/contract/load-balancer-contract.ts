/** The behaviour every LoadBalancerAdapter owes the HA module, as node:test cases any adapter (sim, ELBv2, Octavia) plugs into. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LbTarget, LoadBalancerAdapter, TargetState } from '../../src/core/ports.js';
import { errorCode } from './cloud-adapter-contract.js';

export interface LoadBalancerContractTarget {
  lb: LoadBalancerAdapter;
  /** A pool the contract may add one target to and remove it from again. */
  poolId: string;
  /** An address and port the pool does not hold yet. */
  target: { address: string; port: number };
  /** A target id of the pool's shape (`address:port`) that the pool does not hold. */
  unknownTargetId: string;
  /** A pool id of the provider's shape that names no pool. */
  unknownPoolId: string;
  /** Per-test budget: a real load balancer applies each change before it answers (Octavia waits for ACTIVE). */
  timeoutMs: number;
  cleanup(): Promise<void>;
}

const HEALTH = ['healthy', 'unhealthy', 'draining', 'maintenance', 'unknown'];

export function runLoadBalancerContract(name: string, setup: () => Promise<LoadBalancerContractTarget>): void {
  describe(`LoadBalancerAdapter contract: ${name}`, () => {
    let t: LoadBalancerContractTarget;
    let lb: LoadBalancerAdapter;
    let id: string;
    const listed = async (): Promise<LbTarget | undefined> => (await lb.listTargets(t.poolId)).find((x) => x.id === id);
    const opts = () => ({ timeout: t?.timeoutMs ?? 60_000 });

    before(async () => {
      t = await setup();
      lb = t.lb;
      id = `${t.target.address}:${t.target.port}`;
    });

    // Best effort: a failed run leaves no target behind in a shared pool.
    after(async () => {
      if (lb === undefined) return;
      await lb.deregisterTarget(t.poolId, id).catch(() => undefined);
      await t.cleanup();
    });

    it('lists its pools, each with an id and a name', async () => {
      const pools = await lb.listPools();
      assert.ok(
        pools.some((p) => p.id === t.poolId),
        `pool ${t.poolId} is listed: ${JSON.stringify(pools)}`,
      );
      for (const p of pools) assert.ok(p.id.length > 0 && p.name.length > 0, JSON.stringify(p));
      assert.equal(new Set(pools.map((p) => p.id)).size, pools.length, 'no pool is listed twice');
    });

    it('registers a target as address:port, active; registering it again keeps one', opts(), async () => {
      const made = await lb.registerTarget(t.poolId, t.target);
      assert.deepEqual(
        { id: made.id, address: made.address, port: made.port, state: made.state },
        { id, ...t.target, state: 'active' },
      );
      assert.ok(HEALTH.includes(made.health), `health ${made.health}`);
      const again = await lb.registerTarget(t.poolId, t.target);
      assert.equal(again.id, id);
      const mine = (await lb.listTargets(t.poolId)).filter((x) => x.id === id);
      assert.equal(mine.length, 1, 'one target per address:port');
      assert.equal(mine[0]?.state, 'active');
    });

    it('sets a target draining, in maintenance and active again, as listTargets then shows', opts(), async () => {
      const steps: Array<[TargetState, string[]]> = [
        ['draining', ['draining']],
        ['maintenance', ['maintenance']],
        ['active', ['healthy', 'unhealthy', 'unknown']],
      ];
      for (const [state, health] of steps) {
        await lb.setTargetState(t.poolId, id, state);
        const seen = await listed();
        assert.equal(seen?.state, state, `after setTargetState(${state}): ${JSON.stringify(seen)}`);
        assert.ok(health.includes(seen?.health ?? ''), `a ${state} target's health is one of ${health}: ${seen?.health}`);
      }
      assert.equal(await errorCode(lb.setTargetState(t.poolId, id, 'asleep' as TargetState)), 'invalid_input');
    });

    it('re-weighs a target, where the load balancer weighs targets', opts(), async (c) => {
      if (!lb.setTargetWeight) return c.skip(`${lb.type} has no weights`);
      const weighed = await lb.setTargetWeight(t.poolId, id, 5);
      assert.deepEqual([weighed.id, weighed.weight], [id, 5]);
      assert.equal((await listed())?.weight, 5);
      assert.equal(await errorCode(lb.setTargetWeight(t.poolId, id, 100_000)), 'invalid_input');
      assert.equal(await errorCode(lb.setTargetWeight(t.poolId, t.unknownTargetId, 1)), 'not_found');
      await lb.setTargetWeight(t.poolId, id, 1);
    });

    it('moves a target to another address and port in place, where the load balancer can', opts(), async (c) => {
      if (!lb.setTargetAddress) return c.skip(`${lb.type} cannot move a target`);
      const elsewhere = { address: t.target.address, port: t.target.port + 1 };
      const moved = await lb.setTargetAddress(t.poolId, id, elsewhere);
      assert.deepEqual(
        [moved.id, moved.address, moved.port],
        [`${elsewhere.address}:${elsewhere.port}`, elsewhere.address, elsewhere.port],
      );
      assert.equal(await listed(), undefined, 'the old id is gone');
      const back = await lb.setTargetAddress(t.poolId, moved.id, t.target);
      assert.equal(back.id, id);
      assert.equal(await errorCode(lb.setTargetAddress(t.poolId, id, { address: t.target.address, port: 0 })), 'invalid_input');
      assert.equal(await errorCode(lb.setTargetAddress(t.poolId, t.unknownTargetId, elsewhere)), 'not_found');
    });

    it('deregisters a target; it is no longer listed, and a second deregister is not_found', opts(), async () => {
      await lb.deregisterTarget(t.poolId, id);
      assert.equal(await listed(), undefined);
      assert.equal(await errorCode(lb.deregisterTarget(t.poolId, id)), 'not_found');
    });

    it('answers not_found for an unknown pool or target, whatever the call', opts(), async () => {
      assert.equal(await errorCode(lb.listTargets(t.unknownPoolId)), 'not_found', 'listTargets, unknown pool');
      assert.equal(await errorCode(lb.registerTarget(t.unknownPoolId, t.target)), 'not_found', 'registerTarget, unknown pool');
      assert.equal(
        await errorCode(lb.setTargetState(t.unknownPoolId, id, 'draining')),
        'not_found',
        'setTargetState, unknown pool',
      );
      for (const state of ['active', 'draining', 'maintenance'] as const) {
        assert.equal(
          await errorCode(lb.setTargetState(t.poolId, t.unknownTargetId, state)),
          'not_found',
          `setTargetState(${state}), unknown target`,
        );
      }
      assert.equal(await errorCode(lb.deregisterTarget(t.poolId, t.unknownTargetId)), 'not_found', 'deregisterTarget');
      assert.equal(await listed(), undefined, 'a refused call registers nothing');
    });
  });
}
