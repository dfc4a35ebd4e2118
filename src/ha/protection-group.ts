/**
 * A protection group: an application that runs at one site (provider) at a time, kept recoverable at its standby
 * sites. The spec is what the operator asks for; the status is what the controller found and did. Both are stored as
 * JSON (`ProtectionGroupRecord`); these are their types.
 */
import type { HealthCheckSpec } from './health-check-spec.js';
import type { SiteHealthState } from './site-health.js';

export type StandbyMode = 'cold' | 'warm';
export type FailoverMode = 'automatic' | 'manual';

export interface ProtectionGroupSpec {
  name: string;
  /** The site (provider id) the application runs at when the group is made; `status.primary` follows failovers. */
  primary: string;
  /** The instances to protect at the site that is primary when the group is made: ids, or a tag selector. */
  instances: { ids?: string[]; selector?: Record<string, string> };
  /** The other sites (provider ids) kept ready to take over. */
  standbys: string[];
  /** cold: launched from the newest replica at failover; warm: kept running out of traffic, refreshed per replica. */
  standbyMode: StandbyMode;
  replication: {
    /** The most data, in seconds, a failover may lose; replication runs often enough to keep within it. */
    rpoSeconds: number;
    /** Replicas kept per member and site (older ones are deleted, in the clouds too). */
    retain: number;
  };
  healthCheck: HealthCheckSpec;
  /** Where the traffic goes: a load balancer provider's pool, sending to `port` on each instance's private address. */
  traffic: { lbProvider: string; poolId: string; port: number };
  failoverMode: FailoverMode;
  /** A tag whose numeric value orders launches at failover, lowest first (dependencies first); absent: all at once. */
  orderTag?: string;
}

/** One protected instance, by a key that stays the same across failovers (its id at the first primary). */
export interface GroupMember {
  key: string;
  /** Its name tag, if any. */
  name?: string;
  /** Hardware it needs, to pick the closest flavor at another site. */
  vcpus: number;
  memoryMiB: number;
  /** Its launch tier (see `orderTag`); 0 when none. */
  order: number;
  /** Tags copied to the instances that stand in for it. */
  tags: Record<string, string>;
}

export type SiteRole = 'primary' | 'standby';

export interface SiteStatus {
  role: SiteRole;
  health: SiteHealthState;
  /** When `health` last changed. */
  healthSince?: string;
  /** The instance that serves (primary) or stands by (warm standby) for each member key at this site. */
  instances: Record<string, string>;
  /** A former primary: its instances are fenced and it must be seeded again before it can take traffic. */
  needsReseed?: boolean;
  /** The last replication to this site that failed, and when (cleared by the next success). */
  replicationError?: { message: string; at: string };
}

export type GroupPhase =
  /** Replicating and watching. */
  | 'protecting'
  | 'failing-over'
  | 'switching-over'
  /** The primary failed and no standby could take over: targets kept as they are until a site recovers. */
  | 'no-healthy-site';

export interface FailoverTimeline {
  operationId: string;
  kind: 'failover' | 'switchover';
  from: string;
  to: string;
  reason: string;
  /** Milliseconds each phase took: detect (fault to decision input), decide, fence, launch, healthy, flip. */
  phases: Partial<Record<'detect' | 'decide' | 'fence' | 'launch' | 'healthy' | 'flip', number>>;
  startedAt: string;
  finishedAt?: string;
  /** Age, in seconds, of the replica data the new primary started from (cold) or holds (warm), at the decision. */
  replicaAgeSeconds?: number;
  outcome?: 'succeeded' | 'failed';
  error?: string;
}

export interface ProtectionGroupStatus {
  primary: string;
  phase: GroupPhase;
  members: GroupMember[];
  sites: Record<string, SiteStatus>;
  failovers: number;
  lastFailover?: FailoverTimeline;
  /** Why the group is in its phase when that needs saying (no healthy site, ...). */
  message?: string;
  /** The failover or switchover operation in progress: one move at a time. */
  activeOperation?: string;
}

/** The replicas a standby site holds, computed when a group is read (never stored). */
export interface SiteReplicas {
  /** Per member key, its newest replica at this site. */
  newest: Record<string, { replicaId: string; imageId: string; dataAt: string }>;
  /**
   * Age in seconds of the oldest of the members' newest replicas: the most data a failover to this site would lose
   * now. Absent while a member has no replica here.
   */
  replicaAgeSeconds?: number;
  /** Every member has a replica here no older than `replication.rpoSeconds`. */
  rpoMet: boolean;
}

/** The group as the API shows it: spec, status, and replica ages computed when read. */
export interface ProtectionGroup {
  id: string;
  spec: ProtectionGroupSpec;
  status: ProtectionGroupStatus;
  generation: number;
  createdAt: string;
  updatedAt: string;
  /** Per site other than the current primary (computed when read, by the group service). */
  replicas?: Record<string, SiteReplicas>;
}
