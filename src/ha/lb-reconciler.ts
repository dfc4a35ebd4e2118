/**
 * The load balancer reconcile loop: every interval, each managed pool is made to hold exactly its desired targets
 * (from the store), so a load balancer that forgot its runtime changes (HAProxy after a restart or reload) carries the
 * right traffic again within one interval, without an operator. Failover writes the desired state through `setDesired`,
 * which applies it at once.
 */
import { SkygateError, toSkygateError, type SerializedError } from '../core/errors.js';
import type { LbTarget, LoadBalancerAdapter } from '../core/ports.js';
import type { DesiredPool, DesiredTarget, Fence, Store } from '../core/store-port.js';
import { checkDesiredTargets } from './desired-targets.js';

export type DesiredStateStore = Pick<Store, 'getDesiredPool' | 'listDesiredPools' | 'putDesiredPool' | 'deleteDesiredPool'>;

export interface LbReconcilerDeps {
  store: DesiredStateStore;
  /** The load balancer of a provider, as the registry holds it (with the call policy around it). */
  loadBalancer(lbProvider: string): LoadBalancerAdapter;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** Where a pass that had to repair something says so (the event stream). */
  events?: { emit(type: string, subject: string | undefined, data: Record<string, unknown>): Promise<unknown> };
}

export interface LbReconcilerOptions {
  /** Time from the end of one pass to the start of the next: the longest a forgotten change stays forgotten. */
  intervalMs: number;
}

export const DEFAULT_RECONCILER_OPTIONS: LbReconcilerOptions = { intervalMs: 2000 };

export interface TargetChange {
  targetId: string;
  action: 'register' | 'deregister' | 'state' | 'weight';
  from?: string | number;
  to?: string | number;
}

export interface PoolReconcileResult {
  lbProvider: string;
  poolId: string;
  /** The desired state's generation this pass applied (0: the pool is not managed). */
  generation: number;
  changes: TargetChange[];
  /** Why the pass stopped short; the next pass tries again. */
  error?: SerializedError;
}

export class LbReconciler {
  private readonly options: LbReconcilerOptions;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<unknown>;
  private running = false;
  /** One reconciliation per pool at a time: a periodic pass and a failover's setDesired never interleave their changes. */
  private readonly poolLocks = new Map<string, Promise<unknown>>();
  /** The last error logged per pool, so a load balancer that stays down is reported once, not every interval. */
  private readonly lastError = new Map<string, string>();

  constructor(
    private readonly deps: LbReconcilerDeps,
    options: Partial<LbReconcilerOptions> = {},
  ) {
    this.options = { ...DEFAULT_RECONCILER_OPTIONS, ...options };
    const { intervalMs } = this.options;
    if (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) || intervalMs < 10) {
      throw new SkygateError(
        'invalid_input',
        `ha.lbReconcileIntervalMs must be a whole number of milliseconds >= 10 (got ${intervalMs})`,
        {
          field: 'ha.lbReconcileIntervalMs',
        },
      );
    }
  }

  /** Starts the periodic passes (the first one right away). Calling it again while running does nothing. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = () => {
      this.pass = this.reconcileAll()
        .catch((e) => this.deps.log.warn({ err: toSkygateError(e).message }, 'lb reconcile: pass failed'))
        .finally(() => {
          // unref: the loop alone must not keep a process alive that has nothing else to do.
          if (this.running) this.timer = setTimeout(tick, this.options.intervalMs).unref();
        });
    };
    tick();
  }

  /** Stops the passes and waits for one in progress to finish. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.pass;
  }

  /**
   * Records what a pool should hold (the complete set: a target left out is removed) and applies it now. The record is
   * kept even when the load balancer cannot be reached: the loop applies it once it can, and the answer says what
   * happened this time. `expectGeneration` makes the write conditional on the generation the caller read; `fence`
   * on the caller still holding its lease (a controller that lost it changes nothing).
   */
  async setDesired(
    lbProvider: string,
    poolId: string,
    targets: DesiredTarget[],
    opts: { expectGeneration?: number; fence?: Fence } = {},
  ): Promise<{ pool: DesiredPool; result: PoolReconcileResult }> {
    const checked = checkDesiredTargets(targets);
    this.deps.loadBalancer(lbProvider); // an unknown provider, or one without a load balancer, fails here
    const pool = await this.deps.store.putDesiredPool(
      { lbProvider, poolId, targets: checked, updatedAt: new Date().toISOString() },
      opts.expectGeneration,
      opts.fence,
    );
    return { pool, result: await this.reconcilePool(lbProvider, poolId) };
  }

  /** Stops managing a pool; its targets stay as they are in the load balancer. */
  async forget(lbProvider: string, poolId: string): Promise<boolean> {
    return this.withPoolLock(lbProvider, poolId, () => this.deps.store.deleteDesiredPool(lbProvider, poolId));
  }

  /** One pass over every managed pool, pools in parallel. */
  async reconcileAll(): Promise<PoolReconcileResult[]> {
    const pools = await this.deps.store.listDesiredPools();
    return Promise.all(pools.map((p) => this.reconcilePool(p.lbProvider, p.poolId)));
  }

  /** Makes one pool hold its desired targets; never throws for the load balancer's failures, it reports them. */
  reconcilePool(lbProvider: string, poolId: string): Promise<PoolReconcileResult> {
    return this.withPoolLock(lbProvider, poolId, async () => {
      const desired = await this.deps.store.getDesiredPool(lbProvider, poolId);
      const result: PoolReconcileResult = { lbProvider, poolId, generation: desired?.generation ?? 0, changes: [] };
      if (desired === undefined) return result;
      try {
        await converge(this.deps.loadBalancer(lbProvider), desired, result.changes);
      } catch (e) {
        result.error = toSkygateError(e, lbProvider).toJSON();
      }
      await this.report(result);
      return result;
    });
  }

  private async report(result: PoolReconcileResult): Promise<void> {
    const key = `${result.lbProvider}/${result.poolId}`;
    const subject = key;
    if (result.error !== undefined) {
      if (this.lastError.get(key) !== result.error.message) {
        this.deps.log.warn({ pool: key, err: result.error.message, changes: result.changes }, 'lb reconcile: pool not converged');
      }
      this.lastError.set(key, result.error.message);
    } else if (this.lastError.delete(key)) {
      this.deps.log.info({ pool: key }, 'lb reconcile: pool converged again');
    }
    if (result.changes.length === 0) return;
    this.deps.log.info(
      { pool: key, generation: result.generation, changes: result.changes },
      'lb reconcile: re-applied desired targets',
    );
    await this.deps.events
      ?.emit('lb.reconciled', subject, {
        lbProvider: result.lbProvider,
        poolId: result.poolId,
        generation: result.generation,
        changes: result.changes,
        ...(result.error !== undefined && { error: result.error }),
      })
      .catch((e) => this.deps.log.warn({ pool: key, err: toSkygateError(e).message }, 'lb reconcile: event not recorded'));
  }

  private withPoolLock<T>(lbProvider: string, poolId: string, fn: () => Promise<T>): Promise<T> {
    const key = `${lbProvider}\u0000${poolId}`;
    const run = (this.poolLocks.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
    const settled = run.catch(() => undefined);
    this.poolLocks.set(key, settled);
    // The map holds at most the tail of each pool's queue.
    void settled.then(() => {
      if (this.poolLocks.get(key) === settled) this.poolLocks.delete(key);
    });
    return run;
  }
}

/**
 * The changes, safest first. Targets about to take traffic that the pool lacks are staged in maintenance; then the
 * targets that must not take traffic are fenced (maintenance) and extra ones removed; only then are targets
 * activated, and last the draining ones drained. So a pass
 * never has two sets of targets taking traffic at once, and the gap between fencing one and activating the other is
 * one quick call per target. The first failure stops the pass: activating after a failed fence could break exactly that.
 */
async function converge(lb: LoadBalancerAdapter, desired: DesiredPool, changes: TargetChange[]): Promise<void> {
  const { poolId } = desired;
  const actual = new Map<string, LbTarget>((await lb.listTargets(poolId)).map((t) => [t.id, t]));
  const wanted = new Map(desired.targets.map((t) => [`${t.address}:${t.port}`, t]));
  const register = async (id: string, t: DesiredTarget, state: DesiredTarget['state']) => {
    const made = await lb.registerTarget(poolId, {
      address: t.address,
      port: t.port,
      state,
      ...(t.weight !== undefined && { weight: t.weight }),
    });
    changes.push({ targetId: id, action: 'register', to: state });
    // An adapter that cannot register a target in another state than active registers it active.
    if (made.state !== state) await lb.setTargetState(poolId, id, state);
    actual.set(id, { ...made, state });
  };
  const place = async (id: string, t: DesiredTarget) => {
    const seen = actual.get(id);
    if (seen === undefined) return register(id, t, t.state);
    if (seen.state !== t.state) {
      await lb.setTargetState(poolId, id, t.state);
      changes.push({ targetId: id, action: 'state', from: seen.state, to: t.state });
    }
    if (t.weight !== undefined && seen.weight !== undefined && seen.weight !== t.weight && lb.setTargetWeight) {
      await lb.setTargetWeight(poolId, id, t.weight);
      changes.push({ targetId: id, action: 'weight', from: seen.weight, to: t.weight });
    }
  };
  for (const [id, t] of wanted) if (t.state === 'active' && !actual.has(id)) await register(id, t, 'maintenance');
  for (const [id, t] of wanted) if (t.state === 'maintenance') await place(id, t);
  for (const id of [...actual.keys()]) {
    if (wanted.has(id)) continue;
    await lb.deregisterTarget(poolId, id);
    actual.delete(id);
    changes.push({ targetId: id, action: 'deregister' });
  }
  for (const [id, t] of wanted) if (t.state === 'active') await place(id, t);
  // Draining last: a drained target only finishes what it has, so the pool must already hold the targets that take
  // the new requests (a planned switchover then fails none); draining is graceful, not a fence.
  for (const [id, t] of wanted) if (t.state === 'draining') await place(id, t);
}
