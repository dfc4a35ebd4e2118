/** Misbehaving on purpose: injected latency, errors and outages, plus a token-bucket rate limit. */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SkygateError } from '../../src/core/index.js';

export interface SimFaults {
  /** Fraction (0..1) of calls that fail with provider_unavailable. */
  errorRate: number;
  /** Delay added to every call, health checks included. */
  addedLatencyMs: number;
  /** When on, every call fails with provider_unavailable and health reports down. */
  outage: boolean;
}

export const NO_FAULTS: SimFaults = { errorRate: 0, addedLatencyMs: 0, outage: false };

export const simRequestId = (): string => `sim-req-${randomBytes(8).toString('hex')}`;

/** Requests per second with a burst allowance, refilled continuously like the big clouds' API throttles. */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly providerId: string,
    private readonly requestsPerSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.requestsPerSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return;
    }
    const waitSeconds = (1 - this.tokens) / this.requestsPerSecond;
    throw new SkygateError('throttled', `sim: rate limit of ${this.requestsPerSecond} requests/s exceeded`, {
      provider: this.providerId,
      requestId: simRequestId(),
      // Retry-After is whole seconds; rounding up means a caller that obeys it never hits an empty bucket.
      retryAfter: Math.max(1, Math.ceil(waitSeconds)),
    });
  }
}

/** The gate every API call passes: latency first (it is "network"), then outage, throttling and random errors. */
export class FaultInjector {
  constructor(
    private readonly providerId: string,
    private faults: SimFaults,
    private readonly persist: (faults: SimFaults) => void,
    private readonly bucket?: TokenBucket,
  ) {}

  get(): SimFaults {
    return { ...this.faults };
  }

  set(faults: SimFaults): void {
    this.persist(faults);
    this.faults = { ...faults };
  }

  async before(): Promise<void> {
    await this.delay();
    if (this.faults.outage) throw this.unavailable('sim: provider outage (outage switch is on)');
    this.bucket?.take();
    if (this.faults.errorRate > 0 && Math.random() < this.faults.errorRate) {
      throw this.unavailable(`sim: injected failure (errorRate ${this.faults.errorRate})`);
    }
  }

  async delay(): Promise<void> {
    if (this.faults.addedLatencyMs > 0) await sleep(this.faults.addedLatencyMs);
  }

  private unavailable(message: string): SkygateError {
    return new SkygateError('provider_unavailable', message, { provider: this.providerId, requestId: simRequestId() });
  }
}
