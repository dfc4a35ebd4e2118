/**
 * `ha.replicate` against a real gateway with real sim clouds: a workload instance's data reaches the standby as a
 * replica that serves it, warm standbys are relaunched from each replica, retention deletes images beyond N in the
 * clouds too, a site that fails is named while the others' replicas stand, and a stale fence records nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isSkygateError } from '../../src/core/errors.js';
import { parseId } from '../../src/core/ids.js';
import type { Operation, SkygateEvent } from '../../src/core/model.js';
import type { ProviderConfig } from '../../src/core/registry.js';
import type { Fence } from '../../src/core/store-port.js';
import { GroupLeases } from '../../src/ha/group-leases.js';
import { leaseOf, readGroup, updateStatus } from '../../src/ha/group-records.js';
import type { HealthCheckSpec } from '../../src/ha/health-check-spec.js';
import { probeOnce } from '../../src/ha/health-probe.js';
import type { ProtectionGroupSpec, ProtectionGroupStatus, StandbyMode } from '../../src/ha/protection-group.js';
import { HA_REPLICATE_KIND, outcomeOf, replicateCommand } from '../../src/ha/replicate-command.js';
import type { ReplicateState } from '../../src/ha/replication-context.js';
import { createReplication } from '../../src/ha/replication.js';
import { type TestGateway, startTestGateway } from '../helpers/gateway.js';
import { freePort, probe } from '../helpers/http-probe.js';

const SITES = ['sim-east', 'sim-west', 'sim-north'];
let gw: TestGateway;
let port: number;
let seq = 0;

/** A block of its own per provider and run, so runs on one machine never meet on an address. */
const block = (i: number) => `127.${110 + i * 30 + Math.floor(Math.random() * 30)}.${Math.floor(Math.random() * 256)}.0/24`;

before(async () => {
  port = await freePort();
  const providers: ProviderConfig[] = SITES.map((id, i) => ({
    id,
    type: 'sim',
    settings: { latencyMs: 5, addressBlock: block(i), workload: { port, images: [{ id: 'img-kv-app', name: 'kv-app' }] } },
    loadBalancer: {},
  }));
  // This test is the groups' controller (it holds their leases): the gateway's own stays off.
  gw = await startTestGateway({ providers, ha: { enabled: false } });
  const { store, engine } = gw.gateway.internals;
  engine.register(replicateCommand({ store, portability: gw.gateway.core.portability, operations: engine, probe: probeOnce }));
});
after(async () => {
  await gw?.close();
});

const cloud = (site: string) => gw.gateway.internals.registry.cloud(site, 'site');
const store = () => gw.gateway.internals.store;

/** A running workload instance at `site`: its id and address. */
async function workload(site: string): Promise<{ id: string; ip: string }> {
  const res = await gw.api('post', '/v1/instances', {
    provider: site,
    name: `app-${++seq}`,
    flavorId: `${site}:sim.small`,
    imageId: `${site}:img-kv-app`,
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const op = await gw.waitOperation(res.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
  const id = String(op.result?.resourceId);
  const vm = await cloud(site).getInstance(parseId(id, 'id').nativeId);
  return { id, ip: vm.privateIp as string };
}

const kv = (ip: string, key: string, body?: string) =>
  probe(`http://${ip}:${port}/kv/${key}`, body === undefined ? {} : { method: 'PUT', body });

const healthCheck: HealthCheckSpec = {
  protocol: 'http',
  port: 0,
  path: '/healthz',
  expectStatus: 200,
  intervalMs: 200,
  timeoutMs: 150,
  fall: 2,
  rise: 2,
};

/** A group protecting `vm` at sim-east, stored as the group API would, and the fence of a controller holding it. */
async function group(
  vm: { id: string },
  opts: { standbys?: string[]; mode?: StandbyMode; retain?: number; reseed?: boolean; rpoSeconds?: number } = {},
): Promise<{ id: string; fence: Fence }> {
  const standbys = opts.standbys ?? ['sim-west'];
  const id = `pg-${++seq}`;
  const flavor = (await cloud('sim-east').listFlavors()).find((f) => f.nativeId === 'sim.small');
  const spec: ProtectionGroupSpec = {
    name: `shop-${seq}`,
    primary: 'sim-east',
    instances: { ids: [vm.id] },
    standbys,
    standbyMode: opts.mode ?? 'cold',
    replication: { rpoSeconds: opts.rpoSeconds ?? 60, retain: opts.retain ?? 3 },
    healthCheck: { ...healthCheck, port },
    traffic: { lbProvider: 'sim-east', poolId: 'app', port },
    failoverMode: 'manual',
  };
  const status: ProtectionGroupStatus = {
    primary: 'sim-east',
    phase: 'protecting',
    members: [
      {
        key: vm.id,
        name: `member-${seq}`,
        vcpus: flavor?.vcpus ?? 1,
        memoryMiB: flavor?.memoryMiB ?? 512,
        order: 0,
        tags: { app: 'shop' },
      },
    ],
    sites: {
      'sim-east': { role: 'primary', health: 'healthy', instances: { [vm.id]: vm.id } },
      ...Object.fromEntries(
        standbys.map((s) => [
          s,
          { role: 'standby' as const, health: 'unknown' as const, instances: {}, ...(opts.reseed && { needsReseed: true }) },
        ]),
      ),
    },
    failovers: 0,
  };
  const now = new Date().toISOString();
  assert.ok(
    await store().insertProtectionGroup({
      id,
      name: spec.name,
      spec: spec as unknown as Record<string, unknown>,
      status: status as unknown as Record<string, unknown>,
      createdAt: now,
      updatedAt: now,
    }),
  );
  const lease = await store().acquireLease(leaseOf(id), 'test-controller', 600_000, Date.now());
  assert.ok(lease);
  return { id, fence: { lease: leaseOf(id), token: lease.token } };
}

async function replicate(g: { id: string; fence: Fence }): Promise<{ op: Operation; ms: number }> {
  const started = Date.now();
  const { engine } = gw.gateway.internals;
  const { operation } = await engine.submit({
    kind: HA_REPLICATE_KIND,
    provider: 'sim-east',
    input: { groupId: g.id, fence: g.fence },
  });
  const op = await engine.waitFor(operation.id, () => false, 180_000);
  assert.ok(op && (op.status === 'succeeded' || op.status === 'failed'), `replication still ${op?.status}`);
  return { op, ms: Date.now() - started };
}

const imageGone = async (imageId: string) => {
  const { provider, nativeId } = parseId(imageId, 'imageId');
  return cloud(provider)
    .getImage(nativeId)
    .then(
      (img) => img.state === 'deleted',
      (e) => isSkygateError(e) && e.code === 'not_found',
    );
};

async function launchFrom(site: string, imageId: string): Promise<string> {
  const vm = await cloud(site).createInstance({
    name: `check-${++seq}`,
    flavorId: 'sim.small',
    imageId: parseId(imageId, 'imageId').nativeId,
    clientToken: `check-${seq}-${Date.now()}`,
  });
  for (let i = 0; i < 100; i++) {
    const now = await cloud(site).getInstance(vm.nativeId);
    if (now.state === 'running') return now.privateIp as string;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`instance from ${imageId} did not start`);
}

describe('ha.replicate', () => {
  it('carries a workload instance’s data to the standby as a replica that serves it', async (t) => {
    const vm = await workload('sim-east');
    assert.equal((await kv(vm.ip, 'order-1', 'paid')).status, 201);
    const g = await group(vm, { reseed: true });
    const { op, ms } = await replicate(g);
    const phases = (o: Operation) =>
      o.steps.map((s) => `${s.name} ${Date.parse(s.finishedAt ?? '') - Date.parse(s.startedAt ?? '')} ms`).join(', ');
    t.diagnostic(`one replication of a sim workload instance, sim-east -> sim-west through OVA: ${ms} ms (${phases(op)})`);
    const [copy] = Object.values((op.state as ReplicateState).copies ?? {});
    const child = await gw.gateway.internals.engine.get(copy?.operationId as string);
    t.diagnostic(`  its copy, image.replicate: ${phases(child as Operation)}`);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));

    const replicas = await store().listReplicas(g.id);
    assert.equal(replicas.length, 1);
    const [r] = replicas;
    assert.equal(r?.site, 'sim-west');
    assert.equal(r?.member, vm.id);
    assert.equal(r?.sourceInstanceId, vm.id);
    assert.ok(Date.parse(r?.dataAt ?? '') <= Date.parse(r?.createdAt ?? ''), 'the data is older than its record');
    assert.equal((op.result?.replicas as unknown[] | undefined)?.length, 1);

    // The replica boots at sim-west and serves exactly what the instance held.
    const ip = await launchFrom('sim-west', r?.imageId as string);
    const got = await kv(ip, 'order-1');
    assert.equal(got.status, 200, JSON.stringify(got));
    assert.equal(got.body, 'paid');
    const status = (await readGroup(store(), g.id)).status;
    assert.equal(status.sites['sim-west']?.replicationError, undefined);
    assert.equal(status.sites['sim-west']?.needsReseed, true, "a former primary gets replicas; its re-seed is the controller's");
  });

  it('keeps the newest N replicas per member and site, deleting the rest and their captures in the clouds', async (t) => {
    const vm = await workload('sim-east');
    const g = await group(vm, { retain: 2 });
    for (let i = 0; i < 3; i++) {
      await kv(vm.ip, `k${i}`, `v${i}`);
      const { op, ms } = await replicate(g);
      assert.equal(op.status, 'succeeded');
      t.diagnostic(`replication ${i + 1} (capture, OVA copy, record, retain): ${ms} ms`);
    }
    const ops = (await gw.gateway.internals.engine.list({ limit: 1000 })).filter(
      (o) => o.kind === HA_REPLICATE_KIND && (o.input as { groupId?: string }).groupId === g.id,
    );
    const all = ops.flatMap((o) => (o.state.recorded as { imageId: string }[]) ?? []);
    const captures = ops.flatMap((o) =>
      Object.values((o.state.captures ?? {}) as Record<string, { imageId: string }>).map((c) => c.imageId),
    );
    assert.equal(all.length, 3);
    const kept = await store().listReplicas(g.id);
    assert.equal(kept.length, 2);
    const keptImages = new Set(kept.map((r) => r.imageId));
    const dropped = all.filter((r) => !keptImages.has(r.imageId));
    assert.equal(dropped.length, 1);
    assert.ok(await imageGone(dropped[0]?.imageId as string), 'the dropped replica is gone from sim-west');
    for (const r of kept) assert.equal(await imageGone(r.imageId), false, `${r.imageId} is kept`);
    const keptCaptures = new Set(kept.map((r) => r.sourceImageId));
    for (const c of captures) assert.equal(await imageGone(c), !keptCaptures.has(c), `capture ${c} at sim-east`);
    // The newest replica holds every key written before it.
    const ip = await launchFrom('sim-west', kept[0]?.imageId as string);
    assert.equal((await kv(ip, 'k2')).body, 'v2');
  });

  it('relaunches a warm standby from each new replica, healthy before it takes its place', async (t) => {
    const vm = await workload('sim-east');
    await kv(vm.ip, 'a', '1');
    const g = await group(vm, { mode: 'warm', reseed: true });
    // A former primary not yet re-seeded by the controller gets a replica but no standby: its stale instances go first.
    assert.equal((await replicate(g)).op.status, 'succeeded');
    assert.equal((await store().listReplicas(g.id, { site: 'sim-west' })).length, 1);
    assert.deepEqual((await readGroup(store(), g.id)).status.sites['sim-west']?.instances, {});
    await updateStatus(
      store(),
      g.id,
      (s) => {
        delete s.sites['sim-west']?.needsReseed;
        return s;
      },
      g.fence,
    );
    const refreshed = await replicate(g);
    assert.equal(refreshed.op.status, 'succeeded');
    const refresh = refreshed.op.steps.find((s) => s.name === 'refresh');
    t.diagnostic(
      `warm replication ${refreshed.ms} ms, of which refresh (launch, 2 passing probes 200 ms apart, swap) ${Date.parse(refresh?.finishedAt ?? '') - Date.parse(refresh?.startedAt ?? '')} ms`,
    );
    const first = (await readGroup(store(), g.id)).status.sites['sim-west']?.instances[vm.id];
    assert.ok(first, 'a warm standby is recorded');
    const firstVm = await cloud('sim-west').getInstance(parseId(first, 'id').nativeId);
    assert.equal(firstVm.state, 'running');
    assert.equal((await kv(firstVm.privateIp as string, 'a')).body, '1');
    assert.equal(firstVm.tags.app, 'shop', "the member's tags");

    await kv(vm.ip, 'b', '2');
    assert.equal((await replicate(g)).op.status, 'succeeded');
    const second = (await readGroup(store(), g.id)).status.sites['sim-west']?.instances[vm.id];
    assert.ok(second && second !== first, 'a new standby took its place');
    const secondVm = await cloud('sim-west').getInstance(parseId(second, 'id').nativeId);
    assert.equal((await kv(secondVm.privateIp as string, 'b')).body, '2', 'its data is the newest replica’s');
    const old = await cloud('sim-west')
      .getInstance(parseId(first, 'id').nativeId)
      .catch(() => undefined);
    assert.ok(old === undefined || old.state === 'terminated' || old.state === 'terminating', `old standby is ${old?.state}`);

    // Mid-move, the move keeps the standbys it found: the replica is recorded, no standby swapped, the site named.
    await updateStatus(store(), g.id, (s) => ({ ...s, phase: 'failing-over' }), g.fence);
    const { op } = await replicate(g);
    assert.equal(op.status, 'failed');
    assert.match(op.error?.message ?? '', /sim-west \(warm standby not refreshed: the group is failing-over\)/);
    const [recorded] = outcomeOf(op).replicas;
    assert.equal((await store().listReplicas(g.id))[0]?.id, recorded?.id, 'the new replica is recorded, the newest');
    assert.equal((await readGroup(store(), g.id)).status.sites['sim-west']?.instances[vm.id], second);
    const running = (await cloud('sim-west').listInstances()).items.filter(
      (i) => i.tags['skygate.group'] === g.id && i.state === 'running',
    );
    assert.deepEqual(
      running.map((i) => `sim-west:${i.nativeId}`),
      [second],
    );
  });

  it('names a site that failed in the status, records the others, and fails the operation', async () => {
    const vm = await workload('sim-east');
    await kv(vm.ip, 'x', 'y');
    const g = await group(vm, { standbys: ['sim-west', 'sim-north'] });
    await gw.gateway.core.providers.setFaults('sim-north', { outage: true }, 'test');
    try {
      const { op } = await replicate(g);
      assert.equal(op.status, 'failed');
      assert.match(op.error?.message ?? '', /sim-north/);
      const replicas = await store().listReplicas(g.id);
      assert.deepEqual(
        replicas.map((r) => r.site),
        ['sim-west'],
      );
      const status = (await readGroup(store(), g.id)).status;
      assert.ok(status.sites['sim-north']?.replicationError?.message, 'sim-north is named');
      assert.equal(status.sites['sim-west']?.replicationError, undefined);
    } finally {
      await gw.gateway.core.providers.setFaults('sim-north', { outage: false }, 'test');
    }
    // The next replication clears the error.
    assert.equal((await replicate(g)).op.status, 'succeeded');
    assert.equal((await readGroup(store(), g.id)).status.sites['sim-north']?.replicationError, undefined);
  });

  it('resumed from any step, repeats no cloud call that took effect (kill/resume as a restart sees it)', async () => {
    const vm = await workload('sim-east');
    await kv(vm.ip, 'a', '1');
    const g = await group(vm, { mode: 'warm', retain: 1 });
    assert.equal((await replicate(g)).op.status, 'succeeded');
    await kv(vm.ip, 'b', '2');
    const { op } = await replicate(g);
    assert.equal(op.status, 'succeeded');
    const snapshot = async () => ({
      captures: (await cloud('sim-east').listImages()).items.filter((i) => i.tags['skygate.group'] === g.id).length,
      replicas: (await store().listReplicas(g.id)).map((r) => r.imageId),
      westImages: (await cloud('sim-west').listImages()).items.length,
      standbys: (await cloud('sim-west').listInstances()).items
        .filter((i) => i.tags['skygate.group'] === g.id && i.state === 'running')
        .map((i) => i.nativeId),
      status: (await readGroup(store(), g.id)).status.sites['sim-west']?.instances,
    });
    const done = await snapshot();
    assert.equal(done.standbys.length, 1, 'one running standby');

    // The operation as a gateway killed inside each step would leave it: every step unrecorded, and within the
    // steps the windows between a cloud call taking effect and its result being saved (a capture made but its id
    // unsaved, a copy started but not waited for, a standby recorded in the status but the replaced one not yet
    // terminated, a retention plan half done).
    const crashed = structuredClone((await store().getOperation(op.id)) as Operation);
    crashed.status = 'running';
    crashed.steps = crashed.steps.map((s) => ({ name: s.name, status: 'pending' }));
    const st = crashed.state as ReplicateState;
    for (const c of Object.values(st.captures ?? {})) c.imageId = undefined;
    for (const c of Object.values(st.copies ?? {})) {
      c.done = undefined;
      c.sites = {};
    }
    for (const r of Object.values(st.refresh ?? {}).flatMap((bySite) => Object.values(bySite))) {
      r.recorded = undefined;
      r.terminated = undefined;
    }
    st.recorded = undefined;
    await store().updateOperation(crashed);
    assert.equal(await gw.gateway.internals.engine.resumeUnfinished(), 1);
    const resumed = await gw.gateway.internals.engine.waitFor(op.id, () => false, 120_000);
    assert.equal(resumed?.status, 'succeeded', JSON.stringify(resumed?.error));
    assert.equal(resumed?.attempts, 2);
    assert.deepEqual(await snapshot(), done, 'the same images, replicas and standby: nothing made twice, nothing lost');
  });

  it('keeps a group within its RPO on schedule under its lease, retrying a failed site with events', async () => {
    const vm = await workload('sim-east');
    await kv(vm.ip, 'k', 'v');
    const g = await group(vm, { rpoSeconds: 4 });
    const { engine, events } = gw.gateway.internals;
    const wiring = {
      store: store(),
      engine,
      events,
      portability: gw.gateway.core.portability,
      groups: async () => [await readGroup(store(), g.id)],
    };
    const repl = createReplication({ ...wiring, leases: new GroupLeases(store(), 'test-controller', 600_000), tickMs: 50 });
    engine.register(repl.command);
    const intruder = createReplication({ ...wiring, leases: new GroupLeases(store(), 'intruder', 600_000) });
    await assert.rejects(intruder.replicate(g.id, { principal: 'test' }), /controlled by test-controller/);

    const seen: SkygateEvent[] = [];
    const unsubscribe = events.subscribe((e) => {
      if (e.subject === g.id && e.type.startsWith('ha.replication.')) seen.push(e);
    });
    const waitFor = async (what: string, match: (e: SkygateEvent) => boolean, from = 0) => {
      for (let i = 0; i < 600 && !seen.slice(from).some(match); i++) await new Promise((r) => setTimeout(r, 50));
      const e = seen.slice(from).find(match);
      assert.ok(e, `no ${what} event; seen: ${JSON.stringify(seen.map((x) => [x.type, x.data]))}`);
      return e;
    };
    repl.scheduler.start();
    try {
      const done = await waitFor('completed', (e) => e.type === 'ha.replication.completed');
      const age = (done.data.replicaAgeSeconds as Record<string, Record<string, number>>)['sim-west']?.[vm.id];
      assert.ok(age !== undefined && age < 4, `replica age ${age} s is within the RPO`);

      await gw.gateway.core.providers.setFaults('sim-west', { outage: true }, 'test');
      const mark = seen.length;
      const failed = await waitFor('failed', (e) => e.type === 'ha.replication.failed', mark);
      assert.equal(failed.data.site, 'sim-west');
      assert.equal(failed.data.failures, 1);
      assert.ok((await readGroup(store(), g.id)).status.sites['sim-west']?.replicationError);
      await gw.gateway.core.providers.setFaults('sim-west', { outage: false }, 'test');
      const back = seen.length;
      await waitFor('completed again', (e) => e.type === 'ha.replication.completed', back);
      assert.equal(repl.scheduler.track(g.id)?.failures.count, 0);
    } finally {
      await repl.scheduler.stop();
      unsubscribe();
      await gw.gateway.core.providers.setFaults('sim-west', { outage: false }, 'test');
    }
    // One replication at a time: no two of the group's operations overlapped.
    const ops = (await engine.list({ kind: HA_REPLICATE_KIND, limit: 1000 }))
      .filter((o) => (o.input as { groupId?: string }).groupId === g.id)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    assert.ok(ops.length >= 3);
    for (let i = 1; i < ops.length; i++) {
      const prev = ops[i - 1] as Operation;
      const cur = ops[i] as Operation;
      if (prev.status === 'running' || prev.status === 'pending') assert.fail(`${prev.id} still ${prev.status}`);
      assert.ok(prev.updatedAt <= cur.createdAt, `${cur.id} started before ${prev.id} ended`);
    }
  });

  it('losing the lease mid-run records nothing and leaves no image behind', async () => {
    const vm = await workload('sim-east');
    const g = await group(vm);
    const { events } = gw.gateway.internals;
    let takeover: Promise<unknown> | undefined;
    // Another controller takes the group over the moment the capture is available: the copy still runs, the record
    // is refused.
    const unsubscribe = events.subscribe((e) => {
      if (takeover === undefined && e.type === 'image.available' && e.subject?.startsWith('sim-east:')) {
        takeover = store().acquireLease(g.fence.lease, 'other-controller', 600_000, Date.now() + 3_600_000);
      }
    });
    const { op } = await replicate(g).finally(unsubscribe);
    assert.ok(takeover, 'the lease was taken over');
    assert.equal(op.status, 'failed');
    assert.match(op.error?.message ?? '', /stale/);
    assert.equal(op.steps.find((s) => s.status === 'failed')?.name, 'record');
    assert.deepEqual(await store().listReplicas(g.id), []);
    const captures = Object.values((op.state as ReplicateState).captures ?? {}).map((c) => c.imageId);
    assert.equal(captures.length, 1);
    assert.ok(await imageGone(captures[0] as string), 'the capture is deleted');
    const copies = (await cloud('sim-west').listImages()).items.filter((i) => captures.includes(i.tags['skygate.replicaOf']));
    assert.deepEqual(copies, [], 'the copy at sim-west is deleted');
  });

  it('fails under a stale fence and records nothing, in the store or the clouds', async () => {
    const vm = await workload('sim-east');
    const g = await group(vm);
    const before = await readGroup(store(), g.id);
    const taken = await store().acquireLease(g.fence.lease, 'other-controller', 600_000, Date.now() + 3_600_000);
    assert.equal(taken?.token, g.fence.token + 1);
    const { op } = await replicate(g);
    assert.equal(op.status, 'failed');
    assert.match(op.error?.message ?? '', /stale/);
    assert.deepEqual(await store().listReplicas(g.id), []);
    assert.equal((await readGroup(store(), g.id)).generation, before.generation, 'the status is untouched');
    const images = (await cloud('sim-east').listImages()).items.filter((i) => i.tags['skygate.group'] === g.id);
    assert.deepEqual(images, [], 'no capture was made');
  });
});
