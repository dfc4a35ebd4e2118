/** Where things run: DescribeRegions (skygate's providers), DescribeAvailabilityZones and DescribeInstanceTypes (flavors). */
import type { Flavor } from '../../../core/index.js';
import { type ActionTable, defineAction } from '../context.js';
import { Ec2Error, ec2Errors } from '../ec2-errors.js';
import { filterPredicate, parseFilters } from '../filters.js';
import { pageOf, readPaging } from '../paging.js';
import { ALL, nativeOf } from './common.js';

const describeRegions = defineAction(['RegionName', 'Filter', 'AllRegions'], async (ctx) => {
  const providers = ctx.core.providers.ids();
  const names = ctx.params.list('RegionName');
  ctx.params.bool('AllRegions');
  const unknown = names.filter((n) => !providers.includes(n));
  if (unknown.length > 0)
    throw ec2Errors.invalidValue('RegionName', unknown.join(', '), `Invalid region(s); the regions are ${providers.join(', ')}.`);
  const predicate = filterPredicate<{ name: string }>(parseFilters(ctx.params), {
    'region-name': (r) => r.name,
    endpoint: () => ctx.endpoint,
    'opt-in-status': () => 'opt-in-not-required',
  });
  return {
    regionInfo: providers
      .filter((name) => names.length === 0 || names.includes(name))
      .filter((name) => !predicate || predicate({ name }))
      .map((regionName) => ({ regionName, regionEndpoint: ctx.endpoint, optInStatus: 'opt-in-not-required' })),
  };
});

const describeAvailabilityZones = defineAction(['ZoneName', 'ZoneId', 'Filter', 'AllAvailabilityZones'], async (ctx) => {
  const net = await ctx.core.network.defaults(ctx.region);
  const zones = net.subnets.map((s, i) => ({ name: s.zone, id: `${ctx.region}-az${i + 1}` }));
  const names = ctx.params.list('ZoneName');
  const zoneIds = ctx.params.list('ZoneId');
  ctx.params.bool('AllAvailabilityZones');
  const unknown = [
    ...names.filter((n) => !zones.some((z) => z.name === n)),
    ...zoneIds.filter((n) => !zones.some((z) => z.id === n)),
  ];
  if (unknown.length > 0) {
    throw ec2Errors.invalidValue(
      'ZoneName',
      unknown.join(', '),
      `Invalid availability zone; ${ctx.region} has ${zones.map((z) => z.name).join(', ')}.`,
    );
  }
  const predicate = filterPredicate<{ name: string; id: string }>(parseFilters(ctx.params), {
    'zone-name': (z) => z.name,
    'zone-id': (z) => z.id,
    state: () => 'available',
    'region-name': () => ctx.region,
    'group-name': () => ctx.region,
    'zone-type': () => 'availability-zone',
    'opt-in-status': () => 'opt-in-not-required',
  });
  return {
    availabilityZoneInfo: zones
      .filter((z) => (names.length === 0 || names.includes(z.name)) && (zoneIds.length === 0 || zoneIds.includes(z.id)))
      .filter((z) => !predicate || predicate(z))
      .map((z) => ({
        zoneName: z.name,
        zoneId: z.id,
        zoneState: 'available',
        regionName: ctx.region,
        groupName: ctx.region,
        networkBorderGroup: ctx.region,
        optInStatus: 'opt-in-not-required',
        zoneType: 'availability-zone',
        messageSet: [],
      })),
  };
});

const describeInstanceTypes = defineAction(['InstanceType', 'Filter', 'MaxResults', 'NextToken'], async (ctx) => {
  const paging = readPaging(ctx);
  const flavors = (await ctx.core.inventory.list('flavor', { providers: [ctx.region], limit: ALL })).items;
  const asked = ctx.params.list('InstanceType');
  const unknown = asked.filter((t) => !flavors.some((f) => nativeOf(f.id) === t));
  if (unknown.length > 0) {
    throw new Ec2Error('InvalidInstanceType', `The following supplied instance types do not exist: [${unknown.join(', ')}]`);
  }
  const predicate = filterPredicate<Flavor>(parseFilters(ctx.params), {
    'instance-type': (f) => nativeOf(f.id),
    'vcpu-info.default-vcpus': (f) => String(f.vcpus),
    'memory-info.size-in-mib': (f) => String(f.memoryMiB),
    'current-generation': () => 'true',
    'processor-info.supported-architecture': () => 'x86_64',
    'supported-virtualization-type': () => 'hvm',
    'supported-root-device-type': () => 'ebs',
    'instance-storage-supported': () => 'false',
    'bare-metal': () => 'false',
    'free-tier-eligible': () => 'false',
    hypervisor: () => 'xen',
  });
  const chosen = flavors.filter((f) => (asked.length === 0 || asked.includes(nativeOf(f.id))) && (!predicate || predicate(f)));
  const page = pageOf(ctx, chosen, paging);
  return {
    instanceTypeSet: page.items.map((f) => ({
      instanceType: nativeOf(f.id),
      currentGeneration: true,
      freeTierEligible: false,
      supportedUsageClasses: ['on-demand'],
      supportedRootDeviceTypes: ['ebs'],
      supportedVirtualizationTypes: ['hvm'],
      bareMetal: false,
      hypervisor: 'xen',
      processorInfo: { supportedArchitectures: ['x86_64'] },
      vCpuInfo: { defaultVCpus: f.vcpus, defaultCores: f.vcpus, defaultThreadsPerCore: 1 },
      memoryInfo: { sizeInMiB: f.memoryMiB },
      instanceStorageSupported: false,
      ebsInfo: { ebsOptimizedSupport: 'unsupported', encryptionSupport: 'unsupported', nvmeSupport: 'unsupported' },
      networkInfo: {
        networkPerformance: 'Moderate',
        maximumNetworkInterfaces: 1,
        ipv4AddressesPerInterface: 1,
        ipv6Supported: false,
      },
      hibernationSupported: false,
      burstablePerformanceSupported: false,
      dedicatedHostsSupported: false,
      autoRecoverySupported: false,
      supportedBootModes: ['legacy-bios'],
    })),
    nextToken: page.nextToken,
  };
});

export const regionActions: ActionTable = {
  DescribeRegions: describeRegions,
  DescribeAvailabilityZones: describeAvailabilityZones,
  DescribeInstanceTypes: describeInstanceTypes,
};
