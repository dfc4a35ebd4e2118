/** The HA module's public surface. So far: the load balancer desired state and its reconcile loop. */
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
