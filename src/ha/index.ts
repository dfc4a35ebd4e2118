/** The HA module's public surface: the load balancer desired state and its reconcile loop; site health probes. */
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
