/**
 * The `retain` step of `ha.replicate`: keeps the newest `replication.retain` replicas per member and site and deletes
 * the rest, its record first (fenced) and then the image in the cloud, and the capture images at the source that no
 * kept replica comes from any more (with this run's captures that no site received). The plan is saved before the
 * first delete, so a resumed step finishes the same plan. An image a cloud refuses to delete (a site down) is named
 * in the operation's result (`retentionErrors`) and left behind: a record never names an image that is gone.
 */
import { parseId } from '../core/ids.js';
import type { Step } from '../core/operations/engine.js';
import type { ReplicaRecord } from '../core/store-port.js';
import { readGroup } from './group-records.js';
import {
  type ReplicateDeps,
  type RetentionPlan,
  deleteImage,
  inputOf,
  messageOf,
  serialSaver,
  stateOf,
} from './replication-context.js';

export function retainStep(deps: ReplicateDeps): Step {
  return {
    name: 'retain',
    async run(ctx) {
      const { groupId, fence } = inputOf(ctx);
      const st = stateOf(ctx);
      const save = serialSaver(ctx);
      if (st.retain === undefined) {
        const group = await readGroup(deps.store, groupId);
        const runCaptures = Object.values(st.captures ?? {}).flatMap((c) => (c.imageId ? [c.imageId] : []));
        st.retain = planRetention(await deps.store.listReplicas(groupId), group.spec.replication.retain, runCaptures);
        await save(`retention: ${st.retain.replicas.length} replica(s), ${st.retain.captures.length} capture(s) to delete`);
      }
      const plan = st.retain;
      plan.errors = [];
      for (const r of plan.replicas) {
        // The record goes first (fenced: a stale controller stops here), so no record ever names a deleted image.
        await deps.store.deleteReplica(r.id, fence);
        await deleteImage(ctx, r.imageId).catch((e) => plan.errors.push(`replica image ${r.imageId}: ${messageOf(e)}`));
      }
      for (const c of plan.captures) {
        await deleteImage(ctx, c.imageId).catch((e) => plan.errors.push(`capture ${c.imageId}: ${messageOf(e)}`));
      }
      await save(
        `retention done${plan.errors.length > 0 ? ` (${plan.errors.length} image(s) left in the clouds, named in the result)` : ''}`,
      );
    },
  };
}

/**
 * Which replicas go (all but the newest `retain` of each member and site; `replicas` come newest first) and which
 * capture images go with them: those no kept replica was copied from. A capture of this run that no site received is
 * one too.
 */
export function planRetention(replicas: ReplicaRecord[], retain: number, runCaptures: string[] = []): RetentionPlan {
  const seen = new Map<string, number>();
  const drop: ReplicaRecord[] = [];
  const kept: ReplicaRecord[] = [];
  for (const r of replicas) {
    const key = `${r.member}\u0000${r.site}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    (n < Math.max(1, retain) ? kept : drop).push(r);
  }
  const stillUsed = new Set(kept.flatMap((r) => (r.sourceImageId ? [r.sourceImageId] : [])));
  const candidates = new Set([...drop.flatMap((r) => (r.sourceImageId ? [r.sourceImageId] : [])), ...runCaptures]);
  return {
    replicas: drop.map((r) => ({ id: r.id, site: r.site, imageId: r.imageId })),
    captures: [...candidates]
      .filter((id) => !stillUsed.has(id))
      .map((id) => ({ provider: parseId(id, 'capture').provider, imageId: id })),
    errors: [],
  };
}
