/**
 * HAProxy forgets runtime changes when it restarts; skygate's desired state and reconcile loop put them back. A real
 * HAProxy whose configuration file still names the old primary is restarted after a flip to the standby: within a
 * few seconds all traffic goes to the standby again, with no operator action.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLoadBalancerAdapter } from '../../adapters/haproxy/index.js';
import { createCloudAdapter, type SimCloudAdapter } from '../../adapters/sim/index.js';
import { withCallPolicy } from '../../src/core/adapter-middleware.js';
import { EventBus } from '../../src/core/events.js';
import type { LoadBalancerAdapter, NativeInstance } from '../../src/core/ports.js';
import type { Store } from '../../src/core/store-port.js';
import { LbReconciler } from '../../src/ha/index.js';
import { openStore } from '../../src/store/index.js';
import { TestHaproxy } from '../helpers/haproxy-process.js';
import { freePort, probe } from '../helpers/http-probe.js';

const quiet = { info() {}, warn() {}, error() {} };
const INTERVAL_MS = 500;
let root: string;
let port: number;
let store: Store;
let east: SimCloudAdapter;
let west: SimCloudAdapter;
let primary: NativeInstance;
let standby: NativeInstance;
let haproxy: TestHaproxy;
let lb: LoadBalancerAdapter;

const block = () => `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}.0/24`;

async function sim(id: string): Promise<SimCloudAdapter> {
  return createCloudAdapter({
    providerId: id,
    settings: { latencyMs: 0, addressBlock: block(), workload: { port, images: [{ id: 'img-kv-app', name: 'kv-app' }] } },
    dataDir: join(root, id),
    log: quiet,
  });
}

/** Who answers through HAProxy right now (an instance id), or why nobody does. */
async function whoServes(): Promise<string> {
  const r = await probe(`${haproxy.url}/whoami`, { timeoutMs: 2000 });
  return r.status === 200 ? String(r.headers?.['x-skygate-instance']) : `failed: ${r.status ?? r.error}`;
}

/** Polls until `n` answers in a row come from `instanceId`; answers how long that took and what was seen meanwhile. */
async function untilOnly(instanceId: string, n: number, timeoutMs: number): Promise<{ ms: number; seen: Set<string> }> {
  const started = Date.now();
  const seen = new Set<string>();
  let streak = 0;
  while (streak < n) {
    const who = await whoServes();
    seen.add(who);
    streak = who === instanceId ? streak + 1 : 0;
    if (Date.now() - started > timeoutMs) assert.fail(`not only ${instanceId} within ${timeoutMs} ms; seen ${[...seen]}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { ms: Date.now() - started, seen };
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'skygate-reconcile-'));
  port = await freePort();
  store = await openStore({ dataDir: join(root, 'store') });
  east = await sim('sim-east');
  west = await sim('sim-west');
  primary = await east.createInstance({ name: 'app-east', flavorId: 'sim.small', imageId: 'img-kv-app', clientToken: 'p' });
  standby = await west.createInstance({ name: 'app-west', flavorId: 'sim.small', imageId: 'img-kv-app', clientToken: 's' });
  // The operator's file names the first primary; anything skygate changes after that lives in the runtime only.
  haproxy = await TestHaproxy.start([
    {
      name: 'app',
      lines: [
        'balance roundrobin',
        'option httpchk GET /healthz',
        `server app-east ${primary.privateIp}:${port} check inter 300ms fall 2 rise 1`,
      ],
    },
  ]);
  lb = withCallPolicy(
    createLoadBalancerAdapter({
      providerId: 'edge',
      settings: { socket: haproxy.socket, serverOptions: 'check inter 300ms fall 2 rise 1' },
      dataDir: '',
      log: quiet,
    }),
    { timeoutMs: 2000, maxAttempts: 1, baseDelayMs: 50 },
  );
});
after(async () => {
  await haproxy?.close();
  await east?.close();
  await west?.close();
  await store?.close();
  await rm(root, { recursive: true, force: true });
});

describe('load balancer desired state over a restarting HAProxy', () => {
  const desired = () => [
    { address: primary.privateIp!, port, state: 'maintenance' as const },
    { address: standby.privateIp!, port, state: 'active' as const, weight: 10 },
  ];

  it('applies a flip at once, and re-applies it within seconds after HAProxy restarts from its file', async (t) => {
    const events = new EventBus(store);
    const reconciler = new LbReconciler({ store, loadBalancer: () => lb, log: quiet, events }, { intervalMs: INTERVAL_MS });
    assert.equal(await whoServes(), primary.nativeId, 'before: the primary from the file');
    const { pool, result } = await reconciler.setDesired('edge', 'app', desired());
    assert.equal(pool.generation, 1);
    assert.equal(result.error, undefined);
    assert.deepEqual(
      result.changes.map((c) => [c.action, c.to]),
      [
        ['register', 'maintenance'],
        ['state', 'maintenance'],
        ['state', 'active'],
      ],
      'the standby is staged out of traffic, the old primary fenced, and only then the standby activated',
    );
    await untilOnly(standby.nativeId, 10, 2000);

    reconciler.start();
    try {
      await haproxy.restart();
      const right = await untilOnly(standby.nativeId, 20, 10_000);
      assert.ok(right.ms < 5000, `traffic back on the standby ${right.ms} ms after the restart`);
      t.diagnostic(`only the standby answers ${right.ms} ms after the restart (seen meanwhile: ${[...right.seen].join(', ')})`);
      const targets = await lb.listTargets('app');
      assert.deepEqual(Object.fromEntries(targets.map((x) => [x.id, [x.state, x.weight]])), {
        [`${primary.privateIp}:${port}`]: ['maintenance', 1],
        [`${standby.privateIp}:${port}`]: ['active', 10],
      });
      const repaired = (await events.since(0, 100)).filter((e) => e.type === 'lb.reconciled');
      assert.ok(repaired.length >= 2, 'the flip and the repair after the restart are both in the event stream');
      assert.equal(repaired.at(-1)?.subject, 'edge/app');
    } finally {
      await reconciler.stop();
    }
  });

  it('keeps trying while HAProxy is down, says why, and converges once it is back', async () => {
    const warnings: string[] = [];
    const log = { info() {}, warn: (o: object, m?: string) => warnings.push(`${m} ${JSON.stringify(o)}`) };
    const reconciler = new LbReconciler({ store, loadBalancer: () => lb, log }, { intervalMs: INTERVAL_MS });
    await haproxy.stop();
    const [down] = await reconciler.reconcileAll();
    assert.equal(down?.error?.code, 'provider_unavailable');
    assert.equal(down?.error?.retryable, true);
    reconciler.start();
    try {
      await new Promise((r) => setTimeout(r, INTERVAL_MS * 3));
      assert.equal(warnings.length, 1, `a lasting outage is logged once: ${warnings.join('\n')}`);
      await haproxy.restart();
      await untilOnly(standby.nativeId, 10, 10_000);
    } finally {
      await reconciler.stop();
    }
  });

  it('refuses a write based on a stale generation, and stops managing a pool it forgets', async () => {
    const reconciler = new LbReconciler({ store, loadBalancer: () => lb, log: quiet }, { intervalMs: INTERVAL_MS });
    const current = (await store.getDesiredPool('edge', 'app'))!;
    await assert.rejects(reconciler.setDesired('edge', 'app', desired(), { expectGeneration: current.generation - 1 }), {
      code: 'conflict',
    });
    assert.equal((await store.getDesiredPool('edge', 'app'))?.generation, current.generation, 'nothing written');
    assert.equal(await reconciler.forget('edge', 'app'), true);
    await haproxy.restart();
    const [none] = [await reconciler.reconcileAll()];
    assert.deepEqual(none, []);
    assert.equal(await whoServes(), primary.nativeId, 'an unmanaged pool keeps what its file says');
  });
});
