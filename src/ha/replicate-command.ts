/**
 * `ha.replicate`: one replication of a protection group, run by its controller under the group's lease. Each member at
 * the current primary is captured into an image (`capture`), the image copied to every standby site by the portability
 * service (`copy`: native copy or the OVA pipeline), each copy recorded as a replica with the time its data was taken
 * (`record`), warm standbys relaunched from it (`refresh`), and replicas beyond the group's `retain` deleted, in the
 * clouds too (`retain`). Every step keeps what it did in the operation's state, so a resumed operation repeats no
 * cloud call that already took effect. A site that failed is named in the group status (`sites[x].replicationError`),
 * the other sites' replicas stand, and the operation fails at `verdict`.
 *
 * Each member's copy is a child `image.replicate` operation at the primary, which this one waits for while holding one
 * of the primary's operation slots: the scheduler's `maxRunning` keeps replications well below those slots.
 */
import { SkygateError, invalid } from '../core/errors.js';
import { formatId, parseRefIn } from '../core/ids.js';
import type { Operation } from '../core/model.js';
import type { CommandDefinition, StepContext } from '../core/operations/engine.js';
import { waitForState } from '../core/operations/steps.js';
import type { Replica } from '../portability/index.js';
import { readGroup, updateStatus } from './group-records.js';
import type { ProtectionGroup, ProtectionGroupStatus, SiteStatus } from './protection-group.js';
import { retainStep } from './replica-retention.js';
import {
  HA_REPLICATE_KIND,
  type MemberCopy,
  type RecordedReplica,
  type ReplicateDeps,
  type ReplicateGroupInput,
  atSite,
  checkFenceNow,
  digest,
  discardUnrecorded,
  inputOf,
  limitsOf,
  messageOf,
  planOf,
  serialSaver,
  stateOf,
} from './replication-context.js';
import { refreshStep } from './warm-refresh.js';

export { HA_REPLICATE_KIND, type ReplicateGroupInput } from './replication-context.js';

/** Who the child copy operations are submitted as; their idempotency keys make a resumed copy find its first one. */
const HA_PRINCIPAL = 'system:ha';

export function replicateCommand(deps: ReplicateDeps): CommandDefinition {
  return {
    kind: HA_REPLICATE_KIND,
    steps: [
      { name: 'capture', run: (ctx) => capture(deps, ctx) },
      { name: 'copy', run: (ctx) => copy(deps, ctx) },
      { name: 'record', run: (ctx) => record(deps, ctx) },
      refreshStep(deps),
      retainStep(deps),
      { name: 'verdict', run: verdict },
    ],
    result: (op) => ({
      resourceKind: 'protection-group',
      resourceId: (op.input as unknown as ReplicateGroupInput).groupId,
      ...outcomeOf(op),
    }),
  };
}

/** What one replication did: the replicas it recorded, the sites that failed and why, what retention left. */
export interface ReplicationOutcome {
  primary?: string;
  replicas: RecordedReplica[];
  failedSites: Record<string, string>;
  retentionErrors: string[];
}

/** Reads the outcome of an `ha.replicate` operation, finished or not (the scheduler's events come from it). */
export function outcomeOf(op: Pick<Operation, 'state'>): ReplicationOutcome {
  const st = op.state as ReturnType<typeof stateOf>;
  return {
    ...(st.primary !== undefined && { primary: st.primary }),
    replicas: st.recorded ?? [],
    failedSites: st.siteErrors ?? {},
    retentionErrors: st.retain?.errors ?? [],
  };
}

/** The sites to replicate to: every site of the group but the current primary (a former primary is re-seeded). */
function standbySitesOf(group: ProtectionGroup): string[] {
  const sites = new Set([group.spec.primary, ...group.spec.standbys, ...Object.keys(group.status.sites ?? {})]);
  sites.delete(group.status.primary);
  return [...sites].sort();
}

/** The native id of the instance standing for `member` at `site`, from the group status. */
function instanceAt(group: ProtectionGroup, site: string, member: string): string {
  const id = group.status.sites?.[site]?.instances?.[member];
  if (id === undefined) {
    throw new SkygateError('conflict', `member '${member}' of group '${group.id}' has no instance at its primary '${site}'`);
  }
  return parseRefIn(site, id, `status.sites.${site}.instances`);
}

async function capture(deps: ReplicateDeps, ctx: StepContext): Promise<void> {
  const { groupId, fence } = inputOf(ctx);
  if (typeof groupId !== 'string' || typeof fence?.lease !== 'string' || typeof fence.token !== 'number') {
    throw invalid('input', 'needs { groupId, fence: { lease, token } }');
  }
  await checkFenceNow(deps.store, fence);
  const group = await readGroup(deps.store, groupId);
  const st = stateOf(ctx);
  const save = serialSaver(ctx);
  if (st.primary === undefined) {
    st.primary = group.status.primary;
    st.standbys = standbySitesOf(group);
  }
  const { primary, standbys } = planOf(ctx);
  try {
    if (standbys.length === 0) throw new SkygateError('conflict', `group '${groupId}' has no standby site to replicate to`);
    // Every member's time is noted (and saved) before any image is made, so a resumed create keeps the first time:
    // a later one would claim fresher data than the image holds.
    st.captures ??= {};
    for (const m of group.status.members) {
      st.captures[m.key] ??= { instanceId: instanceAt(group, primary, m.key), dataAt: new Date().toISOString() };
    }
    await save(`capturing ${group.status.members.length} member(s) at ${primary}`);
    const at = atSite(ctx, primary);
    await Promise.all(
      Object.entries(st.captures).map(async ([member, c]) => {
        if (c.imageId === undefined) {
          const image = await at.adapter.createImageFromInstance(c.instanceId, {
            name: `${group.spec.name}-${digest(member)}-${c.dataAt.replace(/[-:.]/g, '')}`,
            tags: { 'skygate.group': groupId, 'skygate.member': member, 'skygate.capture': c.dataAt },
            clientToken: `${ctx.op.id}-${digest('capture', member)}`,
          });
          c.imageId = formatId(primary, image.nativeId);
          await save(`captured ${member}`);
        }
        const nativeId = parseRefIn(primary, c.imageId, 'capture');
        await waitForState(at, 'image', nativeId, {
          until: ['available'],
          failOn: ['failed', 'deleted'],
          quiet: true,
          timeoutMs: limitsOf(deps).resourceTimeoutMs,
        });
      }),
    );
  } catch (e) {
    // No member can be copied without its capture: every standby site missed this replication.
    st.siteErrors = Object.fromEntries(standbys.map((s) => [s, `capture at ${primary} failed: ${messageOf(e)}`]));
    await markSites(deps, ctx, st.siteErrors).catch(() => {});
    await discardUnrecorded(ctx, []);
    throw e;
  }
}

async function copy(deps: ReplicateDeps, ctx: StepContext): Promise<void> {
  const st = stateOf(ctx);
  const { standbys } = planOf(ctx);
  const save = serialSaver(ctx);
  st.copies ??= {};
  const copies = st.copies;
  await Promise.all(
    Object.entries(st.captures ?? {}).map(async ([member, c]) => {
      let entry: MemberCopy = copies[member] ?? { sites: {} };
      copies[member] = entry;
      if (entry.done) return;
      try {
        if (entry.operationId === undefined) {
          const child = await deps.portability.replicateImage(
            c.imageId as string,
            { targets: standbys },
            { principal: HA_PRINCIPAL, idempotencyKey: `${ctx.op.id}/${digest('copy', member)}` },
          );
          entry = { ...entry, operationId: child.id };
          copies[member] = entry;
          await save(`copying ${member} (${child.id})`);
        }
        const child = await deps.operations.waitFor(entry.operationId as string, () => false, limitsOf(deps).copyTimeoutMs);
        const replicas = (child?.state.replicas ?? {}) as Record<string, Replica>;
        const why =
          child === undefined
            ? `copy operation ${entry.operationId} is gone`
            : child.status === 'failed'
              ? (child.error?.message ?? 'the copy failed')
              : `copy operation ${child.id} still ${child.status} after ${limitsOf(deps).copyTimeoutMs} ms`;
        for (const site of standbys) {
          const replica = replicas[site];
          entry.sites[site] = replica ? { imageId: replica.imageId } : { error: why };
        }
      } catch (e) {
        // Refused before any copy started (the capture vanished, a site unknown): every site missed it.
        for (const site of standbys) entry.sites[site] = { error: messageOf(e) };
      }
      entry.done = true;
      await save(`copied ${member}`);
    }),
  );
  const errors: Record<string, string> = {};
  for (const [member, entry] of Object.entries(copies)) {
    for (const [site, r] of Object.entries(entry.sites)) {
      if ('error' in r) errors[site] = `${errors[site] ? `${errors[site]}; ` : ''}member ${member}: ${r.error}`;
    }
  }
  st.siteErrors = errors;
}

async function record(deps: ReplicateDeps, ctx: StepContext): Promise<void> {
  const st = stateOf(ctx);
  const recorded: RecordedReplica[] = [];
  try {
    await recordAll(deps, ctx, recorded);
  } catch (e) {
    // Unrecorded, these images would be known to no one (a stale fence means another controller acts now).
    await discardUnrecorded(ctx, recorded);
    throw e;
  }
  st.recorded = recorded;
  await markSites(deps, ctx, st.siteErrors ?? {});
}

async function recordAll(deps: ReplicateDeps, ctx: StepContext, recorded: RecordedReplica[]): Promise<void> {
  const { groupId, fence } = inputOf(ctx);
  const st = stateOf(ctx);
  const { primary } = planOf(ctx);
  for (const [member, entry] of Object.entries(st.copies ?? {})) {
    const c = st.captures?.[member];
    if (c?.imageId === undefined) continue;
    for (const [site, r] of Object.entries(entry.sites)) {
      if (!('imageId' in r)) continue;
      const replica: RecordedReplica = {
        id: `rep-${digest(ctx.op.id, member, site)}`,
        member,
        site,
        imageId: r.imageId,
        dataAt: c.dataAt,
      };
      // The id is the same on a resumed run, and a second insert of it does nothing.
      await deps.store.insertReplica(
        {
          ...replica,
          groupId,
          sourceProvider: primary,
          sourceInstanceId: formatId(primary, c.instanceId),
          sourceImageId: c.imageId,
          createdAt: new Date().toISOString(),
        },
        fence,
      );
      recorded.push(replica);
    }
  }
}

/**
 * Writes each site's outcome into the group status (fenced): the error of a site that failed, cleared for one that
 * succeeded. `needsReseed` is the controller's: it clears it once the former primary's stale instances are gone.
 */
export async function markSites(deps: ReplicateDeps, ctx: StepContext, errors: Record<string, string>): Promise<void> {
  const { groupId, fence } = inputOf(ctx);
  const { standbys } = planOf(ctx);
  const at = new Date().toISOString();
  await updateStatus(
    deps.store,
    groupId,
    (status: ProtectionGroupStatus) => {
      for (const site of standbys) {
        const s: SiteStatus = status.sites[site] ?? { role: 'standby', health: 'unknown', instances: {} };
        const error = errors[site];
        if (error !== undefined) s.replicationError = { message: error, at };
        else delete s.replicationError;
        status.sites[site] = s;
      }
      return status;
    },
    fence,
  );
}

async function verdict(ctx: StepContext): Promise<void> {
  const failed = Object.entries(stateOf(ctx).siteErrors ?? {});
  if (failed.length === 0) return;
  const done = [...new Set((stateOf(ctx).recorded ?? []).map((r) => r.site))];
  throw new SkygateError(
    'provider_unavailable',
    `replication failed for ${failed.map(([site, why]) => `${site} (${why})`).join('; ')}${done.length > 0 ? `; replicas recorded at ${done.join(', ')}` : ''}`,
  );
}
