/**
 * The import half of the OVA pipeline, shared by import and replication: unpack and validate a package
 * as it streams in, inspect the disk it brings, map its hardware to a flavor, convert and upload.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, pipeline } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { SkygateError, invalid } from '../../core/errors.js';
import { closestFlavor, type HardwareNeed } from '../../core/flavor-match.js';
import { formatId } from '../../core/ids.js';
import type { Tags } from '../../core/model.js';
import type { CloudAdapter, NativeImage } from '../../core/ports.js';
import { type PortableFormat, type QemuFormat, extensionOf } from '../disk-formats.js';
import { type ImportLimits, overVirtualSizeCap, planImport } from '../import-plan.js';
import { readOva } from '../ova-read.js';
import { type OvfSummary, summarize } from '../ovf-summary.js';
import { inspectUntrustedDisk, qemuConvert, qemuInfo } from '../qemu-img.js';
import { digestThrough } from '../streams.js';
import type { WorkDirs } from '../work-dirs.js';
import type { Reporter } from './common.js';

/** What an unpacked package leaves for the next steps (kept in the operation's state, so plain JSON). */
export interface ReceivedPackage {
  descriptorName: string;
  summary: OvfSummary;
  name: string;
  os?: string;
  need: HardwareNeed;
  disk: { id: string; path: string; format: QemuFormat; member: string; capacityBytes?: number };
  skippedDisks: string[];
  warnings: string[];
  /** SHA-256 of the descriptor: identifies the package for idempotent retries. */
  descriptorSha256: string;
}

export interface FlavorMapping {
  need: HardwareNeed;
  flavorId?: string;
  flavor?: { vcpus: number; memoryMiB: number; diskGiB: number };
  fits: boolean;
  shortfalls: string[];
}

const GiB = 2 ** 30;
const READ_CHUNK = 1024 * 1024;

export interface ReceiveOptions extends ImportLimits {
  maxBytes: number;
  limitField: string;
  onBytes?: (n: number) => void;
}

/**
 * Unpacks and validates a package from `source` into `dir`, keeping only the boot disk. A declared capacity
 * over `maxVirtualBytes` is refused once the descriptor is read, and an actual virtual size over it (read
 * from the disk's header) before anything converts the disk.
 */
export async function receivePackage(source: Readable, dir: string, opts: ReceiveOptions): Promise<ReceivedPackage> {
  const contents = await readOva(source, {
    workDir: dir,
    keep: (env) => new Set([planImport(env, opts).file.id]),
    maxBytes: opts.maxBytes,
    limitField: opts.limitField,
    ...(opts.onBytes && { onBytes: opts.onBytes }),
  });
  const plan = planImport(contents.envelope, opts);
  const member = contents.members.find((m) => m.fileId === plan.file.id);
  if (!member?.path) throw new SkygateError('internal', `the boot disk '${plan.file.href}' was not kept`);
  if (opts.maxVirtualBytes !== undefined) {
    // A sparse disk of a few KiB may claim terabytes, which converting would write out as zeros.
    const { virtualSize } = await qemuInfo(member.path, plan.format, `package.${member.name}`);
    const over = overVirtualSizeCap(virtualSize, opts);
    if (over !== undefined) throw invalid(`package.${member.name}`, `has a virtual size of ${over}`);
  }
  return {
    descriptorName: contents.descriptorName,
    summary: summarize(contents.envelope),
    name: plan.name,
    ...(plan.os !== undefined && { os: plan.os }),
    need: plan.need,
    disk: {
      id: plan.disk.id,
      path: member.path,
      format: plan.format,
      member: member.name,
      ...(plan.disk.capacityBytes !== undefined && { capacityBytes: plan.disk.capacityBytes }),
    },
    skippedDisks: plan.skippedDisks,
    warnings: [...contents.envelope.warnings, ...plan.warnings, ...contents.warnings],
    descriptorSha256: createHash('sha256').update(contents.descriptor).digest('hex'),
  };
}

/** Receives a package into a fresh scratch directory, which is removed again if anything fails. */
export async function receiveFresh(
  dirs: WorkDirs,
  source: Readable,
  opts: ReceiveOptions,
): Promise<{ dir: string; pkg: ReceivedPackage }> {
  const dir = await dirs.fresh();
  try {
    return { dir, pkg: await receivePackage(source, dir, opts) };
  } catch (e) {
    await dirs.remove(dir);
    throw e;
  }
}

/**
 * Inspects the package's disk with qemu-img (self-contained, consistent) and refuses one whose virtual
 * size exceeds the capacity the descriptor declares. Answers the capacity to give the image.
 */
export async function inspectDisk(pkg: ReceivedPackage): Promise<number> {
  const field = `package.${pkg.disk.member}`;
  const info = await inspectUntrustedDisk(pkg.disk.path, pkg.disk.format, field);
  const declared = pkg.disk.capacityBytes;
  if (declared !== undefined && info.virtualSize > declared) {
    throw invalid(
      field,
      `the disk is larger than declared: its virtual size is ${info.virtualSize} bytes, the descriptor's capacity ${declared}`,
    );
  }
  return Math.max(info.virtualSize, declared ?? 0);
}

/** The closest flavor of `adapter`'s provider for `need`, in the form an operation records. */
export async function mapFlavor(adapter: CloudAdapter, need: HardwareNeed): Promise<FlavorMapping> {
  const match = closestFlavor(need, await adapter.listFlavors());
  if (!match) return { need, fits: false, shortfalls: [`provider '${adapter.providerId}' offers no flavors`] };
  const { flavor } = match;
  return {
    need,
    flavorId: formatId(adapter.providerId, flavor.nativeId),
    flavor: { vcpus: flavor.vcpus, memoryMiB: flavor.memoryMiB, diskGiB: flavor.diskGiB },
    fits: match.fits,
    shortfalls: match.shortfalls,
  };
}

/** Converts the package disk into the format to upload, as `<dir>/upload-<format>.<ext>` (a rename when it already is). */
export async function convertForUpload(
  disk: { path: string; format: QemuFormat },
  format: PortableFormat,
  dir: string,
  report: Reporter,
): Promise<{ path: string; sizeBytes: number }> {
  const path = join(dir, `upload-${format}.${extensionOf(format)}`);
  const done = await stat(path).catch(() => undefined);
  if (!done) {
    // Already in the asked format (and checked by qemu-img): uploaded as it is, not rewritten.
    if (disk.format === format) await rename(disk.path, path);
    else {
      await qemuConvert(disk, { path: `${path}.part`, format }, (f) => report(`converting ${disk.format} to ${format}`, f));
      await rename(`${path}.part`, path);
    }
  }
  return { path, sizeBytes: (await stat(path)).size };
}

export interface UploadSpec {
  name: string;
  format: PortableFormat;
  capacityBytes: number;
  os?: string;
  tags?: Tags;
  clientToken: string;
}

/** Streams a converted disk into the provider as a new image. */
export async function uploadDisk(
  adapter: CloudAdapter,
  file: { path: string; sizeBytes: number },
  spec: UploadSpec,
  report: Reporter,
): Promise<NativeImage> {
  if (!adapter.uploadImage) throw new SkygateError('unsupported', `provider '${adapter.providerId}' cannot import image bytes`);
  let sent = 0;
  const meter = digestThrough(undefined, (n) => {
    sent += n;
    report(`uploading to ${adapter.providerId}`, sent / Math.max(1, file.sizeBytes));
  });
  // The adapter reads `meter`; if it stops early, pipeline closes the file too.
  const stream = pipeline(createReadStream(file.path, { highWaterMark: READ_CHUNK }), meter, () => {});
  return adapter.uploadImage(
    {
      name: spec.name,
      diskFormat: spec.format,
      sizeBytes: file.sizeBytes,
      minDiskGiB: Math.max(1, Math.ceil(spec.capacityBytes / GiB)),
      ...(spec.os !== undefined && { os: spec.os }),
      ...(spec.tags !== undefined && { tags: spec.tags }),
      clientToken: spec.clientToken,
    },
    stream,
  );
}

/** Polls an image at any provider until it is available (replication waits on providers other than its own). */
export async function waitAvailable(adapter: CloudAdapter, nativeId: string, timeoutMs = 15 * 60_000): Promise<NativeImage> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(2_000, Math.round(delay * 1.5))) {
    const image = await adapter.getImage(nativeId);
    if (image.state === 'available') return image;
    if (image.state === 'failed' || image.state === 'deleted') {
      throw new SkygateError('conflict', `image ${nativeId} at '${adapter.providerId}' became ${image.state}`, {
        provider: adapter.providerId,
      });
    }
    if (Date.now() > deadline)
      throw new SkygateError('timeout', `image ${nativeId} at '${adapter.providerId}' still ${image.state}`);
    await sleep(delay);
  }
}
