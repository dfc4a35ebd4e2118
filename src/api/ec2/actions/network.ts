/**
 * The network surface EC2 tools probe before launching: each region's default VPC, its default subnet per zone
 * and its default security group, the networks created beside it as VPCs of one subnet each (network-view.ts),
 * plus DescribeAccountAttributes.
 */
import { type ActionTable, type Ec2Context, defineAction } from '../context.js';
import { Ec2Error } from '../ec2-errors.js';
import { type FilterField, filterPredicate, parseFilters } from '../filters.js';
import { pageOf, readPaging } from '../paging.js';
import { type Ec2Subnet, type Ec2Vpc, freeAddresses, regionNetworks } from '../network-view.js';
import type { XmlObject } from '../xml-render.js';
import { ACCOUNT_ID, resolveIds, tagSet } from './common.js';

const zoneIdOf = (provider: string, s: Ec2Subnet) => `${provider}-az${s.zoneIndex + 1}`;

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

function renderVpc(ctx: Ec2Context, v: Ec2Vpc): XmlObject {
  const vpcId = ctx.ids.toEc2('vpc', v.id);
  return {
    vpcId,
    state: 'available',
    cidrBlock: v.cidr,
    cidrBlockAssociationSet: [
      { associationId: `vpc-cidr-assoc-${vpcId.slice(4)}`, cidrBlock: v.cidr, cidrBlockState: { state: 'associated' } },
    ],
    dhcpOptionsId: 'default',
    instanceTenancy: 'default',
    isDefault: v.isDefault,
    ownerId: ACCOUNT_ID,
    tagSet: tagSet(v.tags),
  };
}

const describeVpcs = defineAction(['VpcId', 'Filter', 'MaxResults', 'NextToken'], async (ctx) => {
  const { vpcs } = await regionNetworks(ctx);
  const { items, nextToken } = await select(
    ctx,
    vpcs,
    { param: 'VpcId', kind: 'vpc', id: (v) => v.id },
    {
      'vpc-id': (v) => ctx.ids.peek('vpc', v.id),
      'is-default': (v) => String(v.isDefault),
      isDefault: (v) => String(v.isDefault),
      state: () => 'available',
      'cidr-block': (v) => v.cidr,
      cidr: (v) => v.cidr,
      'cidr-block-association.cidr-block': (v) => v.cidr,
      'dhcp-options-id': () => 'default',
      'owner-id': () => ACCOUNT_ID,
    },
  );
  return { vpcSet: items.map((v) => renderVpc(ctx, v)), nextToken };
});

const describeSubnets = defineAction(['SubnetId', 'Filter', 'MaxResults', 'NextToken'], async (ctx) => {
  const { subnets } = await regionNetworks(ctx);
  const { items, nextToken } = await select<Ec2Subnet>(
    ctx,
    subnets,
    { param: 'SubnetId', kind: 'subnet', id: (s) => s.id },
    {
      'subnet-id': (s) => ctx.ids.peek('subnet', s.id),
      'vpc-id': (s) => ctx.ids.peek('vpc', s.vpcId),
      'availability-zone': (s) => s.zone,
      availabilityZone: (s) => s.zone,
      'availability-zone-id': (s) => zoneIdOf(ctx.region, s),
      'available-ip-address-count': (s) => String(freeAddresses(s.cidr)),
      'default-for-az': (s) => String(s.defaultForAz),
      defaultForAz: (s) => String(s.defaultForAz),
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
        vpcId: ctx.ids.toEc2('vpc', s.vpcId),
        cidrBlock: s.cidr,
        availableIpAddressCount: freeAddresses(s.cidr),
        availabilityZone: s.zone,
        availabilityZoneId: s.zone === undefined ? undefined : zoneIdOf(ctx.region, s),
        defaultForAz: s.defaultForAz,
        mapPublicIpOnLaunch: false,
        assignIpv6AddressOnCreation: false,
        ownerId: ACCOUNT_ID,
        tagSet: tagSet(s.tags),
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
