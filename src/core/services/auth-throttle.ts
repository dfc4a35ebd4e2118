/**
 * Throttles repeated failed authentication from one address (a token or a secret key being guessed):
 * after `maxFailures` failures within `windowMs`, every attempt from that address is refused until the
 * window ends. Addresses are kept in a bounded map; the oldest window goes first.
 */
import { Counter } from 'prom-client';
import { SkygateError } from '../errors.js';

export interface AuthThrottleOptions {
  /** Failed attempts from one address within a window before it is refused. */
  maxFailures: number;
  windowMs: number;
  /** Addresses remembered at most (memory stays bounded under a spread-out attack). */
  maxAddresses: number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleOptions = { maxFailures: 30, windowMs: 60_000, maxAddresses: 10_000 };

const authFailures = new Counter({
  name: 'skygate_auth_failures_total',
  help: 'Authentication attempts that failed (rejected) or were refused unchecked while their address was throttled (throttled), by front',
  labelNames: ['front', 'outcome'],
});

export class AuthThrottle {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly options: AuthThrottleOptions = DEFAULT_AUTH_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws `throttled`, with the seconds to wait, while `address` has failed too often. */
  check(address: string, front: string): void {
    const w = this.current(address);
    if (!w || w.failures < this.options.maxFailures) return;
    authFailures.inc({ front, outcome: 'throttled' });
    const retryAfter = Math.max(1, Math.ceil((w.start + this.options.windowMs - this.now()) / 1000));
    throw new SkygateError(
      'throttled',
      `too many failed authentication attempts from this address; retry after ${retryAfter} s`,
      { field: 'header.authorization', retryAfter },
    );
  }

  /** Records one failed attempt from `address`. */
  fail(address: string, front: string): void {
    authFailures.inc({ front, outcome: 'rejected' });
    const w = this.current(address);
    if (w) {
      w.failures++;
      return;
    }
    // A Map iterates in insertion order: the first keys hold the oldest windows.
    for (const key of this.windows.keys()) {
      if (this.windows.size < this.options.maxAddresses) break;
      this.windows.delete(key);
    }
    this.windows.set(address, { start: this.now(), failures: 1 });
  }

  /** Addresses currently remembered (for tests of the bound). */
  get size(): number {
    return this.windows.size;
  }

  private current(address: string): { start: number; failures: number } | undefined {
    const w = this.windows.get(address);
    if (w && this.now() - w.start >= this.options.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return w;
  }
}
