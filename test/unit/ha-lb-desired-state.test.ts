/**
 * The load balancer desired state: stored on SQLite and PostgreSQL alike (generations, compare-and-set, concurrent
 * first writers), checked before it is stored, and applied by the reconciler in its safe order (against the sim's
 * load balancer, whose calls are recorded).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { createLoadBalancerAdapter } from '../../adapters/sim/index.js';
import { isSkygateError } from '../../src/core/errors.js';
import type { LoadBalancerAdapter } from '../../src/core/ports.js';
import type { DesiredTarget, Store } from '../../src/core/store-port.js';
import { checkDesiredTargets, LbReconciler } from '../../src/ha/index.js';
import { openStore } from '../../src/store/index.js';
import { freshSchema, type ScopedDatabase } from '../helpers/postgres-schema.js';

const quiet = { info() {}, warn() {}, error() {} };
const T1 = '2025-01-01T00:00:00.000Z';
const T2 = '2025-01-01T00:00:01.000Z';
const A: DesiredTarget = { address: '127.10.0.4', port: 8000, state: 'active', weight: 3 };
const B: DesiredTarget = { address: '127.20.0.4', port: 8000, state: 'maintenance' };
/** The port methods that change a load balancer. */
const CHANGES = new Set(['registerTarget', 'deregisterTarget', 'setTargetState', 'setTargetWeight', 'setTargetAddress']);

function storeSuite(name: string, open: () => Promise<{ store: Store; dispose(): Promise<void> }>): void {
  describe(`desired pools in the store (${name})`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await open());
    });
    after(async () => {
      await store.close();
      await dispose();
    });

    it('keeps a pool with its targets, grows its generation on each write, and forgets it', async () => {
      assert.equal(await store.getDesiredPool('edge', 'app'), undefined);
      const first = await store.putDesiredPool({ lbProvider: 'edge', poolId: 'app', targets: [A, B], updatedAt: T1 });
      assert.deepEqual(first, { lbProvider: 'edge', poolId: 'app', targets: [A, B], generation: 1, updatedAt: T1 });
      const second = await store.putDesiredPool({ lbProvider: 'edge', poolId: 'app', targets: [B], updatedAt: T2 });
      assert.deepEqual([second.generation, second.targets, second.updatedAt], [2, [B], T2]);
      await store.putDesiredPool({ lbProvider: 'edge', poolId: 'api', targets: [], updatedAt: T1 });
      await store.putDesiredPool({ lbProvider: 'aws-lb', poolId: 'z', targets: [A], updatedAt: T1 });
      assert.deepEqual(
        (await store.listDesiredPools()).map((p) => [p.lbProvider, p.poolId, p.targets.length]),
        [
          ['aws-lb', 'z', 1],
          ['edge', 'api', 0],
          ['edge', 'app', 1],
        ],
      );
      assert.equal(await store.deleteDesiredPool('edge', 'api'), true);
      assert.equal(await store.deleteDesiredPool('edge', 'api'), false);
      assert.equal(await store.getDesiredPool('edge', 'api'), undefined);
    });

    it('writes only on the expected generation, and leaves the pool as it was otherwise', async () => {
      const now = (await store.getDesiredPool('edge', 'app'))!;
      const stale = await store
        .putDesiredPool({ lbProvider: 'edge', poolId: 'app', targets: [A], updatedAt: T2 }, now.generation - 1)
        .catch((e) => e);
      assert.ok(isSkygateError(stale));
      assert.equal(stale.code, 'conflict');
      assert.deepEqual(await store.getDesiredPool('edge', 'app'), now);
      const fresh = await store.putDesiredPool(
        { lbProvider: 'edge', poolId: 'app', targets: [A], updatedAt: T2 },
        now.generation,
      );
      assert.equal(fresh.generation, now.generation + 1);
      await assert.rejects(store.putDesiredPool({ lbProvider: 'edge', poolId: 'new', targets: [A], updatedAt: T1 }, 1), {
        code: 'conflict',
      });
      assert.equal(await store.getDesiredPool('edge', 'new'), undefined, 'a refused first write leaves no pool');
    });

    it('lets exactly one of several concurrent first writers through when each expects a new pool', async () => {
      const outcomes = await Promise.allSettled(
        [1, 2, 3, 4].map((n) =>
          store.putDesiredPool({ lbProvider: 'edge', poolId: 'race', targets: [{ ...A, port: 8000 + n }], updatedAt: T1 }, 0),
        ),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      assert.equal(won.length, 1, JSON.stringify(outcomes.map((o) => (o.status === 'rejected' ? o.reason.code : 'ok'))));
      for (const o of outcomes) if (o.status === 'rejected') assert.equal(o.reason.code, 'conflict');
      assert.equal((await store.getDesiredPool('edge', 'race'))?.generation, 1);
    });
  });
}

storeSuite('sqlite', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'skygate-desired-'));
  return { store: await openStore({ dataDir }), dispose: () => rm(dataDir, { recursive: true, force: true }) };
});

const postgresUrl = process.env.SKYGATE_TEST_DATABASE_URL;
if (postgresUrl) {
  storeSuite('postgres', async () => {
    const db: ScopedDatabase = await freshSchema(postgresUrl);
    return { store: await openStore({ dataDir: '/nonexistent', databaseUrl: db.url }), dispose: () => db.drop() };
  });
} else {
  test('desired pools in the store (postgres)', {
    skip: 'SKYGATE_TEST_DATABASE_URL is not set; scripts/ensure-postgres.sh prints one',
  }, () => {});
}

describe('desired targets, checked', () => {
  it('answers a canonical list, and names the target and field at fault', () => {
    assert.deepEqual(checkDesiredTargets([{ ...A, extra: 1 }]), [A]);
    for (const [targets, field] of [
      ['nope', 'targets'],
      [[null], 'targets[0]'],
      [[{ ...A, address: '' }], 'targets[0].address'],
      [[{ ...A, address: 'a b' }], 'targets[0].address'],
      [[A, { ...A, port: 0 }], 'targets[1].port'],
      [[{ ...A, state: 'up' }], 'targets[0].state'],
      [[{ ...A, weight: 257 }], 'targets[0].weight'],
      [[A, { ...A, state: 'maintenance' }], 'targets[1].address'],
    ] as const) {
      assert.throws(
        () => checkDesiredTargets(targets),
        (e: { code: string; field: string }) => e.code === 'invalid_input' && e.field === field,
        field,
      );
    }
  });
});

describe('the reconciler against the sim load balancer', () => {
  let dir: string;
  let store: Store;
  let lb: LoadBalancerAdapter;
  const calls: string[] = [];
  let failOn: string | undefined;

  /** The sim load balancer with every change recorded, and one kind of call made to fail on demand. */
  const recorded = (inner: LoadBalancerAdapter): LoadBalancerAdapter =>
    new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || !CHANGES.has(String(prop))) return value;
        return async (...args: unknown[]) => {
          const label = `${String(prop)} ${JSON.stringify(args.slice(1))}`;
          calls.push(label);
          if (failOn !== undefined && label.startsWith(failOn)) throw Object.assign(new Error('refused'), { code: 'EFAIL' });
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skygate-reconciler-'));
    store = await openStore({ dataDir: join(dir, 'store') });
    lb = recorded(
      await createLoadBalancerAdapter({ providerId: 'edge', settings: { pools: ['app'] }, dataDir: dir, log: quiet }),
    );
  });
  after(async () => {
    await lb.close?.();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stages, fences, removes and activates, in that order, and then has nothing left to do', async () => {
    await lb.registerTarget('app', { address: '127.10.0.4', port: 8000 }); // the old primary, active
    await lb.registerTarget('app', { address: '127.30.0.4', port: 8000 }); // a stray target
    calls.length = 0;
    const reconciler = new LbReconciler({ store, loadBalancer: () => lb, log: quiet });
    const { result } = await reconciler.setDesired('edge', 'app', [
      { address: '127.10.0.4', port: 8000, state: 'maintenance' },
      { address: '127.20.0.4', port: 8000, state: 'active', weight: 7 },
    ]);
    assert.equal(result.error, undefined);
    assert.deepEqual(calls, [
      'registerTarget [{"address":"127.20.0.4","port":8000,"state":"maintenance","weight":7}]',
      'setTargetState ["127.10.0.4:8000","maintenance"]',
      'deregisterTarget ["127.30.0.4:8000"]',
      'setTargetState ["127.20.0.4:8000","active"]',
    ]);
    assert.deepEqual(
      (await lb.listTargets('app')).map((t) => [t.id, t.state, t.weight]),
      [
        ['127.10.0.4:8000', 'maintenance', 1],
        ['127.20.0.4:8000', 'active', 7],
      ],
    );
    calls.length = 0;
    assert.deepEqual((await reconciler.reconcilePool('edge', 'app')).changes, []);
    assert.deepEqual(calls, [], 'a converged pool costs one listing');
    // A weight changed behind skygate's back is put back.
    await lb.setTargetWeight?.('app', '127.20.0.4:8000', 1);
    const [again] = await reconciler.reconcileAll();
    assert.deepEqual(again?.changes, [{ targetId: '127.20.0.4:8000', action: 'weight', from: 1, to: 7 }]);
  });

  it('stops at a failed fence rather than activate the other side, reports it, and finishes on a later pass', async () => {
    const reconciler = new LbReconciler({ store, loadBalancer: () => lb, log: quiet });
    failOn = 'setTargetState ["127.20.0.4:8000","maintenance"]';
    calls.length = 0;
    const { result } = await reconciler.setDesired('edge', 'app', [
      { address: '127.10.0.4', port: 8000, state: 'active' },
      { address: '127.20.0.4', port: 8000, state: 'maintenance' },
    ]);
    assert.equal(result.error?.code, 'internal');
    assert.deepEqual(calls, ['setTargetState ["127.20.0.4:8000","maintenance"]'], 'nothing activated after the failed fence');
    assert.equal((await lb.listTargets('app')).find((t) => t.id === '127.10.0.4:8000')?.state, 'maintenance');
    failOn = undefined;
    const later = await reconciler.reconcilePool('edge', 'app');
    assert.equal(later.error, undefined);
    assert.deepEqual(
      (await lb.listTargets('app')).map((t) => [t.id, t.state]),
      [
        ['127.10.0.4:8000', 'active'],
        ['127.20.0.4:8000', 'maintenance'],
      ],
    );
  });

  it('refuses bad desired state before storing anything, and an unknown load balancer', async () => {
    const reconciler = new LbReconciler({
      store,
      loadBalancer: (id) => {
        if (id !== 'edge') throw Object.assign(new Error(`provider '${id}' is not configured`), { code: 'invalid_input' });
        return lb;
      },
      log: quiet,
    });
    const before = await store.getDesiredPool('edge', 'app');
    await assert.rejects(reconciler.setDesired('edge', 'app', [{ ...A, port: -1 }]), {
      code: 'invalid_input',
      field: 'targets[0].port',
    });
    await assert.rejects(reconciler.setDesired('nowhere', 'app', [A]));
    assert.deepEqual(await store.getDesiredPool('edge', 'app'), before);
    assert.equal(await store.getDesiredPool('nowhere', 'app'), undefined);
    assert.throws(() => new LbReconciler({ store, loadBalancer: () => lb, log: quiet }, { intervalMs: 0 }), {
      code: 'invalid_input',
    });
  });
});
