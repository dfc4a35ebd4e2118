/**
 * `image.replicate`: an image copied to other clouds, in parallel. A target that can copy the image itself
 * (same cloud type and copy domain: EC2 CopyImage between regions of one account) is asked to through the
 * port's `copyImageFrom`; every other target gets the image through the OVA pipeline: exported once
 * (download, convert, manifest, package), unpacked and validated, then converted and uploaded per target.
 * The HA module calls this to keep standby replicas fresh. How each target is chosen: ../replication-method.ts.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SkygateError, toSkygateError } from '../../core/errors.js';
import { formatId } from '../../core/ids.js';
import type { Tags } from '../../core/model.js';
import type { CommandDefinition, Step, StepContext } from '../../core/operations/engine.js';
import { nativeIdOf } from '../../core/operations/steps.js';
import type { CloudAdapter, NativeImage } from '../../core/ports.js';
import type { PortableFormat } from '../disk-formats.js';
import type { ReplicationMethod } from '../replication-method.js';
import { type PortabilityDeps, type Reporter, cleanedOnFailure, silentReporter, throttledReport, workDirOf } from './common.js';
import {
  type ConvertedDisk,
  type DiskFile,
  type PackageMeta,
  checksum,
  convertDisk,
  downloadDisk,
  packageOva,
} from './export-pipeline.js';
import {
  type FlavorMapping,
  type ReceivedPackage,
  convertForUpload,
  mapFlavor,
  receivePackage,
  uploadDisk,
  waitAvailable,
} from './import-pipeline.js';

export const REPLICATE_KIND = 'image.replicate';

export interface ReplicateInput {
  imageId: string;
  targets: string[];
  /** The format uploaded to targets that go through the OVA pipeline. */
  diskFormat: PortableFormat;
}

export interface Replica {
  provider: string;
  imageId: string;
  method: ReplicationMethod;
  flavorMapping?: FlavorMapping;
}

/** Known at submit time: how each target gets the image, and where the source lives. */
export interface ReplicatePlan {
  methods: Record<string, ReplicationMethod>;
  /** The source's region within its copy domain (`imageCopyScope`), for native copies. */
  sourceRegion?: string;
  meta: PackageMeta;
  tags: Tags;
}

const input = (ctx: StepContext) => ctx.op.input as unknown as ReplicateInput;
const plan = (ctx: StepContext) => ctx.op.state.plan as ReplicatePlan;
const needsOva = (ctx: StepContext) => Object.values(plan(ctx).methods).includes('ova');
const packagePath = (deps: PortabilityDeps, ctx: StepContext) => join(workDirOf(deps, ctx), 'package.ova');

/** A pipeline step that only runs when some target goes through the OVA pipeline. */
const ovaStep = (name: string, run: (ctx: StepContext, report: Reporter) => Promise<void>): Step => ({
  name,
  async run(ctx) {
    if (!needsOva(ctx)) return;
    const report = throttledReport(ctx);
    await run(ctx, report);
    await report.flush();
  },
});

export function replicateImageCommand(deps: PortabilityDeps): CommandDefinition {
  const steps: Step[] = [
    ovaStep('download', async (ctx, report) => {
      const dir = await deps.dirs.ensure(workDirOf(deps, ctx));
      ctx.op.state.source = await downloadDisk(ctx.adapter, nativeIdOf(ctx), dir, report);
    }),
    ovaStep('convert', async (ctx, report) => {
      ctx.op.state.disk = await convertDisk(ctx.op.state.source as DiskFile, 'vmdk', workDirOf(deps, ctx), report);
    }),
    ovaStep('package', async (ctx, report) => {
      const disk = await checksum(ctx.op.state.disk as ConvertedDisk);
      await packageOva(plan(ctx).meta, disk, packagePath(deps, ctx), report);
      await rm(disk.path, { force: true });
    }),
    ovaStep('unpack', async (ctx, report) => {
      const dir = await deps.dirs.ensure(join(workDirOf(deps, ctx), 'unpacked'));
      // The same validation an import applies: the manifest proves the package survived intact.
      ctx.op.state.package = await receivePackage(createReadStream(packagePath(deps, ctx)), dir, {
        maxBytes: Number.MAX_SAFE_INTEGER,
        limitField: 'package',
        onBytes: (n) => report('unpacking and verifying', n / Math.max(1, (ctx.op.state.disk as ConvertedDisk).sizeBytes)),
      });
      await rm(packagePath(deps, ctx), { force: true });
    }),
    { name: 'copy', run: (ctx) => copyToTargets(deps, ctx) },
  ];
  return {
    kind: REPLICATE_KIND,
    steps: cleanedOnFailure(steps, deps),
    result(op) {
      const replicas = (op.state.replicas ?? {}) as Record<string, Replica>;
      return {
        resourceKind: 'image',
        resourceId: (op.input as unknown as ReplicateInput).imageId,
        replicas: Object.values(replicas),
      };
    },
  };
}

/** Copies to every target not done yet, in parallel; fails naming each target that failed, after all have tried. */
async function copyToTargets(deps: PortabilityDeps, ctx: StepContext): Promise<void> {
  if (ctx.op.state.replicas === undefined) ctx.op.state.replicas = {};
  const replicas = ctx.op.state.replicas as Record<string, Replica>;
  const { targets, diskFormat } = input(ctx);
  const progress = new Map<string, number>(targets.map((t) => [t, replicas[t] ? 1 : 0]));
  const report = throttledReport(ctx);
  const show = (t: string, f: number) => {
    progress.set(t, f);
    const total = [...progress.values()].reduce((a, b) => a + b, 0) / targets.length;
    report([...progress].map(([p, v]) => `${p} ${Math.round(v * 100)}%`).join(', '), total);
  };
  // One conversion per format, shared by the targets that take it.
  const conversions = new Map<PortableFormat, Promise<{ path: string; sizeBytes: number }>>();
  const converted = (format: PortableFormat) => {
    let c = conversions.get(format);
    if (!c) {
      const pkg = ctx.op.state.package as ReceivedPackage;
      c = convertForUpload({ ...pkg.disk }, format, workDirOf(deps, ctx), silentReporter());
      conversions.set(format, c);
    }
    return c;
  };

  const pending = targets.filter((t) => !replicas[t]);
  const outcomes = await Promise.allSettled(
    pending.map(async (target) => {
      const adapter = ctx.registry.cloud(target, 'body.targets');
      const method = plan(ctx).methods[target] ?? 'ova';
      const image =
        method === 'native'
          ? await copyNatively(ctx, adapter, target)
          : await uploadReplica(ctx, adapter, target, await converted(diskFormat), (f) => show(target, f * 0.9));
      const ready = await waitAvailable(adapter, image.nativeId);
      await ctx.inventory.record('image', target, ready);
      const imageId = formatId(target, image.nativeId);
      await ctx.events.emit('image.created', imageId, { operation: ctx.op.id, replicaOf: input(ctx).imageId });
      const pkg = ctx.op.state.package as ReceivedPackage | undefined;
      replicas[target] = {
        provider: target,
        imageId,
        method,
        ...(pkg && { flavorMapping: await mapFlavor(adapter, pkg.need) }),
      };
      show(target, 1);
      // Persists the replica now, so a resumed operation does not copy it again.
      await report.persist(`${Object.keys(replicas).length} of ${targets.length} targets done`);
    }),
  );
  await report.flush();
  const failed = outcomes.flatMap((o, i) =>
    o.status === 'rejected' ? [{ target: pending[i], error: toSkygateError(o.reason) }] : [],
  );
  if (failed.length === 0) {
    await deps.dirs.remove(workDirOf(deps, ctx));
    return;
  }
  const first = failed[0]?.error as SkygateError;
  const done = Object.keys(replicas);
  throw new SkygateError(
    first.code,
    `replication failed for ${failed.map((f) => `${f.target} (${f.error.message})`).join('; ')}${done.length > 0 ? `; done for ${done.join(', ')}` : ''}`,
    { field: 'body.targets', ...(first.provider !== undefined && { provider: first.provider }) },
  );
}

/** Starts the target's own copy (idempotent through the client token); the caller waits for it like an upload. */
async function copyNatively(ctx: StepContext, adapter: CloudAdapter, target: string): Promise<NativeImage> {
  const { meta, tags, sourceRegion } = plan(ctx);
  if (!adapter.copyImageFrom || sourceRegion === undefined) {
    throw new SkygateError('unsupported', `provider '${target}' has no native image copy from '${ctx.op.provider}'`);
  }
  return adapter.copyImageFrom(
    { region: sourceRegion, nativeId: nativeIdOf(ctx) },
    { name: meta.name, tags, clientToken: `${ctx.op.id}-${target}` },
  );
}

async function uploadReplica(
  ctx: StepContext,
  adapter: CloudAdapter,
  target: string,
  file: { path: string; sizeBytes: number },
  onFraction: (f: number) => void,
): Promise<NativeImage> {
  const pkg = ctx.op.state.package as ReceivedPackage;
  const { meta, tags } = plan(ctx);
  const report = Object.assign((_d: string, f?: number) => onFraction(f ?? 0), {
    flush: async () => {},
    persist: async () => {},
  });
  return uploadDisk(
    adapter,
    file,
    {
      name: meta.name,
      format: input(ctx).diskFormat,
      capacityBytes: pkg.disk.capacityBytes ?? file.sizeBytes,
      ...(meta.os !== undefined && { os: meta.os }),
      tags,
      clientToken: `${ctx.op.id}-${target}`,
    },
    report,
  );
}
