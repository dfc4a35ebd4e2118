/**
 * The network surface EC2 tools probe before launching: each region's default VPC, its default subnet
 * per zone and its default security group (from the core's NetworkService), plus DescribeAccountAttributes.
 */
import type { DefaultNetwork, DefaultSubnet } from '../../../core/services/network-service.js';
import { type ActionTable, type Ec2Context, defineAction } from '../context.js';
import { Ec2Error } from '../ec2-errors.js';
import { type FilterField, filterPredicate, parseFilters } from '../filters.js';
import { pageOf, readPaging } from '../paging.js';
import type { XmlObject } from '../xml-render.js';
import { ACCOUNT_ID, resolveIds } from './common.js';

/** Free addresses in a /20 after AWS's five reserved ones. */
const SUBNET_FREE_ADDRESSES = 4091;
const zoneIdOf = (net: DefaultNetwork, zone: string) => `${net.provider}-az${net.subnets.findIndex((s) => s.zone === zone) + 1}`;

/** Selects by `IdName.N` (every id must exist) and filters, then pages by position. */
async function select<T extends object>(
  ctx: Ec2Context,
  all: T[],
  byId: { param: string; kind: 'vpc' | 'subnet' | 'security-group'; id: (item: T) => string },
  fields: Record<string, FilterField<T>>,
): Promise<{ items: T[]; nextToken?: string }> {
  const wanted = ctx.params.list(byId.param);
  const ids = wanted.length > 0 ? new Set(await resolveIds(ctx, byId.kind, wanted)) : undefined;
  const predicate = filterPredicate(parseFilters(ctx.params), fields);
  const paging = readPaging(ctx);
  return pageOf(
    ctx,
    all.filter((item) => (!ids || ids.has(byId.id(item))) && (!predicate || predicate(item))),
    paging,
  );
}

function renderVpc(ctx: Ec2Context, net: DefaultNetwork): XmlObject {
  const vpcId = ctx.ids.toEc2('vpc', net.network.id);
  return {
    vpcId,
    state: 'available',
    cidrBlock: net.network.cidr,
    cidrBlockAssociationSet: [
      { associationId: `vpc-cidr-assoc-${vpcId.slice(4)}`, cidrBlock: net.network.cidr, cidrBlockState: { state: 'associated' } },
    ],
    dhcpOptionsId: 'default',
    instanceTenancy: 'default',
    isDefault: true,
    ownerId: ACCOUNT_ID,
    tagSet: [],
  };
}

const describeVpcs = defineAction(['VpcId', 'Filter', 'MaxResults', 'NextToken'], async (ctx) => {
  const net = await ctx.core.network.defaults(ctx.region);
  const vpcId = ctx.ids.peek('vpc', net.network.id);
  const { items, nextToken } = await select(
    ctx,
    [net],
    { param: 'VpcId', kind: 'vpc', id: (n) => n.network.id },
    {
      'vpc-id': () => vpcId,
      'is-default': () => 'true',
      isDefault: () => 'true',
      state: () => 'available',
      'cidr-block': (n) => n.network.cidr,
      cidr: (n) => n.network.cidr,
      'cidr-block-association.cidr-block': (n) => n.network.cidr,
      'dhcp-options-id': () => 'default',
      'owner-id': () => ACCOUNT_ID,
    },
  );
  return { vpcSet: items.map((n) => renderVpc(ctx, n)), nextToken };
});

const describeSubnets = defineAction(['SubnetId', 'Filter', 'MaxResults', 'NextToken'], async (ctx) => {
  const net = await ctx.core.network.defaults(ctx.region);
  const vpcId = ctx.ids.peek('vpc', net.network.id);
  const { items, nextToken } = await select<DefaultSubnet>(
    ctx,
    net.subnets,
    { param: 'SubnetId', kind: 'subnet', id: (s) => s.id },
    {
      'subnet-id': (s) => ctx.ids.peek('subnet', s.id),
      'vpc-id': () => vpcId,
      'availability-zone': (s) => s.zone,
      availabilityZone: (s) => s.zone,
      'availability-zone-id': (s) => zoneIdOf(net, s.zone),
      'default-for-az': () => 'true',
      defaultForAz: () => 'true',
      state: () => 'available',
      'cidr-block': (s) => s.cidr,
      cidr: (s) => s.cidr,
      cidrBlock: (s) => s.cidr,
      'map-public-ip-on-launch': () => 'false',
      'owner-id': () => ACCOUNT_ID,
    },
  );
  return {
    subnetSet: items.map((s) => {
      const subnetId = ctx.ids.toEc2('subnet', s.id);
      return {
        subnetId,
        subnetArn: `arn:aws:ec2:${ctx.region}:${ACCOUNT_ID}:subnet/${subnetId}`,
        state: 'available',
        vpcId: ctx.ids.toEc2('vpc', net.network.id),
        cidrBlock: s.cidr,
        availableIpAddressCount: SUBNET_FREE_ADDRESSES,
        availabilityZone: s.zone,
        availabilityZoneId: zoneIdOf(net, s.zone),
        defaultForAz: true,
        mapPublicIpOnLaunch: false,
        assignIpv6AddressOnCreation: false,
        ownerId: ACCOUNT_ID,
        tagSet: [],
      };
    }),
    nextToken,
  };
});

const describeSecurityGroups = defineAction(['GroupId', 'GroupName', 'Filter', 'MaxResults', 'NextToken'], async (ctx) => {
  const net = await ctx.core.network.defaults(ctx.region);
  const sg = net.securityGroup;
  const names = ctx.params.list('GroupName');
  const missing = names.filter((n) => n !== sg.name);
  if (missing.length > 0) {
    throw new Ec2Error('InvalidGroup.NotFound', `The security group '${missing.join(', ')}' does not exist in default VPC`);
  }
  const vpcId = ctx.ids.peek('vpc', net.network.id);
  const { items, nextToken } = await select(
    ctx,
    [sg],
    { param: 'GroupId', kind: 'security-group', id: (g) => g.id },
    {
      'group-id': (g) => ctx.ids.peek('security-group', g.id),
      'group-name': (g) => g.name,
      description: (g) => g.description,
      'vpc-id': () => vpcId,
      'owner-id': () => ACCOUNT_ID,
    },
  );
  return {
    securityGroupInfo: items.map((g) => {
      const groupId = ctx.ids.toEc2('security-group', g.id);
      return {
        ownerId: ACCOUNT_ID,
        groupId,
        groupName: g.name,
        groupDescription: g.description,
        vpcId: ctx.ids.toEc2('vpc', net.network.id),
        // AWS's default group: members reach each other, everything may leave.
        ipPermissions: [
          { ipProtocol: '-1', groups: [{ userId: ACCOUNT_ID, groupId }], ipRanges: [], ipv6Ranges: [], prefixListIds: [] },
        ],
        ipPermissionsEgress: [
          { ipProtocol: '-1', groups: [], ipRanges: [{ cidrIp: '0.0.0.0/0' }], ipv6Ranges: [], prefixListIds: [] },
        ],
        tagSet: [],
      };
    }),
    nextToken,
  };
});

const describeAccountAttributes = defineAction(['AttributeName'], async (ctx) => {
  const net = await ctx.core.network.defaults(ctx.region);
  const all: Record<string, string[]> = {
    'supported-platforms': ['VPC'],
    'default-vpc': [ctx.ids.toEc2('vpc', net.network.id)],
  };
  const names = ctx.params.list('AttributeName');
  const chosen = names.length > 0 ? names.filter((n) => n in all) : Object.keys(all);
  return {
    accountAttributeSet: chosen.map((attributeName) => ({
      attributeName,
      attributeValueSet: (all[attributeName] as string[]).map((attributeValue) => ({ attributeValue })),
    })),
  };
});

export const networkActions: ActionTable = {
  DescribeVpcs: describeVpcs,
  DescribeSubnets: describeSubnets,
  DescribeSecurityGroups: describeSecurityGroups,
  DescribeAccountAttributes: describeAccountAttributes,
};
