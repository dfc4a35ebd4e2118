/**
 * The replication schedule (interval from the RPO, exponential back-off with jitter capped at the interval), the
 * scheduler that submits due replications on a fake clock (one per group at most, events on success and failure),
 * and the retention plan.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from '../../src/core/model.js';
import type { ReplicaRecord } from '../../src/core/store-port.js';
import type { ProtectionGroup } from '../../src/ha/protection-group.js';
import { planRetention } from '../../src/ha/replica-retention.js';
import { FixedIntervalSchedule, ReplicationScheduler } from '../../src/ha/replication-schedule.js';

function group(id: string, rpoSeconds: number, phase: ProtectionGroup['status']['phase'] = 'protecting'): ProtectionGroup {
  return {
    id,
    spec: { replication: { rpoSeconds, retain: 2 } } as ProtectionGroup['spec'],
    status: { primary: 'east', phase, members: [], sites: {}, failovers: 0 },
    generation: 1,
    createdAt: '',
    updatedAt: '',
  };
}

describe('FixedIntervalSchedule', () => {
  it('replicates every rpo / 2 from the start of the last success, at least every second, at once when never run', () => {
    const s = new FixedIntervalSchedule();
    assert.equal(s.intervalMs(group('g', 60)), 30_000);
    assert.equal(s.intervalMs(group('g', 1)), 1000, 'floor of 1 s');
    assert.equal(s.intervalMs(group('g', 3)), 1500);
    assert.equal(s.nextRunAt(group('g', 60), undefined, { count: 0 }), 0, 'never replicated: due now');
    assert.equal(s.nextRunAt(group('g', 60), 100_000, { count: 0 }), 130_000);
  });

  it('backs off exponentially after failures, jittered between half and all of the delay, capped at the interval', () => {
    const low = new FixedIntervalSchedule({ firstBackoffMs: 1000, random: () => 0 });
    const high = new FixedIntervalSchedule({ firstBackoffMs: 1000, random: () => 0.999999 });
    const g = group('g', 20); // interval 10 s
    const at = (s: FixedIntervalSchedule, count: number) => s.nextRunAt(g, 0, { count, lastAt: 50_000 }) - 50_000;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 9].map((n) => at(high, n)),
      [1000, 2000, 4000, 8000, 10_000, 10_000],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5, 9].map((n) => at(low, n)),
      [500, 1000, 2000, 4000, 5000, 5000],
    );
    const random = new FixedIntervalSchedule();
    for (let n = 1; n < 40; n++) {
      const d = at(random, n);
      assert.ok(d >= 0 && d <= 10_000, `delay ${d} after ${n} failures stays within the interval`);
    }
  });
});

/** A controller stand-in: submits operations it finishes when the test says, on a fake clock. */
function harness(groups: ProtectionGroup[]) {
  let now = 1_000_000;
  const ops = new Map<string, Operation>();
  const submitted: string[] = [];
  const events: { type: string; subject?: string; data: Record<string, unknown> }[] = [];
  let refuse: string | undefined;
  const scheduler = new ReplicationScheduler({
    groups: async () => groups,
    submit: async (groupId) => {
      if (refuse) throw new Error(refuse);
      const id = `op-${submitted.length + 1}`;
      submitted.push(groupId);
      ops.set(id, { id, kind: 'ha.replicate', status: 'running', state: {} } as unknown as Operation);
      return ops.get(id);
    },
    getOperation: async (id) => ops.get(id),
    events: {
      emit: async (type, subject, data) => {
        events.push({ type, subject, data });
        return { seq: events.length, type, time: '', subject, data };
      },
    },
    schedule: new FixedIntervalSchedule({ random: () => 0.999999 }),
    now: () => now,
  });
  const finish = (id: string, status: 'succeeded' | 'failed', state: Record<string, unknown> = {}) => {
    const op = ops.get(id) as Operation;
    op.status = status;
    op.state = state;
    if (status === 'failed') op.error = { code: 'provider_unavailable', message: 'sim-west down' } as Operation['error'];
  };
  return {
    scheduler,
    submitted,
    events,
    finish,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
    refuse: (why: string | undefined) => {
      refuse = why;
    },
  };
}

describe('ReplicationScheduler', () => {
  it('submits when due, one running per group at most, and again one interval after a success started', async () => {
    const h = harness([group('g1', 10), group('idle', 10, 'failing-over')]);
    await h.scheduler.tick();
    assert.deepEqual(h.submitted, ['g1'], 'due at once; a group failing over is left alone');
    h.advance(20_000);
    await h.scheduler.tick();
    assert.deepEqual(h.submitted, ['g1'], 'never two at once for one group');
    const startedAt = h.now() - 20_000;
    h.finish('op-1', 'succeeded', {
      recorded: [{ id: 'r', member: 'm', site: 'west', imageId: 'west:i', dataAt: new Date(startedAt).toISOString() }],
    });
    await h.scheduler.tick();
    // Due 5 s after the start of the success, which is long past: submitted again in the same pass.
    assert.deepEqual(h.submitted, ['g1', 'g1']);
    const done = h.events.find((e) => e.type === 'ha.replication.completed');
    assert.equal(done?.subject, 'g1');
    assert.deepEqual(done?.data.replicaAgeSeconds, { west: { m: 20 } });
    assert.equal(h.scheduler.track('g1')?.lastSuccessAt, startedAt);

    h.finish('op-2', 'succeeded');
    await h.scheduler.tick();
    assert.equal(h.submitted.length, 2, 'the success just started: the next one waits an interval');
    h.advance(4999);
    await h.scheduler.tick();
    assert.equal(h.submitted.length, 2);
    h.advance(1);
    await h.scheduler.tick();
    assert.equal(h.submitted.length, 3, 'due rpo / 2 after the last success started');
  });

  it('raises a failure event per failed site and retries with back-off, resetting after a success', async () => {
    const h = harness([group('g1', 60)]);
    await h.scheduler.tick();
    h.finish('op-1', 'failed', { siteErrors: { 'sim-west': 'upload refused', 'sim-north': 'provider down' } });
    await h.scheduler.tick();
    const failed = h.events.filter((e) => e.type === 'ha.replication.failed');
    assert.deepEqual(
      failed.map((e) => [e.data.site, e.data.reason, e.data.failures]),
      [
        ['sim-west', 'upload refused', 1],
        ['sim-north', 'provider down', 1],
      ],
    );
    assert.equal(h.scheduler.track('g1')?.nextRunAt, h.now() + 1000, 'first retry after 1 s');
    h.advance(999);
    await h.scheduler.tick();
    assert.equal(h.submitted.length, 1);
    h.advance(1);
    await h.scheduler.tick();
    assert.equal(h.submitted.length, 2);
    h.finish('op-2', 'failed');
    await h.scheduler.tick();
    assert.equal(h.scheduler.track('g1')?.nextRunAt, h.now() + 2000, 'then 2 s');
    const noSite = h.events.at(-1);
    assert.deepEqual([noSite?.data.site, noSite?.data.reason], [undefined, 'sim-west down'], 'the operation error');

    // A submit that throws counts as a failure too.
    h.advance(2000);
    h.refuse('lease lost');
    await h.scheduler.tick();
    assert.equal(h.scheduler.track('g1')?.failures.count, 3);
    assert.equal(h.events.at(-1)?.data.reason, 'lease lost');
    h.refuse(undefined);
    h.advance(4000);
    await h.scheduler.tick();
    h.finish('op-3', 'succeeded');
    await h.scheduler.tick();
    assert.deepEqual(h.scheduler.track('g1')?.failures, { count: 0 });
    assert.equal(h.scheduler.track('g1')?.nextRunAt, h.now() + 30_000, 'back to the interval');
  });

  it('runs at most maxRunning replications at once over all groups, the others when a slot frees', async () => {
    const groups = [group('a', 60), group('b', 60), group('c', 60)];
    const submitted: string[] = [];
    const ops = new Map<string, Operation>();
    const scheduler = new ReplicationScheduler({
      groups: async () => groups,
      submit: async (groupId) => {
        const op = { id: `op-${groupId}`, status: 'running', state: {} } as unknown as Operation;
        ops.set(op.id, op);
        submitted.push(groupId);
        return op;
      },
      getOperation: async (id) => ops.get(id),
      events: { emit: async (type, subject, data) => ({ seq: 1, type, time: '', subject, data }) },
      maxRunning: 2,
      now: () => 0,
    });
    await scheduler.tick();
    assert.deepEqual(submitted, ['a', 'b']);
    (ops.get('op-a') as Operation).status = 'succeeded';
    await scheduler.tick();
    assert.deepEqual(submitted, ['a', 'b', 'c']);
  });

  it('starts a group from its newest replica instead of replicating at once', async () => {
    const h = harness([group('g1', 60)]);
    const withHistory = new ReplicationScheduler({
      groups: async () => [group('g1', 60)],
      submit: async () => assert.fail('not due yet'),
      getOperation: async () => undefined,
      events: { emit: async () => assert.fail('no event') },
      lastReplicaAt: async () => h.now() - 10_000,
      now: h.now,
    });
    await withHistory.tick();
    assert.equal(withHistory.track('g1')?.nextRunAt, h.now() + 20_000);
  });
});

describe('planRetention', () => {
  const rep = (id: string, member: string, site: string, at: number, capture: string): ReplicaRecord => ({
    id,
    groupId: 'g',
    member,
    site,
    imageId: `${site}:img-${id}`,
    sourceProvider: 'east',
    sourceInstanceId: 'east:i-1',
    sourceImageId: capture,
    dataAt: new Date(at).toISOString(),
    createdAt: new Date(at).toISOString(),
  });

  it('drops all but the newest N per member and site, and the captures no kept replica comes from', () => {
    // Newest first, as the store lists them.
    const replicas = [
      rep('a3', 'm1', 'west', 3, 'east:c3'),
      rep('b3', 'm1', 'north', 3, 'east:c3'),
      rep('a2', 'm1', 'west', 2, 'east:c2'),
      rep('b2', 'm1', 'north', 2, 'east:c2'),
      rep('a1', 'm1', 'west', 1, 'east:c1'),
      rep('d1', 'm2', 'west', 1, 'east:c9'),
    ];
    const plan = planRetention(replicas, 1, ['east:c3', 'east:lost']);
    assert.deepEqual(
      plan.replicas.map((r) => r.id),
      ['a2', 'b2', 'a1'],
    );
    assert.deepEqual(
      plan.captures.map((c) => c.imageId),
      ['east:c2', 'east:c1', 'east:lost'],
    );
    assert.deepEqual(planRetention(replicas, 3).replicas, [], 'nothing beyond 3');
  });
});
