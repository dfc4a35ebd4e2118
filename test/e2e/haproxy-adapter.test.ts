/**
 * The haproxy adapter against Debian's HAProxy, with real HTTP through it to sim workloads: targets added and removed
 * at runtime, states, weights and addresses changed, health read back, and the errors an operator will meet.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLoadBalancerAdapter, type HaproxyLoadBalancerAdapter } from '../../adapters/haproxy/index.js';
import { createCloudAdapter, type SimCloudAdapter } from '../../adapters/sim/index.js';
import { isSkygateError } from '../../src/core/errors.js';
import type { NativeInstance } from '../../src/core/ports.js';
import { errorCode } from '../contract/cloud-adapter-contract.js';
import { TestHaproxy } from '../helpers/haproxy-process.js';
import { freePort, probe, until } from '../helpers/http-probe.js';

const quiet = { info() {}, warn() {}, error() {} };
const CHECKED = 'check inter 200ms fall 2 rise 1';
let root: string;
let port: number;
let cloud: SimCloudAdapter;
let a: NativeInstance;
let b: NativeInstance;
const haproxies: TestHaproxy[] = [];

const lbFor = (haproxy: TestHaproxy, settings: Record<string, unknown> = {}): HaproxyLoadBalancerAdapter =>
  createLoadBalancerAdapter({
    providerId: 'haproxy-test',
    settings: { socket: haproxy.socket, serverOptions: CHECKED, ...settings },
    dataDir: '',
    log: quiet,
  });

async function haproxyWith(lines: string[] = ['balance roundrobin', 'option httpchk GET /healthz'], defaults?: string[]) {
  const h = await TestHaproxy.start(
    [
      { name: 'app', lines },
      { name: 'fixed', lines: ['balance static-rr'] },
    ],
    defaults,
  );
  haproxies.push(h);
  return h;
}

/** Which instances answered `n` requests through the frontend, and how many requests failed. */
async function spread(haproxy: TestHaproxy, n: number): Promise<{ by: Record<string, number>; failed: number }> {
  const by: Record<string, number> = {};
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const r = await probe(`${haproxy.url}/whoami`);
    const who = r.headers?.['x-skygate-instance'];
    if (r.status === 200 && typeof who === 'string') by[who] = (by[who] ?? 0) + 1;
    else failed++;
  }
  return { by, failed };
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'skygate-haproxy-adapter-'));
  port = await freePort();
  cloud = await createCloudAdapter({
    providerId: 'sim-ha',
    settings: {
      latencyMs: 0,
      addressBlock: `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}.0/24`,
      workload: { port, images: [{ id: 'img-kv-app', name: 'kv-app' }] },
    },
    dataDir: root,
    log: quiet,
  });
  a = await cloud.createInstance({ name: 'a', flavorId: 'sim.small', imageId: 'img-kv-app', clientToken: 'a' });
  b = await cloud.createInstance({ name: 'b', flavorId: 'sim.small', imageId: 'img-kv-app', clientToken: 'b' });
});
after(async () => {
  for (const h of haproxies) await h.close();
  await cloud.close();
  await rm(root, { recursive: true, force: true });
});

describe('haproxy adapter', () => {
  it('adds servers at runtime and carries real traffic to them, by state and by weight', async () => {
    const haproxy = await haproxyWith();
    const lb = lbFor(haproxy);
    assert.deepEqual(
      (await lb.listPools()).map((p) => p.id),
      ['app', 'fixed'],
    );
    assert.equal((await probe(`${haproxy.url}/whoami`)).status, 503, 'no server yet');
    const ta = await lb.registerTarget('app', { address: a.privateIp!, port });
    const tb = await lb.registerTarget('app', { address: b.privateIp!, port });
    assert.equal(ta.id, `${a.privateIp}:${port}`);
    let seen = await spread(haproxy, 20);
    assert.deepEqual(seen, { by: { [a.nativeId]: 10, [b.nativeId]: 10 }, failed: 0 }, 'round robin over both');

    await lb.setTargetState('app', tb.id, 'maintenance');
    assert.deepEqual(await spread(haproxy, 6), { by: { [a.nativeId]: 6 }, failed: 0 }, 'maintenance takes no request');
    await lb.setTargetState('app', tb.id, 'draining');
    assert.deepEqual(await spread(haproxy, 6), { by: { [a.nativeId]: 6 }, failed: 0 }, 'draining takes no new request');
    await lb.setTargetState('app', tb.id, 'active');

    const heavier = await lb.setTargetWeight('app', tb.id, 3);
    assert.equal(heavier.weight, 3);
    seen = await spread(haproxy, 40);
    assert.deepEqual(seen, { by: { [a.nativeId]: 10, [b.nativeId]: 30 }, failed: 0 }, 'weight 3 to 1');
    assert.equal(
      (await lb.registerTarget('app', { address: b.privateIp!, port, weight: 1 })).weight,
      1,
      'register again re-weighs',
    );
  });

  it('reads check state: a live workload is healthy, a dead address unhealthy, an outage turns healthy to unhealthy', async () => {
    const haproxy = await haproxyWith();
    const lb = lbFor(haproxy);
    const live = await lb.registerTarget('app', { address: a.privateIp!, port });
    const dead = await lb.registerTarget('app', { address: '127.0.0.1', port: await freePort() });
    const health = async (id: string) => (await lb.listTargets('app')).find((t) => t.id === id)?.health;
    await until(async () => (await health(dead.id)) === 'unhealthy', 3000, 'dead target seen unhealthy');
    assert.equal(await health(live.id), 'healthy');
    await cloud.extensions.setFaults({ outage: true });
    try {
      const ms = await until(async () => (await health(live.id)) === 'unhealthy', 3000, 'outage seen by the check');
      assert.ok(ms < 3000, `${ms} ms`);
    } finally {
      await cloud.extensions.setFaults({ outage: false });
    }
    await until(async () => (await health(live.id)) === 'healthy', 3000, 'healthy again after the outage');
    // A server without a check is not pretended healthy.
    const unchecked = lbFor(haproxy, { serverOptions: '' });
    const plain = await unchecked.registerTarget('app', { address: b.privateIp!, port });
    assert.equal(plain.health, 'unknown');
  });

  it('registers a target straight into maintenance, where it takes no request', async () => {
    const haproxy = await haproxyWith();
    const lb = lbFor(haproxy);
    await lb.registerTarget('app', { address: a.privateIp!, port });
    const fenced = await lb.registerTarget('app', { address: b.privateIp!, port, state: 'maintenance' });
    assert.deepEqual([fenced.state, fenced.health], ['maintenance', 'maintenance']);
    assert.deepEqual(await spread(haproxy, 6), { by: { [a.nativeId]: 6 }, failed: 0 });
  });

  it('moves a server to another address in place, and refuses to move it onto another target', async () => {
    const haproxy = await haproxyWith();
    const lb = lbFor(haproxy);
    const t = await lb.registerTarget('app', { address: a.privateIp!, port, weight: 5 });
    const moved = await lb.setTargetAddress('app', t.id, { address: b.privateIp!, port });
    assert.deepEqual({ id: moved.id, weight: moved.weight }, { id: `${b.privateIp}:${port}`, weight: 5 });
    assert.deepEqual(await spread(haproxy, 4), { by: { [b.nativeId]: 4 }, failed: 0 });
    await lb.registerTarget('app', { address: a.privateIp!, port });
    const onto = await lb.setTargetAddress('app', moved.id, { address: a.privateIp!, port }).catch((e) => e);
    assert.ok(isSkygateError(onto));
    assert.equal(onto.code, 'conflict');
  });

  it('lists and removes servers from the configuration file like its own', async () => {
    const haproxy = await haproxyWith([
      'balance roundrobin',
      'option httpchk GET /healthz',
      `server from-config ${a.privateIp}:${port} check inter 200ms`,
    ]);
    const lb = lbFor(haproxy);
    const listed = await lb.listTargets('app');
    assert.deepEqual(
      listed.map((t) => [t.id, t.state]),
      [[`${a.privateIp}:${port}`, 'active']],
    );
    await lb.registerTarget('app', { address: b.privateIp!, port });
    await lb.deregisterTarget('app', `${a.privateIp}:${port}`);
    assert.deepEqual(await spread(haproxy, 4), { by: { [b.nativeId]: 4 }, failed: 0 });
  });

  it('removes a server that is carrying traffic: no request fails, the rest go to the remaining server', async () => {
    const haproxy = await haproxyWith();
    const lb = lbFor(haproxy);
    await lb.registerTarget('app', { address: a.privateIp!, port });
    const tb = await lb.registerTarget('app', { address: b.privateIp!, port });
    const load = spread(haproxy, 60);
    await new Promise((r) => setTimeout(r, 30));
    await lb.deregisterTarget('app', tb.id);
    const seen = await load;
    assert.equal(seen.failed, 0, JSON.stringify(seen));
    assert.deepEqual(
      (await lb.listTargets('app')).map((t) => t.id),
      [`${a.privateIp}:${port}`],
    );
  });

  it('hides a server that died between checks behind retries and redispatch; without them, requests fail', async () => {
    const options = 'check inter 10s fall 3 rise 1'; // checks too slow to notice within the test
    const withRetries = await haproxyWith();
    const bare = await haproxyWith(undefined, ['timeout connect 500ms', 'timeout client 10s', 'timeout server 10s', 'retries 0']);
    for (const h of [withRetries, bare]) {
      const lb = lbFor(h, { serverOptions: options });
      await lb.registerTarget('app', { address: a.privateIp!, port });
      await lb.registerTarget('app', { address: b.privateIp!, port });
    }
    await cloud.stopInstance(b.nativeId);
    try {
      const retried = await spread(withRetries, 20);
      assert.deepEqual(retried, { by: { [a.nativeId]: 20 }, failed: 0 }, 'retry-on conn-failure + redispatch');
      const failing = await spread(bare, 20);
      assert.ok(failing.failed >= 5, `without retries about half fail: ${JSON.stringify(failing)}`);
    } finally {
      await cloud.startInstance(b.nativeId);
    }
  });

  it('answers the taxonomy: static backends, host names, missing and hung sockets, bad settings', async () => {
    const haproxy = await haproxyWith();
    const lb = lbFor(haproxy);
    const fixed = await lb.registerTarget('fixed', { address: a.privateIp!, port }).catch((e) => e);
    assert.ok(isSkygateError(fixed));
    assert.equal(fixed.code, 'unsupported');
    assert.match(fixed.message, /static balance algorithm/);
    const named = await lb.registerTarget('app', { address: 'app.example', port }).catch((e) => e);
    assert.deepEqual([named.code, named.field], ['invalid_input', 'address']);
    assert.equal(await errorCode(lb.listTargets('bad pool')), 'invalid_input');
    assert.deepEqual(
      (await lb.listTargets('app')).map((t) => t.id),
      [],
      'refused calls leave nothing behind',
    );

    const missing = lbFor(haproxy, { socket: join(root, 'no.sock') });
    const down = await missing.listPools().catch((e) => e);
    assert.deepEqual([down.code, down.retryable, down.provider], ['provider_unavailable', true, 'haproxy-test']);

    // A socket that takes the connection and never answers: a hung HAProxy.
    const hung: Server = createServer(() => {});
    const hungPort = await new Promise<number>((resolve) =>
      hung.listen(0, '127.0.0.1', () => resolve((hung.address() as { port: number }).port)),
    );
    try {
      const slow = lbFor(haproxy, { socket: `127.0.0.1:${hungPort}`, timeoutMs: 200 });
      const started = Date.now();
      assert.equal(await errorCode(slow.listPools()), 'timeout');
      assert.ok(Date.now() - started < 2000);
    } finally {
      hung.close();
    }

    for (const [settings, field] of [
      [{ socket: 'relative/path.sock' }, 'socket'],
      [{ socket: haproxy.socket, serverOptions: 'check; del server app/x' }, 'serverOptions'],
      [{ socket: haproxy.socket, backends: [] }, 'backends'],
      [{ socket: haproxy.socket, timeoutMs: 0 }, 'timeoutMs'],
      [{ socket: haproxy.socket, sokcet: 'typo' }, 'sokcet'],
    ] as const) {
      assert.throws(
        () => lbFor(haproxy, settings as Record<string, unknown>),
        (e: { code: string; field: string }) => e.code === 'invalid_input' && e.field === field,
        field,
      );
    }
    const onlyApp = lbFor(haproxy, { backends: ['app'] });
    assert.deepEqual(
      (await onlyApp.listPools()).map((p) => p.id),
      ['app'],
    );
    assert.equal(await errorCode(onlyApp.listTargets('fixed')), 'not_found');
  });
});
