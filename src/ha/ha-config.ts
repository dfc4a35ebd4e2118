/**
 * All HA timing in one typed config with named defaults, validated at start (config file `ha` section, a few
 * SKYGATE_HA_* variables). Per-group timing (probe interval, fall, rise, RPO) lives in the group's spec instead.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { invalid } from '../core/errors.js';

export interface HaConfig {
  /** Runs the controller (leases, probes, replication schedule, automatic failover); off: the API still answers. */
  enabled: boolean;
  /**
   * Replicates each group on its schedule (within its RPO). Off: replicas are made only when asked
   * (`POST /v1/protection-groups/{id}/replicate`), for sites seeded by hand or tests of the controller alone.
   */
  scheduleReplication: boolean;
  /** Who this controller is in the group leases: stable across restarts, so a restarted gateway resumes its moves. */
  controllerId: string;
  /** How long a lease lasts without renewal: the longest a crashed controller's groups wait for another. */
  leaseTtlMs: number;
  /** Time between controller passes (lease renewal, re-seeding, retrying a group with no healthy site). */
  controllerIntervalMs: number;
  /** Time between load balancer reconcile passes: the longest a forgotten change (HAProxy restart) stays forgotten. */
  lbReconcileIntervalMs: number;
  /** How long a failover waits for the standby to pass its health check before it gives up and rolls back. */
  healthyTimeoutMs: number;
  /** How long a planned switchover lets the old primary's connections finish (drain) before it fences it. */
  drainMs: number;
}

export const HA_DEFAULTS = {
  enabled: true,
  scheduleReplication: true,
  leaseTtlMs: 10_000,
  controllerIntervalMs: 1_000,
  lbReconcileIntervalMs: 2_000,
  healthyTimeoutMs: 120_000,
  drainMs: 2_000,
} as const;

const TIMINGS = ['leaseTtlMs', 'controllerIntervalMs', 'lbReconcileIntervalMs', 'healthyTimeoutMs', 'drainMs'] as const;

/** The default controller id: this host and this data directory (two gateways on one host keep apart). */
export function defaultControllerId(dataDir: string): string {
  return `${hostname()}/${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`;
}

export function loadHaConfig(env: NodeJS.ProcessEnv, file: Partial<HaConfig> = {}, dataDir = '.'): HaConfig {
  const enabledRaw = env.SKYGATE_HA_ENABLED ?? file.enabled ?? HA_DEFAULTS.enabled;
  const enabled = enabledRaw === true || enabledRaw === 'true' || enabledRaw === '1';
  if (![true, false, 'true', 'false', '1', '0'].includes(enabledRaw as never))
    throw invalid('ha.enabled', 'must be true or false');
  const controllerId = env.SKYGATE_HA_CONTROLLER_ID ?? file.controllerId ?? defaultControllerId(dataDir);
  if (typeof controllerId !== 'string' || controllerId.length === 0 || controllerId.length > 200) {
    throw invalid('ha.controllerId', 'must be a non-empty string of at most 200 characters');
  }
  if (file.scheduleReplication !== undefined && typeof file.scheduleReplication !== 'boolean') {
    throw invalid('ha.scheduleReplication', 'must be true or false');
  }
  const config = { ...HA_DEFAULTS, ...file, enabled, controllerId } as HaConfig;
  for (const key of TIMINGS) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 10 || v > 3_600_000) {
      throw invalid(`ha.${key}`, `must be a whole number of milliseconds from 10 to 3600000 (got ${String(v)})`);
    }
  }
  if (config.leaseTtlMs < 2 * config.controllerIntervalMs) {
    throw invalid(
      'ha.leaseTtlMs',
      'must be at least twice ha.controllerIntervalMs, or a live controller loses its lease between renewals',
    );
  }
  for (const key of Object.keys(file)) {
    if (!(key in HA_DEFAULTS) && key !== 'controllerId') throw invalid(`ha.${key}`, 'is not an HA setting');
  }
  return config;
}
