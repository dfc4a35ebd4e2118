/** Reusable steps: call the provider once, then wait until the resource reaches the state asked for. */
import { setTimeout as sleep } from 'node:timers/promises';
import { SkygateError } from '../errors.js';
import { formatId } from '../ids.js';
import type { ResourceKind } from '../model.js';
import { getNative, type NativeOf } from '../resources.js';
import type { Step, StepContext } from './engine.js';

export interface WaitOptions {
  /** States that end the wait successfully. */
  until: string[];
  /** States that end it with a failure. */
  failOn?: string[];
  /** The resource disappearing counts as success (deletes). */
  goneIsDone?: boolean;
  timeoutMs?: number;
}

const DEFAULT_WAIT_MS = 15 * 60_000;

/** The native id the operation acts on, set at submit time or by its create step. */
export function nativeIdOf(ctx: StepContext): string {
  const id = ctx.op.state.nativeId;
  if (typeof id !== 'string') throw new SkygateError('internal', `operation ${ctx.op.id} has no target yet`);
  return id;
}

/** A step that calls the provider; the call must be idempotent because a resumed operation repeats it. */
export function callStep(name: string, call: (ctx: StepContext) => Promise<void>): Step {
  return { name, run: call };
}

/** A create step: runs `create` once, remembers the native id and caches the new resource. */
export function createStep<K extends ResourceKind>(
  name: string,
  kind: K,
  create: (ctx: StepContext) => Promise<NativeOf<K>>,
): Step {
  return {
    name,
    async run(ctx) {
      const native = await create(ctx);
      const provider = ctx.op.provider ?? '';
      ctx.op.state.nativeId = native.nativeId;
      ctx.op.target = formatId(provider, native.nativeId);
      await ctx.inventory.record(kind, provider, native);
      await ctx.events.emit(`${kind}.created`, ctx.op.target, { operation: ctx.op.id });
    },
  };
}

/**
 * Polls one resource (with backoff) until it reaches one of `until`, failing on `failOn` or timeout; every
 * state seen is written into the inventory before this returns, so the operation never finishes ahead of
 * what readers see. Answers the final state (`gone` when a delete made it disappear).
 */
export async function waitForState(
  ctx: StepContext,
  kind: ResourceKind,
  nativeId: string,
  opts: WaitOptions & { quiet?: boolean },
): Promise<string> {
  const provider = ctx.op.provider ?? '';
  const id = formatId(provider, nativeId);
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_WAIT_MS);
  let delay = 50;
  let lastState = '';
  for (;;) {
    let state: string;
    try {
      const native = await getNative(ctx.adapter, kind, nativeId);
      state = (native as { state?: string }).state ?? '';
      await ctx.inventory.record(kind, provider, native);
    } catch (e) {
      if (opts.goneIsDone && e instanceof SkygateError && e.code === 'not_found') {
        await ctx.inventory.forget(kind, id);
        return 'gone';
      }
      throw e;
    }
    if (opts.until.includes(state)) {
      await ctx.events.emit(`${kind}.${state}`, id, { operation: ctx.op.id });
      return state;
    }
    if (opts.failOn?.includes(state)) {
      throw new SkygateError('conflict', `${kind} ${nativeId} reached state '${state}' instead of ${opts.until.join(' or ')}`, {
        provider,
      });
    }
    if (state !== lastState) {
      lastState = state;
      if (!opts.quiet) await ctx.report(`${kind} is ${state}`);
    }
    if (Date.now() > deadline) {
      throw new SkygateError('timeout', `${kind} ${nativeId} still '${state}' after ${opts.timeoutMs ?? DEFAULT_WAIT_MS} ms`, {
        provider,
      });
    }
    await sleep(delay);
    delay = Math.min(2_000, Math.round(delay * 1.5));
  }
}

/** A step that waits for the operation's own resource (see `waitForState`). */
export function waitStep(name: string, kind: ResourceKind, opts: WaitOptions): Step {
  return {
    name,
    async run(ctx) {
      await waitForState(ctx, kind, nativeIdOf(ctx), opts);
    },
  };
}
