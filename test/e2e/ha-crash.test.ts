/**
 * kill -9 of a real gateway in the middle of a failover, after each of its steps (the engine's crash hook kills the
 * process right after the step's work and before it is recorded, so the restart repeats it). After a restart on the
 * same data the failover finishes: the standby is the primary and serves through HAProxy. Throughout, HAProxy is
 * watched: never do both sites' targets take traffic at once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLoadBalancerAdapter } from '../../adapters/haproxy/index.js';
import type { Operation } from '../../src/core/model.js';
import { TEST_CRASH_AFTER_STEP } from '../../src/core/operations/engine.js';
import type { ProtectionGroupStatus } from '../../src/ha/protection-group.js';
import { openStore } from '../../src/store/index.js';
import { fastHttpCheck, insertOneMemberGroup } from '../helpers/ha-group.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { TestHaproxy } from '../helpers/haproxy-process.js';
import { freePort, probe } from '../helpers/http-probe.js';

const TOKEN = 'ha-crash-admin-token-0123456789ab';
const GROUP = 'pg-crash';
const quiet = { info() {}, warn() {}, error() {} };
let haproxy: TestHaproxy;

before(async () => {
  haproxy = await TestHaproxy.start([{ name: 'app', lines: ['balance roundrobin'] }]);
});
after(async () => {
  await haproxy?.close();
});

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** One run: a group on sim-east (cold standby sim-west), an outage, and a crash after `step` of the failover. */
async function crashAfter(step: string): Promise<{ diagnostics: string }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'skygate-ha-crash-'));
  const port = await freePort();
  const third = () => Math.floor(Math.random() * 256);
  const config = [
    'providers:',
    ...['sim-east', 'sim-west'].flatMap((id, i) => [
      `  - id: ${id}`,
      '    type: sim',
      `    settings: { latencyMs: 0, addressBlock: 127.${170 + i}.${third()}.0/24, workload: { port: ${port}, images: [{ id: img-kv-app, name: kv-app }] } }`,
    ]),
    '  - id: edge',
    '    type: sim',
    `    settings: { latencyMs: 0, addressBlock: 127.172.${third()}.0/24 }`,
    `    loadBalancer: { type: haproxy, settings: { socket: ${haproxy.socket}, backends: [app], serverOptions: "check inter 500ms fall 2 rise 1" } }`,
    'ha: { scheduleReplication: false, controllerIntervalMs: 200, lbReconcileIntervalMs: 300, leaseTtlMs: 3000, healthyTimeoutMs: 20000 }',
    '',
  ].join('\n');
  const start = (env: Record<string, string> = {}) =>
    startGatewayProcess({ dataDir, config, env: { SKYGATE_ADMIN_TOKEN: TOKEN, SKYGATE_LOG_LEVEL: 'warn', ...env } });
  const lb = await createLoadBalancerAdapter({
    providerId: 'watch',
    settings: { socket: haproxy.socket },
    dataDir: '',
    log: quiet,
  });
  let first: GatewayProcess | undefined = await start({ [TEST_CRASH_AFTER_STEP]: `ha.failover/${step}` });
  let second: GatewayProcess | undefined;
  let watching = true;
  const bothActive: string[] = [];
  try {
    const gw = first;
    const created = await gw.api('post', '/v1/instances', {
      provider: 'sim-east',
      name: 'app',
      flavorId: 'sim.small',
      imageId: 'img-kv-app',
    });
    const op = await gw.waitOperation((created.body as Operation).id, 20_000);
    assert.equal(op.status, 'succeeded');
    const east = (await gw.api('get', `/v1/instances/${encodeURIComponent(String(op.target))}`)).body;
    // Written beside the running gateway, as a second gateway replica on the same store would.
    const store = await openStore({ dataDir });
    const now = new Date().toISOString();
    await insertOneMemberGroup(store, {
      id: GROUP,
      name: `crash-${step}`,
      member: east.id,
      healthCheck: fastHttpCheck(port),
      traffic: { lbProvider: 'edge', poolId: 'app', port },
    });
    await store.insertReplica({
      id: 'r1',
      groupId: GROUP,
      member: east.id,
      sourceProvider: 'sim-east',
      sourceInstanceId: east.id,
      site: 'sim-west',
      imageId: 'img-kv-app',
      dataAt: now,
      createdAt: now,
    });
    await store.putDesiredPool({
      lbProvider: 'edge',
      poolId: 'app',
      targets: [{ address: east.privateIp, port, state: 'active' }],
      updatedAt: now,
    });
    const readStatus = async () => (await store.getProtectionGroup(GROUP))!.status as unknown as ProtectionGroupStatus;

    const watcher = (async () => {
      while (watching) {
        const targets = await lb.listTargets('app').catch(() => []);
        const active = targets.filter((t) => t.state === 'active').map((t) => t.address);
        const sites = new Set(active.map((a) => a.split('.')[1]));
        if (sites.size > 1) bothActive.push(active.join(','));
        await sleep(20);
      }
    })();
    await until('traffic on east', 10_000, async () => {
      const r = await probe(`${haproxy.url}/whoami`, { timeoutMs: 1000 });
      return r.headers?.['x-skygate-instance'] === east.nativeId ? true : undefined;
    });
    await gw.api('put', '/v1/admin/providers/sim-east/faults', { outage: true });
    const ended = await Promise.race([gw.exited, sleep(30_000).then(() => undefined)]);
    assert.equal(ended?.signal, 'SIGKILL', `the gateway killed itself after ${step}:\n${gw.output()}`);
    first = undefined;

    second = await start();
    const done = await until('the failover finished after the restart', 40_000, async () => {
      const s = await readStatus();
      return s.primary === 'sim-west' && s.activeOperation === undefined ? s : undefined;
    });
    assert.equal(done.lastFailover?.outcome, 'succeeded', JSON.stringify(done.lastFailover));
    const westIds = Object.values(done.sites['sim-west']!.instances);
    assert.equal(westIds.length, 1);
    const west = westIds[0]!.split(':')[1];
    await until('traffic on the standby', 15_000, async () => {
      const r = await probe(`${haproxy.url}/whoami`, { timeoutMs: 1000 });
      return r.headers?.['x-skygate-instance'] === west ? true : undefined;
    });
    const running = (await second.api('get', '/v1/instances?provider=sim-west&fresh=true')).body.items.filter(
      (i: { state: string }) => i.state === 'running' || i.state === 'pending',
    );
    assert.equal(
      running.length,
      1,
      `exactly one instance launched at the standby: ${JSON.stringify(running.map((i: { id: string }) => i.id))}`,
    );
    await store.close();
    watching = false;
    await watcher;
    assert.deepEqual(bothActive, [], 'never both sites taking traffic');
    // The next run starts from an empty pool.
    await lb.listTargets('app').then((ts) => Promise.all(ts.map((t) => lb.deregisterTarget('app', t.id))));
    return { diagnostics: `after ${step}: ${done.lastFailover?.phases ? JSON.stringify(done.lastFailover.phases) : ''}` };
  } finally {
    watching = false;
    await first?.stop('SIGKILL').catch(() => undefined);
    await second?.stop('SIGTERM').catch(() => undefined);
    await lb.close?.();
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('a gateway killed in the middle of a failover', () => {
  for (const step of ['decide', 'fence', 'launch', 'healthy', 'flip', 'record']) {
    it(`resumes it after a kill -9 after ${step}, never with two sites in traffic`, async (t) => {
      const { diagnostics } = await crashAfter(step);
      t.diagnostic(diagnostics);
    });
  }
});
