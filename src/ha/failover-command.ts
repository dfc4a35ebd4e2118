/**
 * Failover and switchover: one command object, `ha.failover`, moving a protection group's traffic from one site to
 * another. Steps (each recorded by the operations engine, each safe to run again after a crash):
 *   decide  — picks what the new site starts from (cold: newest replica per member; warm: its standby instances),
 *             marks the group as moving (one move at a time) and remembers the pool's targets for a rollback;
 *   fence   — unplanned only: the old site's targets go to maintenance, so it cannot take traffic again by itself;
 *   launch  — cold: launches each member from its replica, lower tiers first, a tier in parallel; warm: checks;
 *   healthy — waits until every new instance passes the group's health check (`rise` passes in a row);
 *   flip    — one desired-state write: new targets active, old ones in maintenance (planned: draining first, then
 *             maintenance after `drainMs`); the reconciler fences before it activates, so two sites never serve;
 *   record  — the new site is primary, the old one must be re-seeded; events carry the timeline.
 * Every store write carries this controller's fencing token. A launch or health check that fails rolls back: the
 * pool's targets as they were, launched instances terminated, the group says why.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { closestFlavor } from '../core/flavor-match.js';
import { formatId, parseId } from '../core/ids.js';
import { SkygateError, conflict, toSkygateError } from '../core/errors.js';
import type { Operation } from '../core/model.js';
import type { CommandDefinition, Step, StepContext } from '../core/operations/engine.js';
import { waitForState } from '../core/operations/steps.js';
import type { DesiredTarget, Fence, Store } from '../core/store-port.js';
import type { HaConfig } from './ha-config.js';
import { readGroup, updateStatus } from './group-records.js';
import type { GroupLeases } from './group-leases.js';
import { untilPassing } from './health-probe.js';
import type { LbReconciler } from './lb-reconciler.js';
import type { FailoverTimeline, GroupMember, ProtectionGroup } from './protection-group.js';

export const FAILOVER_KIND = 'ha.failover';

export interface FailoverInput {
  /** The mark the controller put on the group before submitting: this move owns it. */
  claim: string;
  groupId: string;
  from: string;
  to: string;
  /** A planned switchover (or failback): drain instead of fence, nothing fails. */
  planned: boolean;
  reason: string;
  /** When the health checks first failed (unplanned, detected by the probes): the start of `detect`. */
  failingSince?: string;
  decidedAt: string;
}

/** What the new site starts each member from. */
interface PlannedMember {
  key: string;
  order: number;
  /** Cold: the replica image at the new site, and when its data was taken. */
  imageId?: string;
  dataAt?: string;
  /** Warm, or once launched: the instance (skygate id) serving the member at the new site. */
  instanceId?: string;
  /** A warm standby: already passing its checks (the controller picks a warm site only then). */
  warm?: boolean;
}

interface FailoverState {
  plan?: PlannedMember[];
  /** The pool's targets before the move: what a rollback restores. */
  previousTargets?: DesiredTarget[];
  phases?: FailoverTimeline['phases'];
  replicaAgeSeconds?: number;
  startedAt?: string;
}

export interface FailoverDeps {
  store: Pick<Store, 'getProtectionGroup' | 'updateProtectionGroup' | 'getDesiredPool' | 'listReplicas'>;
  leases: GroupLeases;
  reconciler: LbReconciler;
  config: Pick<HaConfig, 'healthyTimeoutMs' | 'drainMs'>;
}

const inputOf = (op: Operation) => op.input as unknown as FailoverInput;
const stateOf = (op: Operation) => op.state as FailoverState;

export function failoverCommand(deps: FailoverDeps): CommandDefinition {
  /** Runs one step's work, times it into the timeline, and rolls the move back if it throws. */
  const step = (
    name: string,
    phase: keyof FailoverTimeline['phases'] | undefined,
    work: (ctx: StepContext) => Promise<void>,
  ): Step => ({
    name,
    async run(ctx) {
      const started = Date.now();
      try {
        await work(ctx);
      } catch (e) {
        await rollback(deps, ctx, e).catch(() => undefined);
        throw e;
      }
      if (phase !== undefined) {
        const state = stateOf(ctx.op);
        state.phases = { ...state.phases, [phase]: Date.now() - started };
      }
    },
  });

  return {
    kind: FAILOVER_KIND,
    steps: [
      step('decide', 'decide', (ctx) => decide(deps, ctx)),
      step('fence', 'fence', (ctx) => fence(deps, ctx)),
      step('launch', 'launch', (ctx) => launch(deps, ctx)),
      step('healthy', 'healthy', (ctx) => healthy(deps, ctx)),
      step('flip', 'flip', (ctx) => flip(deps, ctx)),
      step('record', undefined, (ctx) => record(deps, ctx)),
    ],
    result(op) {
      const input = inputOf(op);
      const state = stateOf(op);
      return {
        groupId: input.groupId,
        from: input.from,
        to: input.to,
        planned: input.planned,
        phases: state.phases ?? {},
        ...(state.replicaAgeSeconds !== undefined && { replicaAgeSeconds: state.replicaAgeSeconds }),
        instances: Object.fromEntries((state.plan ?? []).map((m) => [m.key, m.instanceId])),
      };
    },
  };
}

async function decide(deps: FailoverDeps, ctx: StepContext): Promise<void> {
  const input = inputOf(ctx.op);
  const state = stateOf(ctx.op);
  const fence = await deps.leases.hold(input.groupId);
  const group = await readGroup(deps.store, input.groupId);
  if (state.plan === undefined) {
    const owner = group.status.activeOperation;
    if (owner !== undefined && owner !== ctx.op.id && owner !== input.claim) {
      throw conflict(`protection group ${group.spec.name} is already moving (operation ${group.status.activeOperation})`);
    }
    if (group.status.primary !== input.from) {
      throw conflict(`protection group ${group.spec.name} runs at ${group.status.primary}, not ${input.from}`);
    }
    state.plan = await planMembers(deps, group, input.to);
    const pool = await deps.store.getDesiredPool(group.spec.traffic.lbProvider, group.spec.traffic.poolId);
    state.previousTargets = pool?.targets ?? [];
    state.startedAt = new Date().toISOString();
    const oldest = Math.min(...state.plan.map((m) => (m.dataAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(m.dataAt))));
    if (Number.isFinite(oldest)) state.replicaAgeSeconds = Math.max(0, Math.round((Date.parse(input.decidedAt) - oldest) / 1000));
    if (input.failingSince !== undefined) {
      state.phases = { detect: Math.max(0, Date.parse(input.decidedAt) - Date.parse(input.failingSince)) };
    }
  }
  await updateStatus(
    deps.store,
    input.groupId,
    (s) => {
      s.phase = input.planned ? 'switching-over' : 'failing-over';
      s.activeOperation = ctx.op.id;
      s.message = `${input.planned ? 'switching over' : 'failing over'} from ${input.from} to ${input.to}: ${input.reason}`;
      return s;
    },
    fence,
  );
  await ctx.events.emit('ha.failover.started', input.groupId, {
    operation: ctx.op.id,
    from: input.from,
    to: input.to,
    planned: input.planned,
    reason: input.reason,
    ...(state.replicaAgeSeconds !== undefined && { replicaAgeSeconds: state.replicaAgeSeconds }),
  });
}

/** Cold: the newest replica of each member at `to`; warm: the standby instance there, or its replica if it has none. */
async function planMembers(deps: FailoverDeps, group: ProtectionGroup, to: string): Promise<PlannedMember[]> {
  const site = group.status.sites[to];
  if (site === undefined) throw conflict(`${to} is not a site of protection group ${group.spec.name}`);
  const replicas = await deps.store.listReplicas(group.id, { site: to });
  return group.status.members.map((m: GroupMember) => {
    const warm = group.spec.standbyMode === 'warm' ? site.instances[m.key] : undefined;
    const newest = replicas.find((r) => r.member === m.key);
    if (warm !== undefined)
      return { key: m.key, order: m.order, instanceId: warm, warm: true, ...(newest && { dataAt: newest.dataAt }) };
    if (newest === undefined) {
      throw conflict(
        `${to} holds no replica of member ${m.name ?? m.key} of protection group ${group.spec.name}: it cannot take over`,
      );
    }
    return { key: m.key, order: m.order, imageId: newest.imageId, dataAt: newest.dataAt };
  });
}

async function fence(deps: FailoverDeps, ctx: StepContext): Promise<void> {
  const input = inputOf(ctx.op);
  if (input.planned) return; // a planned move drains at the flip instead: the old site keeps serving until then
  const group = await readGroup(deps.store, input.groupId);
  const targets = (stateOf(ctx.op).previousTargets ?? []).map((t) => ({ ...t, state: 'maintenance' as const }));
  await setPool(deps, group, targets, await deps.leases.hold(input.groupId));
  await ctx.events.emit('ha.failover.fenced', input.groupId, { operation: ctx.op.id, site: input.from, targets: targets.length });
}

async function launch(deps: FailoverDeps, ctx: StepContext): Promise<void> {
  const input = inputOf(ctx.op);
  const state = stateOf(ctx.op);
  const group = await readGroup(deps.store, input.groupId);
  const members = new Map(group.status.members.map((m) => [m.key, m]));
  const plan = state.plan ?? [];
  const tiers = [...new Set(plan.map((m) => m.order))].sort((a, b) => a - b);
  let flavors: Awaited<ReturnType<typeof ctx.adapter.listFlavors>> | undefined;
  for (const tier of tiers) {
    await Promise.all(
      plan
        .filter((m) => m.order === tier)
        .map(async (m) => {
          if (m.instanceId !== undefined) {
            // Warm, or launched before a crash: it must be running (a stopped standby is started).
            const native = await ctx.adapter.getInstance(parseId(m.instanceId, 'instance').nativeId);
            if (native.state === 'stopped') await ctx.adapter.startInstance(native.nativeId);
            await waitForState(ctx, 'instance', native.nativeId, {
              until: ['running'],
              failOn: ['terminated'],
              quiet: true,
              timeoutMs: deps.config.healthyTimeoutMs,
            });
            return;
          }
          const member = members.get(m.key);
          if (member === undefined || m.imageId === undefined)
            throw new SkygateError('internal', `member ${m.key} has nothing to launch from`);
          flavors ??= await ctx.adapter.listFlavors();
          const match = closestFlavor({ vcpus: member.vcpus, memoryMiB: member.memoryMiB }, flavors);
          if (match === undefined) throw conflict(`${input.to} offers no flavor to launch member ${member.name ?? m.key} on`);
          const native = await ctx.adapter.createInstance({
            name: member.name ?? m.key,
            flavorId: match.flavor.nativeId,
            imageId: m.imageId.includes(':') ? parseId(m.imageId, 'imageId').nativeId : m.imageId,
            tags: { ...member.tags, 'skygate:protection-group': group.id, 'skygate:member': m.key },
            // One token per operation and member: a resumed launch finds the instance it made before the crash.
            clientToken: createHash('sha256').update(`${ctx.op.id}/${m.key}`).digest('hex').slice(0, 32),
          });
          m.instanceId = formatId(input.to, native.nativeId);
          await ctx.inventory.record('instance', input.to, native);
          await ctx.report(`launched ${m.instanceId} for ${member.name ?? m.key}`);
          await waitForState(ctx, 'instance', native.nativeId, {
            until: ['running'],
            failOn: ['terminated', 'stopped'],
            quiet: true,
            timeoutMs: deps.config.healthyTimeoutMs,
          });
        }),
    );
  }
}

/** The address each new instance serves on (its private address at the new site). */
async function addressesOf(ctx: StepContext, plan: PlannedMember[]): Promise<string[]> {
  return Promise.all(
    plan.map(async (m) => {
      const native = await ctx.adapter.getInstance(parseId(m.instanceId ?? '', 'instance').nativeId);
      if (native.privateIp === undefined) throw conflict(`instance ${m.instanceId} has no private address to send traffic to`);
      return native.privateIp;
    }),
  );
}

async function healthy(deps: FailoverDeps, ctx: StepContext): Promise<void> {
  const input = inputOf(ctx.op);
  const group = await readGroup(deps.store, input.groupId);
  const plan = stateOf(ctx.op).plan ?? [];
  // The old site is fenced by now, so this wait is time with no server in the pool: a warm standby, which already
  // passed `rise` checks to be chosen, is probed once more; a launched one must pass `rise` in a row.
  const check = plan.every((m) => m.warm) ? { ...group.spec.healthCheck, rise: 1 } : group.spec.healthCheck;
  // Faster than the watch interval: this wait is on the RTO path.
  const pauseMs = Math.min(check.intervalMs, 200);
  const addresses = await addressesOf(ctx, plan);
  await Promise.all(addresses.map((a) => untilPassing(a, check, { timeoutMs: deps.config.healthyTimeoutMs, pauseMs })));
}

async function flip(deps: FailoverDeps, ctx: StepContext): Promise<void> {
  const input = inputOf(ctx.op);
  const state = stateOf(ctx.op);
  const group = await readGroup(deps.store, input.groupId);
  const port = group.spec.traffic.port;
  const fresh = (await addressesOf(ctx, state.plan ?? [])).map((address) => ({ address, port, state: 'active' as const }));
  const isFresh = new Set(fresh.map((t) => `${t.address}:${t.port}`));
  const old = (state.previousTargets ?? []).filter((t) => !isFresh.has(`${t.address}:${t.port}`));
  if (input.planned) {
    // Drain: the old targets take no new connections but finish theirs, while the new ones take the traffic.
    await setPool(
      deps,
      group,
      [...old.map((t) => ({ ...t, state: 'draining' as const })), ...fresh],
      await deps.leases.hold(input.groupId),
    );
    await sleep(deps.config.drainMs);
  }
  await setPool(
    deps,
    group,
    [...old.map((t) => ({ ...t, state: 'maintenance' as const })), ...fresh],
    await deps.leases.hold(input.groupId),
  );
  await ctx.events.emit('ha.failover.flipped', input.groupId, {
    operation: ctx.op.id,
    to: input.to,
    targets: fresh.map((t) => `${t.address}:${t.port}`),
  });
}

async function record(deps: FailoverDeps, ctx: StepContext): Promise<void> {
  const input = inputOf(ctx.op);
  const state = stateOf(ctx.op);
  const timeline = timelineOf(ctx.op, 'succeeded');
  const fence = await deps.leases.hold(input.groupId);
  await updateStatus(
    deps.store,
    input.groupId,
    (s) => {
      if (s.activeOperation !== ctx.op.id && s.primary === input.to) return s; // recorded before a crash
      const from = s.sites[input.from];
      const to = s.sites[input.to];
      if (from !== undefined) Object.assign(from, { role: 'standby', needsReseed: true });
      if (to !== undefined) {
        Object.assign(to, { role: 'primary', needsReseed: false });
        to.instances = Object.fromEntries((state.plan ?? []).map((m) => [m.key, m.instanceId ?? '']));
      }
      s.primary = input.to;
      s.phase = 'protecting';
      s.failovers += 1;
      s.lastFailover = timeline;
      delete s.activeOperation;
      delete s.message;
      return s;
    },
    fence,
  );
  await ctx.events.emit('ha.failover.completed', input.groupId, { ...timeline });
}

function timelineOf(op: Operation, outcome: 'succeeded' | 'failed', error?: string): FailoverTimeline {
  const input = inputOf(op);
  const state = stateOf(op);
  return {
    operationId: op.id,
    kind: input.planned ? 'switchover' : 'failover',
    from: input.from,
    to: input.to,
    reason: input.reason,
    phases: state.phases ?? {},
    startedAt: state.startedAt ?? input.decidedAt,
    finishedAt: new Date().toISOString(),
    ...(state.replicaAgeSeconds !== undefined && { replicaAgeSeconds: state.replicaAgeSeconds }),
    outcome,
    ...(error !== undefined && { error }),
  };
}

async function setPool(deps: FailoverDeps, group: ProtectionGroup, targets: DesiredTarget[], fence: Fence): Promise<void> {
  const { lbProvider, poolId } = group.spec.traffic;
  const { result } = await deps.reconciler.setDesired(lbProvider, poolId, targets, { fence });
  // The desired state is stored either way and the reconcile loop keeps applying it; the move goes on, and says so.
  if (result.error !== undefined)
    throw new SkygateError('provider_unavailable', `load balancer ${lbProvider}: ${result.error.message}`);
}

/**
 * Puts things back as they were before the move: the pool's previous targets, no instance launched by it, the group
 * not moving (and saying why). Best effort: a rollback that fails leaves the desired state for the loop to apply.
 */
async function rollback(deps: FailoverDeps, ctx: StepContext, cause: unknown): Promise<void> {
  const input = inputOf(ctx.op);
  const state = stateOf(ctx.op);
  const error = toSkygateError(cause);
  if (error.code === 'conflict' && /controlled by|fencing token/.test(error.message)) return; // another controller acts now
  const fence = await deps.leases.hold(input.groupId);
  const group = await readGroup(deps.store, input.groupId);
  if (group.status.activeOperation !== ctx.op.id && group.status.activeOperation !== input.claim) return; // not ours
  if (state.previousTargets !== undefined) await setPool(deps, group, state.previousTargets, fence).catch(() => undefined);
  const warm = new Set(Object.values(group.status.sites[input.to]?.instances ?? {}));
  for (const m of state.plan ?? []) {
    if (m.instanceId === undefined || warm.has(m.instanceId)) continue;
    await ctx.adapter.deleteInstance(parseId(m.instanceId, 'instance').nativeId).catch(() => undefined);
  }
  const timeline = timelineOf(ctx.op, 'failed', error.message);
  await updateStatus(
    deps.store,
    input.groupId,
    (s) => {
      // Back where it was; if the primary is still failing, the controller tries again after a pause, or says that
      // no site can take over.
      s.phase = 'protecting';
      s.message = `${input.planned ? 'switchover' : 'failover'} to ${input.to} failed and was rolled back: ${error.message}`;
      s.lastFailover = timeline;
      delete s.activeOperation;
      return s;
    },
    fence,
  );
  await ctx.events.emit('ha.failover.failed', input.groupId, { ...timeline });
}
