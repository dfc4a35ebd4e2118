/**
 * The replication module's composition, for the HA wiring (create-ha.ts) to take up: the `ha.replicate` command to
 * register, "replicate now" for the controller and the group API (under the group's lease), and the scheduler that
 * keeps each held group within its RPO. Who holds which group, and when the scheduler runs, stays the controller's.
 */
import type { EventBus } from '../core/events.js';
import type { Operation } from '../core/model.js';
import type { CallerContext, CommandDefinition, OperationEngine } from '../core/operations/engine.js';
import type { PortabilityService } from '../portability/portability-service.js';
import type { GroupLeases } from './group-leases.js';
import { readGroup } from './group-records.js';
import { probeOnce } from './health-probe.js';
import type { ProtectionGroup } from './protection-group.js';
import { HA_REPLICATE_KIND, replicateCommand } from './replicate-command.js';
import type { Probe, ReplicateGroupInput, ReplicationLimits, ReplicationStore } from './replication-context.js';
import { type ReplicationSchedule, ReplicationScheduler } from './replication-schedule.js';

export interface ReplicationWiringDeps {
  store: ReplicationStore;
  engine: Pick<OperationEngine, 'operation' | 'waitFor' | 'get' | 'list'>;
  events: Pick<EventBus, 'emit'>;
  portability: Pick<PortabilityService, 'replicateImage'>;
  leases: Pick<GroupLeases, 'hold' | 'tryHold'>;
  /** The groups the scheduler keeps replicated: the ones this controller holds. */
  groups(): Promise<ProtectionGroup[]>;
  probe?: Probe;
  schedule?: ReplicationSchedule;
  limits?: Partial<ReplicationLimits>;
  tickMs?: number;
  /** Replications running at once (see `ReplicationSchedulerDeps.maxRunning`). */
  maxRunning?: number;
  log?: { error(obj: object, msg?: string): void };
}

export interface Replication {
  command: CommandDefinition;
  /** Submits a replication of the group now, under its lease (`conflict` when another controller holds it). */
  replicate(groupId: string, caller: CallerContext): Promise<Operation>;
  scheduler: ReplicationScheduler;
}

const SCHEDULER: CallerContext = { principal: 'ha-replication-scheduler' };

export function createReplication(deps: ReplicationWiringDeps): Replication {
  const { store, engine } = deps;
  const submit = async (groupId: string, fence: ReplicateGroupInput['fence'], caller: CallerContext) => {
    const group = await readGroup(store, groupId);
    const input: ReplicateGroupInput = { groupId, fence };
    return engine.operation({
      kind: HA_REPLICATE_KIND,
      provider: group.status.primary,
      input: { ...input },
      caller,
    });
  };
  const scheduler = new ReplicationScheduler({
    groups: deps.groups,
    async submit(groupId) {
      const fence = await deps.leases.tryHold(groupId);
      return fence && submit(groupId, fence, SCHEDULER);
    },
    getOperation: (id) => engine.get(id),
    events: deps.events,
    ...(deps.schedule && { schedule: deps.schedule }),
    // A restarted gateway counts from the newest replica it has, and waits for a replication it resumed.
    async lastReplicaAt(groupId) {
      const [newest] = await store.listReplicas(groupId);
      return newest && Date.parse(newest.dataAt);
    },
    async runningFor(groupId) {
      const unfinished = await engine.list({ status: ['pending', 'running'], kind: HA_REPLICATE_KIND, limit: 1000 });
      return unfinished.find((op) => (op.input as unknown as ReplicateGroupInput).groupId === groupId);
    },
    ...(deps.tickMs !== undefined && { tickMs: deps.tickMs }),
    ...(deps.maxRunning !== undefined && { maxRunning: deps.maxRunning }),
    ...(deps.log && { log: deps.log }),
  });
  return {
    command: replicateCommand({
      store,
      portability: deps.portability,
      operations: engine,
      probe: deps.probe ?? probeOnce,
      ...(deps.limits && { limits: deps.limits }),
    }),
    async replicate(groupId, caller) {
      return submit(groupId, await deps.leases.hold(groupId), caller);
    },
    scheduler,
  };
}
