/**
 * The `openstack-octavia` LoadBalancerAdapter: the members of an Octavia load balancer's pools.
 * A target's id is `address:port`, as at every skygate load balancer, so the HA module can name it
 * without asking Octavia for its member UUID first.
 *
 * Drain is weight 0, not admin_state_up false: Octavia documents weight 0 as "receives no new
 * connections but keeps serving the existing ones" (haproxy's DRAIN), which is what draining means.
 * admin_state_up false takes the member out at once, so it is `maintenance`. The weight a drained
 * member had is kept in a member tag and given back when it is made active again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SkygateError,
  invalid,
  isSkygateError,
  notFound,
  type LbTarget,
  type LoadBalancerAdapter,
  type TargetHealth,
  type TargetState,
} from '../../src/core/index.js';
import { ServiceClient } from './http.js';
import { keystoneFor } from './keystone.js';
import { Octavia, octaviaBase, type MemberChange, type OctaviaMember } from './octavia.js';
import type { OpenStackSettings } from './openstack-settings.js';

const WEIGHT_TAG = 'skygate-weight:';
const TARGET_STATES: ReadonlySet<string> = new Set<TargetState>(['active', 'draining', 'maintenance']);

export class OpenStackLoadBalancerAdapter implements LoadBalancerAdapter {
  readonly type = 'openstack-octavia';
  private readonly octavia: Octavia;
  private loadBalancerId?: Promise<string | undefined>;
  /** A change waits up to lbWaitTimeoutMs for ACTIVE, and its last request may take requestTimeoutMs more. */
  readonly callTimeoutMs: number;

  constructor(
    readonly providerId: string,
    private readonly settings: OpenStackSettings,
  ) {
    this.callTimeoutMs = settings.lbWaitTimeoutMs + settings.requestTimeoutMs;
    const keystone = keystoneFor(providerId, settings);
    this.octavia = new Octavia(
      new ServiceClient(keystone, 'load-balancer', {
        provider: providerId,
        timeoutMs: settings.requestTimeoutMs,
        base: octaviaBase,
      }),
    );
  }

  /** The pools of the configured load balancer, or every pool of the project when none is configured. */
  async listPools(): Promise<Array<{ id: string; name: string }>> {
    const pools = await this.octavia.listPools(await this.lbId());
    return pools.map((p) => ({ id: p.id, name: p.name }));
  }

  async listTargets(poolId: string): Promise<LbTarget[]> {
    return (await this.members(poolId)).map(toTarget);
  }

  /** Adding an `address:port` that is already a member only sets its weight. */
  async registerTarget(poolId: string, target: { address: string; port: number; weight?: number }): Promise<LbTarget> {
    const weight = target.weight ?? 1;
    if (!Number.isInteger(weight) || weight < 0 || weight > 256) throw badWeight(weight);
    const existing = (await this.members(poolId)).find((m) => m.address === target.address && m.protocol_port === target.port);
    if (existing) {
      if (target.weight === undefined || existing.weight === weight) return toTarget(existing);
      return toTarget(await this.change(poolId, existing.id, { weight }));
    }
    const member = await this.mutate(poolId, () =>
      this.octavia.createMember(poolId, {
        address: target.address,
        protocol_port: target.port,
        weight,
        ...(this.settings.memberSubnetId !== undefined && { subnet_id: this.settings.memberSubnetId }),
      }),
    );
    return toTarget(member);
  }

  async deregisterTarget(poolId: string, targetId: string): Promise<void> {
    const member = await this.member(poolId, targetId);
    await this.mutate(poolId, async () => {
      try {
        await this.octavia.deleteMember(poolId, member.id);
      } catch (e) {
        if (!isSkygateError(e) || e.code !== 'not_found') throw e;
      }
    });
  }

  async setTargetState(poolId: string, targetId: string, state: TargetState): Promise<void> {
    if (!TARGET_STATES.has(state)) throw invalid('state', `must be one of ${[...TARGET_STATES].join(', ')}`);
    const m = await this.member(poolId, targetId);
    const saved = savedWeight(m);
    const otherTags = (m.tags ?? []).filter((t) => !t.startsWith(WEIGHT_TAG));
    let change: MemberChange;
    if (state === 'active') {
      change = { admin_state_up: true, weight: m.weight > 0 ? m.weight : (saved ?? 1), tags: otherTags };
    } else if (state === 'draining') {
      // remember the weight to give back; a member drained twice keeps the first one
      const keep = m.weight > 0 ? m.weight : saved;
      change = { admin_state_up: true, weight: 0, tags: keep === undefined ? otherTags : [...otherTags, `${WEIGHT_TAG}${keep}`] };
    } else {
      change = { admin_state_up: false };
    }
    await this.change(poolId, m.id, change);
  }

  private async change(poolId: string, memberId: string, change: MemberChange): Promise<OctaviaMember> {
    return this.mutate(poolId, () => this.octavia.updateMember(poolId, memberId, change));
  }

  /**
   * Octavia refuses changes (409) while the load balancer is PENDING_*: wait for ACTIVE, make the
   * change (again, if it was refused as immutable), then wait until Octavia has applied it.
   */
  private async mutate<T>(poolId: string, run: () => Promise<T>): Promise<T> {
    const pool = await this.octavia.getPool(poolId);
    const lbId = pool.loadbalancers[0]?.id;
    const deadline = Date.now() + this.settings.lbWaitTimeoutMs;
    for (let delay = 100; ; delay = Math.min(1000, delay * 2)) {
      if (lbId) await this.waitActive(lbId, deadline);
      try {
        const result = await run();
        if (lbId) await this.waitActive(lbId, deadline);
        return result;
      } catch (e) {
        if (!isSkygateError(e) || e.code !== 'conflict' || !/immutable/i.test(e.message) || Date.now() > deadline) throw e;
        await sleep(delay);
      }
    }
  }

  private async waitActive(lbId: string, deadline: number): Promise<void> {
    for (let delay = 100; ; delay = Math.min(1000, delay * 2)) {
      const lb = await this.octavia.getLoadBalancer(lbId);
      if (lb.provisioning_status === 'ACTIVE') return;
      if (lb.provisioning_status === 'ERROR') {
        throw new SkygateError('provider_unavailable', `load balancer '${lbId}' is in provisioning state ERROR`, {
          provider: this.providerId,
        });
      }
      if (Date.now() > deadline) {
        throw new SkygateError(
          'timeout',
          `load balancer '${lbId}' still ${lb.provisioning_status} after ${this.settings.lbWaitTimeoutMs} ms`,
          { provider: this.providerId },
        );
      }
      await sleep(delay);
    }
  }

  private async members(poolId: string): Promise<OctaviaMember[]> {
    return this.octavia.listMembers(poolId);
  }

  private async member(poolId: string, targetId: string): Promise<OctaviaMember> {
    const member = (await this.members(poolId)).find((m) => targetIdOf(m) === targetId);
    if (!member) throw notFound(`target in pool '${poolId}'`, targetId, 'targetId');
    return member;
  }

  /** The configured load balancer's id (a name is looked up once). */
  private lbId(): Promise<string | undefined> {
    const ref = this.settings.loadBalancer;
    this.loadBalancerId ??= (async () => {
      if (ref === undefined) return undefined;
      const byName = await this.octavia.findLoadBalancers(ref);
      if (byName.length === 1) return byName[0]?.id;
      return (await this.octavia.getLoadBalancer(ref)).id;
    })().catch((e) => {
      this.loadBalancerId = undefined;
      throw e;
    });
    return this.loadBalancerId;
  }
}

const targetIdOf = (m: OctaviaMember) => `${m.address}:${m.protocol_port}`;

function savedWeight(m: OctaviaMember): number | undefined {
  const tag = (m.tags ?? []).find((t) => t.startsWith(WEIGHT_TAG));
  return tag === undefined ? undefined : Number(tag.slice(WEIGHT_TAG.length));
}

function toTarget(m: OctaviaMember): LbTarget {
  const state: TargetState = !m.admin_state_up ? 'maintenance' : m.weight === 0 ? 'draining' : 'active';
  return { id: targetIdOf(m), address: m.address, port: m.protocol_port, state, health: toHealth(m, state), weight: m.weight };
}

/** Without a health monitor (or with noop back ends) Octavia reports NO_MONITOR or OFFLINE: unknown. */
function toHealth(m: OctaviaMember, state: TargetState): TargetHealth {
  if (state === 'maintenance') return 'maintenance';
  if (state === 'draining' || m.operating_status === 'DRAINING') return 'draining';
  if (m.operating_status === 'ONLINE') return 'healthy';
  if (m.operating_status === 'ERROR') return 'unhealthy';
  return 'unknown';
}

const badWeight = (weight: number) =>
  new SkygateError('invalid_input', `weight: must be an integer from 0 to 256 (got ${weight})`, {
    field: 'weight',
    errors: [{ field: 'weight', reason: 'must be an integer from 0 to 256' }],
  });
