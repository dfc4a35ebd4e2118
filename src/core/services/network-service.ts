/**
 * The default network of each provider: one network, one subnet per zone and one default security
 * group, as EC2 tools expect to find before they launch anything. No adapter port describes networks
 * yet, so every provider's is synthesized here with stable ids and AWS's default-VPC address plan.
 */
import { randomUUID } from 'node:crypto';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { invalid, notFound, SkygateError } from '../errors.js';
import { formatId, parseId } from '../ids.js';
import type { EventBus } from '../events.js';
import { checkName } from '../name-policy.js';
import { checkNetworkPlan } from '../network-plan.js';
import type { CallerContext } from '../operations/engine.js';
import type { CloudAdapter, NativeNetwork } from '../ports.js';
import type { ProviderRegistry } from '../registry.js';
import { checkTags } from '../tag-policy.js';
import type { Tags } from '../model.js';

/** A network created beside the default one (capability networks). */
export interface CreatedNetwork extends NativeNetwork {
  id: string;
  provider: string;
}

export interface CreateNetworkInput {
  provider: string;
  name: string;
  cidr: string;
  gateway?: string;
  tags?: Tags;
}

/** What `update` changes: the name, and/or the whole tag set (a key left out is removed). */
export interface NetworkChange {
  name?: string;
  tags?: Tags;
}

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

  constructor(
    private readonly registry: ProviderRegistry,
    /** Where created networks' changes are audited (they are made at once, without an operation). */
    private readonly audit: Pick<EventBus, 'emit'>,
  ) {}

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

  // --- networks beside the default one, where the provider's adapter has the capability

  /** Creates a network at once (no operation: the providers that can answer it synchronously). */
  async create(input: CreateNetworkInput, caller: CallerContext): Promise<CreatedNetwork> {
    const name = checkName(input.name, 'name');
    const plan = checkNetworkPlan(input.cidr, input.gateway);
    if (input.tags !== undefined) checkTags(input.tags, 'tags');
    const cloud = this.networkPort(input.provider, 'provider');
    const native = await cloud.createNetwork!({
      name,
      ...plan,
      ...(input.tags !== undefined && { tags: input.tags }),
      clientToken: randomUUID(),
    });
    const created = { ...native, id: formatId(input.provider, native.nativeId), provider: input.provider };
    await this.audit.emit('network.created', created.id, {
      provider: created.provider,
      name: created.name,
      cidr: created.cidr,
      by: caller.principal,
    });
    return created;
  }

  /** The created networks of every provider that has them (the default networks are `defaults`). */
  async list(providers: readonly string[]): Promise<CreatedNetwork[]> {
    const lists = await Promise.all(
      providers.map(async (p) => {
        const cloud = this.registry.cloud(p, 'provider');
        if (!cloud.capabilities().networks || !cloud.listNetworks) return [];
        return (await cloud.listNetworks()).map((n) => ({ ...n, id: formatId(p, n.nativeId), provider: p }));
      }),
    );
    return lists.flat();
  }

  /**
   * One page of the created networks of `providers` (default: all), by id; `nextCursor` is bound to the provider
   * filter. An unknown provider is `not_found` naming `field`.
   */
  async page(
    q: { providers?: readonly string[]; limit: number; cursor?: string },
    field = 'provider',
  ): Promise<{ items: CreatedNetwork[]; nextCursor?: string }> {
    const providers = q.providers ?? this.registry.ids();
    for (const p of providers) this.registry.cloud(p, field);
    const filters = { providers: q.providers };
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, 'networks', filters);
    const all = (await this.list(providers))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .filter((n) => after === undefined || n.id > after);
    const items = all.slice(0, q.limit);
    const last = items.at(-1);
    return {
      items,
      ...(all.length > items.length && last !== undefined && { nextCursor: encodeCursor('networks', filters, last.id) }),
    };
  }

  /** One created network; `field` names the input at fault when it does not exist or its provider has no networks. */
  async get(id: string, field = 'id'): Promise<CreatedNetwork> {
    const ref = parseId(id, field);
    const cloud = this.networkPort(ref.provider, field);
    const found = (await cloud.listNetworks!()).find((n) => n.nativeId === ref.nativeId);
    if (!found) throw notFound('network', id, field);
    return { ...found, id, provider: ref.provider };
  }

  /**
   * Renames a created network and/or replaces its tags, checked before the provider is called. The default
   * network is synthesized by skygate (no provider holds it), so there is nothing to change: an invalid input.
   */
  async update(id: string, change: NetworkChange, caller: CallerContext, field = 'id'): Promise<CreatedNetwork> {
    const ref = parseId(id, field);
    this.refuseDefault(id, ref.provider, field, 'changed');
    const name = change.name === undefined ? undefined : checkName(change.name, 'name');
    if (change.tags !== undefined) checkTags(change.tags, 'tags');
    const cloud = this.networkPort(ref.provider, field);
    if (!cloud.updateNetwork) {
      throw new SkygateError('unsupported', `provider '${ref.provider}' cannot rename networks or change their tags`, { field });
    }
    const native = await cloud.updateNetwork(ref.nativeId, {
      ...(name !== undefined && { name }),
      ...(change.tags !== undefined && { tags: change.tags }),
    });
    // What was asked to change, and the result: the adapter answers the network as it is now, not as it was.
    const changed = (['name', 'tags'] as const).filter((k) => change[k] !== undefined);
    await this.audit.emit('network.updated', id, {
      provider: ref.provider,
      changed,
      name: native.name,
      tags: native.tags,
      by: caller.principal,
    });
    return { ...native, id, provider: ref.provider };
  }

  /**
   * Removes each tag of `keys` from every created network that carries it (one update per network) and answers
   * how many networks changed. Stops at the first refusal; what went before it stays gone.
   */
  async removeTagsEverywhere(keys: readonly string[], caller: CallerContext): Promise<number> {
    let changed = 0;
    for (const network of await this.list(this.registry.ids())) {
      if (!keys.some((k) => k in network.tags)) continue;
      const tags = Object.fromEntries(Object.entries(network.tags).filter(([k]) => !keys.includes(k)));
      await this.update(network.id, { tags }, caller, 'id');
      changed++;
    }
    return changed;
  }

  /** Deletes a created network (the adapter refuses one in use); the default network is what launches default to, so it stays. */
  async delete(id: string, caller: CallerContext, field = 'id'): Promise<void> {
    const ref = parseId(id, field);
    this.refuseDefault(id, ref.provider, field, 'deleted');
    await this.networkPort(ref.provider, field).deleteNetwork!(ref.nativeId);
    await this.audit.emit('network.deleted', id, { provider: ref.provider, by: caller.principal });
  }

  /** Whether `id` is its provider's (synthesized) default network. */
  isDefault(id: string): boolean {
    const at = id.indexOf(':');
    return at > 0 && id === formatId(id.slice(0, at), 'default-network');
  }

  private refuseDefault(id: string, provider: string, field: string, what: 'changed' | 'deleted'): void {
    if (!this.isDefault(id)) return;
    const why =
      what === 'deleted'
        ? 'the network of every instance there that names no other'
        : 'synthesized by skygate, not held by the provider';
    throw invalid(field, `'${id}' is the default network of ${provider}, ${why}; it cannot be ${what}`);
  }

  private networkPort(provider: string, field: string): CloudAdapter {
    const cloud = this.registry.cloud(provider, field);
    if (cloud.capabilities().networks && cloud.createNetwork && cloud.listNetworks && cloud.deleteNetwork) return cloud;
    const why = cloud.capabilityNotes?.networks;
    throw new SkygateError('unsupported', `provider '${provider}' cannot create or delete networks${why ? `: ${why}` : ''}`, {
      field,
    });
  }
}
