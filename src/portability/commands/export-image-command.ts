/**
 * `image.export`: an image's disk out of its provider, converted (streamOptimized VMDK by default),
 * described by an OVF envelope and a SHA-256 manifest, packed into an OVA for download or the export directory.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CommandDefinition, StepContext } from '../../core/operations/engine.js';
import { nativeIdOf } from '../../core/operations/steps.js';
import type { Operation } from '../../core/model.js';
import type { PortableFormat } from '../disk-formats.js';
import type { OvfWriteVersion } from '../ovf-build.js';
import { type PortabilityDeps, cleanedOnFailure, throttledReport, workDirOf } from './common.js';
import {
  type ConvertedDisk,
  type DiskFile,
  type PackageMeta,
  checksum,
  convertDisk,
  downloadDisk,
  fileStem,
  packageOva,
} from './export-pipeline.js';

export const EXPORT_KIND = 'image.export';

export interface ExportInput {
  imageId: string;
  diskFormat: PortableFormat;
  ovfVersion: OvfWriteVersion;
  destination: 'download' | 'export-dir';
}

/** Where the OVA of operation `op` goes: derived from the operation, so a resumed step finds the same file. */
export function ovaPathOf(deps: PortabilityDeps, op: Operation): string {
  const input = op.input as unknown as ExportInput;
  const meta = op.state.meta as PackageMeta;
  if (input.destination === 'export-dir' && deps.exportDir !== undefined) {
    return join(deps.exportDir, `${fileStem(meta.name)}-${op.id}.ova`);
  }
  return join(deps.exportsDir, `${op.id}.ova`);
}

const input = (ctx: StepContext) => ctx.op.input as unknown as ExportInput;

export function exportImageCommand(deps: PortabilityDeps): CommandDefinition {
  const steps = [
    {
      name: 'download',
      async run(ctx: StepContext) {
        const dir = await deps.dirs.ensure(workDirOf(deps, ctx));
        const report = throttledReport(ctx);
        ctx.op.state.source = await downloadDisk(ctx.adapter, nativeIdOf(ctx), dir, report);
        await report.flush();
      },
    },
    {
      name: 'convert',
      async run(ctx: StepContext) {
        const report = throttledReport(ctx);
        const src = ctx.op.state.source as DiskFile;
        ctx.op.state.disk = await convertDisk(src, input(ctx).diskFormat, workDirOf(deps, ctx), report);
        await report.flush();
      },
    },
    {
      name: 'checksum',
      async run(ctx: StepContext) {
        ctx.op.state.disk = await checksum(ctx.op.state.disk as ConvertedDisk);
      },
    },
    {
      name: 'package',
      async run(ctx: StepContext) {
        const report = throttledReport(ctx);
        const out = ovaPathOf(deps, ctx.op);
        await mkdir(dirname(out), { recursive: true });
        const meta = { ...(ctx.op.state.meta as PackageMeta), ovfVersion: input(ctx).ovfVersion };
        const { sizeBytes } = await packageOva(meta, ctx.op.state.disk as ConvertedDisk, out, report);
        await report.flush();
        ctx.op.state.ova = { path: out, sizeBytes };
        await deps.dirs.remove(workDirOf(deps, ctx));
      },
    },
  ];
  return {
    kind: EXPORT_KIND,
    steps: cleanedOnFailure(steps, deps, (ctx) => [`${ovaPathOf(deps, ctx.op)}.part`]),
    result(op) {
      const { imageId, diskFormat, ovfVersion, destination } = op.input as unknown as ExportInput;
      const ova = op.state.ova as { path: string; sizeBytes: number };
      const meta = op.state.meta as PackageMeta & { hardwareFrom: string };
      return {
        resourceKind: 'image',
        resourceId: imageId,
        diskFormat,
        ovfVersion,
        hardware: { vcpus: meta.vcpus, memoryMiB: meta.memoryMiB, from: meta.hardwareFrom },
        ova: {
          sizeBytes: ova.sizeBytes,
          downloadUrl: `/v1/images/${encodeURIComponent(imageId)}/export/${op.id}/ova`,
          // The server path is worth showing only when the operator asked for their export directory.
          ...(destination === 'export-dir' && { path: ova.path }),
        },
      };
    },
  };
}
