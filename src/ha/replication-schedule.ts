/**
 * When each protection group replicates. The schedule is a replaceable piece (`ReplicationSchedule`): this is a
 * fixed interval derived from the RPO target with exponential back-off after failures; an adaptive one can take its
 * place. `ReplicationScheduler` submits a group's replication when it is due (one running per group at most) and
 * raises `ha.replication.completed` / `ha.replication.failed`. The controller owns starting and stopping it, and the
 * lease: it submits through the `submit` callback, which holds the fence.
 */
import type { EventBus } from '../core/events.js';
import type { Operation } from '../core/model.js';
import type { ProtectionGroup } from './protection-group.js';
import { outcomeOf } from './replicate-command.js';

/** A group's failed replications since its last success, and when the newest ended (epoch ms). */
export interface FailureHistory {
  count: number;
  lastAt?: number;
}

export interface ReplicationSchedule {
  /**
   * When the group's next replication is due (epoch ms), given when the last successful one started (its data time;
   * undefined: none yet, due now) and the failures since.
   */
  nextRunAt(group: ProtectionGroup, lastSuccessAt: number | undefined, lastFailures: FailureHistory): number;
}

export interface FixedIntervalOptions {
  /** The first retry's delay after a failure; it doubles with each further failure, up to the interval. */
  firstBackoffMs: number;
  /** Uniform in [0, 1): the jitter's source (tests pass a fixed one). */
  random: () => number;
}

/**
 * Replicates every rpoSeconds / 2 (at least every second), counted from the start of the last successful run. Then a
 * replica is never older than the RPO while a replication takes less than rpo / 2: the newest data is at most one
 * interval plus one run old. After a failure it retries sooner, backing off exponentially with jitter, never later
 * than one interval after the failure.
 */
export class FixedIntervalSchedule implements ReplicationSchedule {
  private readonly opts: FixedIntervalOptions;

  constructor(opts: Partial<FixedIntervalOptions> = {}) {
    this.opts = { firstBackoffMs: 1000, random: Math.random, ...opts };
  }

  intervalMs(group: ProtectionGroup): number {
    return Math.max(1000, Math.floor((group.spec.replication.rpoSeconds * 1000) / 2));
  }

  /** The delay before retry number `failures`: exponential, capped at the interval, then "equal jitter" (half to all of it). */
  backoffMs(group: ProtectionGroup, failures: number): number {
    const cap = Math.min(this.intervalMs(group), this.opts.firstBackoffMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
    return Math.round(cap / 2 + (this.opts.random() * cap) / 2);
  }

  nextRunAt(group: ProtectionGroup, lastSuccessAt: number | undefined, lastFailures: FailureHistory): number {
    if (lastFailures.count > 0 && lastFailures.lastAt !== undefined) {
      return lastFailures.lastAt + this.backoffMs(group, lastFailures.count);
    }
    return lastSuccessAt === undefined ? 0 : lastSuccessAt + this.intervalMs(group);
  }
}

export interface ReplicationSchedulerDeps {
  /** The groups to keep replicated (the controller's: those whose lease it holds). */
  groups(): Promise<ProtectionGroup[]>;
  /** Submits an `ha.replicate` for the group under its fence; undefined when it cannot now (lease lost...). */
  submit(groupId: string): Promise<Operation | undefined>;
  getOperation(id: string): Promise<Operation | undefined>;
  events: Pick<EventBus, 'emit'>;
  schedule?: ReplicationSchedule;
  /** When a group's history starts on first sight: its newest replica's data time (else it replicates at once). */
  lastReplicaAt?(groupId: string): Promise<number | undefined>;
  /** A replication of the group already running on first sight (resumed after a restart): waited for, not doubled. */
  runningFor?(groupId: string): Promise<Operation | undefined>;
  now?: () => number;
  /** How often due groups and running replications are looked at. */
  tickMs?: number;
  /**
   * Replications running at once, over all groups (default 8). Each waits for its copies, which queue behind it for
   * the same provider's operation slots (`operations.concurrencyPerProvider`): keep this well below that.
   */
  maxRunning?: number;
  log?: { error(obj: object, msg?: string): void };
}

/** What the scheduler knows of one group, as `track()` shows it. */
export interface GroupTrack {
  lastSuccessAt?: number;
  failures: FailureHistory;
  running?: { operationId: string; startedAt: number };
  nextRunAt?: number;
}

export class ReplicationScheduler {
  private readonly tracks = new Map<string, GroupTrack>();
  private readonly schedule: ReplicationSchedule;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(private readonly deps: ReplicationSchedulerDeps) {
    this.schedule = deps.schedule ?? new FixedIntervalSchedule();
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.deps.tickMs ?? 500);
    this.timer.unref();
  }

  /** Stops submitting; replications running go on (they are operations) and are not watched any more. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  track(groupId: string): GroupTrack | undefined {
    const t = this.tracks.get(groupId);
    return t && structuredClone(t);
  }

  /** One pass: finished replications are accounted for, due groups submitted. Passes never overlap. */
  tick(): Promise<void> {
    this.ticking ??= this.pass()
      .catch((e) => this.deps.log?.error({ err: e }, 'replication scheduler pass failed'))
      .finally(() => {
        this.ticking = undefined;
      });
    return this.ticking;
  }

  private async pass(): Promise<void> {
    const groups = (await this.deps.groups()).filter((g) => g.status.phase === 'protecting');
    const seen = new Set(groups.map((g) => g.id));
    for (const id of this.tracks.keys()) if (!seen.has(id)) this.tracks.delete(id);
    for (const group of groups) {
      let t = this.tracks.get(group.id);
      if (t === undefined) {
        const last = await this.deps.lastReplicaAt?.(group.id);
        const running = await this.deps.runningFor?.(group.id);
        t = {
          failures: { count: 0 },
          ...(last !== undefined && { lastSuccessAt: last }),
          ...(running && { running: { operationId: running.id, startedAt: Date.parse(running.createdAt) } }),
        };
        this.tracks.set(group.id, t);
      }
      if (t.running) {
        const op = await this.deps.getOperation(t.running.operationId);
        if (op?.status === 'pending' || op?.status === 'running') continue;
        await this.finished(group, t, op);
      }
      // Without failures the due time follows the group's current RPO; a back-off (jittered) is drawn once per failure.
      if (t.nextRunAt === undefined || t.failures.count === 0) {
        t.nextRunAt = this.schedule.nextRunAt(group, t.lastSuccessAt, t.failures);
      }
      if (this.now() < t.nextRunAt) continue;
      if (this.runningCount() >= (this.deps.maxRunning ?? 8)) continue;
      const startedAt = this.now();
      try {
        const op = await this.deps.submit(group.id);
        if (op) t.running = { operationId: op.id, startedAt };
      } catch (e) {
        await this.failed(group, t, undefined, [{ reason: e instanceof Error ? e.message : String(e) }]);
      }
    }
  }

  private runningCount(): number {
    let n = 0;
    for (const t of this.tracks.values()) if (t.running) n++;
    return n;
  }

  private async finished(group: ProtectionGroup, t: GroupTrack, op: Operation | undefined): Promise<void> {
    const run = t.running as NonNullable<GroupTrack['running']>;
    t.running = undefined;
    if (op?.status === 'succeeded') {
      t.lastSuccessAt = run.startedAt;
      t.failures = { count: 0 };
      const now = this.now();
      const ages: Record<string, Record<string, number>> = {};
      for (const r of outcomeOf(op).replicas) {
        ages[r.site] = { ...ages[r.site], [r.member]: Math.max(0, (now - Date.parse(r.dataAt)) / 1000) };
      }
      await this.deps.events.emit('ha.replication.completed', group.id, {
        operation: op.id,
        durationMs: now - run.startedAt,
        replicaAgeSeconds: ages,
      });
      return;
    }
    const failedSites = op === undefined ? {} : outcomeOf(op).failedSites;
    const sites = Object.entries(failedSites).map(([site, reason]) => ({ site, reason }));
    const reason = op === undefined ? `operation ${run.operationId} is gone` : (op.error?.message ?? `operation ${op.status}`);
    await this.failed(group, t, op?.id, sites.length > 0 ? sites : [{ reason }]);
  }

  /** Counts one failure and raises one event per site that failed (one without a site when none is to blame). */
  private async failed(
    group: ProtectionGroup,
    t: GroupTrack,
    operationId: string | undefined,
    sites: { site?: string; reason: string }[],
  ): Promise<void> {
    t.failures = { count: t.failures.count + 1, lastAt: this.now() };
    t.nextRunAt = this.schedule.nextRunAt(group, t.lastSuccessAt, t.failures);
    const retryAt = new Date(t.nextRunAt).toISOString();
    for (const s of sites) {
      await this.deps.events.emit('ha.replication.failed', group.id, {
        ...(operationId !== undefined && { operation: operationId }),
        ...(s.site !== undefined && { site: s.site }),
        reason: s.reason,
        failures: t.failures.count,
        retryAt,
      });
    }
  }
}
