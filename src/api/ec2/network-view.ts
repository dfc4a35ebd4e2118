/**
 * A region's networks as EC2 shows them: the default network as the default VPC with one default subnet per zone,
 * and each network created beside it (core `network.list`) as a non-default VPC with ONE subnet covering its block.
 */
import type { CreatedNetwork, Tags } from '../../core/index.js';
import type { DefaultNetwork } from '../../core/services/network-service.js';
import type { Ec2Context } from './context.js';

/** A VPC; `id` is the skygate id of the network behind it. */
export interface Ec2Vpc {
  id: string;
  cidr: string;
  isDefault: boolean;
  /** The network's tags with its name as `Name` (what tag filters read). */
  tags: Tags;
}

/**
 * A subnet; `id` is the skygate id it is known by: a default subnet's own id, or for a created network's one
 * subnet the network's id (the subnet is the network: the id map keeps the kinds apart).
 */
export interface Ec2Subnet {
  id: string;
  vpcId: string;
  cidr: string;
  /** Where EC2 tools are told it is; see `subnetOfNetwork` for a created network's. */
  zone: string | undefined;
  zoneIndex: number;
  defaultForAz: boolean;
  tags: Tags;
}

export interface RegionNetworks {
  defaults: DefaultNetwork;
  vpcs: Ec2Vpc[];
  subnets: Ec2Subnet[];
}

/** The default network alone: what every action needs, without asking the provider for its created networks. */
export function defaultView(net: DefaultNetwork): RegionNetworks {
  return {
    defaults: net,
    vpcs: [{ id: net.network.id, cidr: net.network.cidr, isDefault: true, tags: {} }],
    subnets: net.subnets.map((s, i) => ({
      id: s.id,
      vpcId: net.network.id,
      cidr: s.cidr,
      zone: s.zone,
      zoneIndex: i,
      defaultForAz: true,
      tags: {},
    })),
  };
}

/**
 * A created network's one subnet. EC2 puts a subnet in one zone: where the adapter reports one (`zone`, at AWS:
 * where EC2 put the subnet) it is shown there. The sim's and OpenStack's networks span every zone, so their subnet
 * is shown in the provider's first zone: a stable, valid answer, not a placement promise.
 */
function subnetOfNetwork(net: DefaultNetwork, n: CreatedNetwork, tags: Tags): Ec2Subnet {
  const zone = n.zone ?? net.subnets[0]?.zone;
  const zoneIndex = Math.max(
    0,
    net.subnets.findIndex((s) => s.zone === zone),
  );
  return { id: n.id, vpcId: n.id, cidr: n.cidr, zone, zoneIndex, defaultForAz: false, tags };
}

/** Every VPC and subnet of the request's region: the default network's and the created networks'. */
export async function regionNetworks(ctx: Ec2Context): Promise<RegionNetworks> {
  const [net, created] = await Promise.all([ctx.core.network.defaults(ctx.region), ctx.core.network.list([ctx.region])]);
  const view = defaultView(net);
  for (const n of created) {
    const tags = { ...n.tags, Name: n.name };
    view.vpcs.push({ id: n.id, cidr: n.cidr, isDefault: false, tags });
    view.subnets.push(subnetOfNetwork(net, n, tags));
  }
  return view;
}

/** Addresses a subnet offers: its block less AWS's five reserved ones (network, router, DNS, future, broadcast). */
export function freeAddresses(cidr: string): number {
  const prefix = Number(cidr.slice(cidr.indexOf('/') + 1));
  return Math.max(0, 2 ** (32 - prefix) - 5);
}

/** What a launch into a subnet tells the core: a default subnet (whose zone it is), or a created network. */
export type SubnetPlacement = { subnetId: string } | { network: string };

/** The core's launch input for a subnet the id map resolved: a default subnet names its zone, a created one its network. */
export function launchPlacement(net: DefaultNetwork, subnetId: string): SubnetPlacement {
  return net.subnets.some((s) => s.id === subnetId) ? { subnetId } : { network: subnetId };
}
