/** Volume snapshots: CreateSnapshot, DescribeSnapshots, DeleteSnapshot. */
import type { Snapshot, SnapshotState } from '../../../core/index.js';
import { type ActionTable, type Ec2Context, defineAction } from '../context.js';
import { ec2Errors } from '../ec2-errors.js';
import { type FilterField, filterPredicate, parseFilters } from '../filters.js';
import { describe } from '../paging.js';
import type { XmlObject } from '../xml-render.js';
import { ACCOUNT_ID, completed, fetchResource, readTagSpecs, tagSet, targetOf } from './common.js';

const SNAPSHOT_STATE: Record<SnapshotState, string> = {
  pending: 'pending',
  available: 'completed',
  failed: 'error',
  deleted: 'recoverable',
};
const MAX_DESCRIPTION = 255;

function renderSnapshot(ctx: Ec2Context, s: Snapshot): XmlObject {
  return {
    snapshotId: ctx.ids.toEc2('snapshot', s.id),
    volumeId: ctx.ids.toEc2('volume', s.volumeId),
    status: SNAPSHOT_STATE[s.state],
    startTime: s.createdAt,
    progress: s.state === 'available' ? '100%' : '0%',
    ownerId: ACCOUNT_ID,
    volumeSize: s.sizeGiB,
    // The snapshot's name carries EC2's description, which is what CreateSnapshot takes.
    description: s.name,
    encrypted: false,
    storageTier: 'standard',
    tagSet: tagSet(s.tags),
  };
}

const snapshotFields = (ctx: Ec2Context): Record<string, FilterField<Snapshot>> => ({
  'snapshot-id': (s) => ctx.ids.peek('snapshot', s.id),
  'volume-id': (s) => ctx.ids.peek('volume', s.volumeId),
  status: (s) => SNAPSHOT_STATE[s.state],
  'owner-id': () => ACCOUNT_ID,
  description: (s) => s.name,
  'volume-size': (s) => String(s.sizeGiB),
  'start-time': (s) => s.createdAt,
  progress: (s) => (s.state === 'available' ? '100%' : '0%'),
  encrypted: () => 'false',
  'storage-tier': () => 'standard',
});

const describeSnapshots = defineAction(
  ['SnapshotId', 'Owner', 'RestorableBy', 'Filter', 'MaxResults', 'NextToken'],
  async (ctx) => {
    ctx.params.list('RestorableBy');
    const page = await describe(ctx, {
      kind: 'snapshot',
      ids: { param: 'SnapshotId', name: 'snapshotSet' },
      predicate: filterPredicate(parseFilters(ctx.params), snapshotFields(ctx)),
      owners: 'Owner',
      gone: 'not-found',
    });
    return { snapshotSet: page.items.map((s) => renderSnapshot(ctx, s)), nextToken: page.nextToken };
  },
);

const createSnapshot = defineAction(
  ['VolumeId', 'Description', 'TagSpecification'],
  async (ctx) => {
    const p = ctx.params;
    const volume = await fetchResource(ctx, 'volume', p.requireString('VolumeId'));
    const description = p.string('Description');
    if (description !== undefined && description.length > MAX_DESCRIPTION) {
      throw ec2Errors.invalidValue(
        'Description',
        description.slice(0, 20),
        `A description is at most ${MAX_DESCRIPTION} characters.`,
      );
    }
    const tags = readTagSpecs(p, ['snapshot']).get('snapshot') ?? {};
    const op = await ctx.core.resources.createSnapshot(
      { volumeId: volume.id, name: description || `snapshot of ${ctx.ids.toEc2('volume', volume.id)}`, tags },
      ctx.caller,
    );
    return renderSnapshot(ctx, await ctx.core.inventory.get('snapshot', await targetOf(ctx, op)));
  },
  ['OutpostArn'],
);

const deleteSnapshot = defineAction(['SnapshotId'], async (ctx) => {
  const snapshot = await fetchResource(ctx, 'snapshot', ctx.params.requireString('SnapshotId'));
  // EC2 deletes before it answers: a Describe right after must not list the snapshot.
  await completed(ctx, await ctx.core.resources.deleteSnapshot(snapshot.id, ctx.caller));
  return { return: true };
});

export const snapshotActions: ActionTable = {
  CreateSnapshot: createSnapshot,
  DescribeSnapshots: describeSnapshots,
  DeleteSnapshot: deleteSnapshot,
};
