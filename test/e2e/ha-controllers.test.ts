/**
 * Two controllers on one store (as two gateway replicas on one database will be): one holds a group's lease and acts;
 * the other neither watches nor moves it. When the first stops renewing, the second takes over with a larger fencing
 * token, and anything the first still tries with its old token is refused by the store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { OperationEngine } from '../../src/core/operations/engine.js';
import { failoverCommand } from '../../src/ha/failover-command.js';
import { GroupLeases } from '../../src/ha/group-leases.js';
import { leaseOf } from '../../src/ha/group-records.js';
import { HaController } from '../../src/ha/ha-controller.js';
import type { ProtectionGroupStatus } from '../../src/ha/protection-group.js';
import { insertOneMemberGroup } from '../helpers/ha-group.js';
import { startTestGateway, simProviders, type TestGateway } from '../helpers/gateway.js';
import type { Operation } from '../../src/core/model.js';

const GROUP = 'pg-two';
let gw: TestGateway;

before(async () => {
  gw = await startTestGateway({
    providers: simProviders(0, { workload: { images: [{ id: 'img-kv-app', name: 'kv-app' }] } }),
    ha: { scheduleReplication: false, controllerIntervalMs: 100, leaseTtlMs: 1000, controllerId: 'controller-a' },
  });
});
after(async () => {
  await gw?.close();
});

describe('two controllers on one store', () => {
  it('lets one act at a time, hands over on expiry with a larger token, and refuses the stale one', async () => {
    const { store, engine: _engine, registry, events, ha } = gw.gateway.internals;
    const created = await gw.api('post', '/v1/instances', {
      provider: 'sim-east',
      name: 'app',
      flavorId: 'sim.small',
      imageId: 'img-kv-app',
    });
    const east = (await gw.waitOperation((created.body as Operation).id, 20_000)).target!;
    const now = new Date().toISOString();
    await insertOneMemberGroup(store, {
      id: GROUP,
      name: 'two',
      member: east,
      healthCheck: { protocol: 'tcp', port: 8000, intervalMs: 200, timeoutMs: 100, fall: 2, rise: 1 },
      traffic: { lbProvider: 'sim-east', poolId: 'default', port: 8000 },
      failoverMode: 'manual',
    });
    await store.insertReplica({
      id: 'r1',
      groupId: GROUP,
      member: east,
      sourceProvider: 'sim-east',
      sourceInstanceId: east,
      site: 'sim-west',
      imageId: 'img-kv-app',
      dataAt: now,
      createdAt: now,
    });

    const held = async () => store.getLease(leaseOf(GROUP));
    const deadline = Date.now() + 5000;
    while ((await held())?.holder !== 'controller-a') {
      assert.ok(Date.now() < deadline, 'controller A takes the lease');
      await sleep(50);
    }
    const tokenA = (await held())!.token;

    // Controller B: its own leases and engine (its failover steps carry its own token), the same store and clouds.
    const log = pino({ level: 'silent' });
    const leasesB = new GroupLeases(store, 'controller-b', 1000);
    const engineB = new OperationEngine(store, registry, gw.gateway.core.inventory, events, log);
    engineB.register(
      failoverCommand({ store, leases: leasesB, reconciler: ha.reconciler, config: { healthyTimeoutMs: 20_000, drainMs: 100 } }),
    );
    const b = new HaController({
      store,
      engine: engineB,
      registry,
      events,
      reconciler: ha.reconciler,
      leases: leasesB,
      config: { controllerIntervalMs: 100 },
      log,
    });

    // Both run for a while: A keeps the lease, B neither takes it nor watches the group.
    b.start();
    await sleep(1500);
    assert.deepEqual([(await held())?.holder, (await held())?.token], ['controller-a', tokenA]);
    assert.deepEqual(b.siteHealth(GROUP), {});
    await assert.rejects(b.failover(GROUP, { to: 'sim-west' }, { principal: 'ops' }), /controlled by controller-a/);

    // A stops renewing (its gateway hangs or dies); after the lease's TTL, B takes over with a larger token.
    await ha.stop();
    const handover = Date.now() + 5000;
    while ((await held())?.holder !== 'controller-b') {
      assert.ok(Date.now() < handover, 'controller B takes over');
      await sleep(50);
    }
    const tokenB = (await held())!.token;
    assert.ok(tokenB > tokenA, `token grew on takeover (${tokenA} -> ${tokenB})`);

    // Whatever A still tries with its old token is refused, and changes nothing.
    const pool = await store.getDesiredPool('sim-east', 'default');
    await assert.rejects(
      store.putDesiredPool({ lbProvider: 'sim-east', poolId: 'default', targets: [], updatedAt: now }, undefined, {
        lease: leaseOf(GROUP),
        token: tokenA,
      }),
      /fencing token/,
    );
    assert.deepEqual(await store.getDesiredPool('sim-east', 'default'), pool);
    await assert.rejects(ha.leases.hold(GROUP), /controlled by controller-b/);

    // B acts: a failover under its token.
    const op = await b.failover(GROUP, { to: 'sim-west' }, { principal: 'ops' });
    const done = await engineB.waitFor(op.id, (o) => o.status === 'succeeded' || o.status === 'failed', 30_000);
    assert.equal(done?.status, 'succeeded', JSON.stringify(done?.error));
    const after = (await store.getProtectionGroup(GROUP))!.status as unknown as ProtectionGroupStatus;
    assert.equal(after.primary, 'sim-west');
    await b.stop();
  });
});
