/**
 * Protection groups over REST against a real gateway (SQLite) with two sim clouds whose instances serve the workload:
 * create a group of tagged instances (its pool made to hold them), read it with replica ages, list it a page at a time,
 * change it, refuse bad input with problem+json naming the field and nothing stored, and stop protecting. Every
 * response is checked against the spec.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Instance } from '../../src/core/model.js';
import type { ProviderConfig } from '../../src/core/registry.js';
import type { ProtectionGroup } from '../../src/ha/protection-group.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
/** A tag value of this run, so the selector finds this run's instances only. */
const APP = `shop-${process.pid}`;
/** Loopback blocks of their own, so workloads never meet another test's. */
const block = () => `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}.0/24`;
const providers: ProviderConfig[] = [
  ...['sim-east', 'sim-west'].map((id) => ({
    id,
    type: 'sim',
    settings: { latencyMs: 5, addressBlock: block(), workload: { images: [{ id: 'img-kv-app', name: 'kv-app' }] } },
    loadBalancer: { settings: { pools: ['web', 'spare'] } },
  })),
  // A third site, to add as a standby later.
  { id: 'sim-south', type: 'sim', settings: { latencyMs: 5, addressBlock: block() } },
];

const url = (id: string, tail = '') => `/v1/protection-groups/${id}${tail}`;
let web: Instance[] = [];
let westVm: Instance;
let groupId: string;

async function launch(name: string, provider: string): Promise<Instance> {
  const res = await gw.api('post', '/v1/instances', {
    provider,
    name,
    flavorId: `${provider}:sim.small`,
    imageId: `${provider}:img-kv-app`,
    tags: { app: APP, tier: '1' },
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const op = await gw.waitOperation(res.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
  const got = await gw.api('get', `/v1/instances/${encodeURIComponent(String(op.result?.resourceId))}`);
  assert.equal(got.body.state, 'running');
  assert.ok(got.body.privateIp, 'a running sim instance has its own address');
  return got.body as Instance;
}

const good = () => ({
  name: 'shop',
  primary: 'sim-east',
  instances: { selector: { app: APP } },
  standbys: ['sim-west'],
  replication: { rpoSeconds: 60 },
  traffic: { lbProvider: 'sim-east', poolId: 'web', port: 8000 },
});

/** What is stored, to show that a refusal stored nothing: the groups and the pools' desired state. */
async function stored(): Promise<string> {
  const { store } = gw.gateway.internals;
  return JSON.stringify([await store.listProtectionGroups(), await store.listDesiredPools()]);
}

/** Asserts a problem+json refusal with `status` that names `field` (in `field` and in `errors`). */
function assertProblem(res: { status: number; type: string; body: Record<string, unknown> }, status: number, field: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.type, 'application/problem+json');
  assert.equal(res.body.field, field, JSON.stringify(res.body));
  if (status === 400) {
    const errors = res.body.errors as Array<{ field: string }>;
    assert.ok(
      errors.some((e) => e.field === field),
      JSON.stringify(errors),
    );
  }
}

before(async () => {
  gw = await startTestGateway({ providers, ha: { scheduleReplication: false } });
  web = [await launch('web-1', 'sim-east'), await launch('web-2', 'sim-east')];
  westVm = await launch('west-1', 'sim-west');
});
after(async () => {
  await gw?.close();
});

describe('protection groups over REST', () => {
  it('creates a group: members resolved, status per site, and the pool holding exactly the primary instances', async () => {
    // A target the pool held before: the pool belongs to the group, so it goes.
    const lb = gw.gateway.internals.registry.loadBalancer('sim-east');
    await lb.registerTarget('web', { address: '127.0.0.9', port: 9 });

    const res = await gw.api('post', '/v1/protection-groups', good());
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const group = res.body as ProtectionGroup;
    groupId = group.id;
    assert.match(groupId, /^pg-[0-9a-f]{16}$/);
    assert.equal(res.headers.location, `/v1/protection-groups/${groupId}`);
    assert.deepEqual(
      [group.spec.standbyMode, group.spec.replication.retain, group.spec.failoverMode, group.spec.healthCheck.port],
      ['cold', 3, 'automatic', 8000],
    );
    const ids = web.map((i) => i.id).sort();
    assert.deepEqual(
      group.status.members.map((m) => m.key),
      ids,
    );
    for (const m of group.status.members) {
      assert.deepEqual([m.vcpus, m.memoryMiB, m.order, m.tags.app], [1, 1024, 0, APP]);
      assert.match(m.name ?? '', /^web-[12]$/);
    }
    assert.deepEqual(group.status, {
      primary: 'sim-east',
      phase: 'protecting',
      members: group.status.members,
      sites: {
        'sim-east': { role: 'primary', health: 'unknown', instances: Object.fromEntries(ids.map((id) => [id, id])) },
        'sim-west': { role: 'standby', health: 'unknown', instances: {} },
      },
      failovers: 0,
    });
    assert.deepEqual(group.replicas, { 'sim-west': { newest: {}, rpoMet: false } });

    const targets = (await lb.listTargets('web')).map((t) => [t.address, t.port, t.state]).sort();
    assert.deepEqual(targets, web.map((i) => [i.privateIp, 8000, 'active']).sort());
    // The targets are the workloads themselves: each answers its health check.
    for (const i of web) assert.equal((await fetch(`http://${i.privateIp}:8000/healthz`)).status, 200);

    const events = await gw.gateway.internals.events.since(0, 10_000);
    const created = events.find((e) => e.type === 'ha.group.created' && e.subject === groupId);
    assert.deepEqual(
      created?.data.members,
      group.status.members.map((m) => m.key),
    );
  });

  it('reads it with replica ages computed from the store, and lists its replicas', async () => {
    const { store } = gw.gateway.internals;
    const dataAt = new Date(Date.now() - 20_000).toISOString();
    const older = new Date(Date.now() - 90_000).toISOString();
    const replica = (id: string, member: string, at: string) => ({
      id,
      groupId,
      member,
      sourceProvider: 'sim-east',
      sourceInstanceId: member,
      site: 'sim-west',
      imageId: `sim-west:img-${id}`,
      dataAt: at,
      createdAt: at,
    });
    const [a, b] = web.map((i) => i.id) as [string, string];
    await store.insertReplica(replica('r1', a, older));
    await store.insertReplica(replica('r2', a, dataAt));

    let got = (await gw.api('get', url(groupId))).body as ProtectionGroup;
    assert.deepEqual(Object.keys(got.replicas?.['sim-west']?.newest ?? {}), [a]);
    assert.equal(got.replicas?.['sim-west']?.replicaAgeSeconds, undefined, 'a member without a replica: no age yet');
    assert.equal(got.replicas?.['sim-west']?.rpoMet, false);

    await store.insertReplica(replica('r3', b, dataAt));
    got = (await gw.api('get', url(groupId))).body as ProtectionGroup;
    const site = got.replicas?.['sim-west'];
    assert.equal(site?.newest[a]?.replicaId, 'r2', 'the newest replica per member');
    assert.ok(site?.replicaAgeSeconds !== undefined && site.replicaAgeSeconds >= 20 && site.replicaAgeSeconds < 60);
    assert.equal(site?.rpoMet, true);

    const all = await gw.api('get', url(groupId, '/replicas'));
    const listed = all.body.items as Array<{ id: string; dataAt: string }>;
    assert.deepEqual(listed.map((r) => r.id).sort(), ['r1', 'r2', 'r3']);
    assert.equal(listed.at(-1)?.id, 'r1', 'newest data first');
    const ofA = await gw.api('get', `${url(groupId, '/replicas')}?member=${encodeURIComponent(a)}&site=sim-west`);
    assert.deepEqual(
      ofA.body.items.map((r: { id: string }) => r.id),
      ['r2', 'r1'],
    );
  });

  it('lists groups a page at a time', async () => {
    const second = await gw.api('post', '/v1/protection-groups', {
      ...good(),
      name: 'api',
      primary: 'sim-west',
      instances: { ids: [westVm.id] },
      standbys: ['sim-east'],
      traffic: { lbProvider: 'sim-west', poolId: 'web', port: 8000 },
    });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const first = await gw.api('get', '/v1/protection-groups?limit=1');
    assert.deepEqual(
      first.body.items.map((g: ProtectionGroup) => g.spec.name),
      ['api'],
    );
    const next = await gw.api('get', `/v1/protection-groups?limit=1&cursor=${first.body.nextCursor}`);
    assert.deepEqual(
      next.body.items.map((g: ProtectionGroup) => g.spec.name),
      ['shop'],
    );
    assert.equal(next.body.nextCursor, undefined);
    assert.equal((await gw.api('delete', url(second.body.id))).status, 204);
  });

  it('gives a pool to one of two groups made for it at once', async () => {
    const make = (name: string) =>
      gw.api('post', '/v1/protection-groups', {
        ...good(),
        name,
        primary: 'sim-west',
        instances: { ids: [westVm.id] },
        standbys: ['sim-east'],
        traffic: { lbProvider: 'sim-west', poolId: 'spare', port: 8000 },
      });
    const answers = await Promise.all([make('race-1'), make('race-2')]);
    assert.deepEqual(answers.map((r) => r.status).sort(), [201, 409], JSON.stringify(answers.map((r) => r.body)));
    const names = (await gw.api('get', '/v1/protection-groups')).body.items.map((g: ProtectionGroup) => g.spec.name);
    assert.equal(names.filter((n: string) => n.startsWith('race-')).length, 1);
    const winner = answers.find((r) => r.status === 201);
    assert.equal((await gw.api('delete', url(winner?.body.id))).status, 204);
  });

  it('patches what may change, merging nested fields, and adds a site per new standby', async () => {
    const before = (await gw.api('get', url(groupId))).body as ProtectionGroup;
    const res = await gw.api('patch', url(groupId), {
      replication: { rpoSeconds: 10 },
      healthCheck: { protocol: 'tcp' },
      failoverMode: 'manual',
      orderTag: 'tier',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const g = res.body as ProtectionGroup;
    assert.ok(g.generation > before.generation);
    assert.deepEqual(g.spec.replication, { rpoSeconds: 10, retain: 3 });
    assert.deepEqual(g.spec.healthCheck, { protocol: 'tcp', port: 8000, intervalMs: 1000, timeoutMs: 500, fall: 2, rise: 2 });
    assert.deepEqual([g.spec.failoverMode, g.spec.orderTag], ['manual', 'tier']);
    assert.equal(g.replicas?.['sim-west']?.rpoMet, false, 'the same replicas miss a 10 s RPO');

    const cleared = await gw.api('patch', url(groupId), { orderTag: null });
    assert.equal(cleared.body.spec.orderTag, undefined);

    const wider = (await gw.api('patch', url(groupId), { standbys: ['sim-west', 'sim-south'] })).body as ProtectionGroup;
    assert.deepEqual(wider.status.sites['sim-south'], { role: 'standby', health: 'unknown', instances: {} });
    assert.deepEqual(wider.replicas?.['sim-south'], { newest: {}, rpoMet: false });
    const narrower = (await gw.api('patch', url(groupId), { standbys: ['sim-west'] })).body as ProtectionGroup;
    assert.deepEqual(Object.keys(narrower.status.sites).sort(), ['sim-east', 'sim-west']);
    assert.equal(narrower.replicas?.['sim-west']?.newest[web[0]?.id ?? '']?.replicaId, 'r2', 'a kept site keeps its replicas');
    const events = await gw.gateway.internals.events.since(0, 10_000);
    assert.ok(events.some((e) => e.type === 'ha.group.updated' && e.subject === groupId));
  });

  it('refuses bad input with problem+json naming the field, and stores nothing', async () => {
    const before = await stored();
    const traffic = good().traffic;
    const cases: Array<[unknown, number, string]> = [
      [{ ...good(), name: 'other', replication: { rpoSeconds: 0 } }, 400, 'body.replication.rpoSeconds'],
      [{ ...good(), name: 'other', standbys: ['sim-east'] }, 400, 'body.standbys[0]'],
      [{ ...good(), name: 'other', standbys: ['sim-west', 'sim-west'] }, 400, 'body.standbys[1]'],
      [{ ...good(), name: 'other', standbys: ['sim-north'] }, 400, 'body.standbys[0]'],
      [{ ...good(), name: 'other', traffic: { ...traffic, lbProvider: 'sim-north' } }, 400, 'body.traffic.lbProvider'],
      [{ ...good(), name: 'other', traffic: { ...traffic, poolId: 'mail' } }, 400, 'body.traffic.poolId'],
      [{ ...good(), name: 'other', traffic: { ...traffic, port: 0 } }, 400, 'body.traffic.port'],
      [{ ...good(), name: 'other', healthCheck: { intervalMs: 1000, timeoutMs: 1000 } }, 400, 'body.healthCheck.timeoutMs'],
      [{ ...good(), name: 'other', instances: { ids: [westVm.id] } }, 400, 'body.instances.ids[0]'],
      [{ ...good(), name: 'other', instances: { selector: { app: 'nobody' } } }, 400, 'body.instances.selector'],
      [{ ...good(), name: 'other', instances: {} }, 400, 'body.instances'],
      [{ ...good(), name: 'other', colour: 'blue' }, 400, 'body.colour'],
      [{ ...good(), traffic: { ...traffic, poolId: 'spare' } }, 409, 'body.name'],
      [{ ...good(), name: 'other' }, 409, 'body.traffic.poolId'],
      [{ ...good(), name: 'other', traffic: { ...traffic, poolId: 'spare' } }, 409, 'body.instances'],
    ];
    for (const [body, status, field] of cases) {
      assertProblem(await gw.api('post', '/v1/protection-groups', body), status, field);
    }
    const other = await gw.api('post', '/v1/protection-groups', { ...good(), name: 'other', instances: { ids: [westVm.id] } });
    assert.match(
      String(other.body.detail),
      new RegExp(`instance '${westVm.id}' is at provider 'sim-west', not at the primary 'sim-east'`),
    );

    const patches: Array<[unknown, string]> = [
      [{ standbys: ['sim-east'] }, 'body.standbys[0]'],
      [{ standbys: [] }, 'body.standbys'],
      [{ replication: { rpoSeconds: -1 } }, 'body.replication.rpoSeconds'],
      [{ healthCheck: { timeoutMs: 4000 } }, 'body.healthCheck.timeoutMs'],
      [{ name: 'renamed' }, 'body.name'],
      [{ primary: 'sim-west' }, 'body.primary'],
    ];
    for (const [body, field] of patches) assertProblem(await gw.api('patch', url(groupId), body), 400, field);
    assert.equal(await stored(), before, 'nothing was written');
  });

  it('checks where a move goes, and refuses a failover to a standby that holds no replica yet', async () => {
    assertProblem(await gw.api('post', url(groupId, '/failover'), { to: 'sim-north' }), 400, 'body.to');
    assertProblem(await gw.api('post', url(groupId, '/switchover'), { to: 'sim-east' }), 400, 'body.to');
    // The replicas recorded above name images sim-west does not have: the move starts, fails at the launch, and is
    // rolled back, the pool as it was.
    const poolBefore = await gw.gateway.internals.store.getDesiredPool('sim-east', 'web');
    const res = await gw.api('post', url(groupId, '/failover'), { to: 'sim-west', reason: 'drill' });
    assert.equal(res.status, 202);
    const op = await gw.waitOperation(res.body.id, 20_000);
    assert.equal(op.status, 'failed');
    const after = (await gw.api('get', url(groupId))).body as ProtectionGroup;
    assert.equal(after.status.primary, 'sim-east');
    assert.equal(after.status.lastFailover?.outcome, 'failed');
    assert.match(String(after.status.message), /rolled back/);
    assert.equal(after.status.activeOperation, undefined);
    assert.deepEqual((await gw.gateway.internals.store.getDesiredPool('sim-east', 'web'))?.targets, poolBefore?.targets);
    assert.equal((await gw.api('post', url('pg-0000000000000000', '/replicate'))).status, 404);
  });

  it('deletes: the pool is no longer managed, its targets and the instances stay', async () => {
    const res = await gw.api('delete', url(groupId));
    assert.equal(res.status, 204);
    assert.equal((await gw.api('get', url(groupId))).status, 404);
    assert.equal((await gw.api('delete', url(groupId))).status, 404);
    const { store, registry } = gw.gateway.internals;
    assert.equal(await store.getDesiredPool('sim-east', 'web'), undefined);
    assert.deepEqual(await store.listReplicas(groupId), []);
    assert.equal((await registry.loadBalancer('sim-east').listTargets('web')).length, 2);
    const events = await gw.gateway.internals.events.since(0, 10_000);
    assert.ok(events.some((e) => e.type === 'ha.group.deleted' && e.subject === groupId));
    const list = await gw.api('get', '/v1/protection-groups');
    assert.deepEqual(list.body.items, []);
  });
});
