/**
 * qemu-img (Debian's qemu-utils) as the disk converter. The format is always given explicitly (`-f`), so a
 * raw disk that happens to contain a qcow2 header is never probed into following a backing file.
 */
import { spawn } from 'node:child_process';
import { SkygateError, invalid } from '../core/errors.js';
import { SELF_CONTAINED_VMDK, type PortableFormat, type QemuFormat } from './disk-formats.js';

export interface QemuImageInfo {
  virtualSize: number;
  actualSize?: number;
  format: string;
  backingFilename?: string;
  formatSpecific?: { type?: string; data?: Record<string, unknown> };
}

interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Inspection commands answer in seconds; a crafted image that makes them spin is cut off. */
const INSPECT_TIMEOUT_MS = 120_000;

function run(args: string[], opts: { timeoutMs?: number; onStdout?: (text: string) => void } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-img', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      if (opts.onStdout) opts.onStdout(t);
      else if (stdout.length < 1_000_000) stdout += t;
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      if (stderr.length < 64_000) stderr += t;
    });
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new SkygateError('unsupported', 'qemu-img is not installed on the gateway host (Debian package qemu-utils)')
          : e,
      ),
    );
    child.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

const firstLine = (s: string) =>
  s
    .trim()
    .split('\n')[0]
    ?.replace(/^qemu-img: /, '') ?? '';

/** `qemu-img info` of a disk read as `format`; an unreadable disk is bad input naming `field`. */
export async function qemuInfo(path: string, format: QemuFormat, field: string): Promise<QemuImageInfo> {
  const r = await run(['info', '--output=json', '-f', format, path], { timeoutMs: INSPECT_TIMEOUT_MS });
  if (r.code !== 0)
    throw invalid(field, `is not a readable ${format} disk: ${firstLine(r.stderr) || `qemu-img exited ${r.code}`}`);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  return {
    virtualSize: Number(j['virtual-size']),
    ...(typeof j['actual-size'] === 'number' && { actualSize: j['actual-size'] }),
    format: String(j.format),
    ...(typeof j['backing-filename'] === 'string' && { backingFilename: j['backing-filename'] }),
    ...(typeof j['format-specific'] === 'object' && { formatSpecific: j['format-specific'] as QemuImageInfo['formatSpecific'] }),
  };
}

/**
 * Inspects a disk from an untrusted package and refuses what could read outside it: backing files,
 * qcow2 external data files, VMDKs whose extents live in other files. Then runs `qemu-img check`.
 */
export async function inspectUntrustedDisk(path: string, format: QemuFormat, field: string): Promise<QemuImageInfo> {
  const info = await qemuInfo(path, format, field);
  if (info.backingFilename !== undefined)
    throw invalid(field, `has a backing file ('${info.backingFilename}'); a package disk must stand alone`);
  const data = info.formatSpecific?.data ?? {};
  if (format === 'qcow2' && data['data-file'] !== undefined) throw invalid(field, 'uses a qcow2 external data file');
  if (format === 'vmdk') {
    const createType = String(data['create-type'] ?? '');
    if (!SELF_CONTAINED_VMDK.has(createType))
      throw invalid(
        field,
        `is a ${createType || 'unknown'} VMDK; only self-contained ones (streamOptimized, monolithicSparse) are accepted`,
      );
    const extents = (data.extents ?? []) as Array<{ filename?: string }>;
    if (extents.some((e) => e.filename !== undefined && e.filename !== path))
      throw invalid(field, 'is a VMDK with extents in other files');
  }
  if (!Number.isSafeInteger(info.virtualSize) || info.virtualSize <= 0) throw invalid(field, 'has no usable virtual size');
  if (format === 'qcow2' || format === 'vmdk') await qemuCheck(path, format, field);
  return info;
}

/** `qemu-img check`: refuses a disk with corruptions or leaks that qemu-img reports as errors. */
export async function qemuCheck(path: string, format: QemuFormat, field: string): Promise<void> {
  const r = await run(['check', '--output=json', '-f', format, path], { timeoutMs: INSPECT_TIMEOUT_MS });
  // Exit 0: clean; 3: leaked clusters only (harmless); 1, 2: errors or corruption.
  if (r.code !== 0 && r.code !== 3)
    throw invalid(field, `fails qemu-img check: ${firstLine(r.stderr) || firstLine(r.stdout) || `exit ${r.code}`}`);
}

const OUTPUT_OPTIONS: Record<PortableFormat, string[]> = {
  // streamOptimized is what VMware and VirtualBox expect inside an OVA; lsilogic matches the descriptor's SCSI controller.
  vmdk: ['-O', 'vmdk', '-o', 'subformat=streamOptimized,adapter_type=lsilogic'],
  qcow2: ['-O', 'qcow2'],
  raw: ['-O', 'raw'],
};

/** Converts `src` to `dst`; `onProgress` gets the fraction done as qemu-img reports it. */
export async function qemuConvert(
  src: { path: string; format: QemuFormat },
  dst: { path: string; format: PortableFormat },
  onProgress?: (fraction: number) => void,
): Promise<void> {
  const args = ['convert', '-p', '-f', src.format, ...OUTPUT_OPTIONS[dst.format], src.path, dst.path];
  const r = await run(args, {
    onStdout: (t) => {
      const matches = [...t.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
      const last = matches.at(-1)?.[1];
      if (last !== undefined) onProgress?.(Number(last) / 100);
    },
  });
  if (r.code !== 0) {
    throw new SkygateError(
      'internal',
      `qemu-img convert ${src.format} -> ${dst.format} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`,
    );
  }
}
