/**
 * A protection group of one member written straight into the store (east primary, west standby), for tests of the
 * controller and the failover command that set a group up as the API would, without going through it.
 */
import type { Store } from '../../src/core/store-port.js';
import type { HealthCheckSpec } from '../../src/ha/health-check-spec.js';
import type { ProtectionGroupSpec, ProtectionGroupStatus } from '../../src/ha/protection-group.js';

export interface OneMemberGroup {
  id: string;
  name: string;
  /** The member's instance at sim-east (its key too). */
  member: string;
  /** A warm standby at sim-west; none: cold. */
  standby?: string;
  healthCheck: HealthCheckSpec;
  traffic: ProtectionGroupSpec['traffic'];
  failoverMode?: ProtectionGroupSpec['failoverMode'];
}

/** The HTTP check the HA tests use: the workload's /healthz, fast, one pass to come back. */
export const fastHttpCheck = (port: number): HealthCheckSpec => ({
  protocol: 'http',
  port,
  path: '/healthz',
  expectStatus: 200,
  intervalMs: 300,
  timeoutMs: 200,
  fall: 2,
  rise: 1,
});

export async function insertOneMemberGroup(store: Pick<Store, 'insertProtectionGroup'>, g: OneMemberGroup): Promise<boolean> {
  const spec: ProtectionGroupSpec = {
    name: g.name,
    primary: 'sim-east',
    instances: { ids: [g.member] },
    standbys: ['sim-west'],
    standbyMode: g.standby === undefined ? 'cold' : 'warm',
    replication: { rpoSeconds: 60, retain: 2 },
    healthCheck: g.healthCheck,
    traffic: g.traffic,
    failoverMode: g.failoverMode ?? 'automatic',
  };
  const status: ProtectionGroupStatus = {
    primary: 'sim-east',
    phase: 'protecting',
    members: [{ key: g.member, name: 'app', vcpus: 1, memoryMiB: 1024, order: 0, tags: {} }],
    sites: {
      'sim-east': { role: 'primary', health: 'unknown', instances: { [g.member]: g.member } },
      'sim-west': { role: 'standby', health: 'unknown', instances: g.standby === undefined ? {} : { [g.member]: g.standby } },
    },
    failovers: 0,
  };
  const now = new Date().toISOString();
  return store.insertProtectionGroup({
    id: g.id,
    name: g.name,
    spec: spec as unknown as Record<string, unknown>,
    status: status as unknown as Record<string, unknown>,
    createdAt: now,
    updatedAt: now,
  });
}
