/**
 * Networks skygate creates at OpenStack: a neutron network plus one IPv4 subnet with the block and gateway. They
 * are told apart from the project's other networks by a neutron tag (`skygate:network`); the caller's tags are
 * neutron tags `key=value`, and the create's client token rides on a tag too (neutron takes no client token).
 */
import { createHash } from 'node:crypto';
import {
  SkygateError,
  invalid,
  isSkygateError,
  notFound,
  type CreateNetworkSpec,
  type NativeNetwork,
  type Tags,
} from '../../src/core/index.js';
import type { Neutron, NeutronNetwork, NeutronSubnet } from './neutron.js';

/** The tag on every network skygate created: only these are listed, changed or deleted. */
export const NETWORK_TAG = 'skygate:network';
const TOKEN_TAG_PREFIX = 'skygate-token:';
/** Neutron refuses tags over 60 characters. */
const MAX_TAG = 60;
const DESCRIPTION = 'created by skygate';
/** Servers whose ports one listing asks for: keeps the repeated `device_id` values well under URL limits. */
const PORTS_CHUNK = 50;

/** What `createdNetworksOf` reads of a nova server: its id, whether nova deleted it, and its addresses by network name. */
interface ServerOnNetworks {
  id: string;
  status: string;
  addresses?: Record<string, unknown>;
}

export class OpenStackNetworks {
  constructor(private readonly neutron: Neutron) {}

  /**
   * Looks the token up first: a repeat answers the first network (and makes its subnet if the first call stopped
   * before it). A tag or subnet failure deletes the network just made, so nothing is left half-made.
   */
  async create(spec: CreateNetworkSpec, plan: { cidr: string; gateway: string }): Promise<NativeNetwork> {
    const callerTags = toNeutronTags(spec.tags ?? {});
    const token = tokenTag(spec.clientToken);
    const [earlier] = await this.neutron.networksTagged([NETWORK_TAG, token]);
    let network = earlier;
    if (!network) {
      network = await this.neutron.createNetwork({ name: spec.name, description: DESCRIPTION });
      const made = network;
      await this.undoOnFailure(made.id, async () => {
        const tags = [NETWORK_TAG, token, ...callerTags];
        await this.neutron.setNetworkTags(made.id, tags);
        made.tags = tags;
      });
    }
    const id = network.id;
    let [subnet] = await this.neutron.subnets(id);
    if (!subnet) {
      subnet = await this.undoOnFailure(id, () =>
        this.neutron
          .createSubnet({ network_id: id, name: spec.name, ip_version: 4, cidr: plan.cidr, gateway_ip: plan.gateway })
          .catch((e) => {
            throw withPlanField(e);
          }),
      );
    }
    return this.toNetwork(network, subnet);
  }

  /** The networks skygate created, each with its subnet (one listing of each kind, joined here). */
  async list(): Promise<NativeNetwork[]> {
    const [networks, subnets] = await Promise.all([this.neutron.networksTagged([NETWORK_TAG]), this.neutron.subnets()]);
    return networks.map((n) =>
      this.toNetwork(
        n,
        subnets.find((s) => s.network_id === n.id),
      ),
    );
  }

  /**
   * The created network each server is on, by server id. Nova keys a server's addresses by network NAME, which
   * need not be unique, so the names only pick the candidates: only servers with an address on a network named like
   * one skygate created have their ports listed, and a port's `network_id` decides. Per page of servers: one
   * networks listing (by the marker tag) when any server has an address, and one ports listing per 50 candidates;
   * nothing more when no server can be on a created network. A server not wired yet (no addresses) reports none.
   */
  async createdNetworksOf(servers: ServerOnNetworks[]): Promise<Map<string, string>> {
    const on = new Map<string, string>();
    const wired = servers.filter((s) => s.status !== 'DELETED' && Object.keys(s.addresses ?? {}).length > 0);
    if (wired.length === 0) return on;
    const created = await this.neutron.networksTagged([NETWORK_TAG]);
    const names = new Set(created.map((n) => n.name));
    const ids = new Set(created.map((n) => n.id));
    const candidates = wired.filter((s) => Object.keys(s.addresses ?? {}).some((name) => names.has(name)));
    for (let i = 0; i < candidates.length; i += PORTS_CHUNK) {
      const ports = await this.neutron.portsOf(candidates.slice(i, i + PORTS_CHUNK).map((s) => s.id));
      for (const p of ports) if (ids.has(p.network_id) && !on.has(p.device_id)) on.set(p.device_id, p.network_id);
    }
    return on;
  }

  /** Subnets, then the network; ports still on it make neutron answer 409, which is `conflict`. */
  async delete(id: string): Promise<void> {
    await this.created(id);
    for (const subnet of await this.neutron.subnets(id)) await this.neutron.deleteSubnet(subnet.id);
    await this.neutron.deleteNetwork(id);
  }

  /** The name with a network update; the tags replaced whole through neutron's tag API (the marker and token stay). */
  async update(id: string, change: { name?: string; tags?: Tags }): Promise<NativeNetwork> {
    const tags = change.tags === undefined ? undefined : toNeutronTags(change.tags);
    let network = await this.created(id);
    if (change.name !== undefined) network = await this.neutron.renameNetwork(id, change.name);
    if (tags !== undefined) {
      const own = (network.tags ?? []).filter(isOwnTag);
      await this.neutron.setNetworkTags(id, [...own, ...tags]);
      network = { ...network, tags: [...own, ...tags] };
    }
    const [subnet] = await this.neutron.subnets(id);
    return this.toNetwork(network, subnet);
  }

  /** A network skygate created; the project's others read as not found, so nothing here can change them. */
  private async created(id: string): Promise<NeutronNetwork> {
    const network = await this.neutron.getNetwork(id);
    if (!(network.tags ?? []).includes(NETWORK_TAG)) throw notFound('network', id);
    return network;
  }

  /** Runs `step` on a network just made; when it fails, the network goes (best effort) and the step's error is thrown. */
  private async undoOnFailure<T>(networkId: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (e) {
      await this.neutron.deleteNetwork(networkId).catch(() => undefined);
      throw e;
    }
  }

  private toNetwork(n: NeutronNetwork, subnet: NeutronSubnet | undefined): NativeNetwork {
    return {
      nativeId: n.id,
      name: n.name,
      // Empty only for a network whose create stopped before its subnet; repeating the create adds it.
      cidr: subnet?.cidr ?? '',
      gateway: subnet?.gateway_ip ?? '',
      state: 'available',
      tags: fromNeutronTags(n.tags ?? []),
      createdAt: n.created_at ? new Date(n.created_at).toISOString() : new Date(0).toISOString(),
    };
  }
}

const isOwnTag = (t: string) => t === NETWORK_TAG || t.startsWith(TOKEN_TAG_PREFIX);

/** The token as a tag of at most 60 characters: longer tokens (or ones with a comma) are hashed. */
function tokenTag(token: string): string {
  const room = MAX_TAG - TOKEN_TAG_PREFIX.length;
  const value =
    token.length <= room && !token.includes(',')
      ? token
      : `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 32)}`;
  return TOKEN_TAG_PREFIX + value;
}

/**
 * skygate's tags as neutron tags `key=value`: the key may hold no `=`, neither part a comma (neutron's tag filters
 * split on commas), and the whole at most 60 characters. Checked before anything is created.
 */
function toNeutronTags(tags: Tags): string[] {
  return Object.entries(tags).map(([key, value]) => {
    const field = `tags.${key}`;
    if (key.includes('=') || key.includes(',')) throw invalid(field, "a tag key at OpenStack may hold no '=' or ','");
    if (value.includes(',')) throw invalid(field, "a tag value at OpenStack may hold no ','");
    const tag = `${key}=${value}`;
    if (tag.length > MAX_TAG)
      throw invalid(field, `neutron keeps a tag as 'key=value' in at most ${MAX_TAG} characters (this one has ${tag.length})`);
    return tag;
  });
}

/** Neutron tags back into skygate's: `key=value`; a plain tag someone else set reads as a key with an empty value. */
function fromNeutronTags(tags: string[]): Tags {
  const out: Tags = {};
  for (const t of tags) {
    if (isOwnTag(t)) continue;
    const at = t.indexOf('=');
    if (at < 0) out[t] = '';
    else out[t.slice(0, at)] = t.slice(at + 1);
  }
  return out;
}

/** A refused subnet names the gateway or the block; the error then names the input field too. */
function withPlanField(e: unknown): unknown {
  if (!isSkygateError(e) || e.code !== 'invalid_input' || e.field !== undefined) return e;
  const field = /gateway/i.test(e.message) ? 'gateway' : /cidr/i.test(e.message) ? 'cidr' : undefined;
  if (field === undefined) return e;
  return new SkygateError('invalid_input', e.message, {
    field,
    provider: e.provider,
    requestId: e.requestId,
    errors: [{ field, reason: e.message }],
  });
}
