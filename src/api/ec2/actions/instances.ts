/** Instances: RunInstances, DescribeInstances, DescribeInstanceStatus and the Start/Stop/Reboot/Terminate actions. */
import { INSTANCE_ATTRIBUTES_CACHE_MS } from '../../../core/services/instance-attributes.js';
import {
  MAX_LAUNCH_COUNT,
  toSkygateError,
  type Instance,
  type InstanceAttributes,
  type InstanceState,
  type Volume,
} from '../../../core/index.js';
import type { InstanceAction } from '../../../core/services/resource-service.js';
import type { DefaultNetwork } from '../../../core/services/network-service.js';
import { type ActionTable, type Ec2Context, defineAction } from '../context.js';
import { Ec2Error, ec2Errors, toEc2Error } from '../ec2-errors.js';
import { type FilterField, filterPredicate, parseFilters } from '../filters.js';
import type { Ec2Params } from '../query-parser.js';
import { derivedId, reservationId } from '../id-map.js';
import { launchPlacement, type SubnetPlacement } from '../network-view.js';
import { nextToken, readPaging } from '../paging.js';
import { type XmlObject, type XmlValue, renderItems } from '../xml-render.js';
import { ACCOUNT_ID, ALL, nativeOf, readTagSpecs, resolveId, resolveIds, tagSet } from './common.js';

/** EC2's state names and codes; skygate's extra states show as the nearest EC2 one. */
const INSTANCE_STATE: Record<InstanceState, { code: number; name: string }> = {
  pending: { code: 0, name: 'pending' },
  running: { code: 16, name: 'running' },
  rebooting: { code: 16, name: 'running' },
  terminating: { code: 32, name: 'shutting-down' },
  terminated: { code: 48, name: 'terminated' },
  stopping: { code: 64, name: 'stopping' },
  stopped: { code: 80, name: 'stopped' },
  // A suspended instance (another cloud's suspend) shows as EC2 shows a hibernated one: stopped.
  suspending: { code: 64, name: 'stopping' },
  suspended: { code: 80, name: 'stopped' },
  error: { code: 80, name: 'stopped' },
};

const ATTACHMENT_STATUS: Partial<Record<Volume['state'], string>> = {
  attaching: 'attaching',
  'in-use': 'attached',
  detaching: 'detaching',
};

/** What a page of instances needs beyond the instances: their attributes, network and attached volumes. */
interface Surroundings {
  attrs: Map<string, InstanceAttributes>;
  net: DefaultNetwork;
  volumes: Map<string, Volume[]>;
}

async function surroundings(ctx: Ec2Context, instances: Instance[]): Promise<Surroundings> {
  const ids = new Set(instances.map((i) => i.id));
  const [attrs, net, attached] = await Promise.all([
    ctx.core.instanceAttributes.getMany([...ids]),
    ctx.core.network.defaults(ctx.region),
    ctx.core.inventory.list('volume', {
      providers: [ctx.region],
      where: (v) => ids.has(String((v as Volume).attachedTo)),
      limit: ALL,
    }),
  ]);
  const volumes = new Map<string, Volume[]>();
  for (const v of attached.items) {
    const list = volumes.get(String(v.attachedTo)) ?? [];
    list.push(v);
    volumes.set(String(v.attachedTo), list);
  }
  return { attrs, net, volumes };
}

function groupSet(ctx: Ec2Context, net: DefaultNetwork, attrs: InstanceAttributes): XmlValue[] {
  return (attrs.securityGroups ?? [net.securityGroup.id]).map((id) => ({
    groupId: ctx.ids.toEc2('security-group', id),
    groupName: id === net.securityGroup.id ? net.securityGroup.name : nativeOf(id),
  }));
}

/**
 * Where an instance sits as EC2 shows it (skygate ids): on a created network, that network's VPC and its one
 * subnet (network-view.ts); else the default VPC and its zone's default subnet.
 */
function placeOf(net: DefaultNetwork, r: Instance): { vpcId: string; subnetId: string | undefined } {
  if (r.networkId !== undefined) return { vpcId: r.networkId, subnetId: r.networkId };
  return { vpcId: net.network.id, subnetId: net.subnets.find((n) => n.zone === r.zone)?.id };
}

/** The one interface every skygate instance has, in its subnet, as EC2 shows a VPC instance's. */
function networkInterfaceXml(
  ctx: Ec2Context,
  r: Instance,
  s: Surroundings,
  attrs: InstanceAttributes,
  place: { vpcId: string; subnetId: string | undefined },
): XmlObject {
  const dns = r.privateIp ? `ip-${r.privateIp.replaceAll('.', '-')}.${ctx.region}.compute.internal` : undefined;
  const eni = derivedId('eni', r.id);
  const mac = derivedId('mac', r.id)
    .slice(4, 16)
    .replace(/(..)(?!$)/g, '$1:');
  return {
    networkInterfaceId: eni,
    subnetId: place.subnetId && ctx.ids.toEc2('subnet', place.subnetId),
    vpcId: ctx.ids.toEc2('vpc', place.vpcId),
    description: attrs.networkInterface?.description ?? '',
    ownerId: ACCOUNT_ID,
    status: r.state === 'terminated' ? 'available' : 'in-use',
    macAddress: `02:${mac}`.slice(0, 17),
    privateIpAddress: r.privateIp,
    privateDnsName: dns,
    sourceDestCheck: attrs.sourceDestCheck ?? true,
    groupSet: groupSet(ctx, s.net, attrs),
    attachment: {
      attachmentId: derivedId('eni-attach', r.id),
      deviceIndex: 0,
      status: r.state === 'terminated' ? 'detached' : 'attached',
      attachTime: r.createdAt,
      deleteOnTermination: attrs.networkInterface?.deleteOnTermination ?? true,
      networkCardIndex: 0,
    },
    association: r.publicIp ? { publicIp: r.publicIp, ipOwnerId: 'amazon' } : undefined,
    privateIpAddressesSet: r.privateIp ? [{ privateIpAddress: r.privateIp, privateDnsName: dns, primary: true }] : [],
    interfaceType: 'interface',
  };
}

function stateReason(r: Instance): XmlObject | undefined {
  if (r.state === 'error')
    return { code: 'Server.InternalError', message: 'Server.InternalError: the provider reports an error' };
  if (r.state === 'suspended' || r.state === 'suspending')
    return { code: 'Client.UserInitiatedHibernate', message: 'Client.UserInitiatedHibernate: User initiated hibernate' };
  if (r.state === 'stopped' || r.state === 'stopping' || r.state === 'terminated' || r.state === 'terminating')
    return { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' };
  return undefined;
}

function renderInstance(ctx: Ec2Context, r: Instance, s: Surroundings): XmlObject {
  const attrs = s.attrs.get(r.id) ?? {};
  const place = placeOf(s.net, r);
  return {
    instanceId: ctx.ids.toEc2('instance', r.id),
    imageId: ctx.ids.toEc2('image', r.imageId),
    instanceState: INSTANCE_STATE[r.state],
    privateDnsName: r.privateIp ? `ip-${r.privateIp.replaceAll('.', '-')}.${ctx.region}.compute.internal` : '',
    // Empty members (public DNS name, product codes, placement group...) are left out, and so are those
    // skygate cannot know (hypervisor, ENA, billing details): parsers read them as absent.
    reason: r.state === 'stopped' || r.state === 'terminated' ? 'User initiated' : undefined,
    keyName: attrs.keyName,
    amiLaunchIndex: attrs.launchIndex ?? 0,
    instanceType: nativeOf(r.flavorId),
    launchTime: r.createdAt,
    placement: { availabilityZone: r.zone, tenancy: 'default' },
    monitoring: { state: 'disabled' },
    subnetId: place.subnetId && ctx.ids.toEc2('subnet', place.subnetId),
    vpcId: ctx.ids.toEc2('vpc', place.vpcId),
    privateIpAddress: r.privateIp,
    ipAddress: r.publicIp,
    sourceDestCheck: attrs.sourceDestCheck ?? true,
    groupSet: groupSet(ctx, s.net, attrs),
    networkInterfaceSet: [networkInterfaceXml(ctx, r, s, attrs, place)],
    stateReason: stateReason(r),
    architecture: 'x86_64',
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/xvda',
    blockDeviceMapping: s.volumes.get(r.id)?.map((v) => ({
      deviceName: v.device,
      ebs: {
        volumeId: ctx.ids.toEc2('volume', v.id),
        status: ATTACHMENT_STATUS[v.state] ?? 'attached',
        deleteOnTermination: false,
      },
    })),
    virtualizationType: 'hvm',
    clientToken: attrs.clientToken,
    tagSet: tagSet(r.tags),
    ebsOptimized: attrs.ebsOptimized ?? false,
  };
}

/** What an instance's XML is made of besides ids derived from it: its version, attributes and volumes. */
function partsOf(ctx: Ec2Context, r: Instance, s: Surroundings, version: string | undefined): unknown[] | undefined {
  if (version === undefined) return undefined;
  const volumes = s.volumes.get(r.id);
  const volumeKey = volumes ? volumes.map((v) => `${v.id}:${v.state}:${v.device}`).join(',') : '';
  return [ctx.region, version, s.attrs.get(r.id), volumeKey];
}

function instanceXml(ctx: Ec2Context, r: Instance, s: Surroundings, version: string | undefined): XmlValue {
  const parts = partsOf(ctx, r, s, version);
  if (!parts) return renderInstance(ctx, r, s);
  const id = `instance:${r.id}`;
  return ctx.fragments.get(id, parts) ?? ctx.fragments.put(id, parts, renderInstance(ctx, r, s));
}

function reservationXml(
  ctx: Ec2Context,
  launch: string,
  members: number[],
  instances: Instance[],
  s: Surroundings,
  versions?: Array<string | undefined>,
): XmlObject {
  return {
    reservationId: reservationId(launch),
    ownerId: ACCOUNT_ID,
    groupSet: [],
    instancesSet: members.map((i) => instanceXml(ctx, instances[i] as Instance, s, versions?.[i])),
  };
}

/**
 * Instances grouped by launch, as EC2's reservations; an instance made outside RunInstances is its own.
 * With the inventory's `versions`, rendered XML is reused for instances that did not change: listing
 * pages are mostly the same instances again.
 */
function reservations(ctx: Ec2Context, instances: Instance[], s: Surroundings, versions?: Array<string | undefined>): XmlValue[] {
  const groups = new Map<string, number[]>();
  for (let i = 0; i < instances.length; i++) {
    const r = instances[i] as Instance;
    const launch = s.attrs.get(r.id)?.launchId ?? r.id;
    const list = groups.get(launch);
    if (list) list.push(i);
    else groups.set(launch, [i]);
  }
  const out: XmlValue[] = [];
  for (const [launch, members] of groups) {
    // A reservation of one instance (the usual case when listing) is cached whole.
    const only = members.length === 1 ? (members[0] as number) : undefined;
    const parts = only === undefined ? undefined : partsOf(ctx, instances[only] as Instance, s, versions?.[only]);
    if (!parts) {
      out.push(reservationXml(ctx, launch, members, instances, s, versions));
      continue;
    }
    const id = `reservation:${launch}`;
    out.push(
      ctx.fragments.get(id, parts) ?? ctx.fragments.put(id, parts, reservationXml(ctx, launch, members, instances, s, versions)),
    );
  }
  return out;
}

/** DescribeInstances' filters, each reading the unified instance (ids through the id map). */
async function instanceFields(ctx: Ec2Context): Promise<Record<string, FilterField<Instance>>> {
  const net = await ctx.core.network.defaults(ctx.region);
  const subnetOf = (r: Instance) => {
    const { subnetId } = placeOf(net, r);
    return subnetId && ctx.ids.peek('subnet', subnetId);
  };
  const vpcOf = (r: Instance) => ctx.ids.peek('vpc', placeOf(net, r).vpcId);
  const sgId = ctx.ids.peek('security-group', net.securityGroup.id);
  return {
    'instance-id': (r) => ctx.ids.peek('instance', r.id),
    'instance-state-name': (r) => INSTANCE_STATE[r.state].name,
    'instance-state-code': (r) => String(INSTANCE_STATE[r.state].code),
    'image-id': (r) => ctx.ids.peek('image', r.imageId),
    'instance-type': (r) => nativeOf(r.flavorId),
    'availability-zone': (r) => r.zone,
    'subnet-id': subnetOf,
    'network-interface.subnet-id': subnetOf,
    'vpc-id': vpcOf,
    'network-interface.vpc-id': vpcOf,
    'instance.group-id': () => sgId,
    'instance.group-name': () => net.securityGroup.name,
    'private-ip-address': (r) => r.privateIp,
    'ip-address': (r) => r.publicIp,
    'private-dns-name': (r) =>
      r.privateIp ? `ip-${r.privateIp.replaceAll('.', '-')}.${ctx.region}.compute.internal` : undefined,
    architecture: () => 'x86_64',
    'root-device-type': () => 'ebs',
    'root-device-name': () => '/dev/xvda',
    'virtualization-type': () => 'hvm',
    tenancy: () => 'default',
    'owner-id': () => ACCOUNT_ID,
  };
}

/**
 * Instances of the region matching the filters: by id (every id must exist, as on EC2) or a page.
 * Ids missing from the inventory cache are read live before being declared missing.
 */
async function selectInstances(
  ctx: Ec2Context,
  /** The filters this action offers; built only when the request has filters. */
  fieldsOf: (ctx: Ec2Context) => Promise<Record<string, FilterField<Instance>>> | Record<string, FilterField<Instance>>,
  range: { min: number; max: number; default: number },
  only?: (r: Instance) => boolean,
): Promise<{ items: Instance[]; versions?: string[]; nextToken?: string }> {
  const ec2Ids = ctx.params.list('InstanceId');
  const paging = readPaging(ctx, range);
  const filters = parseFilters(ctx.params);
  const filtered = filters.length > 0 ? filterPredicate(filters, await fieldsOf(ctx)) : undefined;
  const predicate = filtered && only ? (r: Instance) => only(r) && filtered(r) : (filtered ?? only);
  if (ec2Ids.length > 0 && paging.paged) {
    throw ec2Errors.combination('The parameter instancesSet cannot be used with the parameter maxResults');
  }
  if (ec2Ids.length === 0) {
    const page = await ctx.core.inventory.list('instance', {
      providers: [ctx.region],
      ...(predicate && { where: (r) => predicate(r as Instance) }),
      limit: paging.limit,
      cursor: paging.cursor,
      shared: true,
    });
    const token = page.nextCursor === undefined ? undefined : nextToken(ctx, { cursor: page.nextCursor });
    return { items: page.items, versions: page.versions, ...(token !== undefined && { nextToken: token }) };
  }
  const wanted = await resolveIds(ctx, 'instance', ec2Ids);
  const set = new Set(wanted);
  const cached = await ctx.core.inventory.list('instance', {
    providers: [ctx.region],
    where: (r) => set.has(r.id),
    limit: ALL,
  });
  const byId = new Map(cached.items.map((r) => [r.id, r]));
  const missing: string[] = [];
  for (const [i, id] of wanted.entries()) {
    if (byId.has(id)) continue;
    try {
      byId.set(id, await ctx.core.inventory.get('instance', id));
    } catch (e) {
      if (toEc2Error(e).code !== 'InvalidInstanceID.NotFound') throw e;
      missing.push(ec2Ids[i] as string);
    }
  }
  if (missing.length > 0) throw ec2Errors.notFound('instance', missing);
  return { items: [...byId.values()].filter((r) => !predicate || predicate(r)) };
}

/**
 * What a listing page of DescribeInstances is rendered from besides the request itself: the region's instances and
 * volumes (the inventory's generations), the attributes this gateway changed, the region's default network, and
 * the period for which attribute reads are trusted (another replica's changes are seen as late as a read would).
 */
async function listingParts(ctx: Ec2Context): Promise<unknown[]> {
  const providers = [ctx.region];
  return [
    await ctx.core.inventory.generation('instance', providers),
    await ctx.core.inventory.generation('volume', providers),
    ctx.core.instanceAttributes.generation,
    await ctx.core.network.defaults(ctx.region),
    Math.floor(Date.now() / INSTANCE_ATTRIBUTES_CACHE_MS),
  ];
}

const describeInstances = defineAction(['InstanceId', 'Filter', 'MaxResults', 'NextToken'], async (ctx) => {
  // A listing (not by id) keeps its whole answer until anything it shows changes: tools poll the same pages.
  const listing = ctx.params.list('InstanceId').length === 0;
  const parts = listing ? await listingParts(ctx) : undefined;
  const kept = parts && ctx.answers.get(ctx.requestKey(), parts);
  if (kept) return kept;
  const answer = await renderInstancesAnswer(ctx);
  return parts ? ctx.answers.put(ctx.requestKey(), parts, answer) : answer;
});

async function renderInstancesAnswer(ctx: Ec2Context): Promise<XmlObject> {
  const {
    items,
    versions,
    nextToken: token,
  } = await selectInstances(ctx, instanceFields, {
    min: 5,
    max: 1000,
    default: 1000,
  });
  const s = await surroundings(ctx, items);
  if (!versions) return { reservationSet: reservations(ctx, items, s), nextToken: token };
  // A page whose every instance is as it was last time is answered with last time's XML.
  const parts: unknown[] = [];
  for (let i = 0; i < items.length; i++) parts.push(...(partsOf(ctx, items[i] as Instance, s, versions[i]) as unknown[]));
  const id = ctx.requestKey();
  const page = ctx.pages.get(id, parts) ?? ctx.pages.put(id, parts, renderItems(reservations(ctx, items, s, versions)));
  return { reservationSet: page, nextToken: token };
}

/** Decodes base64 user data for the provider; EC2 carries it base64-encoded. */
function userDataOf(raw: string | undefined): { base64?: string; text?: string } {
  if (raw === undefined || raw === '') return {};
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(raw))
    throw ec2Errors.invalidValue('UserData', '(redacted)', 'User data must be base64.');
  const base64 = raw.replace(/\s+/g, '');
  return { base64, text: Buffer.from(base64, 'base64').toString('utf8') };
}

/** Interface settings RunInstances honours or accepts; the rest of EC2's are refused as unsupported. */
const INTERFACE_PARAMS = new Set([
  'DeviceIndex',
  'SubnetId',
  'SecurityGroupId',
  'AssociatePublicIpAddress',
  'Description',
  'DeleteOnTermination',
]);
const INTERFACE_UNSUPPORTED = [
  'NetworkInterfaceId',
  'PrivateIpAddress',
  'PrivateIpAddresses',
  'SecondaryPrivateIpAddressCount',
  'Ipv6AddressCount',
  'Ipv6Addresses',
  'Ipv4Prefix',
  'Ipv4PrefixCount',
  'Ipv6Prefix',
  'Ipv6PrefixCount',
  'InterfaceType',
  'NetworkCardIndex',
  'AssociateCarrierIpAddress',
  'PrimaryIpv6',
  'EnaSrdSpecification',
  'ConnectionTrackingSpecification',
];

/** The core's launch input for a subnet: a default subnet's zone, or a created network's subnet's network. */
async function subnetPlacement(ctx: Ec2Context, subnetEc2: string | undefined): Promise<SubnetPlacement | undefined> {
  if (subnetEc2 === undefined) return undefined;
  const subnetId = await resolveId(ctx, 'subnet', subnetEc2);
  return launchPlacement(await ctx.core.network.defaults(ctx.region), subnetId);
}

/**
 * Where a launch goes: `SubnetId`/`SecurityGroupId`, or one primary network interface saying the same
 * (how boto3-based modules launch into a subnet). skygate instances have exactly one interface, in the
 * subnet asked for (a default one, or a created network's one), with an address the provider picks.
 */
async function placementOf(
  ctx: Ec2Context,
): Promise<{ subnet?: SubnetPlacement; groupIds: string[]; networkInterface?: InstanceAttributes['networkInterface'] }> {
  const p = ctx.params;
  const interfaces = p.structs('NetworkInterface');
  if (interfaces.length === 0) {
    const subnet = await subnetPlacement(ctx, p.string('SubnetId'));
    return {
      ...(subnet !== undefined && { subnet }),
      groupIds: await resolveIds(ctx, 'security-group', p.list('SecurityGroupId')),
    };
  }
  if (p.has('SubnetId')) {
    throw ec2Errors.combination('Network interfaces and an instance-level subnet ID may not be specified on the same request');
  }
  if (p.has('SecurityGroupId') || p.has('SecurityGroup')) {
    throw ec2Errors.combination(
      'Network interfaces and an instance-level security groups may not be specified on the same request',
    );
  }
  if (interfaces.length > 1) {
    throw ec2Errors.unsupported(
      'skygate instances have one network interface: only NetworkInterface.1 with DeviceIndex 0 can be given',
    );
  }
  const nic = interfaces[0] as Ec2Params;
  for (const name of INTERFACE_UNSUPPORTED) {
    if (nic.has(name))
      throw ec2Errors.unsupported(`${nic.nameOf(name)} is not supported: the provider assigns the interface and its address`);
  }
  nic.allowOnly(INTERFACE_PARAMS);
  const index = nic.int('DeviceIndex', { min: 0, max: 0 });
  if (index === undefined) throw ec2Errors.missingParameter(nic.nameOf('DeviceIndex'));
  // The provider decides public addresses; the flag is accepted as tools send it either way.
  nic.bool('AssociatePublicIpAddress');
  const deleteOnTermination = nic.bool('DeleteOnTermination');
  const description = nic.string('Description');
  const subnet = await subnetPlacement(ctx, nic.string('SubnetId'));
  return {
    ...(subnet !== undefined && { subnet }),
    groupIds: await resolveIds(ctx, 'security-group', nic.list('SecurityGroupId')),
    networkInterface: {
      ...(description !== undefined && { description }),
      ...(deleteOnTermination !== undefined && { deleteOnTermination }),
    },
  };
}

/** RunInstances: parse, one core launch, render the reservation once the cloud has named every instance. */
const runInstances = defineAction(
  [
    'ImageId',
    'InstanceType',
    'MinCount',
    'MaxCount',
    'KeyName',
    'UserData',
    'ClientToken',
    'TagSpecification',
    'Placement',
    'SubnetId',
    'SecurityGroupId',
    'SecurityGroup',
    'NetworkInterface',
    'DisableApiTermination',
    'InstanceInitiatedShutdownBehavior',
    'EbsOptimized',
    // Accepted without effect: skygate has no monitoring, metadata service or CPU credits to configure.
    'Monitoring',
    'MetadataOptions',
    'CreditSpecification',
  ],
  async (ctx) => {
    const p = ctx.params;
    const imageEc2 = p.requireString('ImageId');
    const minCount = p.int('MinCount', { min: 1, max: MAX_LAUNCH_COUNT });
    const maxCount = p.int('MaxCount', { min: 1, max: MAX_LAUNCH_COUNT });
    if (minCount === undefined) throw ec2Errors.missingParameter('MinCount');
    if (maxCount === undefined) throw ec2Errors.missingParameter('MaxCount');
    if (minCount > maxCount) {
      throw ec2Errors.invalidValue(
        'MinCount',
        String(minCount),
        `MinCount (${minCount}) must be less than or equal to MaxCount (${maxCount}).`,
      );
    }
    const { subnet, groupIds, networkInterface } = await placementOf(ctx);
    const net = await ctx.core.network.defaults(ctx.region);
    for (const name of p.list('SecurityGroup')) {
      if (name !== net.securityGroup.name)
        throw new Ec2Error('InvalidGroup.NotFound', `The security group '${name}' does not exist`);
    }
    const behaviour = p.string('InstanceInitiatedShutdownBehavior');
    if (behaviour !== undefined && behaviour !== 'stop' && behaviour !== 'terminate') {
      throw ec2Errors.invalidValue('InstanceInitiatedShutdownBehavior', behaviour, "Expecting 'stop' or 'terminate'.");
    }
    const clientToken = p.string('ClientToken');
    if (clientToken !== undefined && (clientToken.length === 0 || clientToken.length > 64)) {
      throw ec2Errors.invalidValue('ClientToken', clientToken, 'A client token is 1 to 64 characters.');
    }
    const tags = readTagSpecs(p, ['instance'], ['volume', 'network-interface']).get('instance') ?? {};
    const userData = userDataOf(p.string('UserData'));
    const disableApiTermination = p.bool('DisableApiTermination');
    const ebsOptimized = p.bool('EbsOptimized');
    const instanceType = p.string('InstanceType');
    const keyName = p.string('KeyName');
    const zone = p.struct('Placement')?.string('AvailabilityZone');

    const launch = await ctx.core.launches
      .launch(
        {
          provider: ctx.region,
          ...(tags.Name !== undefined && { name: tags.Name }),
          imageId: await resolveId(ctx, 'image', imageEc2),
          ...(instanceType !== undefined && { flavorId: instanceType }),
          minCount,
          maxCount,
          ...(zone !== undefined && { zone }),
          ...subnet,
          ...(keyName !== undefined && { keyName }),
          ...(userData.text !== undefined && { userData: userData.text }),
          tags,
          securityGroups: groupIds,
          attributes: {
            ...(disableApiTermination !== undefined && { disableApiTermination }),
            ...(behaviour !== undefined && { instanceInitiatedShutdownBehavior: behaviour }),
            ...(ebsOptimized !== undefined && { ebsOptimized }),
            ...(clientToken !== undefined && { clientToken }),
            ...(networkInterface !== undefined && { networkInterface }),
          },
        },
        // The ClientToken is the launch's idempotency key: a retry answers the same reservation.
        { ...ctx.caller, ...(clientToken !== undefined && { idempotencyKey: `ec2-run:${clientToken}` }) },
      )
      .catch((e) => Promise.reject(launchError(e)));
    const { operation, instances } = await ctx.core.launches
      .created(launch.id, LAUNCH_WAIT_MS)
      .catch((e) => Promise.reject(launchError(e)));
    const s = await surroundings(ctx, instances);
    return {
      reservationId: reservationId(operation.id),
      ownerId: ACCOUNT_ID,
      groupSet: [],
      instancesSet: instances.map((r) => renderInstance(ctx, r, s)),
    };
  },
  [
    'BlockDeviceMapping',
    'IamInstanceProfile',
    'LaunchTemplate',
    'InstanceMarketOptions',
    'CpuOptions',
    'PrivateIpAddress',
    'Ipv6AddressCount',
    'Ipv6Address',
    'KernelId',
    'RamdiskId',
    'ElasticGpuSpecification',
    'ElasticInferenceAccelerator',
    'CapacityReservationSpecification',
    'HibernationOptions',
    'LicenseSpecification',
    'EnclaveOptions',
    'PrivateDnsNameOptions',
    'MaintenanceOptions',
    'DisableApiStop',
    'AdditionalInfo',
  ],
);

/** How long RunInstances waits for the cloud to name every instance before answering retry-with-ClientToken. */
const LAUNCH_WAIT_MS = 30_000;

/** The core names REST body fields; EC2 names its own parameters. */
const LAUNCH_FIELDS: Record<string, string> = {
  'body.flavorId': 'InstanceType',
  'body.zone': 'Placement.AvailabilityZone',
  'body.subnetId': 'SubnetId',
  'body.network': 'SubnetId',
  'body.userData': 'UserData',
  'body.tags': 'TagSpecification',
  'body.keyName': 'KeyName',
  'body.securityGroups': 'SecurityGroupId',
};

function launchError(e: unknown): Ec2Error {
  const err = toSkygateError(e);
  if (err.code === 'timeout' && /still creating/.test(err.message)) {
    return new Ec2Error('Unavailable', `${err.message} with the same ClientToken`, 503);
  }
  const field = err.field !== undefined ? LAUNCH_FIELDS[err.field] : undefined;
  if (field === 'KeyName' && /does not exist/.test(err.message)) return new Ec2Error('InvalidKeyPair.NotFound', err.message);
  if (field === 'InstanceType' && err.code === 'invalid_input') {
    return ec2Errors.invalidValue('InstanceType', '', `The instance type does not exist in this region: ${err.message}.`);
  }
  if (field !== undefined && err.code === 'invalid_input')
    return new Ec2Error('InvalidParameterValue', `${field}: ${err.message}`);
  return toEc2Error(err);
}

const STATUS_FIELDS = (ctx: Ec2Context): Record<string, FilterField<Instance>> => ({
  'availability-zone': (r) => r.zone,
  'instance-state-name': (r) => INSTANCE_STATE[r.state].name,
  'instance-state-code': (r) => String(INSTANCE_STATE[r.state].code),
  'instance-id': (r) => ctx.ids.peek('instance', r.id),
  'system-status.status': (r) => (r.state === 'running' ? 'ok' : 'not-applicable'),
  'instance-status.status': (r) => (r.state === 'running' ? 'ok' : 'not-applicable'),
});

const describeInstanceStatus = defineAction(
  ['InstanceId', 'Filter', 'MaxResults', 'NextToken', 'IncludeAllInstances'],
  async (ctx) => {
    const all = ctx.params.bool('IncludeAllInstances') ?? false;
    // Without IncludeAllInstances EC2 answers running instances only: a pure selection within the page.
    const { items, nextToken: token } = await selectInstances(
      ctx,
      STATUS_FIELDS,
      { min: 5, max: 1000, default: 1000 },
      all ? undefined : (r) => r.state === 'running',
    );
    return {
      instanceStatusSet: items.map((r) => {
        const status = r.state === 'running' ? 'ok' : 'not-applicable';
        const summary = {
          status,
          details: [{ name: 'reachability', status: r.state === 'running' ? 'passed' : 'not-applicable' }],
        };
        return {
          instanceId: ctx.ids.toEc2('instance', r.id),
          availabilityZone: r.zone,
          eventsSet: [],
          instanceState: INSTANCE_STATE[r.state],
          systemStatus: summary,
          instanceStatus: summary,
        };
      }),
      nextToken: token,
    };
  },
);

/** The state EC2 reports right after an action is accepted. */
const AFTER: Record<Exclude<InstanceAction, 'reboot'> | 'delete', (s: InstanceState) => InstanceState> = {
  start: (s) => (s === 'stopped' || s === 'suspended' ? 'pending' : s),
  stop: (s) => (s === 'stopped' ? 'stopped' : 'stopping'),
  delete: (s) => (s === 'terminated' ? 'terminated' : 'terminating'),
};

function stateChange(action: Exclude<InstanceAction, 'reboot'> | 'delete', extra: string[] = []) {
  return defineAction(['InstanceId', ...extra], async (ctx) => {
    if (ctx.params.bool('Hibernate') === true) throw ec2Errors.unsupported('Hibernation is not supported by skygate');
    const ec2Ids = ctx.params.list('InstanceId');
    if (ec2Ids.length === 0) throw ec2Errors.missingParameter('InstanceId');
    const ids = await resolveIds(ctx, 'instance', ec2Ids);
    const done = await ctx.core.resources.instanceActions(ids, action, ctx.caller);
    return {
      instancesSet: done.map(({ instance }, i) => ({
        instanceId: ec2Ids[i],
        currentState: INSTANCE_STATE[AFTER[action](instance.state)],
        previousState: INSTANCE_STATE[instance.state],
      })),
    };
  });
}

const rebootInstances = defineAction(['InstanceId'], async (ctx) => {
  const ec2Ids = ctx.params.list('InstanceId');
  if (ec2Ids.length === 0) throw ec2Errors.missingParameter('InstanceId');
  await ctx.core.resources.instanceActions(await resolveIds(ctx, 'instance', ec2Ids), 'reboot', ctx.caller);
  return { return: true };
});

export const instanceActions: ActionTable = {
  RunInstances: runInstances,
  DescribeInstances: describeInstances,
  DescribeInstanceStatus: describeInstanceStatus,
  StartInstances: stateChange('start', ['AdditionalInfo']),
  // Force is accepted: a skygate stop is already the provider's plain stop.
  StopInstances: stateChange('stop', ['Force', 'Hibernate']),
  RebootInstances: rebootInstances,
  TerminateInstances: stateChange('delete'),
};
