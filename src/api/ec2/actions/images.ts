/** Images (AMIs): CreateImage, DescribeImages, DescribeImageAttribute, DeregisterImage, CopyImage. */
import { SkygateError, type Image, type ImageState } from '../../../core/index.js';
import { type ActionTable, type Ec2Context, defineAction } from '../context.js';
import { Ec2Error, ec2Errors, toEc2Error } from '../ec2-errors.js';
import { type FilterField, filterPredicate, parseFilters } from '../filters.js';
import { describe } from '../paging.js';
import type { XmlObject } from '../xml-render.js';
import { ACCOUNT_ID, completed, fetchResource, readTagSpecs, resolveId, tagSet, targetOf } from './common.js';

const IMAGE_STATE: Record<ImageState, string> = {
  pending: 'pending',
  available: 'available',
  failed: 'failed',
  deleted: 'deregistered',
};
/** EC2's rule for AMI names. */
const IMAGE_NAME = /^[a-zA-Z0-9()[\] ./\-'@_]{3,128}$/;

function renderImage(ctx: Ec2Context, r: Image): XmlObject {
  return {
    imageId: ctx.ids.toEc2('image', r.id),
    imageLocation: `${ACCOUNT_ID}/${r.name}`,
    imageState: IMAGE_STATE[r.state],
    imageOwnerId: ACCOUNT_ID,
    creationDate: r.createdAt,
    isPublic: false,
    architecture: 'x86_64',
    imageType: 'machine',
    name: r.name,
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/xvda',
    blockDeviceMapping: [
      {
        deviceName: '/dev/xvda',
        ebs: { deleteOnTermination: true, volumeSize: r.minDiskGiB, volumeType: 'gp2', encrypted: false },
      },
    ],
    virtualizationType: 'hvm',
    stateReason:
      r.state === 'failed' ? { code: 'Server.InternalError', message: 'the provider failed to create the image' } : undefined,
    tagSet: tagSet(r.tags),
  };
}

const imageFields = (ctx: Ec2Context): Record<string, FilterField<Image>> => ({
  'image-id': (r) => ctx.ids.peek('image', r.id),
  name: (r) => r.name,
  state: (r) => IMAGE_STATE[r.state],
  'owner-id': () => ACCOUNT_ID,
  architecture: () => 'x86_64',
  'image-type': () => 'machine',
  'is-public': () => 'false',
  'root-device-type': () => 'ebs',
  'root-device-name': () => '/dev/xvda',
  'virtualization-type': () => 'hvm',
  'block-device-mapping.volume-size': (r) => String(r.minDiskGiB),
});

/**
 * The image behind an AMI id, read live, for the actions that act on one image. How EC2 answers for an
 * AMI that was deregistered, and skygate with it (an id skygate issued whose image is gone or deleted):
 * - DescribeImages leaves it out: "Recently deregistered images appear in the returned results for a
 *   short interval and then return empty results. After all instances that reference a deregistered AMI
 *   are terminated, specifying the ID of the image will eventually return an error indicating that the AMI
 *   ID cannot be found" (EC2 API reference, DescribeImages; users meet it in boto/botocore#2194 and
 *   boto/boto3#925). skygate keeps the empty answer, since EC2 sets no time for the "eventually".
 * - DescribeImageAttribute and DeregisterImage answer InvalidAMIID.Unavailable, EC2's code for an AMI that
 *   "has been deregistered and is no longer available" (a second DeregisterImage gets it: the clean-up in
 *   aeternity/infrastructure#89 treats that code as "already deleted").
 * - RunInstances answers InvalidAMIID.NotFound ("The image id '[ami-…]' does not exist", from RunInstances
 *   in validatedpatterns/agof#57): toEc2Error maps the core's refusal of a deleted image so.
 * An id skygate never issued is InvalidAMIID.NotFound everywhere.
 */
async function registeredImage(ctx: Ec2Context, ec2Id: string): Promise<Image> {
  const id = await resolveId(ctx, 'image', ec2Id);
  let image: Image | undefined;
  try {
    image = await ctx.core.inventory.get('image', id);
  } catch (e) {
    if (!(e instanceof SkygateError && e.code === 'not_found')) throw e;
  }
  if (!image || image.state === 'deleted') throw ec2Errors.deregistered(ec2Id);
  return image;
}

const describeImages = defineAction(
  ['ImageId', 'Owner', 'ExecutableBy', 'Filter', 'MaxResults', 'NextToken', 'IncludeDeprecated', 'IncludeDisabled'],
  async (ctx) => {
    const page = await describe(ctx, {
      kind: 'image',
      ids: { param: 'ImageId', name: 'ImageIds' },
      predicate: filterPredicate(parseFilters(ctx.params), imageFields(ctx)),
      owners: 'Owner',
      // An AMI skygate issued that is gone is left out, not refused: see `registeredImage`.
      gone: 'omit',
    });
    return { imagesSet: page.items.map((r) => renderImage(ctx, r)), nextToken: page.nextToken };
  },
);

const createImage = defineAction(
  ['InstanceId', 'Name', 'Description', 'NoReboot', 'TagSpecification'],
  async (ctx) => {
    const p = ctx.params;
    const instanceEc2 = p.requireString('InstanceId');
    const name = p.requireString('Name');
    if (!IMAGE_NAME.test(name)) {
      throw ec2Errors.invalidValue('Name', name, "AMI names are 3 to 128 characters of letters, digits and ()[] ./-'@_");
    }
    const tags = readTagSpecs(p, ['image'], ['snapshot']).get('image') ?? {};
    const instance = await fetchResource(ctx, 'instance', instanceEc2);
    // NoReboot is accepted either way: a provider snapshot never reboots the instance.
    p.bool('NoReboot');
    const op = await ctx.core.resources.snapshotInstance(instance.id, { name, tags }, ctx.caller);
    return { imageId: ctx.ids.toEc2('image', await targetOf(ctx, op)) };
  },
  ['BlockDeviceMapping'],
);

const deregisterImage = defineAction(['ImageId', 'DeleteAssociatedSnapshots'], async (ctx) => {
  const image = await registeredImage(ctx, ctx.params.requireString('ImageId'));
  // A skygate image owns no separate snapshots, so either value of DeleteAssociatedSnapshots changes nothing.
  ctx.params.bool('DeleteAssociatedSnapshots');
  // EC2 deregisters before it answers: a Describe right after must not list the image.
  await completed(ctx, await ctx.core.resources.deleteImage(image.id, ctx.caller));
  return { return: true };
});

const IMAGE_ATTRIBUTES = new Set([
  'description',
  'kernel',
  'ramdisk',
  'launchPermission',
  'productCodes',
  'blockDeviceMapping',
  'sriovNetSupport',
  'bootMode',
  'tpmSupport',
  'uefiData',
  'lastLaunchedTime',
  'imdsSupport',
]);

const describeImageAttribute = defineAction(['ImageId', 'Attribute'], async (ctx) => {
  const ec2Id = ctx.params.requireString('ImageId');
  const attribute = ctx.params.requireString('Attribute');
  if (!IMAGE_ATTRIBUTES.has(attribute)) throw ec2Errors.invalidValue('Attribute', attribute, 'Unknown attribute.');
  const image = await registeredImage(ctx, ec2Id);
  const rendered = renderImage(ctx, image);
  const value =
    attribute === 'blockDeviceMapping'
      ? rendered.blockDeviceMapping
      : attribute === 'launchPermission' || attribute === 'productCodes'
        ? []
        : attribute === 'bootMode'
          ? { value: 'legacy-bios' }
          : // skygate keeps no description, kernel, ramdisk or UEFI data for images: EC2 answers an empty value.
            {};
  return { imageId: ec2Id, [attribute]: value };
});

/** How long CopyImage waits for the replica to exist before asking the caller to repeat the request. */
const COPY_WAIT_MS = 60_000;

/**
 * CopyImage between skygate providers is image replication (SourceRegion = source provider): the core's
 * portability service copies the image into this region, natively or through OVF/OVA. EC2 answers the new
 * image's id at once; a replica's id exists only once it is uploaded, so the answer waits for it (bounded;
 * beyond that, repeating the request with the same ClientToken answers the same copy).
 */
const copyImage = defineAction(
  ['SourceImageId', 'SourceRegion', 'Name', 'Description', 'ClientToken', 'Encrypted', 'CopyImageTags'],
  async (ctx) => {
    const p = ctx.params;
    const source = p.requireString('SourceImageId');
    const sourceRegion = p.requireString('SourceRegion');
    p.requireString('Name');
    p.bool('CopyImageTags');
    if (p.bool('Encrypted') === true) throw ec2Errors.unsupported('Encrypted image copies are not supported by skygate');
    if (!ctx.core.providers.has(sourceRegion)) {
      throw ec2Errors.invalidValue(
        'SourceRegion',
        sourceRegion,
        `It is not a provider of this gateway (${ctx.core.providers.ids().join(', ')}).`,
      );
    }
    const imageId = await resolveId({ ...ctx, region: sourceRegion }, 'image', source);
    const clientToken = p.string('ClientToken');
    const op = await ctx.core.portability.replicateImage(
      imageId,
      { targets: [ctx.region] },
      { ...ctx.caller, ...(clientToken !== undefined && { idempotencyKey: `ec2-copy:${clientToken}` }) },
    );
    const done = await ctx.core.operations.finished(op.id, COPY_WAIT_MS);
    if (done?.status === 'failed' && done.error) throw toEc2Error(SkygateError.from(done.error));
    const replica = (done?.result?.replicas as Array<{ provider: string; imageId: string }> | undefined)?.find(
      (r) => r.provider === ctx.region,
    );
    if (!replica) {
      throw new Ec2Error(
        'Unavailable',
        `The copy of ${source} is still in progress (operation ${op.id}); repeat the request with the same ClientToken for its ImageId`,
        503,
      );
    }
    return { imageId: ctx.ids.toEc2('image', replica.imageId) };
  },
  ['KmsKeyId', 'DestinationOutpostArn'],
);

export const imageActions: ActionTable = {
  CreateImage: createImage,
  DescribeImages: describeImages,
  DescribeImageAttribute: describeImageAttribute,
  DeregisterImage: deregisterImage,
  CopyImage: copyImage,
};
