/**
 * Faux mobility end to end: a gateway with two sim clouds serving the kv workload and a real HAProxy in front. The
 * primary cloud's outage is seen by the probes, the controller fails the group over to the standby (fence, launch or
 * check, healthy, flip), traffic through HAProxy reaches the standby, and the group says so with a timeline. Then a
 * planned switchover back, under a steady stream of requests: not one fails.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Operation } from '../../src/core/model.js';
import type { ProviderConfig } from '../../src/core/registry.js';
import type { ProtectionGroupStatus } from '../../src/ha/protection-group.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fastHttpCheck, insertOneMemberGroup } from '../helpers/ha-group.js';
import { TestHaproxy } from '../helpers/haproxy-process.js';
import { freePort, probe } from '../helpers/http-probe.js';

let gw: TestGateway;
let haproxy: TestHaproxy;
let port: number;
const GROUP = 'pg-00000000000000e2';

const block = (n: number) => `127.${150 + n}.${Math.floor(Math.random() * 256)}.0/24`;

async function whoServes(): Promise<string> {
  const r = await probe(`${haproxy.url}/whoami`, { timeoutMs: 2000 });
  return r.status === 200 ? String(r.headers?.['x-skygate-instance']) : `failed: ${r.status ?? r.error}`;
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function launch(provider: string, name: string): Promise<{ id: string; nativeId: string; privateIp: string }> {
  const res = await gw.api('post', '/v1/instances', { provider, name, flavorId: 'sim.small', imageId: 'img-kv-app' });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const op = await gw.waitOperation((res.body as Operation).id, 20_000);
  assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
  const id = String(op.target);
  const got = await gw.api('get', `/v1/instances/${encodeURIComponent(id)}`);
  return { id, nativeId: id.split(':')[1]!, privateIp: got.body.privateIp };
}

const status = async () =>
  (await gw.gateway.internals.store.getProtectionGroup(GROUP))!.status as unknown as ProtectionGroupStatus;

before(async () => {
  port = await freePort();
  haproxy = await TestHaproxy.start([{ name: 'app', lines: ['balance roundrobin'] }]);
  const workload = { port, images: [{ id: 'img-kv-app', name: 'kv-app' }] };
  const providers: ProviderConfig[] = [
    { id: 'sim-east', type: 'sim', settings: { latencyMs: 0, addressBlock: block(1), workload }, loadBalancer: {} },
    { id: 'sim-west', type: 'sim', settings: { latencyMs: 0, addressBlock: block(2), workload }, loadBalancer: {} },
    {
      id: 'edge',
      type: 'sim',
      settings: { latencyMs: 0, addressBlock: block(3) },
      loadBalancer: {
        type: 'haproxy',
        settings: { socket: haproxy.socket, backends: ['app'], serverOptions: 'check inter 500ms fall 2 rise 1' },
      },
    },
  ];
  gw = await startTestGateway({
    providers,
    ha: {
      scheduleReplication: false,
      controllerIntervalMs: 200,
      lbReconcileIntervalMs: 500,
      drainMs: 500,
      healthyTimeoutMs: 4000,
    },
  });
});

after(async () => {
  await gw?.close();
  await haproxy?.close();
});

describe('failover through a real HAProxy', () => {
  it('fails over to the warm standby when the primary cloud goes down, then switches back with no failed request', async (t) => {
    const east = await launch('sim-east', 'app');
    const west = await launch('sim-west', 'app-standby');
    const { store } = gw.gateway.internals;
    assert.ok(
      await insertOneMemberGroup(store, {
        id: GROUP,
        name: 'shop',
        member: east.id,
        standby: west.id,
        healthCheck: fastHttpCheck(port),
        traffic: { lbProvider: 'edge', poolId: 'app', port },
      }),
    );
    await gw.gateway.internals.ha.reconciler.setDesired('edge', 'app', [{ address: east.privateIp, port, state: 'active' }]);
    await until('traffic on the primary', 10_000, async () => (await whoServes()) === east.nativeId || undefined);
    assert.equal((await probe(`${haproxy.url}/kv/k1`, { method: 'PUT', body: 'v1' })).status, 201);

    const faultAt = Date.now();
    assert.equal((await gw.api('put', '/v1/admin/providers/sim-east/faults', { outage: true })).status, 200);
    await until('traffic on the standby', 20_000, async () => (await whoServes()) === west.nativeId || undefined);
    const rto = Date.now() - faultAt;
    const after1 = await until('the failover recorded', 10_000, async () => {
      const s = await status();
      return s.primary === 'sim-west' && s.lastFailover?.outcome === 'succeeded' ? s : undefined;
    });
    t.diagnostic(
      `fault to first request served by the standby: ${rto} ms; phases ${JSON.stringify(after1.lastFailover?.phases)}`,
    );
    assert.equal(after1.failovers, 1);
    assert.equal(after1.sites['sim-east']?.needsReseed, true, 'the old primary must be re-seeded before it serves again');
    for (const phase of ['detect', 'decide', 'fence', 'launch', 'healthy', 'flip'] as const) {
      assert.equal(typeof after1.lastFailover?.phases[phase], 'number', `phase ${phase} timed`);
    }
    const types = (await gw.gateway.internals.events.since(0, 10_000)).map((e) => e.type);
    for (const type of [
      'ha.site.unhealthy',
      'ha.failover.started',
      'ha.failover.fenced',
      'ha.failover.flipped',
      'ha.failover.completed',
    ]) {
      assert.ok(types.includes(type), `event ${type} emitted`);
    }
    // The health history the controller keeps (bounded): east went down, after `fall` failing rounds.
    const health = await gw.api('get', `/v1/protection-groups/${GROUP}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.controller.heldHere, true);
    const eastHealth = health.body.sites['sim-east'];
    assert.equal(eastHealth.state, 'unhealthy');
    assert.ok(eastHealth.rounds.length <= 50 && eastHealth.rounds.some((r: { ok: boolean }) => !r.ok));
    assert.deepEqual(eastHealth.transitions.at(-1).to, 'unhealthy');
    // The standby's own data: warm, started from its own disk, so the key written at east is not there.
    assert.equal((await probe(`${haproxy.url}/kv/k1`)).status, 404);

    // The outage ends: east is re-seeded (its stale instance terminated) and replicas make it a standby again.
    assert.equal((await gw.api('put', '/v1/admin/providers/sim-east/faults', { outage: false })).status, 200);
    await until('east re-seeded', 15_000, async () =>
      (await status()).sites['sim-east']?.needsReseed === false ? true : undefined,
    );
    const gone = await gw.api('get', `/v1/instances/${encodeURIComponent(east.id)}`);
    assert.ok(
      gone.status === 404 || ['terminated', 'shutting-down', 'terminating'].includes(gone.body.state),
      `east's stale instance ends (${gone.body.state})`,
    );
    await store.insertReplica({
      id: 'r-east-1',
      groupId: GROUP,
      member: east.id,
      sourceProvider: 'sim-west',
      sourceInstanceId: west.id,
      site: 'sim-east',
      imageId: 'img-kv-app',
      dataAt: new Date().toISOString(),
      createdAt: new Date().toISOString(),
    });

    // Planned switchover back to east, under a steady stream of requests.
    let sent = 0;
    const failures: string[] = [];
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        const who = await whoServes();
        sent++;
        if (who.startsWith('failed')) failures.push(who);
      }
    })();
    const op = await gw.gateway.internals.ha.controller.switchover(GROUP, { to: 'sim-east' }, { principal: 'test' });
    const done = await gw.waitOperation(op.id, 30_000);
    streaming = false;
    await stream;
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const back = await status();
    assert.equal(back.primary, 'sim-east');
    assert.equal(back.lastFailover?.kind, 'switchover');
    const newEast = Object.values(back.sites['sim-east']!.instances)[0]!;
    assert.equal(await whoServes(), newEast.split(':')[1]);
    t.diagnostic(`switchover: ${sent} requests during it, ${failures.length} failed`);
    assert.deepEqual(failures, [], 'a planned switchover fails no request');
  });

  const fault = async (provider: string, outage: boolean) =>
    assert.equal((await gw.api('put', `/v1/admin/providers/${provider}/faults`, { outage })).status, 200);
  const replicaAt = (site: string, member: string, id: string) =>
    gw.gateway.internals.store.insertReplica({
      id,
      groupId: GROUP,
      member,
      sourceProvider: 'test',
      sourceInstanceId: 'none',
      site,
      imageId: 'img-kv-app',
      dataAt: new Date().toISOString(),
      createdAt: new Date().toISOString(),
    });
  const desiredActive = async () =>
    (await gw.gateway.internals.store.getDesiredPool('edge', 'app'))!.targets
      .filter((t) => t.state === 'active')
      .map((t) => t.address);

  it('withholds a failover no standby can take (no replica there), keeps the targets, and acts once one can', async () => {
    await until('west re-seeded', 15_000, async () =>
      (await status()).sites['sim-west']?.needsReseed === false ? true : undefined,
    );
    const before = await status();
    const member = before.members[0]!.key;
    const activeBefore = await desiredActive();
    const seqBefore = (await gw.gateway.internals.events.since(0, 100_000)).length;
    await fault('sim-east', true);
    const withheld = await until('the failover withheld', 10_000, async () => {
      const s = await status();
      return s.phase === 'no-healthy-site' ? s : undefined;
    });
    assert.match(withheld.message ?? '', /no standby can take over/);
    assert.equal(withheld.primary, 'sim-east');
    assert.deepEqual(await desiredActive(), activeBefore, 'the targets are kept');
    const events = (await gw.gateway.internals.events.since(0, 100_000)).slice(seqBefore).map((e) => e.type);
    assert.ok(events.includes('ha.failover.withheld'));
    assert.ok(!events.includes('ha.failover.started'));

    await replicaAt('sim-west', member, 'r-west-1');
    const moved = await until('failed over once west holds a replica', 20_000, async () => {
      const s = await status();
      return s.primary === 'sim-west' && s.lastFailover?.outcome === 'succeeded' && s.activeOperation === undefined
        ? s
        : undefined;
    });
    const westInstance = Object.values(moved.sites['sim-west']!.instances)[0]!;
    await until(
      'traffic on the launched standby',
      10_000,
      async () => (await whoServes()) === westInstance.split(':')[1] || undefined,
    );
    assert.ok((moved.lastFailover?.phases.launch ?? 0) > 0, 'cold: a launch from the replica');
    await fault('sim-east', false);
  });

  it('runs one of two failovers asked at once and refuses the other', async () => {
    await until('east re-seeded', 15_000, async () =>
      (await status()).sites['sim-east']?.needsReseed === false ? true : undefined,
    );
    await replicaAt('sim-east', (await status()).members[0]!.key, 'r-east-2');
    const { controller } = gw.gateway.internals.ha;
    const asks = await Promise.allSettled([
      controller.failover(GROUP, { to: 'sim-east' }, { principal: 'a' }),
      controller.failover(GROUP, { to: 'sim-east' }, { principal: 'b' }),
    ]);
    const ran = asks.filter((a) => a.status === 'fulfilled');
    const refused = asks.filter((a) => a.status === 'rejected');
    assert.equal(ran.length, 1);
    assert.match(String((refused[0] as PromiseRejectedResult).reason?.message), /already moving/);
    const op = await gw.waitOperation((ran[0] as PromiseFulfilledResult<Operation>).value.id, 30_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal((await status()).primary, 'sim-east');
  });

  it('keeps the targets when every site is down, and says so until the primary recovers', async () => {
    const activeBefore = await desiredActive();
    await fault('sim-west', true);
    await fault('sim-east', true);
    const s = await until('no healthy site', 10_000, async () => {
      const x = await status();
      return x.phase === 'no-healthy-site' ? x : undefined;
    });
    assert.equal(s.primary, 'sim-east');
    assert.deepEqual(await desiredActive(), activeBefore);
    await fault('sim-east', false);
    await until('protecting again', 10_000, async () => ((await status()).phase === 'protecting' ? true : undefined));
    assert.equal((await status()).primary, 'sim-east');
    assert.deepEqual(await desiredActive(), activeBefore);
    await fault('sim-west', false);
  });

  it('rolls back a failover the load balancer refuses, and completes it once HAProxy answers again', async () => {
    const before = await status();
    assert.equal(before.primary, 'sim-east');
    await until('west re-seeded', 15_000, async () =>
      (await status()).sites['sim-west']?.needsReseed === false ? true : undefined,
    );
    await replicaAt('sim-west', before.members[0]!.key, 'r-west-5');
    await haproxy.stop();
    await fault('sim-east', true);
    const failed = await until('a failed failover', 20_000, async () => {
      const s = await status();
      return s.lastFailover?.outcome === 'failed' && s.activeOperation === undefined ? s : undefined;
    });
    assert.equal(failed.primary, 'sim-east');
    assert.match(failed.lastFailover?.error ?? '', /load balancer edge/);
    assert.ok((await gw.gateway.internals.events.since(0, 100_000)).some((e) => e.type === 'ha.failover.failed'));
    await haproxy.restart();
    const moved = await until('failed over once HAProxy answers', 30_000, async () => {
      const s = await status();
      return s.primary === 'sim-west' && s.lastFailover?.outcome === 'succeeded' ? s : undefined;
    });
    const west = Object.values(moved.sites['sim-west']!.instances)[0]!.split(':')[1];
    await until('traffic on west through the restarted HAProxy', 10_000, async () => (await whoServes()) === west || undefined);
    await fault('sim-east', false);
  });

  it('rolls back a failover whose standby never passes its health check, terminating what it launched', async () => {
    await until('east re-seeded', 15_000, async () =>
      (await status()).sites['sim-east']?.needsReseed === false ? true : undefined,
    );
    const before = await status();
    await replicaAt('sim-east', before.members[0]!.key, 'r-east-6');
    const poolBefore = await gw.gateway.internals.store.getDesiredPool('edge', 'app');
    const east = gw.gateway.internals.registry.cloud('sim-east');
    // A gray failure at the standby: its API says instances run, but nothing answers on their addresses.
    await east.extensions!.killWorkloadHost!();
    const opsBefore = new Set((await gw.gateway.internals.store.listOperations({ limit: 1000 })).map((o) => o.id));
    await fault('sim-west', true);
    const failed = await until('the failover rolled back', 30_000, async () => {
      const s = await status();
      return s.lastFailover?.outcome === 'failed' && s.lastFailover.to === 'sim-east' && s.activeOperation === undefined
        ? s
        : undefined;
    });
    assert.equal(failed.primary, 'sim-west');
    assert.match(failed.lastFailover?.error ?? '', /did not pass its health check/);
    assert.deepEqual(
      (await gw.gateway.internals.store.getDesiredPool('edge', 'app'))?.targets,
      poolBefore?.targets,
      'targets as before',
    );
    const moves = (await gw.gateway.internals.store.listOperations({ limit: 1000 })).filter(
      (o) => !opsBefore.has(o.id) && o.kind === 'ha.failover',
    );
    const launched = moves.flatMap((o) => Object.values((o.result?.instances ?? {}) as Record<string, string>));
    const state = moves[0]?.state as { plan?: Array<{ instanceId?: string }> } | undefined;
    const made = (state?.plan ?? []).map((m) => m.instanceId).filter((x): x is string => x !== undefined);
    for (const id of [...launched, ...made]) {
      const got = await gw.api('get', `/v1/instances/${encodeURIComponent(id)}`);
      assert.ok(
        got.status === 404 || ['terminated', 'shutting-down'].includes(got.body.state),
        `${id} terminated (${got.status} ${JSON.stringify(got.body)})`,
      );
    }
    await fault('sim-west', false);
    await east.extensions!.startWorkloadHost!();
  });
});
