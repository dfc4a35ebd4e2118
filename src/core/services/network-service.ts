/**
 * The default network of each provider: one network, one subnet per zone and one default security
 * group, as EC2 tools expect to find before they launch anything. No adapter port describes networks
 * yet, so every provider's is synthesized here with stable ids and AWS's default-VPC address plan.
 */
import { formatId } from '../ids.js';
import type { ProviderRegistry } from '../registry.js';

export interface DefaultSubnet {
  id: string;
  zone: string;
  cidr: string;
}

export interface DefaultNetwork {
  provider: string;
  /** Where it comes from: only `synthesized` until adapters can describe their networks. */
  origin: 'synthesized';
  network: { id: string; cidr: string };
  subnets: DefaultSubnet[];
  securityGroup: { id: string; name: string; description: string };
}

const NETWORK_CIDR = '172.31.0.0/16';
/** A /20 per zone, as in an AWS default VPC: room for 16 zones. */
const subnetCidr = (index: number) => `172.31.${(index % 16) * 16}.0/20`;
const ZONES_CACHE_MS = 60_000;

export class NetworkService {
  private readonly zones = new Map<string, { zones: string[]; until: number }>();
  /** The last answer per provider, kept while its zones stay the same (fronts ask on every request). */
  private readonly built = new Map<string, { zones: string[]; network: DefaultNetwork }>();

  constructor(private readonly registry: ProviderRegistry) {}

  async defaults(provider: string): Promise<DefaultNetwork> {
    const zones = await this.zonesOf(provider);
    const last = this.built.get(provider);
    if (last && last.zones === zones) return last.network;
    const network = this.build(provider, zones);
    this.built.set(provider, { zones, network });
    return network;
  }

  private build(provider: string, zones: string[]): DefaultNetwork {
    return {
      provider,
      origin: 'synthesized',
      network: { id: formatId(provider, 'default-network'), cidr: NETWORK_CIDR },
      subnets: zones.map((zone, i) => ({ id: formatId(provider, `default-subnet-${zone}`), zone, cidr: subnetCidr(i) })),
      securityGroup: {
        id: formatId(provider, 'default-security-group'),
        name: 'default',
        description: `default security group of ${provider}`,
      },
    };
  }

  /** The default subnet an instance in `zone` sits in. */
  async subnetOf(provider: string, zone: string): Promise<DefaultSubnet | undefined> {
    return (await this.defaults(provider)).subnets.find((s) => s.zone === zone);
  }

  /** Zones change rarely and some providers answer them slowly; a minute's cache keeps describes fast. */
  private async zonesOf(provider: string): Promise<string[]> {
    const hit = this.zones.get(provider);
    if (hit && hit.until > Date.now()) return hit.zones;
    const zones = await this.registry.cloud(provider, 'provider').zones();
    this.zones.set(provider, { zones, until: Date.now() + ZONES_CACHE_MS });
    return zones;
  }
}
