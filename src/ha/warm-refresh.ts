/**
 * The `refresh` step of `ha.replicate`, for groups in warm mode: at each site that got a new replica, a new standby
 * instance is launched from it, waits until it passes the group's health check, takes its member's place in
 * `sites[x].instances`, and then the standby it replaces is terminated. So a warm standby's data is never older than
 * the newest replica's. The new standby is kept out of traffic: registering targets is the failover's move.
 *
 * A step of the replication rather than a command of its own: it runs under the same lease and fence, right after the
 * replicas it launches from are recorded and before retention may delete older ones, and one replication per group
 * at a time means no refresh ever races another.
 */
import { SkygateError, isSkygateError } from '../core/errors.js';
import { closestFlavor } from '../core/flavor-match.js';
import { formatId, parseRefIn } from '../core/ids.js';
import type { Step, StepContext } from '../core/operations/engine.js';
import { waitForState } from '../core/operations/steps.js';
import { readGroup, updateStatus } from './group-records.js';
import { untilPassing } from './health-probe.js';
import type { GroupMember, ProtectionGroup } from './protection-group.js';
import {
  type RecordedReplica,
  type ReplicateDeps,
  type WarmRefresh,
  atSite,
  digest,
  inputOf,
  limitsOf,
  messageOf,
  serialSaver,
  stateOf,
} from './replication-context.js';

export function refreshStep(deps: ReplicateDeps): Step {
  return {
    name: 'refresh',
    async run(ctx) {
      const { groupId, fence } = inputOf(ctx);
      const group = await readGroup(deps.store, groupId);
      if (group.spec.standbyMode !== 'warm') return;
      const st = stateOf(ctx);
      st.siteErrors ??= {};
      const errors = st.siteErrors;
      const bySite = new Map<string, RecordedReplica[]>();
      for (const r of st.recorded ?? []) {
        // A former primary waiting to be re-seeded still has its stale instances (maybe still in the pool): the
        // controller removes them first; the next replication then launches its standbys.
        if (errors[r.site] === undefined && !group.status.sites[r.site]?.needsReseed) {
          bySite.set(r.site, [...(bySite.get(r.site) ?? []), r]);
        }
      }
      const save = serialSaver(ctx);
      if (group.status.phase !== 'protecting') {
        // Mid-move: the move uses the standbys it found. The replicas stand; the next replication refreshes.
        for (const site of bySite.keys()) {
          errors[site] = `warm standby not refreshed: the group is ${group.status.phase}`;
          // A standby launched before a crash but never swapped in would be left running for no one.
          for (const r of Object.values(st.refresh?.[site] ?? {})) {
            if (r.instanceId !== undefined && !r.recorded) {
              await atSite(ctx, site)
                .adapter.deleteInstance(parseRefIn(site, r.instanceId, 'standby'))
                .catch(() => {});
            }
          }
        }
        bySite.clear();
      }
      await Promise.all(
        [...bySite].map(async ([site, replicas]) => {
          try {
            await Promise.all(replicas.map((r) => refreshMember(deps, ctx, group, r, save)));
          } catch (e) {
            errors[site] = `warm standby refresh failed: ${messageOf(e)}`;
            await updateStatus(
              deps.store,
              groupId,
              (status) => {
                const s = status.sites[site];
                if (s) s.replicationError = { message: errors[site] as string, at: new Date().toISOString() };
                return status;
              },
              fence,
            ).catch(() => {});
          }
        }),
      );
      await save('warm standbys refreshed');
    },
  };
}

async function refreshMember(
  deps: ReplicateDeps,
  ctx: StepContext,
  group: ProtectionGroup,
  replica: RecordedReplica,
  save: (detail: string) => Promise<void>,
): Promise<void> {
  const { site, member: key } = replica;
  const { groupId, fence } = inputOf(ctx);
  const member = group.status.members.find((m) => m.key === key);
  if (member === undefined) throw new SkygateError('conflict', `member '${key}' is no longer in group '${groupId}'`);
  const st = stateOf(ctx);
  st.refresh ??= {};
  st.refresh[site] ??= {};
  const bySite = st.refresh[site];
  bySite[key] ??= {};
  const r: WarmRefresh = bySite[key];
  const at = atSite(ctx, site);

  if (r.instanceId === undefined) {
    const native = await at.adapter.createInstance({
      name: member.name ?? `${group.spec.name}-standby`,
      flavorId: await flavorFor(at, member),
      imageId: parseRefIn(site, replica.imageId, 'replica'),
      tags: { ...member.tags, 'skygate.group': groupId, 'skygate.member': key, 'skygate.role': 'warm-standby' },
      clientToken: `${ctx.op.id}-${digest('refresh', site, key)}`,
    });
    r.instanceId = formatId(site, native.nativeId);
    await save(`launched warm standby ${r.instanceId} for ${key}`);
  }
  const nativeId = parseRefIn(site, r.instanceId, 'standby');
  if (!r.recorded) {
    try {
      await waitForState(at, 'instance', nativeId, {
        until: ['running'],
        failOn: ['error', 'stopped', 'terminated'],
        quiet: true,
        timeoutMs: limitsOf(deps).resourceTimeoutMs,
      });
      const running = await at.adapter.getInstance(nativeId);
      if (running.privateIp === undefined) throw new SkygateError('conflict', `standby ${r.instanceId} has no private address`);
      await untilPassing(running.privateIp, group.spec.healthCheck, {
        timeoutMs: limitsOf(deps).healthyTimeoutMs,
        pauseMs: group.spec.healthCheck.intervalMs,
        probe: deps.probe,
      });
      // What it replaces is noted (and saved) before the status changes: after that, the status names the new one.
      if (r.replaces === undefined) {
        r.replaces = (await readGroup(deps.store, groupId)).status.sites[site]?.instances[key] ?? null;
        await save(`standby for ${key} replaces ${r.replaces ?? 'none'}`);
      }
      await updateStatus(
        deps.store,
        groupId,
        (status) => {
          // Already in place (a resumed step): nothing to change. A failover or switchover that started meanwhile
          // uses the standbys it found: none is swapped under it.
          if (status.sites[site]?.instances[key] === r.instanceId) return status;
          if (status.phase !== 'protecting') {
            throw new SkygateError('conflict', `group is ${status.phase}: standby ${r.instanceId} not swapped in`);
          }
          const s = status.sites[site] ?? { role: 'standby', health: 'unknown', instances: {} };
          s.instances[key] = r.instanceId as string;
          status.sites[site] = s;
          return status;
        },
        fence,
      );
    } catch (e) {
      // A standby that never became healthy, or could not take its place, is not left running: the one it was to
      // replace still stands.
      await at.adapter.deleteInstance(nativeId).catch(() => {});
      throw e;
    }
    r.recorded = true;
    await save(`standby ${r.instanceId} recorded for ${key}`);
  }
  if (r.replaces && r.replaces !== r.instanceId && !r.terminated) {
    try {
      await at.adapter.deleteInstance(parseRefIn(site, r.replaces, 'replaced standby'));
    } catch (e) {
      if (!(isSkygateError(e) && e.code === 'not_found')) throw e;
    }
    r.terminated = true;
    await save(`terminated ${r.replaces}`);
  }
}

/** The site's flavor closest to what the member needs. */
async function flavorFor(at: StepContext, member: GroupMember): Promise<string> {
  const match = closestFlavor({ vcpus: member.vcpus, memoryMiB: member.memoryMiB }, await at.adapter.listFlavors());
  if (match === undefined) throw new SkygateError('conflict', `provider '${at.op.provider}' offers no flavor`);
  return match.flavor.nativeId;
}
