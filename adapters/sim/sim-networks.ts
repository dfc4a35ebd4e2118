/**
 * The sim's networks beside the default one: kept in its state (meta `networks`), so they survive a restart.
 * The sim has no NICs, so deleting a network never finds one in use.
 */
import { randomBytes } from 'node:crypto';
import {
  checkNetworkPlan,
  checkTags,
  invalid,
  notFound,
  type CreateNetworkSpec,
  type NativeNetwork,
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

  create(spec: CreateNetworkSpec, now: number): NativeNetwork {
    if (typeof spec.name !== 'string' || spec.name.length === 0 || spec.name.length > 255)
      throw invalid('name', 'must be a non-empty string of at most 255 characters');
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

  delete(id: string): void {
    this.state.tx(() => {
      const all = this.stored();
      if (!all.some((n) => n.nativeId === id)) throw notFound('network', String(id), 'id');
      this.state.setMeta(
        KEY,
        all.filter((n) => n.nativeId !== id),
      );
    });
  }
}
