/**
 * The lifecycle commands of instances, images, volumes and snapshots: each is a provider call
 * followed by a wait for the state that proves it happened.
 */
import { SkygateError } from '../errors.js';
import type { ResourceKind } from '../model.js';
import type { CommandDefinition, Step, StepContext } from './engine.js';
import { callStep, createStep, nativeIdOf, waitStep } from './steps.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const tagsOf = (ctx: StepContext) => ctx.op.input.tags as Record<string, string> | undefined;
/** For commands that create something from another resource, the source's native id. */
const sourceIdOf = (ctx: StepContext) => String(ctx.op.state.sourceId);

function command(kind: string, resource: ResourceKind, steps: Step[]): CommandDefinition {
  return { kind, steps, result: (op) => ({ resourceKind: resource, resourceId: op.target }) };
}

export const resourceCommands: CommandDefinition[] = [
  command('instance.start', 'instance', [
    callStep('request', (ctx) => ctx.adapter.startInstance(nativeIdOf(ctx))),
    waitStep('wait-running', 'instance', { until: ['running'], failOn: ['error', 'terminated'] }),
  ]),
  command('instance.stop', 'instance', [
    callStep('request', (ctx) => ctx.adapter.stopInstance(nativeIdOf(ctx))),
    waitStep('wait-stopped', 'instance', { until: ['stopped'], failOn: ['error', 'terminated'] }),
  ]),
  command('instance.suspend', 'instance', [
    callStep('request', async (ctx) => {
      // The service checked the capability; an adapter without the method is refused here too (a resumed operation).
      if (!ctx.adapter.suspendInstance)
        throw new SkygateError('unsupported', `provider '${ctx.op.provider}' cannot suspend instances`);
      await ctx.adapter.suspendInstance(nativeIdOf(ctx));
    }),
    waitStep('wait-suspended', 'instance', { until: ['suspended'], failOn: ['error', 'terminated'] }),
  ]),
  command('instance.reboot', 'instance', [
    callStep('request', (ctx) => ctx.adapter.rebootInstance(nativeIdOf(ctx))),
    waitStep('wait-running', 'instance', { until: ['running'], failOn: ['error', 'terminated', 'stopped'] }),
  ]),
  command('instance.delete', 'instance', [
    callStep('request', (ctx) => ctx.adapter.deleteInstance(nativeIdOf(ctx))),
    waitStep('wait-terminated', 'instance', { until: ['terminated'], goneIsDone: true }),
  ]),
  command('instance.snapshot', 'image', [
    createStep('request', 'image', (ctx) =>
      ctx.adapter.createImageFromInstance(sourceIdOf(ctx), {
        name: String(ctx.op.input.name),
        tags: tagsOf(ctx),
        clientToken: ctx.op.id,
      }),
    ),
    waitStep('wait-available', 'image', { until: ['available'], failOn: ['failed', 'deleted'] }),
  ]),
  command('image.delete', 'image', [
    callStep('request', (ctx) => ctx.adapter.deleteImage(nativeIdOf(ctx))),
    waitStep('wait-deleted', 'image', { until: ['deleted'], goneIsDone: true }),
  ]),
  command('volume.create', 'volume', [
    createStep('request', 'volume', (ctx) =>
      ctx.adapter.createVolume({
        name: String(ctx.op.input.name),
        sizeGiB: Number(ctx.op.input.sizeGiB),
        zone: str(ctx.op.input.zone),
        snapshotId: str(ctx.op.state.snapshotId),
        tags: tagsOf(ctx),
        clientToken: ctx.op.id,
      }),
    ),
    waitStep('wait-available', 'volume', { until: ['available'], failOn: ['error', 'deleted'] }),
  ]),
  command('volume.attach', 'volume', [
    callStep('request', (ctx) =>
      ctx.adapter.attachVolume(nativeIdOf(ctx), String(ctx.op.state.instanceId), str(ctx.op.input.device)),
    ),
    waitStep('wait-in-use', 'volume', { until: ['in-use'], failOn: ['error', 'deleted'] }),
  ]),
  command('volume.detach', 'volume', [
    callStep('request', (ctx) => ctx.adapter.detachVolume(nativeIdOf(ctx))),
    waitStep('wait-available', 'volume', { until: ['available'], failOn: ['error', 'deleted'] }),
  ]),
  command('volume.delete', 'volume', [
    callStep('request', (ctx) => ctx.adapter.deleteVolume(nativeIdOf(ctx))),
    waitStep('wait-deleted', 'volume', { until: ['deleted'], goneIsDone: true }),
  ]),
  command('snapshot.create', 'snapshot', [
    createStep('request', 'snapshot', (ctx) =>
      ctx.adapter.createSnapshot(sourceIdOf(ctx), {
        name: String(ctx.op.input.name),
        tags: tagsOf(ctx),
        clientToken: ctx.op.id,
      }),
    ),
    waitStep('wait-available', 'snapshot', { until: ['available'], failOn: ['failed', 'deleted'] }),
  ]),
  command('snapshot.delete', 'snapshot', [
    callStep('request', (ctx) => ctx.adapter.deleteSnapshot(nativeIdOf(ctx))),
    waitStep('wait-deleted', 'snapshot', { until: ['deleted'], goneIsDone: true }),
  ]),
];
