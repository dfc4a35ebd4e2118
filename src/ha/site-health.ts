/**
 * A site's health verdict from rounds of probes, with hysteresis: it changes only after `fall` failing (or `rise`
 * passing) rounds in a row, so a flapping site, passing and failing by turns, never bounces traffic. Pure: no timers.
 */
import { invalid } from '../core/errors.js';
import type { ProbeResult } from './health-probe.js';

export type SiteHealthState = 'unknown' | 'healthy' | 'unhealthy';

export interface HealthRound {
  at: string;
  ok: boolean;
  /** Targets that passed, of `total` probed. */
  passing: number;
  total: number;
  /** Why the round failed, or what failed in a round that passed anyway (the first failure). */
  detail?: string;
}

export interface HealthTransition {
  at: string;
  from: SiteHealthState;
  to: SiteHealthState;
}

export interface HealthChange {
  state: SiteHealthState;
  changed: boolean;
  previous: SiteHealthState;
}

export interface SiteHealthSnapshot {
  state: SiteHealthState;
  /** When the state last changed; null while the site has had no verdict. */
  since: string | null;
  consecutivePasses: number;
  consecutiveFails: number;
  /** Oldest first, the newest `ROUND_HISTORY`. */
  rounds: HealthRound[];
  /** Oldest first, the newest `TRANSITION_HISTORY`. */
  transitions: HealthTransition[];
}

export const ROUND_HISTORY = 50;
export const TRANSITION_HISTORY = 20;

export interface SiteHealthOptions {
  fall: number;
  rise: number;
  /** Milliseconds since the epoch; stamps a round that has no probe to take its time from. */
  now?: () => number;
}

export class SiteHealth {
  private current: SiteHealthState = 'unknown';
  private since: string | null = null;
  private passes = 0;
  private fails = 0;
  private readonly rounds: HealthRound[] = [];
  private readonly transitions: HealthTransition[] = [];
  private readonly now: () => number;

  constructor(private readonly options: SiteHealthOptions) {
    for (const name of ['fall', 'rise'] as const) {
      if (!Number.isInteger(options[name]) || options[name] < 1) throw invalid(name, 'must be an integer >= 1');
    }
    this.now = options.now ?? Date.now;
  }

  get state(): SiteHealthState {
    return this.current;
  }

  /**
   * Records one round: it passes when at least `minHealthy` targets passed (a site with no targets fails). `at` is the
   * round's time; by default the earliest probe's start.
   */
  record(targetResults: ProbeResult[], minHealthy = 1, at?: string): HealthChange {
    if (!Number.isInteger(minHealthy) || minHealthy < 1) throw invalid('minHealthy', 'must be an integer >= 1');
    const passing = targetResults.filter((r) => r.ok).length;
    const total = targetResults.length;
    const ok = passing >= minHealthy;
    const when = at ?? targetResults.map((r) => r.at).sort()[0] ?? new Date(this.now()).toISOString();
    const firstFailure = targetResults.find((r) => !r.ok);
    let detail: string | undefined;
    if (firstFailure !== undefined) detail = `${firstFailure.target}: ${firstFailure.detail}`;
    else if (!ok) detail = total === 0 ? 'no targets' : `${passing} of ${total} targets passing, ${minHealthy} needed`;
    push(this.rounds, { at: when, ok, passing, total, ...(detail !== undefined && { detail }) }, ROUND_HISTORY);

    if (ok) {
      this.passes++;
      this.fails = 0;
    } else {
      this.fails++;
      this.passes = 0;
    }
    const previous = this.current;
    if (ok && previous !== 'healthy' && this.passes >= this.options.rise) this.current = 'healthy';
    if (!ok && previous !== 'unhealthy' && this.fails >= this.options.fall) this.current = 'unhealthy';
    const changed = this.current !== previous;
    if (changed) {
      this.since = when;
      push(this.transitions, { at: when, from: previous, to: this.current }, TRANSITION_HISTORY);
    }
    return { state: this.current, changed, previous };
  }

  /** A copy of the verdict, counters and bounded history. */
  snapshot(): SiteHealthSnapshot {
    return {
      state: this.current,
      since: this.since,
      consecutivePasses: this.passes,
      consecutiveFails: this.fails,
      rounds: this.rounds.map((r) => ({ ...r })),
      transitions: this.transitions.map((t) => ({ ...t })),
    };
  }
}

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
