/** Octavia v2 (load-balancer): load balancers' provisioning state, pools and pool members. */
import type { ServiceClient } from './http.js';

export interface OctaviaLoadBalancer {
  id: string;
  name: string;
  provisioning_status: string;
  pools: Array<{ id: string }>;
}

export interface OctaviaPool {
  id: string;
  name: string;
  loadbalancers: Array<{ id: string }>;
}

export interface OctaviaMember {
  id: string;
  address: string;
  protocol_port: number;
  weight: number;
  admin_state_up: boolean;
  provisioning_status: string;
  /** ONLINE, OFFLINE, DRAINING, ERROR or NO_MONITOR. */
  operating_status: string;
  tags?: string[];
}

export interface MemberChange {
  weight?: number;
  admin_state_up?: boolean;
  tags?: string[];
}

export class Octavia {
  constructor(readonly http: ServiceClient) {}

  async getLoadBalancer(id: string): Promise<OctaviaLoadBalancer> {
    return (await this.http.json<{ loadbalancer: OctaviaLoadBalancer }>('GET', `/lbaas/loadbalancers/${enc(id)}`)).data
      .loadbalancer;
  }

  async findLoadBalancers(name: string): Promise<OctaviaLoadBalancer[]> {
    return (await this.http.json<{ loadbalancers: OctaviaLoadBalancer[] }>('GET', '/lbaas/loadbalancers', { query: { name } }))
      .data.loadbalancers;
  }

  async listPools(loadBalancerId?: string): Promise<OctaviaPool[]> {
    const { data } = await this.http.json<{ pools: OctaviaPool[] }>('GET', '/lbaas/pools', {
      query: { loadbalancer_id: loadBalancerId },
    });
    return data.pools;
  }

  async getPool(id: string): Promise<OctaviaPool> {
    return (await this.http.json<{ pool: OctaviaPool }>('GET', `/lbaas/pools/${enc(id)}`)).data.pool;
  }

  async listMembers(poolId: string): Promise<OctaviaMember[]> {
    return (await this.http.json<{ members: OctaviaMember[] }>('GET', `/lbaas/pools/${enc(poolId)}/members`)).data.members;
  }

  async createMember(
    poolId: string,
    member: { address: string; protocol_port: number; weight: number; subnet_id?: string },
  ): Promise<OctaviaMember> {
    const { data } = await this.http.json<{ member: OctaviaMember }>('POST', `/lbaas/pools/${enc(poolId)}/members`, {
      json: { member },
    });
    return data.member;
  }

  async updateMember(poolId: string, memberId: string, change: MemberChange): Promise<OctaviaMember> {
    const { data } = await this.http.json<{ member: OctaviaMember }>(
      'PUT',
      `/lbaas/pools/${enc(poolId)}/members/${enc(memberId)}`,
      { json: { member: change } },
    );
    return data.member;
  }

  async deleteMember(poolId: string, memberId: string): Promise<void> {
    await this.http.send('DELETE', `/lbaas/pools/${enc(poolId)}/members/${enc(memberId)}`);
  }
}

/** The catalog lists octavia without its version. */
export const octaviaBase = (endpoint: string) => (/\/v2(\.\d+)?$/.test(endpoint) ? endpoint : `${endpoint}/v2`);

const enc = encodeURIComponent;
