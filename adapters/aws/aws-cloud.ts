/** The aws cloud adapter: EC2 instances, AMIs, EBS volumes and snapshots through @aws-sdk/client-ec2. */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AttachVolumeCommand,
  CopyImageCommand,
  CreateImageCommand,
  CreateSnapshotCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  DeleteSnapshotCommand,
  DeleteSubnetCommand,
  DeleteTagsCommand,
  DeleteVolumeCommand,
  DeleteVpcCommand,
  DeregisterImageCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  DetachVolumeCommand,
  EC2Client,
  type EC2PaginationConfiguration,
  type Image as Ec2Image,
  type Instance as Ec2Instance,
  type Snapshot as Ec2Snapshot,
  type Subnet as Ec2Subnet,
  type Tag,
  type TagSpecification,
  type Volume as Ec2Volume,
  type Vpc as Ec2Vpc,
  type InstanceTypeInfo,
  type _InstanceType,
  RebootInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeImages,
  paginateDescribeInstanceTypes,
  paginateDescribeInstances,
  paginateDescribeSnapshots,
  paginateDescribeSubnets,
  paginateDescribeVolumes,
  paginateDescribeVpcs,
  waitUntilImageExists,
} from '@aws-sdk/client-ec2';
import {
  SkygateError,
  TAG_LIMITS,
  checkNetworkPlan,
  firstHost,
  invalid,
  notFound,
  type AdapterContext,
  type Capabilities,
  type CloudAdapter,
  type CreateImageSpec,
  type CreateInstanceSpec,
  type CreateNetworkSpec,
  type CreateSnapshotSpec,
  type CreateVolumeSpec,
  type ImageCopyScope,
  type ImageState,
  type InstanceState,
  type NativeFlavor,
  type NativeImage,
  type NativeInstance,
  type NativeNetwork,
  type NativePage,
  type NativeSnapshot,
  type NativeVolume,
  type PageRequest,
  type ProviderHealth,
  type RenamableKind,
  type SnapshotState,
  type TaggableKind,
  type Tags,
  type VolumeState,
} from '../../src/core/index.js';
import { EC2_ERRORS, fromAwsError } from './aws-errors.js';
import { parseAwsSettings, type AwsClientSettings, type AwsSettings } from './aws-settings.js';

/** The tag that carries a create's client token where EC2 takes none (CreateImage, CreateSnapshot). */
export const CLIENT_TOKEN_TAG = 'skygate:client-token';
/**
 * Marks a VPC (and its subnet) as a network skygate created; its value is when, since EC2 keeps no creation time
 * for VPCs. Only VPCs with it are listed, changed or deleted: the account's other VPCs are never touched.
 */
export const NETWORK_TAG = 'skygate:network';
/** EC2 takes at most 200 values in one filter: VPC ids are looked up in chunks of this many. */
const MAX_FILTER_VALUES = 200;
/** CreateSubnet tries on a VPC EC2 does not show yet (0.5 s, then 1 s between): under the 30 s call deadline. */
const SUBNET_ATTEMPTS = 3;
/** EC2 takes a ClientToken of at most 64 ASCII characters. */
const MAX_CLIENT_TOKEN = 64;
/** EC2's limit (the core's tag policy); skygate keeps two tags of its own on each resource. */
const MAX_TAGS = TAG_LIMITS.maxTags;
/** DescribeInstances, DescribeImages and DescribeSnapshots refuse MaxResults below 5. */
const MIN_PAGE = 5;
const MAX_PAGE = { instances: 1000, images: 1000, snapshots: 1000, volumes: 500 } as const;
/** How long a fresh AMI may stay invisible to DescribeImages before createImageFromInstance gives up; under the 30 s call deadline. */
const IMAGE_VISIBLE_WAIT_S = 20;
/** The device names EC2 suggests for data volumes. */
const DEVICES = [...'fghijklmnop'].map((c) => `/dev/sd${c}`);
const EPOCH = new Date(0).toISOString();

const INSTANCE_STATES: Readonly<Record<string, InstanceState>> = {
  pending: 'pending',
  running: 'running',
  stopping: 'stopping',
  stopped: 'stopped',
  'shutting-down': 'terminating',
  terminated: 'terminated',
};
const IMAGE_STATES: Readonly<Record<string, ImageState>> = {
  available: 'available',
  pending: 'pending',
  transient: 'pending',
  failed: 'failed',
  error: 'failed',
  invalid: 'failed',
  deregistered: 'deleted',
  disabled: 'deleted',
};
const SNAPSHOT_STATES: Readonly<Record<string, SnapshotState>> = {
  pending: 'pending',
  completed: 'available',
  error: 'failed',
  recoverable: 'pending',
  recovering: 'pending',
};

/** Where a listing resumes: the EC2 NextToken of a page, and how many of that page's items were already handed out. */
interface Cursor {
  /** NextToken that fetched the page; absent for the first page. */
  t?: string;
  /** Items of that page already returned (only when the caller asked for fewer than EC2's minimum page). */
  s: number;
  /** MaxResults the page was fetched with, so a re-fetch yields the same page. */
  m: number;
}

type Paginate<In, Out> = (config: EC2PaginationConfiguration, input: In) => AsyncIterable<Out>;

export function createEc2Client(s: AwsClientSettings): EC2Client {
  return new EC2Client({
    region: s.region,
    ...(s.endpoint !== undefined && { endpoint: s.endpoint }),
    ...(s.credentials !== undefined && { credentials: s.credentials }),
    maxAttempts: s.maxAttempts,
    retryMode: s.retryMode,
  });
}

export class AwsCloudAdapter implements CloudAdapter {
  readonly type = 'aws';
  /** No suspendInstance: EC2's only suspend is hibernation, which an instance must be launched with. */
  readonly capabilityNotes = {
    suspend: 'EC2 suspends only by hibernating, which needs hibernation configured when the instance is launched; use stop',
  };

  /**
   * Ids this adapter created lately, with when: a not-found read of one is EC2's eventual consistency, not a loss.
   * A delete forgets the id, so a deleted resource reads as gone at once.
   */
  private readonly recent = new Map<string, number>();
  private readonly catalog = new Map<string, { at: number; value: Promise<unknown> }>();
  /**
   * Whether a VPC carries the network marker, by VPC id, with when that was learnt; kept for `catalogCacheMs`.
   * Reading instances needs it for their networkId; a VPC's marker is set at its creation and never changed by
   * skygate, so a cached answer stays right, and a VPC not seen before is always looked up (one DescribeVpcs per
   * listing page or instance read at most, none when every VPC is known). This process's creates and deletes
   * update it at once.
   */
  private readonly vpcMarks = new Map<string, { marked: boolean; at: number }>();

  constructor(
    readonly providerId: string,
    private readonly settings: AwsSettings,
    private readonly client: EC2Client,
  ) {}

  static open(ctx: AdapterContext): AwsCloudAdapter {
    const settings = parseAwsSettings(ctx.providerId, ctx.settings, (obj, msg) => ctx.log.warn(obj, msg));
    return new AwsCloudAdapter(ctx.providerId, settings, createEc2Client(settings));
  }

  capabilities(): Capabilities {
    return {
      instances: true,
      images: true,
      snapshots: true,
      volumes: true,
      // EC2 has no call that streams an AMI's disk out or in; export/import go through S3 tasks, not supported here.
      imageDownload: false,
      imageUpload: false,
      nativeImageCopy: true,
      idempotentCreate: true,
      suspend: false,
      networks: true,
      extensions: [],
    };
  }

  /**
   * CopyImage reaches any region of the partition, called with the destination's credentials. Skygate copies
   * natively only where that surely works: the same partition (or the same EC2-compatible endpoint) and the
   * same account, known from `accountId` on both providers or, without it, from the same credentials.
   */
  imageCopyScope(): ImageCopyScope {
    const s = this.settings;
    const where = s.endpoint !== undefined ? `endpoint ${new URL(s.endpoint).href}` : `partition ${partitionOf(s.region)}`;
    const who =
      s.accountId !== undefined
        ? `account ${s.accountId}`
        : s.credentials !== undefined
          ? `access key ${createHash('sha256').update(s.credentials.accessKeyId).digest('hex').slice(0, 16)}`
          : 'the SDK default credentials';
    return { domain: `aws, ${where}, ${who}`, region: s.region };
  }

  zones(): Promise<string[]> {
    return this.cachedCatalog('zones', async () => {
      const out = await this.call(() => this.client.send(new DescribeAvailabilityZonesCommand({})));
      return (out.AvailabilityZones ?? []).map((z) => z.ZoneName ?? '').filter((z) => z !== '');
    });
  }

  /** One live DescribeAvailabilityZones: down when it fails, degraded when a zone reports trouble. */
  async health(): Promise<ProviderHealth> {
    const started = performance.now();
    try {
      const out = await this.call(() => this.client.send(new DescribeAvailabilityZonesCommand({})));
      const checkedAt = new Date().toISOString();
      const latencyMs = Math.round(performance.now() - started);
      const troubled = (out.AvailabilityZones ?? []).filter((z) => z.State !== undefined && z.State !== 'available');
      if (troubled.length > 0) {
        const list = troubled.map((z) => `${z.ZoneName} is ${z.State}`).join(', ');
        return { status: 'degraded', checkedAt, latencyMs, message: list };
      }
      return { status: 'up', checkedAt, latencyMs };
    } catch (e) {
      const err = e as SkygateError;
      return { status: 'down', checkedAt: new Date().toISOString(), message: `${err.code}: ${err.message}` };
    }
  }

  /** Instance types, every page walked by the SDK paginator; kept for `catalogCacheMs` since they rarely change. */
  listFlavors(): Promise<NativeFlavor[]> {
    const filter = this.settings.instanceTypes;
    return this.cachedCatalog('flavors', async () => {
      const input = filter === undefined ? {} : { Filters: [{ Name: 'instance-type', Values: filter }] };
      const flavors: NativeFlavor[] = [];
      await this.call(async () => {
        for await (const page of paginateDescribeInstanceTypes({ client: this.client, pageSize: 100 }, input)) {
          for (const t of page.InstanceTypes ?? []) flavors.push(this.toFlavor(t));
        }
      });
      return flavors;
    }).then((flavors) => flavors.map((f) => ({ ...f })));
  }

  async listInstances(page?: PageRequest): Promise<NativePage<NativeInstance>> {
    const raw = await this.page(
      paginateDescribeInstances,
      {},
      page,
      MAX_PAGE.instances,
      (out) => (out.Reservations ?? []).flatMap((r) => r.Instances ?? []),
      (i) => i,
    );
    const created = await this.createdVpcIds(raw.items.map((i) => i.VpcId));
    return { ...raw, items: raw.items.map((i) => this.toInstance(i, created)) };
  }

  getInstance(id: string): Promise<NativeInstance> {
    return this.read('instance', id, async () => {
      const instance = await this.describeInstance(id);
      return this.toInstance(instance, await this.createdVpcIds([instance.VpcId]));
    });
  }

  async createInstance(spec: CreateInstanceSpec): Promise<NativeInstance> {
    const name = text(spec.name, 'name');
    const tags = checkTags(spec.tags);
    const subnet = spec.networkId === undefined ? undefined : await this.launchSubnet(spec.networkId, spec.zone);
    // launchSubnet found the marker on the VPC's subnet: later reads of the instance need no lookup of its VPC.
    if (spec.networkId !== undefined) this.markVpc(spec.networkId, true);
    const out = await this.call(
      () =>
        this.client.send(
          new RunInstancesCommand({
            ImageId: text(spec.imageId, 'imageId'),
            // The SDK types the EC2 catalogue; an EC2-compatible cloud names its own types, so any name goes through.
            InstanceType: text(spec.flavorId, 'flavorId') as _InstanceType,
            MinCount: 1,
            MaxCount: 1,
            ClientToken: clientToken(spec.clientToken),
            ...(spec.zone !== undefined && { Placement: { AvailabilityZone: text(spec.zone, 'zone') } }),
            ...(subnet !== undefined && { SubnetId: subnet }),
            // The port carries user data as text; the EC2 API wants it base64-encoded.
            ...(spec.userData !== undefined && { UserData: Buffer.from(text(spec.userData, 'userData')).toString('base64') }),
            ...(spec.keyName !== undefined && { KeyName: text(spec.keyName, 'keyName') }),
            TagSpecifications: [tagSpecification('instance', name, tags)],
          }),
        ),
      {
        InvalidAMIID: 'imageId',
        InvalidKeyPair: 'keyName',
        InvalidAvailabilityZone: 'zone',
        InvalidUserData: 'userData',
        InvalidSubnetID: 'networkId',
      },
    );
    const instance = out.Instances?.[0];
    if (instance?.InstanceId === undefined) throw this.internal('RunInstances answered without an instance');
    this.remember(instance.InstanceId);
    // Without a SubnetId EC2 launches into the default VPC: no created network, nothing to look up.
    return this.toInstance(instance, new Set(subnet === undefined ? [] : [text(spec.networkId, 'networkId')]));
  }

  async startInstance(id: string): Promise<void> {
    await this.call(() => this.client.send(new StartInstancesCommand({ InstanceIds: [id] })));
  }

  async stopInstance(id: string): Promise<void> {
    await this.call(() => this.client.send(new StopInstancesCommand({ InstanceIds: [id] })));
  }

  async rebootInstance(id: string): Promise<void> {
    await this.call(() => this.client.send(new RebootInstancesCommand({ InstanceIds: [id] })));
  }

  async deleteInstance(id: string): Promise<void> {
    await this.call(() => this.client.send(new TerminateInstancesCommand({ InstanceIds: [id] })));
    this.recent.delete(id);
  }

  /** An instance's or a volume's name on EC2 is its Name tag (CreateTags takes either id). */
  async rename(_kind: RenamableKind, id: string, name: string): Promise<void> {
    const Value = text(name, 'name');
    await this.call(() => this.client.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'Name', Value }] })));
  }

  /**
   * Replaces a resource's tags: CreateTags for the new set, then DeleteTags for keys left out. The Name tag
   * (the resource's name), `aws:` tags and the client-token tag are not the caller's to remove and stay.
   */
  async setTags(kind: TaggableKind, id: string, tags: Tags): Promise<void> {
    const wanted = checkTags(tags);
    const current = await this.rawTags(kind, id);
    const stale = current.filter((t) => t.Key !== undefined && !(t.Key in wanted) && !isReservedTag(t.Key));
    const entries = Object.entries(wanted).map(([Key, Value]) => ({ Key, Value }));
    if (entries.length > 0) await this.call(() => this.client.send(new CreateTagsCommand({ Resources: [id], Tags: entries })));
    if (stale.length > 0) {
      await this.call(() =>
        this.client.send(new DeleteTagsCommand({ Resources: [id], Tags: stale.map((t) => ({ Key: t.Key })) })),
      );
    }
  }

  listImages(page?: PageRequest): Promise<NativePage<NativeImage>> {
    return this.page(
      paginateDescribeImages,
      { Owners: this.settings.imageOwners },
      page,
      MAX_PAGE.images,
      (out) => out.Images ?? [],
      (i) => this.toImage(i),
    );
  }

  /** By id without an owner filter, so a public AMI (an Ubuntu image, say) can be read too. */
  getImage(id: string): Promise<NativeImage> {
    return this.read('image', id, async () => {
      const out = await this.call(() => this.client.send(new DescribeImagesCommand({ ImageIds: [id] })));
      const image = out.Images?.[0];
      if (image === undefined) throw notFound('image', id);
      return this.toImage(image);
    });
  }

  /**
   * CreateImage takes no ClientToken, so the token rides on a tag: a repeated call finds the image it made
   * first. Two calls racing with one token are caught by EC2's unique AMI names (InvalidAMIName.Duplicate).
   */
  async createImageFromInstance(instanceId: string, spec: CreateImageSpec): Promise<NativeImage> {
    const token = clientToken(spec.clientToken);
    const name = text(spec.name, 'name');
    const tags = checkTags(spec.tags);
    const earlier = await this.imageByToken(token);
    if (earlier !== undefined) return this.toImage(earlier);
    let imageId: string | undefined;
    try {
      const out = await this.call(
        () =>
          this.client.send(
            new CreateImageCommand({
              InstanceId: text(instanceId, 'instanceId'),
              Name: name,
              NoReboot: this.settings.imageNoReboot,
              TagSpecifications: [tagSpecification('image', undefined, tags, token)],
            }),
          ),
        { InvalidInstanceID: 'instanceId', InvalidAMIName: 'name' },
      );
      imageId = out.ImageId;
    } catch (e) {
      const raced = e instanceof SkygateError && e.code === 'conflict' ? await this.imageByToken(token) : undefined;
      if (raced !== undefined) return this.toImage(raced);
      throw e;
    }
    if (imageId === undefined) throw this.internal('CreateImage answered without an image id');
    this.remember(imageId);
    return this.toImage(await this.visibleImage(imageId));
  }

  /**
   * CopyImage into this region, with the tags on the new AMI from its first moment and the client token as
   * EC2's own ClientToken, so a repeated call answers the same AMI. Answers the AMI as DescribeImages shows it
   * (pending, usually); waiting until it is available is the caller's.
   */
  async copyImageFrom(source: { region: string; nativeId: string }, spec: CreateImageSpec): Promise<NativeImage> {
    const tags = checkTags(spec.tags);
    const input = {
      SourceRegion: text(source.region, 'source.region'),
      SourceImageId: text(source.nativeId, 'source.nativeId'),
      Name: text(spec.name, 'name'),
      ClientToken: clientToken(spec.clientToken),
    };
    const fields = { InvalidAMIID: 'source.nativeId', InvalidRegion: 'source.region', InvalidAMIName: 'name' };
    const copy = (extra: object) => this.call(() => this.client.send(new CopyImageCommand({ ...input, ...extra })), fields);
    let imageId: string | undefined;
    try {
      const tagged = Object.keys(tags).length > 0 ? { TagSpecifications: [tagSpecification('image', undefined, tags)] } : {};
      imageId = (await copy(tagged)).ImageId;
    } catch (e) {
      if (!refusedTagSpecification(e)) throw e;
      // An EC2-compatible endpoint that takes no tags on CopyImage: copy, then tag. A repeat of both is harmless.
      imageId = (await copy({})).ImageId;
      const created = imageId;
      if (created !== undefined) {
        const entries = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
        await this.call(() => this.client.send(new CreateTagsCommand({ Resources: [created], Tags: entries })));
      }
    }
    if (imageId === undefined) throw this.internal('CopyImage answered without an image id');
    this.remember(imageId);
    // Within the consistency window a not-found read is retryable, and the retry finds the same AMI by its token.
    return this.getImage(imageId);
  }

  async deleteImage(id: string): Promise<void> {
    // Without DeleteAssociatedSnapshots the AMI's EBS snapshots would stay behind, billed and invisible to skygate.
    await this.call(() => this.client.send(new DeregisterImageCommand({ ImageId: id, DeleteAssociatedSnapshots: true })));
    this.recent.delete(id);
  }

  listSnapshots(page?: PageRequest): Promise<NativePage<NativeSnapshot>> {
    // Without an owner EC2 lists every public snapshot in the region too.
    return this.page(
      paginateDescribeSnapshots,
      { OwnerIds: ['self'] },
      page,
      MAX_PAGE.snapshots,
      (out) => out.Snapshots ?? [],
      (s) => this.toSnapshot(s),
    );
  }

  getSnapshot(id: string): Promise<NativeSnapshot> {
    return this.read('snapshot', id, async () => {
      const out = await this.call(() => this.client.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })));
      const snapshot = out.Snapshots?.[0];
      if (snapshot === undefined) throw notFound('snapshot', id);
      return this.toSnapshot(snapshot);
    });
  }

  /** CreateSnapshot takes no ClientToken either: the same tag lookup as images makes a repeated call return the first snapshot. */
  async createSnapshot(volumeId: string, spec: CreateSnapshotSpec): Promise<NativeSnapshot> {
    const token = clientToken(spec.clientToken);
    const name = text(spec.name, 'name');
    const tags = checkTags(spec.tags);
    const found = await this.call(() =>
      this.client.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [tokenFilter(token)] })),
    );
    const earlier = found.Snapshots?.[0];
    if (earlier !== undefined) return this.toSnapshot(earlier);
    const snapshot = await this.call(
      () =>
        this.client.send(
          new CreateSnapshotCommand({
            VolumeId: text(volumeId, 'volumeId'),
            Description: name,
            TagSpecifications: [tagSpecification('snapshot', name, tags, token)],
          }),
        ),
      { InvalidVolume: 'volumeId' },
    );
    if (snapshot.SnapshotId === undefined) throw this.internal('CreateSnapshot answered without a snapshot id');
    this.remember(snapshot.SnapshotId);
    return this.toSnapshot(snapshot);
  }

  async deleteSnapshot(id: string): Promise<void> {
    await this.call(() => this.client.send(new DeleteSnapshotCommand({ SnapshotId: id })));
    this.recent.delete(id);
  }

  listVolumes(page?: PageRequest): Promise<NativePage<NativeVolume>> {
    return this.page(
      paginateDescribeVolumes,
      {},
      page,
      MAX_PAGE.volumes,
      (out) => out.Volumes ?? [],
      (v) => this.toVolume(v),
    );
  }

  getVolume(id: string): Promise<NativeVolume> {
    return this.read('volume', id, async () => {
      const out = await this.call(() => this.client.send(new DescribeVolumesCommand({ VolumeIds: [id] })));
      const volume = out.Volumes?.[0];
      if (volume === undefined) throw notFound('volume', id);
      return this.toVolume(volume);
    });
  }

  /** CreateVolume honours ClientToken itself. EC2 wants a zone; without one the volume goes to the first zone, as on the sim. */
  async createVolume(spec: CreateVolumeSpec): Promise<NativeVolume> {
    const name = text(spec.name, 'name');
    const tags = checkTags(spec.tags);
    if (typeof spec.sizeGiB !== 'number' || !Number.isInteger(spec.sizeGiB) || spec.sizeGiB < 1) {
      throw invalid('sizeGiB', 'must be an integer >= 1');
    }
    const zone = spec.zone === undefined ? (await this.zones())[0] : text(spec.zone, 'zone');
    if (zone === undefined) throw this.internal('the region lists no availability zone to put the volume in');
    const volume = await this.call(
      () =>
        this.client.send(
          new CreateVolumeCommand({
            Size: spec.sizeGiB,
            AvailabilityZone: zone,
            ...(spec.snapshotId !== undefined && { SnapshotId: text(spec.snapshotId, 'snapshotId') }),
            ClientToken: clientToken(spec.clientToken),
            TagSpecifications: [tagSpecification('volume', name, tags)],
          }),
        ),
      { InvalidSnapshot: 'snapshotId', InvalidAvailabilityZone: 'zone', InvalidZone: 'zone' },
    );
    if (volume.VolumeId === undefined) throw this.internal('CreateVolume answered without a volume id');
    this.remember(volume.VolumeId);
    return this.toVolume(volume);
  }

  /** EC2 needs a device name; without one the first of /dev/sdf../dev/sdp the instance does not use is taken. */
  async attachVolume(volumeId: string, instanceId: string, device?: string): Promise<void> {
    if (device !== undefined && (typeof device !== 'string' || !/^\/dev\/[a-z0-9]{1,16}$/.test(device))) {
      throw invalid('device', 'must look like /dev/sdf');
    }
    const chosen = device ?? (await this.freeDevice(instanceId));
    await this.call(
      () => this.client.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: chosen })),
      { InvalidInstanceID: 'instanceId' },
    );
  }

  async detachVolume(volumeId: string): Promise<void> {
    await this.call(() => this.client.send(new DetachVolumeCommand({ VolumeId: volumeId })));
  }

  async deleteVolume(id: string): Promise<void> {
    await this.call(() => this.client.send(new DeleteVolumeCommand({ VolumeId: id })));
    this.recent.delete(id);
  }

  // --- networks beside the default VPC: a VPC with one subnet covering it -----------------------------------

  /**
   * A VPC with the block and one subnet covering all of it, both tagged with the name, the caller's tags, the
   * network marker and the client token. CreateVpc takes no ClientToken, so a repeat finds the VPC by its token
   * tag first (and makes the subnet if the first call stopped before it). A subnet that fails leaves no VPC behind.
   */
  async createNetwork(spec: CreateNetworkSpec): Promise<NativeNetwork> {
    const name = text(spec.name, 'name');
    const tags = checkTags(spec.tags, 3);
    const token = clientToken(spec.clientToken);
    const plan = checkNetworkPlan(spec.cidr, spec.gateway);
    const router = firstHost(plan.cidr);
    if (plan.gateway !== router)
      throw invalid('gateway', `must be ${router} on AWS: a VPC subnet's first host is always its router (got ${plan.gateway})`);
    const earlier = await this.vpcs([tokenFilter(token)]);
    const vpc =
      earlier[0] ??
      (
        await this.call(
          () =>
            this.client.send(
              new CreateVpcCommand({
                CidrBlock: plan.cidr,
                TagSpecifications: [networkTags('vpc', name, tags, token, new Date().toISOString())],
              }),
            ),
          { InvalidVpcRange: 'cidr' },
        )
      ).Vpc;
    if (vpc?.VpcId === undefined) throw this.internal('CreateVpc answered without a VPC');
    const vpcId = vpc.VpcId;
    if (earlier[0] === undefined) this.remember(vpcId);
    this.markVpc(vpcId, true);
    let [made] = await this.subnetsOf(vpcId);
    if (made === undefined) {
      const subnet = new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: plan.cidr,
        TagSpecifications: [networkTags('subnet', name, tags, token, tagValue(vpc.Tags, NETWORK_TAG))],
      });
      try {
        // Right after CreateVpc, EC2 may not know the VPC yet (InvalidVpcID.NotFound): a few short waits bridge that.
        for (let attempt = 1; ; attempt++) {
          try {
            made = (await this.call(() => this.client.send(subnet), { InvalidSubnet: 'cidr' })).Subnet;
            break;
          } catch (e) {
            if (!(e instanceof SkygateError) || e.code !== 'not_found' || attempt >= SUBNET_ATTEMPTS) throw e;
            await sleep(attempt * 500);
          }
        }
      } catch (e) {
        // Nothing half-made: the VPC goes too (best effort; the error of the subnet is the one reported).
        await this.call(() => this.client.send(new DeleteVpcCommand({ VpcId: vpcId }))).catch(() => undefined);
        this.recent.delete(vpcId);
        this.vpcMarks.delete(vpcId);
        throw e;
      }
    }
    return this.toNetwork(vpc, made);
  }

  /** The VPCs skygate created (marker tag), never the account's others; each with its subnet's zone (one more listing). */
  async listNetworks(): Promise<NativeNetwork[]> {
    const marker = [{ Name: 'tag-key', Values: [NETWORK_TAG] }];
    const [vpcs, subnets] = await Promise.all([this.vpcs(marker), this.subnets(marker)]);
    for (const v of vpcs) if (v.VpcId !== undefined) this.markVpc(v.VpcId, true);
    return vpcs.map((v) =>
      this.toNetwork(
        v,
        subnets.find((s) => s.VpcId === v.VpcId),
      ),
    );
  }

  /** The subnets first (EC2 refuses to delete a VPC that has any), then the VPC; in use is DependencyViolation: conflict. */
  async deleteNetwork(id: string): Promise<void> {
    await this.createdVpc(id);
    for (const subnet of await this.subnetsOf(id)) {
      const subnetId = subnet.SubnetId;
      if (subnetId !== undefined) await this.call(() => this.client.send(new DeleteSubnetCommand({ SubnetId: subnetId })));
    }
    await this.call(() => this.client.send(new DeleteVpcCommand({ VpcId: id })));
    this.recent.delete(id);
    this.vpcMarks.delete(id);
  }

  /** The name is the VPC's Name tag; tags are replaced whole (CreateTags, then DeleteTags for keys left out). */
  async updateNetwork(id: string, change: { name?: string; tags?: Tags }): Promise<NativeNetwork> {
    const name = change.name === undefined ? undefined : text(change.name, 'name');
    const wanted = change.tags === undefined ? undefined : checkTags(change.tags, 3);
    const vpc = await this.createdVpc(id);
    const put = [
      ...(name !== undefined ? [{ Key: 'Name', Value: name }] : []),
      ...Object.entries(wanted ?? {}).map(([Key, Value]) => ({ Key, Value })),
    ];
    const stale =
      wanted === undefined
        ? []
        : (vpc.Tags ?? []).filter((t) => t.Key !== undefined && !(t.Key in wanted) && !isReservedTag(t.Key));
    if (put.length > 0) await this.call(() => this.client.send(new CreateTagsCommand({ Resources: [id], Tags: put })));
    if (stale.length > 0)
      await this.call(() =>
        this.client.send(new DeleteTagsCommand({ Resources: [id], Tags: stale.map((t) => ({ Key: t.Key })) })),
      );
    // What EC2 now holds, without reading it back (tags are eventually consistent on EC2).
    const kept = (vpc.Tags ?? []).filter((t) => t.Key !== undefined && !stale.includes(t) && !put.some((p) => p.Key === t.Key));
    const [subnet] = await this.subnetsOf(id);
    return this.toNetwork({ ...vpc, Tags: [...kept, ...put] }, subnet);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  // --- helpers ----------------------------------------------------------------------------------------------

  /** One SDK call (or paginator walk) with its errors mapped; `fields` names the inputs that EC2 codes point at. */
  private async call<T>(fn: () => Promise<T>, fields?: Readonly<Record<string, string>>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw fromAwsError(e, { provider: this.providerId, codes: EC2_ERRORS, ...(fields !== undefined && { fields }) });
    }
  }

  /**
   * One page through the SDK's paginator, NextToken as the marker. EC2 serves no page below 5 items, so a smaller
   * limit slices a page of 5 and the marker remembers how far into it the caller got.
   */
  private async page<In, Out, Item, T>(
    paginate: Paginate<In, Out>,
    input: In,
    req: PageRequest | undefined,
    max: number,
    itemsOf: (out: Out) => Item[],
    convert: (item: Item) => T,
  ): Promise<NativePage<T>> {
    const limit = req?.limit ?? max;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) throw invalid('limit', 'must be an integer >= 1');
    const take = Math.min(limit, max);
    const at = req?.marker === undefined ? { s: 0, m: 0 } : decodeCursor(req.marker);
    // Only a page handed out in part must be fetched again as it was; otherwise the page fits this limit.
    const size = at.s > 0 ? at.m : Math.max(MIN_PAGE, take);
    const out = await this.call(async () => {
      const config = { client: this.client, pageSize: size, ...(at.t !== undefined && { startingToken: at.t }) };
      for await (const page of paginate(config, input)) return page;
      return undefined;
    });
    if (out === undefined) return { items: [] };
    const all = itemsOf(out);
    const items = all.slice(at.s, at.s + take).map(convert);
    const next = (out as { NextToken?: string }).NextToken;
    if (at.s + take < all.length)
      return { items, marker: encodeCursor({ ...(at.t !== undefined && { t: at.t }), s: at.s + take, m: size }) };
    return next ? { items, marker: encodeCursor({ t: next, s: 0, m: size }) } : { items };
  }

  /** A read that, for an id this adapter created within `consistencyWindowMs`, turns not_found into a retryable answer. */
  private async read<T>(kind: string, id: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const at = this.recent.get(id);
      if (
        e instanceof SkygateError &&
        e.code === 'not_found' &&
        at !== undefined &&
        Date.now() - at < this.settings.consistencyWindowMs
      ) {
        throw new SkygateError('provider_unavailable', `${kind} ${id} was just created and EC2 does not show it yet`, {
          provider: this.providerId,
          retryAfter: 2,
          ...(e.requestId !== undefined && { requestId: e.requestId }),
          cause: e,
        });
      }
      throw e;
    }
  }

  private remember(id: string): void {
    const now = Date.now();
    for (const [known, at] of this.recent) if (now - at >= this.settings.consistencyWindowMs) this.recent.delete(known);
    this.recent.set(id, now);
  }

  /** A catalog answer (zones, instance types) kept for catalogCacheMs; a failed load is forgotten at once. */
  private cachedCatalog<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.catalog.get(key);
    if (hit !== undefined && Date.now() - hit.at < this.settings.catalogCacheMs) return hit.value as Promise<T>;
    const entry = { at: Date.now(), value: load() as Promise<unknown> };
    this.catalog.set(key, entry);
    entry.value.catch(() => {
      if (this.catalog.get(key) === entry) this.catalog.delete(key);
    });
    return entry.value as Promise<T>;
  }

  private async describeInstance(id: string): Promise<Ec2Instance> {
    const out = await this.call(() => this.client.send(new DescribeInstancesCommand({ InstanceIds: [id] })));
    const instance = out.Reservations?.flatMap((r) => r.Instances ?? [])[0];
    if (instance === undefined) throw notFound('instance', id);
    return instance;
  }

  private async imageByToken(token: string): Promise<Ec2Image | undefined> {
    const out = await this.call(() =>
      this.client.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [tokenFilter(token)] })),
    );
    return out.Images?.find((i) => i.State !== 'deregistered');
  }

  /** Right after CreateImage/CopyImage, DescribeImages may not know the AMI yet: the SDK's ImageExists waiter bridges that. */
  private async visibleImage(imageId: string): Promise<Ec2Image> {
    try {
      const done = await waitUntilImageExists(
        { client: this.client, maxWaitTime: IMAGE_VISIBLE_WAIT_S, minDelay: 1, maxDelay: 5 },
        { ImageIds: [imageId] },
      );
      const image = done.reason?.Images?.[0];
      if (image !== undefined) return image;
    } catch (e) {
      // Retryable on purpose: the repeated call finds the image by its client-token tag instead of making another.
      throw new SkygateError('provider_unavailable', `image ${imageId} was created but EC2 does not show it yet`, {
        provider: this.providerId,
        retryAfter: 2,
        cause: e,
      });
    }
    throw this.internal(`DescribeImages found image ${imageId} but returned nothing`);
  }

  private async rawTags(kind: TaggableKind, id: string): Promise<Tag[]> {
    switch (kind) {
      case 'instance':
        return (await this.describeInstance(id)).Tags ?? [];
      case 'image': {
        const out = await this.call(() => this.client.send(new DescribeImagesCommand({ ImageIds: [id] })));
        if (out.Images?.[0] === undefined) throw notFound('image', id);
        return out.Images[0].Tags ?? [];
      }
      case 'snapshot': {
        const out = await this.call(() => this.client.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })));
        if (out.Snapshots?.[0] === undefined) throw notFound('snapshot', id);
        return out.Snapshots[0].Tags ?? [];
      }
      case 'volume': {
        const out = await this.call(() => this.client.send(new DescribeVolumesCommand({ VolumeIds: [id] })));
        if (out.Volumes?.[0] === undefined) throw notFound('volume', id);
        return out.Volumes[0].Tags ?? [];
      }
      default:
        throw invalid('kind', `'${String(kind)}' resources carry no tags`);
    }
  }

  private async freeDevice(instanceId: string): Promise<string> {
    const instance = await this.describeInstance(instanceId).catch((e: unknown) => {
      if (e instanceof SkygateError && e.code === 'not_found')
        throw invalid('instanceId', `instance '${instanceId}' does not exist`);
      throw e;
    });
    // EC2 may report a device given as /dev/sdf as /dev/xvdf; both spellings count as taken.
    const taken = new Set((instance.BlockDeviceMappings ?? []).map((m) => (m.DeviceName ?? '').replace('/dev/xvd', '/dev/sd')));
    const free = DEVICES.find((d) => !taken.has(d));
    if (free === undefined)
      throw new SkygateError('conflict', `instance ${instanceId} has no free device left`, { field: 'instanceId' });
    return free;
  }

  /** Every VPC matching `filters`, all pages. */
  private async vpcs(filters: Array<{ Name: string; Values: string[] }>): Promise<Ec2Vpc[]> {
    return this.call(async () => {
      const all: Ec2Vpc[] = [];
      for await (const page of paginateDescribeVpcs({ client: this.client, pageSize: 1000 }, { Filters: filters }))
        all.push(...(page.Vpcs ?? []));
      return all;
    });
  }

  private subnetsOf(vpcId: string): Promise<Ec2Subnet[]> {
    return this.subnets([{ Name: 'vpc-id', Values: [vpcId] }]);
  }

  /** Every subnet matching `filters`, all pages. */
  private async subnets(filters: Array<{ Name: string; Values: string[] }>): Promise<Ec2Subnet[]> {
    return this.call(async () => {
      const all: Ec2Subnet[] = [];
      for await (const page of paginateDescribeSubnets({ client: this.client, pageSize: 1000 }, { Filters: filters }))
        all.push(...(page.Subnets ?? []));
      return all;
    });
  }

  /**
   * Which of these VPC ids (those of the instances read) skygate created: from `vpcMarks`, looking up only the
   * ids not known there, in one DescribeVpcs by `vpc-id` filter per 200 ids. A VPC the lookup does not return
   * (deleted meanwhile) counts as not created.
   */
  private async createdVpcIds(ids: Array<string | undefined>): Promise<Set<string>> {
    const now = Date.now();
    for (const [known, mark] of this.vpcMarks) if (now - mark.at >= this.settings.catalogCacheMs) this.vpcMarks.delete(known);
    const created = new Set<string>();
    const unknown: string[] = [];
    for (const id of new Set(ids)) {
      if (id === undefined || id === '') continue;
      const mark = this.vpcMarks.get(id);
      if (mark === undefined) unknown.push(id);
      else if (mark.marked) created.add(id);
    }
    for (let i = 0; i < unknown.length; i += MAX_FILTER_VALUES) {
      const chunk = unknown.slice(i, i + MAX_FILTER_VALUES);
      const found = await this.vpcs([{ Name: 'vpc-id', Values: chunk }]);
      for (const id of chunk) this.markVpc(id, false);
      for (const v of found) {
        if (v.VpcId === undefined || tagValue(v.Tags, NETWORK_TAG) === undefined) continue;
        this.markVpc(v.VpcId, true);
        created.add(v.VpcId);
      }
    }
    return created;
  }

  private markVpc(id: string, marked: boolean): void {
    this.vpcMarks.set(id, { marked, at: Date.now() });
  }

  /** A VPC skygate created; the account's other VPCs read as not found, so nothing here can change them. */
  private async createdVpc(id: string): Promise<Ec2Vpc> {
    const vpc = await this.read('network', id, async () => {
      const out = await this.call(() =>
        this.client.send(new DescribeVpcsCommand({ VpcIds: [id], Filters: [{ Name: 'tag-key', Values: [NETWORK_TAG] }] })),
      );
      return out.Vpcs?.[0];
    });
    if (vpc === undefined) throw notFound('network', id);
    return vpc;
  }

  /** The subnet an instance on network `id` is launched into; the network must be one skygate created here. */
  private async launchSubnet(id: string, zone: string | undefined): Promise<string> {
    const vpcId = text(id, 'networkId');
    const subnet = (await this.subnetsOf(vpcId)).find((s) => tagValue(s.Tags, NETWORK_TAG) !== undefined);
    if (subnet?.SubnetId === undefined)
      throw invalid('networkId', `'${vpcId}' is not a network skygate created at provider '${this.providerId}'`);
    if (zone !== undefined && subnet.AvailabilityZone !== undefined && zone !== subnet.AvailabilityZone)
      throw invalid('zone', `network ${vpcId} is in zone ${subnet.AvailabilityZone} (got ${zone})`);
    return subnet.SubnetId;
  }

  private internal(message: string): SkygateError {
    return new SkygateError('internal', `${this.providerId}: ${message}`, { provider: this.providerId });
  }

  // --- converters: EC2 shapes -> skygate's model ------------------------------------------------------------

  private toFlavor(t: InstanceTypeInfo): NativeFlavor {
    const name = t.InstanceType ?? '';
    return {
      nativeId: name,
      name,
      vcpus: t.VCpuInfo?.DefaultVCpus ?? 0,
      memoryMiB: t.MemoryInfo?.SizeInMiB ?? 0,
      // Only instance store counts: EBS root disks are sized per launch, not by the type.
      diskGiB: t.InstanceStorageInfo?.TotalSizeInGB ?? 0,
    };
  }

  /** `created`: the VPCs skygate created among the instance's; on one of them the instance reports it as its network. */
  private toInstance(i: Ec2Instance, created: ReadonlySet<string>): NativeInstance {
    const state = INSTANCE_STATES[i.State?.Name ?? ''] ?? 'error';
    return {
      nativeId: i.InstanceId ?? '',
      name: nameOf(i.Tags),
      state,
      flavorId: i.InstanceType ?? '',
      imageId: i.ImageId ?? '',
      zone: i.Placement?.AvailabilityZone ?? '',
      ...(i.PrivateIpAddress !== undefined && { privateIp: i.PrivateIpAddress }),
      ...(i.PublicIpAddress !== undefined && { publicIp: i.PublicIpAddress }),
      ...(i.VpcId !== undefined && created.has(i.VpcId) && { networkId: i.VpcId }),
      tags: tagsOf(i.Tags),
      // LaunchTime moves on every start after a stop; EC2 keeps no separate creation time for instances.
      createdAt: i.LaunchTime?.toISOString() ?? EPOCH,
    };
  }

  private toImage(i: Ec2Image): NativeImage {
    const ebs = (i.BlockDeviceMappings ?? []).flatMap((m) =>
      m.Ebs?.VolumeSize === undefined ? [] : [{ device: m.DeviceName, gib: m.Ebs.VolumeSize }],
    );
    const root = ebs.find((m) => m.device === i.RootDeviceName) ?? ebs[0];
    const os = i.PlatformDetails ?? i.Platform;
    return {
      nativeId: i.ImageId ?? '',
      name: i.Name ?? '',
      state: IMAGE_STATES[i.State ?? ''] ?? 'failed',
      // EC2 reports snapshot sizes in GiB, not bytes: the provisioned size of the AMI's EBS volumes.
      sizeBytes: ebs.reduce((sum, m) => sum + m.gib, 0) * 2 ** 30,
      diskFormat: 'ami',
      minDiskGiB: root?.gib ?? 0,
      ...(os !== undefined && { os }),
      ...(i.SourceInstanceId !== undefined && { sourceInstanceId: i.SourceInstanceId }),
      tags: tagsOf(i.Tags),
      createdAt: i.CreationDate ?? EPOCH,
    };
  }

  private toSnapshot(s: Ec2Snapshot): NativeSnapshot {
    return {
      nativeId: s.SnapshotId ?? '',
      name: nameOf(s.Tags) || (s.Description ?? ''),
      state: SNAPSHOT_STATES[s.State ?? ''] ?? 'failed',
      volumeId: s.VolumeId ?? '',
      sizeGiB: s.VolumeSize ?? 0,
      tags: tagsOf(s.Tags),
      createdAt: s.StartTime?.toISOString() ?? EPOCH,
    };
  }

  private toVolume(v: Ec2Volume): NativeVolume {
    const attachment = v.Attachments?.[0];
    const state = volumeState(v.State, attachment?.State);
    const attached =
      attachment?.InstanceId !== undefined && (state === 'attaching' || state === 'in-use' || state === 'detaching');
    return {
      nativeId: v.VolumeId ?? '',
      name: nameOf(v.Tags),
      state,
      sizeGiB: v.Size ?? 0,
      zone: v.AvailabilityZone ?? '',
      ...(attached && {
        attachedTo: attachment.InstanceId,
        ...(attachment.Device !== undefined && { device: attachment.Device }),
      }),
      // EC2 answers an empty SnapshotId for a volume made from nothing.
      ...(v.SnapshotId !== undefined && v.SnapshotId !== '' && { snapshotId: v.SnapshotId }),
      tags: tagsOf(v.Tags),
      createdAt: v.CreateTime?.toISOString() ?? EPOCH,
    };
  }

  /**
   * On AWS the router is always the block's first host, so the gateway follows from the CIDR. `subnet` is the
   * network's one subnet: its zone is where the network's instances run (absent for a create that stopped before it).
   */
  private toNetwork(v: Ec2Vpc, subnet: Ec2Subnet | undefined): NativeNetwork {
    const cidr = v.CidrBlock ?? '';
    return {
      nativeId: v.VpcId ?? '',
      name: nameOf(v.Tags),
      cidr,
      gateway: cidr === '' ? '' : firstHost(cidr),
      ...(subnet?.AvailabilityZone !== undefined && { zone: subnet.AvailabilityZone }),
      state: 'available',
      tags: tagsOf(v.Tags),
      createdAt: tagValue(v.Tags, NETWORK_TAG) ?? EPOCH,
    };
  }
}

/** EC2 reports an attachment's progress on the attachment, not the volume: `in-use` + `detaching` is detaching. */
function volumeState(state: string | undefined, attachment: string | undefined): VolumeState {
  if (state === 'in-use') {
    if (attachment === 'attaching') return 'attaching';
    if (attachment === 'detaching') return 'detaching';
    return 'in-use';
  }
  const known: VolumeState[] = ['creating', 'available', 'deleting', 'deleted', 'error'];
  return known.find((s) => s === state) ?? 'error';
}

function nameOf(tags: Tag[] | undefined): string {
  return tags?.find((t) => t.Key === 'Name')?.Value ?? '';
}

/** Tags as skygate shows them: without Name (that is the name) and without the client-token bookkeeping tag. */
function tagsOf(tags: Tag[] | undefined): Tags {
  const out: Tags = {};
  for (const t of tags ?? []) {
    if (t.Key === undefined || t.Key === 'Name' || t.Key === CLIENT_TOKEN_TAG || t.Key === NETWORK_TAG) continue;
    out[t.Key] = t.Value ?? '';
  }
  return out;
}

/** The AWS partition a region belongs to: CopyImage never crosses one. */
export function partitionOf(region: string): string {
  const prefixes: Array<[string, string]> = [
    ['cn-', 'aws-cn'],
    ['us-gov-', 'aws-us-gov'],
    ['us-iso-', 'aws-iso'],
    ['us-isob-', 'aws-iso-b'],
    ['us-isof-', 'aws-iso-f'],
    ['eu-isoe-', 'aws-iso-e'],
  ];
  return prefixes.find(([prefix]) => region.startsWith(prefix))?.[1] ?? 'aws';
}

/** The answer of an EC2-compatible endpoint that does not know CopyImage's TagSpecification (EC2 itself does). */
function refusedTagSpecification(e: unknown): boolean {
  const cause = e instanceof SkygateError ? e.cause : e;
  return (
    cause instanceof Error &&
    (cause.name === 'UnknownParameter' || cause.name === 'InvalidParameter') &&
    cause.message.includes('TagSpecification')
  );
}

function isReservedTag(key: string): boolean {
  return key === 'Name' || key === CLIENT_TOKEN_TAG || key === NETWORK_TAG || key.startsWith('aws:');
}

function tagSpecification(
  type: 'instance' | 'image' | 'snapshot' | 'volume' | 'vpc' | 'subnet',
  name: string | undefined,
  tags: Tags,
  token?: string,
): TagSpecification {
  return {
    ResourceType: type,
    Tags: [
      ...(name !== undefined && name !== '' ? [{ Key: 'Name', Value: name }] : []),
      ...Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      ...(token !== undefined ? [{ Key: CLIENT_TOKEN_TAG, Value: token }] : []),
    ],
  };
}

/** A network's tags: Name, the caller's, the marker (its value: when it was created) and the client token. */
function networkTags(
  type: 'vpc' | 'subnet',
  name: string,
  tags: Tags,
  token: string,
  createdAt: string | undefined,
): TagSpecification {
  const spec = tagSpecification(type, name, tags, token);
  return { ...spec, Tags: [...(spec.Tags ?? []), { Key: NETWORK_TAG, Value: createdAt ?? new Date().toISOString() }] };
}

const tagValue = (tags: Tag[] | undefined, key: string) => tags?.find((t) => t.Key === key)?.Value;

const tokenFilter = (token: string) => ({ Name: `tag:${CLIENT_TOKEN_TAG}`, Values: [token] });

/** EC2's limits on tags, checked up front so a bad tag fails before anything is created; skygate keeps `kept` of its own. */
function checkTags(tags: unknown, kept = 2): Tags {
  if (tags === undefined) return {};
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw invalid('tags', 'must be an object of strings');
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length > MAX_TAGS - kept)
    throw invalid('tags', `at most ${MAX_TAGS - kept} tags (EC2 allows ${MAX_TAGS}, skygate keeps ${kept === 2 ? 'two' : kept})`);
  for (const [key, value] of entries) {
    if (key === 'Name') throw invalid('tags.Name', "is the resource's name on EC2: set the name instead");
    if (isReservedTag(key)) throw invalid(`tags.${key}`, 'is a reserved tag key');
    if (key.length === 0 || key.length > 128) throw invalid('tags', `key '${key}' must be 1 to 128 characters`);
    if (typeof value !== 'string' || value.length > 256)
      throw invalid(`tags.${key}`, 'must be a string of at most 256 characters');
  }
  return tags as Tags;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'must be a non-empty string');
  return value;
}

/** The engine's tokens are operation ids; anything EC2 would refuse (too long, not printable ASCII) is hashed to 64 hex. */
function clientToken(token: unknown): string {
  const t = text(token, 'clientToken');
  return t.length <= MAX_CLIENT_TOKEN && /^[\x21-\x7e]+$/.test(t) ? t : createHash('sha256').update(t).digest('hex');
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(marker: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      Number.isInteger(c.s) &&
      (c.s ?? -1) >= 0 &&
      Number.isInteger(c.m) &&
      (c.m ?? 0) >= MIN_PAGE &&
      (c.t === undefined || typeof c.t === 'string')
    ) {
      return { ...(c.t !== undefined && { t: c.t }), s: c.s as number, m: c.m as number };
    }
  } catch {
    // falls through to the error below
  }
  throw invalid('marker', 'is not a marker this adapter issued');
}
