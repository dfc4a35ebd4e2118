/**
 * `image.import`: an OVA (received by upload before the operation started, or fetched from an allowed URL
 * by its first step) validated, its disk inspected and converted, its hardware mapped to the closest
 * flavor of the target provider, and uploaded there as a new image.
 */
import type { CommandDefinition, StepContext } from '../../core/operations/engine.js';
import { waitStep } from '../../core/operations/steps.js';
import { formatId } from '../../core/ids.js';
import type { Tags } from '../../core/model.js';
import { type PortableFormat, uploadFormatFor } from '../disk-formats.js';
import { fetchPackage } from '../url-fetch.js';
import { invalid } from '../../core/errors.js';
import { redactUrl } from '../../core/url-redaction.js';
import { type PortabilityDeps, cleanedOnFailure, mib, throttledReport, workDirOf } from './common.js';
import { type ReceivedPackage, convertForUpload, inspectDisk, mapFlavor, receivePackage, uploadDisk } from './import-pipeline.js';

export const IMPORT_KIND = 'image.import';

export interface ImportInput {
  provider: string;
  /** Absent for uploads: the package arrived with the request. */
  url?: string;
  name?: string;
  /** The format to upload; absent: the package's own, when it is a portable one (no needless conversion). */
  diskFormat?: PortableFormat;
  tags?: Tags;
}

const GiB = 2 ** 30;
const input = (ctx: StepContext) => ctx.op.input as unknown as ImportInput;
const pkgOf = (ctx: StepContext) => ctx.op.state.package as ReceivedPackage;

export function importImageCommand(deps: PortabilityDeps): CommandDefinition {
  const steps = [
    {
      name: 'fetch',
      async run(ctx: StepContext) {
        if (ctx.op.state.package !== undefined) return; // uploaded with the request
        const url = input(ctx).url as string;
        const dir = await deps.dirs.ensure(workDirOf(deps, ctx));
        const report = throttledReport(ctx);
        const { body, length, url: fetched } = await fetchPackage(url, deps.urlPolicy, 'body.url', deps.uploadMaxBytes);
        // A source (or a proxy) that cuts the connection half way is the source's fault, not the package's:
        // say so, instead of the unpacker's "not a readable archive".
        let cut = false;
        let received = 0;
        body.once('aborted', () => {
          cut = true;
        });
        try {
          ctx.op.state.package = await receivePackage(body, dir, {
            maxBytes: deps.uploadMaxBytes,
            maxVirtualBytes: deps.virtualSizeMaxBytes,
            limitField: 'body.url',
            onBytes: (n) => {
              received = n;
              report(`fetching: ${mib(n)}`, length ? n / length : undefined);
            },
          });
        } catch (e) {
          if (!cut) throw e;
          throw invalid(
            'body.url',
            `'${redactUrl(fetched)}' closed the connection after ${received} of ${length ?? 'an unknown number of'} bytes`,
          );
        }
        await report.flush();
      },
    },
    {
      name: 'inspect',
      async run(ctx: StepContext) {
        const pkg = pkgOf(ctx);
        const capacityBytes = await inspectDisk(pkg);
        ctx.op.state.capacityBytes = capacityBytes;
        ctx.op.state.mapping = await mapFlavor(ctx.adapter, { ...pkg.need, diskGiB: Math.ceil(capacityBytes / GiB) });
      },
    },
    {
      name: 'convert',
      async run(ctx: StepContext) {
        const report = throttledReport(ctx);
        const disk = pkgOf(ctx).disk;
        const format = input(ctx).diskFormat ?? uploadFormatFor(disk.format);
        ctx.op.state.uploadFormat = format;
        ctx.op.state.upload = await convertForUpload(disk, format, workDirOf(deps, ctx), report);
        await report.flush();
      },
    },
    {
      name: 'upload',
      async run(ctx: StepContext) {
        const pkg = pkgOf(ctx);
        const report = throttledReport(ctx);
        const tags = input(ctx).tags;
        const image = await uploadDisk(
          ctx.adapter,
          ctx.op.state.upload as { path: string; sizeBytes: number },
          {
            name: input(ctx).name ?? pkg.name,
            format: ctx.op.state.uploadFormat as PortableFormat,
            capacityBytes: Number(ctx.op.state.capacityBytes),
            ...(pkg.os !== undefined && { os: pkg.os }),
            ...(tags !== undefined && { tags }),
            clientToken: ctx.op.id,
          },
          report,
        );
        await report.flush();
        const provider = ctx.op.provider ?? '';
        ctx.op.state.nativeId = image.nativeId;
        ctx.op.target = formatId(provider, image.nativeId);
        await ctx.inventory.record('image', provider, image);
        await ctx.events.emit('image.created', ctx.op.target, { operation: ctx.op.id });
        await deps.dirs.remove(workDirOf(deps, ctx));
      },
    },
    waitStep('wait-available', 'image', { until: ['available'], failOn: ['failed', 'deleted'] }),
  ];
  return {
    kind: IMPORT_KIND,
    steps: cleanedOnFailure(steps, deps),
    result(op) {
      const pkg = op.state.package as ReceivedPackage;
      return {
        resourceKind: 'image',
        resourceId: op.target,
        diskFormat: op.state.uploadFormat,
        flavorMapping: op.state.mapping,
        source: { descriptor: pkg.descriptorName, envelope: pkg.summary },
        skippedDisks: pkg.skippedDisks,
        warnings: pkg.warnings,
      };
    },
  };
}
