/**
 * `skygate ova inspect|validate FILE`: reads an OVA (every member checked against the manifest and the
 * References, nothing written) or a bare OVF descriptor, and prints its summary and problems. Exit codes:
 * 0 valid, 1 invalid input, 2 the file cannot be read.
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SkygateError } from '../core/errors.js';
import { planImport } from '../portability/import-plan.js';
import { readOva } from '../portability/ova-read.js';
import { parseOvf } from '../portability/ovf-parse.js';
import { type OvfSummary, summarize } from '../portability/ovf-summary.js';
import type { OvfEnvelope } from '../portability/ovf-types.js';

interface Inspection {
  kind: 'ova' | 'ovf';
  summary: OvfSummary;
  manifest: string | null;
}

/** An OVF descriptor is XML; anything else is taken for a tar (an OVA). */
async function looksLikeXml(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(64), 0, 64, 0);
    return /^(\uFEFF)?\s*</.test(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await fh.close();
  }
}

async function inspectFile(file: string): Promise<Inspection> {
  if (await looksLikeXml(file)) {
    const envelope = parseOvf(await readFile(file));
    const summary = summarize(envelope);
    summary.warnings.push('a bare descriptor: the files it references were not checked');
    warnIfNotImportable(envelope, summary);
    return { kind: 'ovf', summary, manifest: null };
  }
  const contents = await readOva(createReadStream(file));
  const summary = summarize(contents.envelope);
  summary.warnings.push(...contents.warnings);
  warnIfNotImportable(contents.envelope, summary);
  return { kind: 'ova', summary, manifest: contents.manifest?.algorithm ?? null };
}

/** A valid package skygate still cannot import (no disk, an unknown disk format) is worth a warning. */
function warnIfNotImportable(envelope: OvfEnvelope, summary: OvfSummary): void {
  try {
    planImport(envelope);
  } catch (e) {
    summary.warnings.push(`not importable by skygate: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const GiB = 2 ** 30;
const size = (bytes: number | null) => (bytes === null ? 'unknown size' : `${(bytes / GiB).toFixed(bytes < GiB ? 2 : 1)} GiB`);

function printText(file: string, { kind, summary, manifest }: Inspection): void {
  const lines = [
    `${file}: OVF ${summary.ovfVersion} ${kind === 'ova' ? `package (manifest: ${manifest ?? 'none'})` : 'descriptor'}`,
  ];
  for (const vs of summary.virtualSystems) {
    lines.push(`virtual system '${vs.id}' (${vs.name}): ${vs.os ?? 'unknown OS'}`);
    lines.push(
      `  ${vs.vcpus ?? '?'} vCPU, ${vs.memoryMiB ?? '?'} MiB memory, ${vs.nics} NIC(s)${vs.networks.length ? ` on ${vs.networks.join(', ')}` : ''}`,
    );
    for (const d of vs.disks)
      lines.push(`  disk ${d.id}: ${size(d.capacityBytes)}, ${d.format ?? 'unknown format'}, file ${d.file ?? '(none)'}`);
    if (vs.configuration !== undefined) {
      lines.push(`  configuration '${vs.configuration}' (default)`);
      for (const o of vs.otherConfigurations ?? []) {
        lines.push(
          `  configuration '${o.id}'${o.label ? ` "${o.label}"` : ''}: ${o.vcpus ?? '?'} vCPU, ${o.memoryMiB ?? '?'} MiB`,
        );
      }
    }
  }
  lines.push(`files: ${summary.files.map((f) => `${f.href} (${f.size ?? '?'} bytes)`).join(', ') || 'none'}`);
  for (const w of summary.warnings) lines.push(`warning: ${w}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Prints the problems of invalid input and answers the exit code (1 invalid, 2 unreadable). */
function report(file: string, e: unknown, json: boolean): number {
  const unreadable = (e as NodeJS.ErrnoException).code !== undefined && !(e instanceof SkygateError);
  const errors =
    e instanceof SkygateError
      ? (e.errors ?? [{ field: e.field ?? 'file', reason: e.message }])
      : [{ field: 'file', reason: (e as Error).message }];
  if (json) process.stdout.write(`${JSON.stringify({ valid: false, errors }, null, 2)}\n`);
  else
    process.stderr.write(
      `${file}: ${unreadable ? 'cannot be read' : 'invalid'}\n${errors.map((x) => `  ${x.field}: ${x.reason}`).join('\n')}\n`,
    );
  return unreadable ? 2 : 1;
}

export function registerOvaCommands(program: Command): void {
  const ova = program.command('ova').description('inspect and validate OVF/OVA packages (DMTF DSP0243)');
  ova
    .command('inspect')
    .argument('<file>', 'an .ova package or a bare .ovf descriptor')
    .option('--json', 'print the summary as JSON')
    .description('print the envelope: virtual systems, hardware, disks, networks, files and warnings')
    .action(async (file: string, opts: { json?: boolean }) => {
      try {
        const inspection = await inspectFile(file);
        if (opts.json) process.stdout.write(`${JSON.stringify(inspection.summary, null, 2)}\n`);
        else printText(file, inspection);
      } catch (e) {
        process.exitCode = report(file, e, opts.json === true);
      }
    });
  ova
    .command('validate')
    .argument('<file>', 'an .ova package or a bare .ovf descriptor')
    .option('--json', 'print the verdict as JSON')
    .description('check the package (members, sizes, manifest digests) and its descriptor; exit 1 when invalid')
    .action(async (file: string, opts: { json?: boolean }) => {
      try {
        const { summary } = await inspectFile(file);
        if (opts.json)
          process.stdout.write(`${JSON.stringify({ valid: true, errors: [], warnings: summary.warnings }, null, 2)}\n`);
        else
          process.stdout.write(
            `${file}: valid (OVF ${summary.ovfVersion})\n${summary.warnings.map((w) => `warning: ${w}\n`).join('')}`,
          );
      } catch (e) {
        process.exitCode = report(file, e, opts.json === true);
      }
    });
}
