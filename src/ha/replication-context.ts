/**
 * What the steps of `ha.replicate` share: their dependencies, the state they keep in the operation (so a resumed
 * operation repeats nothing that reached a cloud), and small helpers for acting at a site other than the operation's.
 */
import { createHash } from 'node:crypto';
import { SkygateError, conflict, isSkygateError } from '../core/errors.js';
import { parseId } from '../core/ids.js';
import type { OperationEngine, StepContext } from '../core/operations/engine.js';
import type { Fence, Store } from '../core/store-port.js';
import type { PortabilityService } from '../portability/portability-service.js';
import type { HealthCheckSpec } from './health-check-spec.js';
import type { GroupStore } from './group-records.js';

export const HA_REPLICATE_KIND = 'ha.replicate';

/** What the controller submits, holding the group's lease: every store write of the operation carries `fence`. */
export interface ReplicateGroupInput {
  groupId: string;
  fence: Fence;
}

export type ReplicationStore = GroupStore & Pick<Store, 'insertReplica' | 'listReplicas' | 'deleteReplica' | 'getLease'>;

/** One health probe of one address (`probeOnce` of the health probe module). */
export type Probe = (address: string, check: HealthCheckSpec) => Promise<{ ok: boolean; detail: string }>;

export interface ReplicationLimits {
  /** The longest one member's copy to every standby may take (the OVA pipeline moves whole disks). */
  copyTimeoutMs: number;
  /** The longest a capture image, or a warm standby's launch, may take to become available / running. */
  resourceTimeoutMs: number;
  /** The longest a new warm standby may take to pass the group's health check. */
  healthyTimeoutMs: number;
}

export const DEFAULT_REPLICATION_LIMITS: ReplicationLimits = {
  copyTimeoutMs: 30 * 60_000,
  resourceTimeoutMs: 15 * 60_000,
  healthyTimeoutMs: 5 * 60_000,
};

export interface ReplicateDeps {
  store: ReplicationStore;
  /** Moves each capture to the standbys (native copy or the OVA pipeline), as a child operation per member. */
  portability: Pick<PortabilityService, 'replicateImage'>;
  /** Waits for those child operations. */
  operations: Pick<OperationEngine, 'waitFor'>;
  probe: Probe;
  limits?: Partial<ReplicationLimits>;
}

export interface MemberCapture {
  /** The instance captured (at the primary), and when its data was taken: noted before the create, never after. */
  instanceId: string;
  dataAt: string;
  /** The capture image at the primary, once created. */
  imageId?: string;
}

export interface MemberCopy {
  /** The child `image.replicate` operation. */
  operationId?: string;
  /** Per standby site: the replica image, or why it is missing. */
  sites: Record<string, { imageId: string } | { error: string }>;
  done?: boolean;
}

export interface RecordedReplica {
  id: string;
  member: string;
  site: string;
  imageId: string;
  dataAt: string;
}

export interface WarmRefresh {
  /** The new standby instance, once created. */
  instanceId?: string;
  /** The instance it replaces in `sites[x].instances`, noted before the status changes. */
  replaces?: string | null;
  recorded?: boolean;
  terminated?: boolean;
}

export interface RetentionPlan {
  replicas: { id: string; site: string; imageId: string }[];
  captures: { provider: string; imageId: string }[];
  /** What could not be deleted (kept for the next replication to try again). */
  errors: string[];
}

/** The operation's scratch state, step by step. */
export interface ReplicateState {
  primary?: string;
  standbys?: string[];
  captures?: Record<string, MemberCapture>;
  copies?: Record<string, MemberCopy>;
  recorded?: RecordedReplica[];
  refresh?: Record<string, Record<string, WarmRefresh>>;
  retain?: RetentionPlan;
  /** Sites that failed, with why (also written to `status.sites[x].replicationError`). */
  siteErrors?: Record<string, string>;
}

export const inputOf = (ctx: StepContext): ReplicateGroupInput => ctx.op.input as unknown as ReplicateGroupInput;
export const stateOf = (ctx: StepContext): ReplicateState => ctx.op.state as ReplicateState;
export const limitsOf = (deps: ReplicateDeps): ReplicationLimits => ({ ...DEFAULT_REPLICATION_LIMITS, ...deps.limits });

/** The plan fixed by the first step: a resumed operation replicates from the primary it started from. */
export function planOf(ctx: StepContext): { primary: string; standbys: string[] } {
  const { primary, standbys } = stateOf(ctx);
  if (primary === undefined || standbys === undefined) {
    throw new SkygateError('internal', `operation ${ctx.op.id} has no replication plan yet`);
  }
  return { primary, standbys };
}

/** A step context acting at `site` (adapter, inventory records, ids), for commands that span clouds. */
export function atSite(ctx: StepContext, site: string): StepContext {
  return { ...ctx, adapter: ctx.registry.cloud(site, 'site'), op: { ...ctx.op, provider: site } };
}

/** Saves the operation (and so its state) in order, from parallel work: each call waits for the ones before it. */
export function serialSaver(ctx: StepContext): (detail: string) => Promise<void> {
  let chain = Promise.resolve();
  return (detail) => {
    const done = chain.then(() => ctx.report(detail));
    chain = done.catch(() => {});
    return done;
  };
}

/** A short stable digest, for client tokens and record ids that must be the same when a step runs again. */
export const digest = (...parts: string[]): string =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);

/**
 * Refuses to start cloud work under a lease another controller took over since: the fenced writes would refuse it
 * later anyway, after images were made that nobody records.
 */
export async function checkFenceNow(store: ReplicationStore, fence: Fence): Promise<void> {
  const lease = await store.getLease(fence.lease);
  if (lease?.token !== fence.token) {
    throw conflict(
      `fencing token ${fence.token} of lease ${fence.lease} is stale (the lease is at ${lease?.token ?? 'none'}): another controller took over`,
    );
  }
}

export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Deletes an image wherever its id says it lives; one already gone counts as deleted. */
export async function deleteImage(ctx: StepContext, imageId: string): Promise<void> {
  const { provider, nativeId } = parseId(imageId, 'imageId');
  try {
    await ctx.registry.cloud(provider, 'imageId').deleteImage(nativeId);
  } catch (e) {
    if (!(isSkygateError(e) && e.code === 'not_found')) throw e;
  }
  await ctx.inventory.forget('image', imageId);
}

/**
 * After a failure that ends the operation before its images are recorded (a capture failing, the fence going stale at
 * `record`): deletes the captures and replica images this run made that no recorded replica names, so nothing is left
 * in the clouds that no record knows of. Best effort: a cloud that refuses keeps its image (the error is not hidden).
 */
export async function discardUnrecorded(ctx: StepContext, recorded: RecordedReplica[]): Promise<void> {
  const st = stateOf(ctx);
  const kept = new Set(recorded.map((r) => r.imageId));
  const keptMembers = new Set(recorded.map((r) => r.member));
  const images = [
    ...Object.values(st.copies ?? {}).flatMap((c) =>
      Object.values(c.sites).flatMap((r) => ('imageId' in r && !kept.has(r.imageId) ? [r.imageId] : [])),
    ),
    ...Object.entries(st.captures ?? {}).flatMap(([member, c]) =>
      c.imageId !== undefined && !keptMembers.has(member) ? [c.imageId] : [],
    ),
  ];
  await Promise.allSettled(images.map((id) => deleteImage(ctx, id)));
}
