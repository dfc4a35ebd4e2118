/** Volumes (EBS): CreateVolume, DescribeVolumes, AttachVolume, DetachVolume, DeleteVolume. */
import type { Volume, VolumeState } from '../../../core/index.js';
import { type ActionTable, type Ec2Context, defineAction } from '../context.js';
import { ec2Errors } from '../ec2-errors.js';
import { type FilterField, filterPredicate, parseFilters } from '../filters.js';
import { describe } from '../paging.js';
import type { XmlObject } from '../xml-render.js';
import { fetchResource, readTagSpecs, resolveIds, tagSet, targetOf } from './common.js';

/** EC2 shows an attachment in progress as an in-use volume whose attachment is attaching or detaching. */
const VOLUME_STATUS: Record<VolumeState, string> = {
  creating: 'creating',
  available: 'available',
  attaching: 'in-use',
  'in-use': 'in-use',
  detaching: 'in-use',
  deleting: 'deleting',
  deleted: 'deleted',
  error: 'error',
};
const ATTACHMENT_STATUS: Partial<Record<VolumeState, string>> = {
  attaching: 'attaching',
  'in-use': 'attached',
  detaching: 'detaching',
};
/** The only volume type skygate can promise: no provider port offers IOPS or throughput classes. */
const VOLUME_TYPE = 'standard';
const MAX_SIZE_GIB = 16384;

function attachmentOf(ctx: Ec2Context, v: Volume): XmlObject | undefined {
  const status = ATTACHMENT_STATUS[v.state];
  if (!status || !v.attachedTo) return undefined;
  return {
    volumeId: ctx.ids.toEc2('volume', v.id),
    instanceId: ctx.ids.toEc2('instance', v.attachedTo),
    device: v.device,
    status,
    deleteOnTermination: false,
  };
}

function renderVolume(ctx: Ec2Context, v: Volume): XmlObject {
  const attachment = attachmentOf(ctx, v);
  return {
    volumeId: ctx.ids.toEc2('volume', v.id),
    size: v.sizeGiB,
    snapshotId: v.snapshotId ? ctx.ids.toEc2('snapshot', v.snapshotId) : '',
    availabilityZone: v.zone,
    status: VOLUME_STATUS[v.state],
    createTime: v.createdAt,
    attachmentSet: attachment ? [attachment] : [],
    volumeType: VOLUME_TYPE,
    encrypted: false,
    multiAttachEnabled: false,
    tagSet: tagSet(v.tags),
  };
}

const volumeFields = (ctx: Ec2Context): Record<string, FilterField<Volume>> => ({
  'volume-id': (v) => ctx.ids.peek('volume', v.id),
  status: (v) => VOLUME_STATUS[v.state],
  'availability-zone': (v) => v.zone,
  size: (v) => String(v.sizeGiB),
  'snapshot-id': (v) => (v.snapshotId ? ctx.ids.peek('snapshot', v.snapshotId) : undefined),
  'volume-type': () => VOLUME_TYPE,
  encrypted: () => 'false',
  'create-time': (v) => v.createdAt,
  'attachment.instance-id': (v) =>
    ATTACHMENT_STATUS[v.state] && v.attachedTo ? ctx.ids.peek('instance', v.attachedTo) : undefined,
  'attachment.device': (v) => (ATTACHMENT_STATUS[v.state] ? v.device : undefined),
  'attachment.status': (v) => ATTACHMENT_STATUS[v.state],
  'attachment.delete-on-termination': (v) => (ATTACHMENT_STATUS[v.state] ? 'false' : undefined),
  'multi-attach-enabled': () => 'false',
});

const describeVolumes = defineAction(['VolumeId', 'Filter', 'MaxResults', 'NextToken'], async (ctx) => {
  const page = await describe(ctx, {
    kind: 'volume',
    ids: { param: 'VolumeId', name: 'volumeSet' },
    predicate: filterPredicate(parseFilters(ctx.params), volumeFields(ctx)),
    gone: 'not-found',
  });
  return { volumeSet: page.items.map((v) => renderVolume(ctx, v)), nextToken: page.nextToken };
});

const createVolume = defineAction(
  ['AvailabilityZone', 'Size', 'SnapshotId', 'VolumeType', 'TagSpecification', 'ClientToken', 'Encrypted', 'MultiAttachEnabled'],
  async (ctx) => {
    const p = ctx.params;
    const zone = p.requireString('AvailabilityZone');
    let size = p.int('Size', { min: 1, max: MAX_SIZE_GIB });
    const snapshotEc2 = p.string('SnapshotId');
    const type = p.string('VolumeType');
    if (type !== undefined && type !== VOLUME_TYPE && type !== 'gp2' && type !== 'gp3') {
      throw ec2Errors.unsupported(
        `Volume type ${type} is not supported by skygate (${VOLUME_TYPE}, gp2 and gp3 are taken as ${VOLUME_TYPE})`,
      );
    }
    if (p.bool('Encrypted') === true) throw ec2Errors.unsupported('Encrypted volumes are not supported by skygate');
    if (p.bool('MultiAttachEnabled') === true) throw ec2Errors.unsupported('Multi-attach volumes are not supported by skygate');
    const tags = readTagSpecs(p, ['volume']).get('volume') ?? {};
    let snapshotId: string | undefined;
    if (snapshotEc2 !== undefined) {
      const snapshot = await fetchResource(ctx, 'snapshot', snapshotEc2);
      snapshotId = snapshot.id;
      size ??= snapshot.sizeGiB;
    }
    if (size === undefined) throw ec2Errors.missingParameter('Size');
    const clientToken = p.string('ClientToken');
    const op = await ctx.core.resources.createVolume(
      {
        provider: ctx.region,
        name: tags.Name || 'volume',
        sizeGiB: size,
        zone,
        ...(snapshotId !== undefined && { snapshotId }),
        tags,
      },
      { ...ctx.caller, ...(clientToken !== undefined && { idempotencyKey: `ec2-volume:${clientToken}` }) },
    );
    const volume = await ctx.core.inventory.get('volume', await targetOf(ctx, op));
    return renderVolume(ctx, volume);
  },
  ['Iops', 'KmsKeyId', 'OutpostArn', 'Throughput'],
);

const attachVolume = defineAction(['VolumeId', 'InstanceId', 'Device'], async (ctx) => {
  const p = ctx.params;
  const volumeEc2 = p.requireString('VolumeId');
  const instanceEc2 = p.requireString('InstanceId');
  const device = p.requireString('Device');
  const [volumeId] = await resolveIds(ctx, 'volume', [volumeEc2]);
  const [instanceId] = await resolveIds(ctx, 'instance', [instanceEc2]);
  await ctx.core.resources.attachVolume(volumeId as string, { instanceId: instanceId as string, device }, ctx.caller);
  return {
    volumeId: volumeEc2,
    instanceId: instanceEc2,
    device,
    status: 'attaching',
    attachTime: new Date().toISOString(),
    deleteOnTermination: false,
  };
});

const detachVolume = defineAction(['VolumeId', 'InstanceId', 'Device', 'Force'], async (ctx) => {
  const p = ctx.params;
  const volumeEc2 = p.requireString('VolumeId');
  const volume = await fetchResource(ctx, 'volume', volumeEc2);
  const instanceEc2 = p.string('InstanceId');
  // Naming an instance or device the volume is not attached to is refused, as EC2 does.
  if (instanceEc2 !== undefined) {
    const [instanceId] = await resolveIds(ctx, 'instance', [instanceEc2]);
    if (volume.attachedTo !== instanceId) {
      throw ec2Errors.invalidValue('InstanceId', instanceEc2, `Volume ${volumeEc2} is not attached to it.`);
    }
  }
  const device = p.string('Device');
  if (device !== undefined && volume.device !== device) {
    throw ec2Errors.invalidValue('Device', device, `Volume ${volumeEc2} is not attached as ${device}.`);
  }
  p.bool('Force');
  const attachment = attachmentOf(ctx, volume);
  await ctx.core.resources.volumeAction(volume.id, 'detach', ctx.caller);
  return { ...attachment, volumeId: volumeEc2, status: 'detaching' };
});

const deleteVolume = defineAction(['VolumeId'], async (ctx) => {
  const volume = await fetchResource(ctx, 'volume', ctx.params.requireString('VolumeId'));
  await ctx.core.resources.volumeAction(volume.id, 'delete', ctx.caller);
  return { return: true };
});

export const volumeActions: ActionTable = {
  CreateVolume: createVolume,
  DescribeVolumes: describeVolumes,
  AttachVolume: attachVolume,
  DetachVolume: detachVolume,
  DeleteVolume: deleteVolume,
};
