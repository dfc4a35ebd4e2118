/**
 * Launching instances (`instance.create`): up to `maxCount` creates in parallel, a wait until they run, and
 * all or nothing below `minCount` (the ones that came up are terminated, as a resumable part of the
 * operation). What the launch said about its instances (key pair, user data, termination protection...) is
 * in the operation's input from the start and is written to each instance as soon as the cloud names it.
 */
import { type ErrorCode, SkygateError, toSkygateError } from '../errors.js';
import { formatId } from '../ids.js';
import type { Operation } from '../model.js';
import type { InstanceAttributes } from '../store-port.js';
import type { CommandDefinition, StepContext } from './engine.js';
import { waitForState } from './steps.js';

export const LAUNCH_KIND = 'instance.create';

/** The launch as the core resolved it; persisted as the operation's input before the first create. */
export interface LaunchInput {
  provider: string;
  name: string;
  /** Native ids at `provider`. */
  flavorId: string;
  imageId: string;
  zone?: string;
  keyName?: string;
  /** The native id of a created network (absent: the default network). */
  networkId?: string;
  /** Cloud-init user data as text (attributes keep it base64, as EC2 shows it). */
  userData?: string;
  tags: Record<string, string>;
  minCount: number;
  maxCount: number;
  /** Set on every instance of the launch (with its launch id and index). */
  attributes: InstanceAttributes;
}

/** The launch's progress, persisted after every change so a resumed operation knows what exists. */
interface LaunchState {
  /** Native id per launch index; null where the create failed. */
  instances: Array<string | null>;
  /** Why each failed create or wait failed, for the final error. */
  failures: Array<{ code: ErrorCode; message: string; requestId?: string }>;
  /** True once every create returned: fronts that answer with the new ids (EC2) wait for this. */
  launched?: boolean;
  /** Instances that reached `running`. */
  running?: string[];
  /** Set before a rollback starts, so a resumed operation finishes it instead of creating again. */
  rollingBack?: boolean;
  [key: string]: unknown;
}

/** Creates at once per launch: enough to make 100 instances quick, few enough not to trip rate limits. */
const CREATE_CONCURRENCY = 8;
/** Writes what the launch said about one instance (skygate id); the instance attribute service's. */
export type RecordLaunch = (instanceId: string, attributes: InstanceAttributes) => Promise<unknown>;

const input = (op: Operation) => op.input as unknown as LaunchInput;
const failure = (e: unknown, provider: string, what: string) => {
  const err = toSkygateError(e, provider);
  return { code: err.code, message: `${what}: ${err.message}`, ...(err.requestId !== undefined && { requestId: err.requestId }) };
};
const state = (op: Operation) => op.state as LaunchState;

/** Runs `work` over `items` with at most `limit` at a time. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  });
  await Promise.all(workers);
}

async function createAll(ctx: StepContext, recordLaunch: RecordLaunch): Promise<void> {
  const launch = input(ctx.op);
  const s = state(ctx.op);
  if (s.rollingBack) return rollBack(ctx);
  s.instances ??= Array.from({ length: launch.maxCount }, () => null);
  s.failures ??= [];
  const provider = launch.provider;
  let done = s.instances.filter((id) => id !== null).length;
  const pending = [...s.instances.keys()].filter((i) => s.instances[i] === null);
  await inParallel(pending, CREATE_CONCURRENCY, async (i) => {
    try {
      // One client token per launch index: a resumed create answers the instance the first one made.
      const native = await ctx.adapter.createInstance({
        name: launch.maxCount > 1 ? `${launch.name}-${i}` : launch.name,
        flavorId: launch.flavorId,
        imageId: launch.imageId,
        zone: launch.zone,
        tags: launch.tags,
        userData: launch.userData,
        keyName: launch.keyName,
        ...(launch.networkId !== undefined && { networkId: launch.networkId }),
        clientToken: launch.maxCount > 1 ? `${ctx.op.id}-${i}` : ctx.op.id,
      });
      const id = formatId(provider, native.nativeId);
      await recordLaunch(id, { ...launch.attributes, launchId: ctx.op.id, launchIndex: i });
      await ctx.inventory.record('instance', provider, native);
      s.instances[i] = native.nativeId;
      ctx.op.target ??= id;
      await ctx.events.emit('instance.created', id, { operation: ctx.op.id });
    } catch (e) {
      s.failures.push(failure(e, provider, `instance ${i}`));
    }
    done++;
    await ctx.report(`created ${done} of ${launch.maxCount}`, done / launch.maxCount);
  });
  const created = s.instances.filter((id): id is string => id !== null);
  if (created.length < launch.minCount) return rollBack(ctx);
  ctx.op.target = formatId(provider, created[0] as string);
  s.launched = true;
}

async function waitAllRunning(ctx: StepContext): Promise<void> {
  const launch = input(ctx.op);
  const s = state(ctx.op);
  if (s.rollingBack) return rollBack(ctx);
  const created = s.instances.filter((id): id is string => id !== null);
  const running: string[] = [];
  await inParallel(created, CREATE_CONCURRENCY, async (nativeId) => {
    try {
      await waitForState(ctx, 'instance', nativeId, { until: ['running'], failOn: ['error', 'terminated'], quiet: true });
      running.push(nativeId);
    } catch (e) {
      s.failures.push(failure(e, launch.provider, nativeId));
    }
    await ctx.report(`${running.length} of ${created.length} running`, running.length / created.length);
  });
  s.running = created.filter((id) => running.includes(id));
  if (running.length < launch.minCount) return rollBack(ctx);
}

/**
 * Fewer than `minCount` came up: every instance that was created is terminated (and waited for), then the
 * operation fails with the first cause and what was rolled back.
 */
async function rollBack(ctx: StepContext): Promise<never> {
  const launch = input(ctx.op);
  const s = state(ctx.op);
  if (!s.rollingBack) {
    s.rollingBack = true;
    await ctx.report('rolling back');
  }
  const created = (s.instances ?? []).filter((id): id is string => id !== null);
  const left: string[] = [];
  await inParallel(created, CREATE_CONCURRENCY, async (nativeId) => {
    try {
      await ctx.adapter.deleteInstance(nativeId);
      await waitForState(ctx, 'instance', nativeId, { until: ['terminated'], goneIsDone: true, quiet: true });
    } catch (e) {
      const err = toSkygateError(e, launch.provider);
      if (err.code !== 'not_found') left.push(`${nativeId} (${err.message})`);
    }
  });
  const ids = created.map((id) => formatId(launch.provider, id));
  const cause = s.failures[0] ?? { code: 'conflict' as const, message: 'no instance came up' };
  const came = s.running?.length ?? created.length;
  const rolledBack =
    created.length === 0
      ? 'nothing was left behind'
      : `rolled back: terminated ${ids.join(', ')}${left.length > 0 ? `; could not terminate ${left.join(', ')}` : ''}`;
  throw new SkygateError(
    cause.code,
    `${came} of ${launch.maxCount} instances came up, fewer than the ${launch.minCount} required (${cause.message}); ${rolledBack}`,
    // The provider's request id of the first cause, so an operator can quote it to the provider.
    { provider: launch.provider, ...('requestId' in cause && cause.requestId !== undefined && { requestId: cause.requestId }) },
  );
}

export function launchCommand(recordLaunch: RecordLaunch): CommandDefinition {
  return {
    kind: LAUNCH_KIND,
    steps: [
      { name: 'request', run: (ctx) => createAll(ctx, recordLaunch) },
      { name: 'wait-running', run: waitAllRunning },
    ],
    result: (op) => {
      const ids = (state(op).running ?? []).map((id) => formatId(input(op).provider, id));
      return { resourceKind: 'instance', resourceId: ids[0], resourceIds: ids };
    },
  };
}

/** The instances a launch has created so far (skygate ids, in launch order), and whether all creates returned. */
export function launchedSoFar(op: Operation): { ids: string[]; launched: boolean } {
  const s = state(op);
  const provider = input(op).provider;
  return {
    ids: (s.instances ?? []).filter((id): id is string => id !== null).map((id) => formatId(provider, id)),
    launched: s.launched === true,
  };
}
