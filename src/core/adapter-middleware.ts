/** Cross-cutting behaviour around every adapter call, written once: timeout, retry, error normalisation, metrics. */
import { setTimeout as sleep } from 'node:timers/promises';
import { Histogram } from 'prom-client';
import { SkygateError, toSkygateError } from './errors.js';
import type { CloudAdapter } from './ports.js';

export interface AdapterCallPolicy {
  /** Per-call deadline. */
  timeoutMs: number;
  /** Attempts for retryable errors (throttled, unavailable, timeout); 1 disables retries. */
  maxAttempts: number;
  /** First backoff; doubles each attempt, with jitter, capped at 5 s. */
  baseDelayMs: number;
}

export const DEFAULT_CALL_POLICY: AdapterCallPolicy = { timeoutMs: 30_000, maxAttempts: 3, baseDelayMs: 100 };

/** Calls that consume a stream or return one cannot be retried or bounded by a call deadline. */
const STREAMING = new Set(['uploadImage', 'downloadImage']);
/** Plain accessors that never reach the provider. */
const LOCAL = new Set(['capabilities', 'close', 'type', 'providerId', 'extensions']);

export const adapterCallSeconds = new Histogram({
  name: 'skygate_adapter_call_seconds',
  help: 'Adapter calls by provider, method and outcome (ok or error code)',
  labelNames: ['provider', 'method', 'outcome'],
  buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 30],
});

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

/**
 * Wraps a CloudAdapter so that every provider call is bounded, retried when the error says it may be,
 * normalised into the taxonomy and measured. Creates are safe to retry because every create carries
 * a client token.
 */
export function withCallPolicy(adapter: CloudAdapter, policy: AdapterCallPolicy = DEFAULT_CALL_POLICY): CloudAdapter {
  const provider = adapter.providerId;
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function' || LOCAL.has(prop)) return value;
      const method = prop;
      return async (...args: unknown[]) => {
        const streaming = STREAMING.has(method);
        const attempts = streaming ? 1 : policy.maxAttempts;
        for (let attempt = 1; ; attempt++) {
          const end = adapterCallSeconds.startTimer({ provider, method });
          try {
            const call = Promise.resolve(value.apply(target, args));
            const result = streaming ? await call : await withDeadline(call, policy.timeoutMs, provider, method);
            end({ outcome: 'ok' });
            return result;
          } catch (e) {
            const err = toSkygateError(e, provider);
            end({ outcome: err.code });
            if (!err.retryable || attempt >= attempts) throw err;
            const backoff = Math.min(5000, policy.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
            await sleep(Math.max(backoff, (err.retryAfter ?? 0) * 1000));
          }
        }
      };
    },
  });
}
