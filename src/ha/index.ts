/** The HA module's public surface: LB desired state and reconcile loop, site health probes, replication. */
export { checkDesiredTargets } from './desired-targets.js';
export {
  DEFAULT_RECONCILER_OPTIONS,
  LbReconciler,
  type DesiredStateStore,
  type LbReconcilerDeps,
  type LbReconcilerOptions,
  type PoolReconcileResult,
  type TargetChange,
} from './lb-reconciler.js';
export { checkHealthCheckSpec, HEALTH_CHECK_DEFAULTS, type HealthCheckSpec } from './health-check-spec.js';
export { probeOnce, type ProbeResult } from './health-probe.js';
export {
  ROUND_HISTORY,
  SiteHealth,
  TRANSITION_HISTORY,
  type HealthChange,
  type HealthRound,
  type HealthTransition,
  type SiteHealthOptions,
  type SiteHealthSnapshot,
  type SiteHealthState,
} from './site-health.js';
export { HealthMonitor, type HealthMonitorOptions, type WatchOptions } from './health-monitor.js';
export { HA_REPLICATE_KIND, outcomeOf, replicateCommand, type ReplicationOutcome } from './replicate-command.js';
export {
  DEFAULT_REPLICATION_LIMITS,
  type Probe,
  type ReplicateDeps,
  type ReplicateGroupInput,
  type ReplicationLimits,
} from './replication-context.js';
export {
  FixedIntervalSchedule,
  ReplicationScheduler,
  type FailureHistory,
  type GroupTrack,
  type ReplicationSchedule,
  type ReplicationSchedulerDeps,
} from './replication-schedule.js';
export { createReplication, type Replication, type ReplicationWiringDeps } from './replication.js';
