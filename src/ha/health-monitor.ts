/**
 * Watches sites: every interval, probes each target of a key in parallel, feeds the round to the key's SiteHealth and
 * says when a verdict changes. One loop per key; a round never overlaps the next.
 */
import { invalid, toSkygateError } from '../core/errors.js';
import { checkHealthCheckSpec, type HealthCheckSpec } from './health-check-spec.js';
import { probeOnce } from './health-probe.js';
import { type HealthChange, type HealthRound, SiteHealth, type SiteHealthSnapshot, type SiteHealthState } from './site-health.js';

export interface WatchOptions {
  check: HealthCheckSpec;
  /** The addresses to probe, asked afresh each round (a site's targets change as instances come and go). */
  targets: () => string[] | Promise<string[]>;
  /** Targets that must pass for the round to pass (default 1). */
  minHealthy?: number;
}

/** Listeners are awaited before the next round is scheduled: start long work (a failover) there, do not await it. */
export interface HealthMonitorOptions {
  onChange: (key: string, change: HealthChange, snapshot: SiteHealthSnapshot) => void | Promise<void>;
  onRound?: (key: string, round: HealthRound, snapshot: SiteHealthSnapshot) => void | Promise<void>;
  /** Milliseconds since the epoch: stamps the rounds. */
  clock?: { now(): number };
  log?: { warn(obj: object, msg?: string): void };
}

interface Watch {
  check: HealthCheckSpec;
  targets: WatchOptions['targets'];
  minHealthy: number;
  health: SiteHealth;
  timer?: NodeJS.Timeout;
  round?: Promise<void>;
  stopped: boolean;
}

export class HealthMonitor {
  private readonly watches = new Map<string, Watch>();
  private readonly now: () => number;

  constructor(private readonly options: HealthMonitorOptions) {
    const clock = options.clock;
    this.now = clock === undefined ? Date.now : () => clock.now();
  }

  /**
   * Starts watching `key` (the first round right away). Watching a key again with the same check and minHealthy only
   * takes the new targets and keeps the verdict and history; a different check or minHealthy starts over from unknown,
   * since the old verdict was reached under other rules.
   */
  watch(key: string, opts: WatchOptions): void {
    const check = checkHealthCheckSpec(opts.check, 'check');
    const minHealthy = opts.minHealthy ?? 1;
    if (!Number.isInteger(minHealthy) || minHealthy < 1) throw invalid('minHealthy', 'must be an integer >= 1');
    if (typeof opts.targets !== 'function') throw invalid('targets', 'must be a function answering the addresses to probe');

    const existing = this.watches.get(key);
    if (existing !== undefined && existing.minHealthy === minHealthy && sameCheck(existing.check, check)) {
      existing.targets = opts.targets;
      return;
    }
    if (existing !== undefined) this.halt(existing);
    const w: Watch = {
      check,
      targets: opts.targets,
      minHealthy,
      health: new SiteHealth({ fall: check.fall, rise: check.rise, now: this.now }),
      stopped: false,
    };
    this.watches.set(key, w);
    this.tick(key, w);
  }

  /** Stops watching `key`; a round in flight finishes without reporting. Answers whether it was watched. */
  unwatch(key: string): boolean {
    const w = this.watches.get(key);
    if (w === undefined) return false;
    this.halt(w);
    this.watches.delete(key);
    return true;
  }

  /** Stops every watch and waits for the rounds in flight to end. */
  async stop(): Promise<void> {
    const rounds = [...this.watches.values()].map((w) => {
      this.halt(w);
      return w.round;
    });
    this.watches.clear();
    await Promise.all(rounds);
  }

  state(key: string): SiteHealthState | undefined {
    return this.watches.get(key)?.health.state;
  }

  snapshot(key: string): SiteHealthSnapshot | undefined {
    return this.watches.get(key)?.health.snapshot();
  }

  keys(): string[] {
    return [...this.watches.keys()];
  }

  private halt(w: Watch): void {
    w.stopped = true;
    clearTimeout(w.timer);
  }

  /** One round now, the next one `intervalMs` after this one started (at once if this one took longer). */
  private tick(key: string, w: Watch): void {
    const started = performance.now();
    w.round = this.runRound(key, w)
      .catch((e) => this.options.log?.warn({ key, err: toSkygateError(e).message }, 'health: round failed'))
      .finally(() => {
        if (w.stopped) return;
        const wait = Math.max(0, w.check.intervalMs - (performance.now() - started));
        // unref: watching alone must not keep a process alive that has nothing else to do.
        w.timer = setTimeout(() => this.tick(key, w), wait).unref();
      });
  }

  private async runRound(key: string, w: Watch): Promise<void> {
    const at = new Date(this.now()).toISOString();
    let addresses: string[];
    try {
      addresses = await w.targets();
    } catch (e) {
      // Not knowing the targets says nothing about the site's health: skip the round rather than count it as failed.
      this.options.log?.warn({ key, err: toSkygateError(e).message }, 'health: could not list the targets; round skipped');
      return;
    }
    const results = await Promise.all(addresses.map((a) => probeOnce(a, w.check)));
    if (w.stopped) return; // unwatched or replaced meanwhile: this round belongs to no one
    const change = w.health.record(results, w.minHealthy, at);
    const snapshot = w.health.snapshot();
    const { onRound, onChange } = this.options;
    if (onRound !== undefined) await this.notify(key, 'onRound', () => onRound(key, snapshot.rounds.at(-1)!, snapshot));
    if (change.changed) await this.notify(key, 'onChange', () => onChange(key, change, snapshot));
  }

  /** A listener that fails is logged and does not stop the watch (nor keep onChange from running after onRound). */
  private async notify(key: string, listener: string, call: () => void | Promise<void>): Promise<void> {
    try {
      await call();
    } catch (e) {
      this.options.log?.warn({ key, listener, err: toSkygateError(e).message }, 'health: listener failed');
    }
  }
}

function sameCheck(a: HealthCheckSpec, b: HealthCheckSpec): boolean {
  const fields = ['protocol', 'port', 'path', 'expectStatus', 'intervalMs', 'timeoutMs', 'fall', 'rise'] as const;
  return fields.every((f) => a[f] === b[f]);
}
