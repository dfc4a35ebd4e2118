/**
 * The sim's networks beside the default one: kept in its state (meta `networks`), so they survive a restart.
 * An instance launched on one gets an address inside its block; a network with a live instance on it stays.
 */
import { randomBytes } from 'node:crypto';
import {
  checkNetworkPlan,
  checkTags,
  conflict,
  hostsOf,
  invalid,
  notFound,
  SkygateError,
  type CreateNetworkSpec,
  type NativeNetwork,
  type Tags,
} from '../../src/core/index.js';
import type { SimState } from './sim-state.js';

const KEY = 'networks';

/** A stored network remembers the client token it was created with, so a retried create returns it. */
type Stored = NativeNetwork & { clientToken?: string };
const shown = ({ clientToken: _, ...n }: Stored): NativeNetwork => n;

export class SimNetworks {
  constructor(private readonly state: SimState) {}

  list(): NativeNetwork[] {
    return this.stored().map(shown);
  }

  private stored(): Stored[] {
    return this.state.getMeta<Stored[]>(KEY) ?? [];
  }

  get(id: string): NativeNetwork | undefined {
    const found = this.stored().find((n) => n.nativeId === id);
    return found && shown(found);
  }

  create(spec: CreateNetworkSpec, now: number): NativeNetwork {
    checkNetworkName(spec.name);
    // IPv4, /16 to /28: the range the core accepts too.
    const plan = checkNetworkPlan(spec.cidr, spec.gateway);
    const tags = spec.tags ?? {};
    checkTags(tags, 'tags');
    if (typeof spec.clientToken !== 'string' || spec.clientToken.length === 0 || spec.clientToken.length > 128)
      throw invalid('clientToken', 'must be a non-empty string of at most 128 characters');
    const network: Stored = {
      nativeId: `net-${randomBytes(9).toString('hex').slice(0, 17)}`,
      name: spec.name,
      ...plan,
      state: 'available',
      tags: { ...tags },
      createdAt: new Date(now).toISOString(),
      clientToken: spec.clientToken,
    };
    return this.state.tx(() => {
      const all = this.stored();
      const earlier = all.find((n) => n.clientToken === spec.clientToken);
      if (earlier) return shown(earlier);
      this.state.setMeta(KEY, [...all, network]);
      return shown(network);
    });
  }

  /** Renames and/or replaces the tags (the whole new set); everything is checked before anything is written. */
  update(id: string, change: { name?: string; tags?: Tags }): NativeNetwork {
    if (typeof change !== 'object' || change === null) throw invalid('change', 'must be an object');
    if (change.name !== undefined) checkNetworkName(change.name);
    if (change.tags !== undefined) {
      if (typeof change.tags !== 'object' || change.tags === null || Array.isArray(change.tags))
        throw invalid('tags', 'must be an object of strings');
      checkTags(change.tags, 'tags');
    }
    return this.state.tx(() => {
      const all = this.stored();
      const at = all.findIndex((n) => n.nativeId === id);
      const found = all[at];
      if (found === undefined) throw notFound('network', String(id), 'id');
      const updated: Stored = {
        ...found,
        ...(change.name !== undefined && { name: change.name }),
        ...(change.tags !== undefined && { tags: { ...change.tags } }),
      };
      this.state.setMeta(
        KEY,
        all.map((n, k) => (k === at ? updated : n)),
      );
      return shown(updated);
    });
  }

  /**
   * The address an instance launched on network `id` gets: the block's first host that is neither the gateway nor
   * held by an instance not yet forgotten there. Call inside the launch's transaction, so two launches differ.
   */
  allocate(id: unknown, now: number, providerId: string): string {
    if (typeof id !== 'string' || id.length === 0) throw invalid('networkId', 'must be the native id of a network');
    const network = this.get(id);
    if (network === undefined) throw invalid('networkId', `network '${id}' does not exist`);
    const held = this.state.addressesOn(id, now);
    for (const ip of hostsOf(network.cidr)) if (ip !== network.gateway && !held.has(ip)) return ip;
    throw new SkygateError('quota_exceeded', `sim: network ${id} (${network.cidr}) has no free address left`, {
      provider: providerId,
    });
  }

  delete(id: string): void {
    this.state.tx(() => {
      const all = this.stored();
      if (!all.some((n) => n.nativeId === id)) throw notFound('network', String(id), 'id');
      const user = this.state.liveInstanceOn(id);
      if (user !== undefined) throw conflict(`network ${id} is in use by instance ${user}; delete the instance first`, 'id');
      this.state.setMeta(
        KEY,
        all.filter((n) => n.nativeId !== id),
      );
    });
  }
}

function checkNetworkName(name: unknown): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 255)
    throw invalid('name', 'must be a non-empty string of at most 255 characters');
}
