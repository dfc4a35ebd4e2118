/**
 * The call policy around every adapter call (src/core/adapter-middleware.ts): deadline, retries of retryable
 * errors only, jittered and bounded backoff, Retry-After, streaming calls left alone, metrics; and the registry
 * applying it to load balancers and extensions. Waits go through an injected clock or node:test's mock timers.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it, mock } from 'node:test';
import * as simModule from '../../adapters/sim/index.js';
import {
  type AdapterCallPolicy,
  type CallPolicyClock,
  MAX_BACKOFF_MS,
  adapterCallSeconds,
  backoffMs,
  withCallPolicy,
} from '../../src/core/adapter-middleware.js';
import { type ErrorCode, SkygateError, isSkygateError } from '../../src/core/errors.js';
import { ProviderRegistry } from '../../src/core/registry.js';

const POLICY: AdapterCallPolicy = { timeoutMs: 1000, maxAttempts: 3, baseDelayMs: 100 };
const quiet = { info() {}, warn() {}, error() {} };
let seq = 0;
/** Metrics are process-wide: each test measures a provider of its own. */
const freshProvider = () => `mw-${++seq}`;

/** A clock that records the waits it is asked for and returns at once; `jitter` is what random() draws. */
function recordingClock(jitter = 0.5): CallPolicyClock & { waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms), random: () => jitter };
}

/** A provider stand-in whose `call` fails with each of `errors` in turn, then answers 'done'. */
function flaky(providerId: string, ...errors: SkygateError[]) {
  let calls = 0;
  const next = async () => {
    calls++;
    const e = errors.shift();
    if (e) throw e;
    return 'done';
  };
  return {
    adapter: { providerId, getInstance: next, uploadImage: next, capabilities: () => ({ local: true }) },
    calls: () => calls,
  };
}

const err = (code: ErrorCode, retryAfter?: number) =>
  new SkygateError(code, `injected ${code}`, { ...(retryAfter !== undefined && { retryAfter }) });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(isSkygateError(e), String(e));
    return e.code;
  }
  return assert.fail('expected a rejection');
}

/** How many calls of `provider`'s `method` ended with `outcome`, from the histogram's _count series. */
async function measured(provider: string, method: string, outcome: string): Promise<number> {
  const { values } = await adapterCallSeconds.get();
  const hit = values.find(
    (v) =>
      v.metricName === 'skygate_adapter_call_seconds_count' &&
      v.labels.provider === provider &&
      v.labels.method === method &&
      v.labels.outcome === outcome,
  );
  return hit?.value ?? 0;
}

describe('call policy', () => {
  afterEach(() => mock.timers.reset());

  it('ends a call at its deadline with a retryable timeout, and lets a prompt one through', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const provider = freshProvider();
    let resolveSlow: (v: string) => void = () => {};
    const adapter = {
      providerId: provider,
      getInstance: () => new Promise<string>((r) => (resolveSlow = r)),
      listFlavors: async () => ['f'],
    };
    const wrapped = withCallPolicy(adapter, { ...POLICY, maxAttempts: 1 }, recordingClock());
    const pending = wrapped.getInstance();
    mock.timers.tick(999);
    mock.timers.tick(1);
    const e = await pending.then(
      () => assert.fail('expected a timeout'),
      (x: unknown) => x,
    );
    assert.ok(isSkygateError(e));
    assert.equal(e.code, 'timeout');
    assert.equal(e.retryable, true);
    assert.match(e.message, /getInstance at provider 'mw-\d+' took longer than 1000 ms/);
    resolveSlow('too late');
    assert.deepEqual(await wrapped.listFlavors(), ['f']);
  });

  it("never cuts a call shorter than the adapter's own callTimeoutMs (Octavia waiting for ACTIVE)", async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    let finish: (v: string) => void = () => {};
    const adapter = {
      providerId: freshProvider(),
      callTimeoutMs: 5000,
      setTargetState: () => new Promise<string>((r) => (finish = r)),
    };
    const call = withCallPolicy(adapter, { ...POLICY, maxAttempts: 1 }, recordingClock()).setTargetState();
    mock.timers.tick(4999);
    finish('applied');
    assert.equal(await call, 'applied', 'past the policy deadline of 1000 ms, within the adapter’s 5000 ms');
  });

  it('retries retryable errors up to maxAttempts, and never an error that is not', async () => {
    const provider = freshProvider();
    const clock = recordingClock();
    const ok = flaky(provider, err('throttled'), err('provider_unavailable'));
    assert.equal(await withCallPolicy(ok.adapter, POLICY, clock).getInstance(), 'done');
    assert.equal(ok.calls(), 3);

    const exhausted = flaky(provider, err('timeout'), err('timeout'), err('timeout'), err('timeout'));
    assert.equal(await codeOf(withCallPolicy(exhausted.adapter, POLICY, clock).getInstance()), 'timeout');
    assert.equal(exhausted.calls(), 3, 'maxAttempts bounds the attempts');

    for (const code of ['invalid_input', 'not_found', 'conflict', 'unauthorized', 'quota_exceeded'] as const) {
      const once = flaky(provider, err(code));
      assert.equal(await codeOf(withCallPolicy(once.adapter, POLICY, clock).getInstance()), code);
      assert.equal(once.calls(), 1, `${code} is not retried`);
    }
  });

  it('normalises what an adapter throws into the taxonomy', async () => {
    const provider = freshProvider();
    const adapter = {
      providerId: provider,
      getInstance: async () => {
        throw new TypeError('boom');
      },
    };
    const e = await withCallPolicy(adapter, POLICY, recordingClock())
      .getInstance()
      .catch((x: unknown) => x);
    assert.ok(isSkygateError(e));
    assert.equal(e.code, 'internal');
    assert.equal(e.provider, provider);
  });

  it('backs off exponentially with jitter between half and all of the step, capped at 5 s', async () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const step = Math.min(MAX_BACKOFF_MS, POLICY.baseDelayMs * 2 ** (attempt - 1));
      assert.equal(backoffMs(POLICY, attempt, 0), step / 2);
      const high = backoffMs(POLICY, attempt, 0.999999);
      assert.ok(high <= step && high > step * 0.99, `attempt ${attempt}: ${high} within (${step * 0.99}, ${step}]`);
      assert.ok(high <= MAX_BACKOFF_MS);
    }
    const clock = recordingClock(0.5);
    const policy = { ...POLICY, maxAttempts: 4 };
    const calls = flaky(freshProvider(), err('throttled'), err('throttled'), err('throttled'));
    await withCallPolicy(calls.adapter, policy, clock).getInstance();
    assert.deepEqual(clock.waits, [75, 150, 300], 'jitter 0.5 waits three quarters of 100, 200, 400 ms');
  });

  it('honours Retry-After when it asks for longer than the backoff, and gives up when it exceeds the deadline', async () => {
    const clock = recordingClock(0);
    const polite = flaky(freshProvider(), err('throttled', 0.8));
    assert.equal(await withCallPolicy(polite.adapter, POLICY, clock).getInstance(), 'done');
    assert.deepEqual(clock.waits, [800]);

    const short = flaky(freshProvider(), err('provider_unavailable', 0.01));
    await withCallPolicy(short.adapter, POLICY, clock).getInstance();
    assert.equal(clock.waits[1], 50, 'the backoff wins over a shorter Retry-After');

    const long = flaky(freshProvider(), err('throttled', 60));
    assert.equal(await codeOf(withCallPolicy(long.adapter, POLICY, clock).getInstance()), 'throttled');
    assert.equal(long.calls(), 1, 'a pause longer than the call deadline is the caller’s to take');
    assert.equal(clock.waits.length, 2);
  });

  it('neither retries nor bounds streaming calls', async () => {
    const clock = recordingClock();
    const upload = flaky(freshProvider(), err('provider_unavailable'));
    assert.equal(await codeOf(withCallPolicy(upload.adapter, POLICY, clock).uploadImage()), 'provider_unavailable');
    assert.equal(upload.calls(), 1, 'a consumed stream cannot be sent again');

    mock.timers.enable({ apis: ['setTimeout'] });
    let finish: (v: string) => void = () => {};
    const adapter = { providerId: freshProvider(), downloadImage: () => new Promise<string>((r) => (finish = r)) };
    const download = withCallPolicy(adapter, POLICY, clock).downloadImage();
    mock.timers.tick(POLICY.timeoutMs * 10);
    finish('stream');
    assert.equal(await download, 'stream', 'a long transfer is not cut at the call deadline');
  });

  it('measures every attempt by provider, method and outcome; local accessors are not calls', async () => {
    const provider = freshProvider();
    const calls = flaky(provider, err('throttled'));
    const wrapped = withCallPolicy(calls.adapter, POLICY, recordingClock());
    await wrapped.getInstance();
    assert.equal(await measured(provider, 'getInstance', 'throttled'), 1);
    assert.equal(await measured(provider, 'getInstance', 'ok'), 1);
    assert.deepEqual(wrapped.capabilities(), { local: true }, 'capabilities answers synchronously, unwrapped');
    assert.equal(await measured(provider, 'capabilities', 'ok'), 0);
  });
});

describe('call policy through the registry: load balancers and extensions', () => {
  it('wraps the load balancer and the extensions of both ports, labelled by provider and method', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'skygate-middleware-'));
    const provider = freshProvider();
    const registry = new ProviderRegistry(
      [{ id: provider, type: 'sim', settings: { latencyMs: 0 }, loadBalancer: { settings: { pools: ['web'] } } }],
      async () => simModule,
      dataDir,
      quiet,
      POLICY,
    );
    try {
      await registry.init();
      const lb = registry.loadBalancer(provider);
      await lb.registerTarget('web', { address: '127.0.0.2', port: 8080 });
      assert.equal(await measured(provider, 'registerTarget', 'ok'), 1);
      assert.equal(await codeOf(lb.listTargets('no-such-pool')), 'not_found');
      assert.equal(await measured(provider, 'listTargets', 'not_found'), 1);

      const setHealth = lb.extensions?.setTargetHealth;
      assert.ok(setHealth, 'the sim load balancer offers setTargetHealth');
      await setHealth('web', '127.0.0.2:8080', 'unhealthy');
      assert.equal(await measured(provider, 'extensions.setTargetHealth', 'ok'), 1);
      assert.equal(await codeOf(setHealth('web', '127.0.0.2:8080', 'sick')), 'invalid_input');
      assert.equal(await measured(provider, 'extensions.setTargetHealth', 'invalid_input'), 1);
      assert.equal((await lb.listTargets('web'))[0]?.health, 'unhealthy');

      const faults = registry.cloud(provider).extensions?.getFaults;
      assert.ok(faults);
      await faults();
      assert.equal(await measured(provider, 'extensions.getFaults', 'ok'), 1);
    } finally {
      await registry.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
