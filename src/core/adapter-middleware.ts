/** Cross-cutting behaviour around every adapter call, written once: timeout, retry, error normalisation, metrics. */
import { setTimeout as sleep } from 'node:timers/promises';
import { Histogram } from 'prom-client';
import { SkygateError, toSkygateError } from './errors.js';

export interface AdapterCallPolicy {
  /** Per-call deadline. */
  timeoutMs: number;
  /** Attempts for retryable errors (throttled, unavailable, timeout); 1 disables retries. */
  maxAttempts: number;
  /** First backoff; doubles each attempt, with jitter, capped at 5 s. */
  baseDelayMs: number;
}

export const DEFAULT_CALL_POLICY: AdapterCallPolicy = { timeoutMs: 30_000, maxAttempts: 3, baseDelayMs: 100 };

/** The longest backoff between two attempts, before jitter. */
export const MAX_BACKOFF_MS = 5000;

/** How the policy waits between attempts and draws its jitter: real time and Math.random, or a test's own. */
export interface CallPolicyClock {
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1). */
  random(): number;
}

const REAL_CLOCK: CallPolicyClock = { sleep: (ms) => sleep(ms), random: Math.random };

/** Calls that consume a stream or return one cannot be retried or bounded by a call deadline. */
const STREAMING = new Set(['uploadImage', 'downloadImage']);
/** Plain accessors that never reach the provider. */
const LOCAL = new Set(['capabilities', 'imageCopyScope', 'close', 'type', 'providerId']);

export const adapterCallSeconds = new Histogram({
  name: 'skygate_adapter_call_seconds',
  help: 'Adapter calls (cloud, load balancer and extension methods) by provider, method and outcome (ok or error code)',
  labelNames: ['provider', 'method', 'outcome'],
  buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 30],
});

/**
 * The wait before attempt `attempt + 1`: exponential from `baseDelayMs`, capped at MAX_BACKOFF_MS, with "equal
 * jitter" (between half and all of it) so that callers throttled together do not all come back together.
 */
export function backoffMs(policy: AdapterCallPolicy, attempt: number, random: number): number {
  return Math.min(MAX_BACKOFF_MS, policy.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + random / 2);
}

async function withDeadline<T>(promise: Promise<T>, ms: number, provider: string, method: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SkygateError('timeout', `${method} at provider '${provider}' took longer than ${ms} ms`, { provider })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** One provider call under the policy: bounded, retried when the error says it may be, normalised, measured. */
function policed(
  fn: (...args: unknown[]) => unknown,
  self: object,
  provider: string,
  method: string,
  policy: AdapterCallPolicy,
  clock: CallPolicyClock,
): (...args: unknown[]) => Promise<unknown> {
  const streaming = STREAMING.has(method);
  const attempts = streaming ? 1 : policy.maxAttempts;
  return async (...args: unknown[]) => {
    for (let attempt = 1; ; attempt++) {
      const end = adapterCallSeconds.startTimer({ provider, method });
      try {
        const call = Promise.resolve(fn.apply(self, args));
        const result = streaming ? await call : await withDeadline(call, policy.timeoutMs, provider, method);
        end({ outcome: 'ok' });
        return result;
      } catch (e) {
        const err = toSkygateError(e, provider);
        end({ outcome: err.code });
        if (!err.retryable || attempt >= attempts) throw err;
        const asked = (err.retryAfter ?? 0) * 1000;
        // A provider that asks for a longer pause than a whole call may take is answered now; the caller
        // (an operation step, a reconcile loop) comes back later instead of holding a request that long.
        if (asked > policy.timeoutMs) throw err;
        await clock.sleep(Math.max(backoffMs(policy, attempt, clock.random()), asked));
      }
    }
  };
}

/**
 * Wraps an adapter (a CloudAdapter or a LoadBalancerAdapter) so that every provider call, its `extensions`
 * included, is bounded, retried when the error says it may be, normalised into the taxonomy and measured as
 * `skygate_adapter_call_seconds{provider, method}` (an extension is `extensions.<name>`). Creates are safe to
 * retry because every create carries a client token.
 */
export function withCallPolicy<A extends { readonly providerId: string; readonly callTimeoutMs?: number }>(
  adapter: A,
  configured: AdapterCallPolicy = DEFAULT_CALL_POLICY,
  clock: CallPolicyClock = REAL_CLOCK,
): A {
  const provider = adapter.providerId;
  // An adapter whose own settings let a call wait longer (Octavia's lbWaitTimeoutMs) is not cut short.
  const policy = { ...configured, timeoutMs: Math.max(configured.timeoutMs, adapter.callTimeoutMs ?? 0) };
  let extensions: Record<string, unknown> | undefined;
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === 'extensions' && typeof value === 'object' && value !== null) {
        extensions ??= Object.fromEntries(
          Object.entries(value as Record<string, unknown>).map(([name, fn]) => [
            name,
            typeof fn === 'function' ? policed(fn as () => unknown, value, provider, `extensions.${name}`, policy, clock) : fn,
          ]),
        );
        return extensions;
      }
      if (typeof prop !== 'string' || typeof value !== 'function' || LOCAL.has(prop)) return value;
      return policed(value as () => unknown, target, provider, prop, policy, clock);
    },
  });
}
