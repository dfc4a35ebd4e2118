/** Real disk files behind sim images and workload instances: sparse seeds, captures, copies, uploads and downloads under `<dataDir>/disks`. */
import { createHash } from 'node:crypto';
import {
  constants,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { copyFile, open, rename, rm, stat, truncate } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

/** Apparent size of a seed or from-scratch disk; sparse, so it costs a few KiB on disk. */
export const SEED_DISK_BYTES = 64 * 1024 * 1024;
const SEED_CONTENT_BYTES = 4096;
/** Captures stamp their origin here, past the seed content, so both stay readable. */
const CAPTURE_STAMP_OFFSET = 1024 * 1024;
const COPY_CHUNK_BYTES = 256 * 1024;
const execFileAsync = promisify(execFile);

export class SimDisks {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Writes a seed disk if it is missing: deterministic bytes derived from `label`, then a sparse tail. */
  ensureSeed(file: string, label: string): void {
    const path = this.path(file);
    if (!existsSync(path)) {
      // Via `.part` and a rename, so a crash mid-seed never leaves a short disk under the real name.
      writeFileSync(`${path}.part`, seedContent(label));
      truncateSync(`${path}.part`, SEED_DISK_BYTES);
      renameSync(`${path}.part`, path);
    }
  }

  /**
   * Copies `source` (or starts from a blank disk when the source image is gone) into `file`, then stamps
   * `stamp` into it so a capture is distinguishable from its source. Returns the new file's size.
   */
  async capture(source: string | null, file: string, stamp: string): Promise<number> {
    const path = this.path(file);
    const part = `${path}.part`;
    try {
      if (source !== null && existsSync(this.path(source))) await cloneFile(this.path(source), part);
      else await writeBlank(part);
      const fh = await open(part, 'r+');
      try {
        await fh.write(Buffer.from(`SKYGATE SIM CAPTURE ${stamp}\n`), 0, undefined, CAPTURE_STAMP_OFFSET);
      } finally {
        await fh.close();
      }
      await rename(part, path);
      return (await stat(path)).size;
    } catch (e) {
      await rm(part, { force: true });
      throw e;
    }
  }

  /**
   * Streams `data` into `file` with constant memory, leaving all-zero chunks as holes so a replicated
   * sparse disk stays sparse. Returns the number of bytes received.
   */
  async receive(file: string, data: Readable): Promise<number> {
    const path = this.path(file);
    const part = `${path}.part`;
    try {
      const fh = await open(part, 'w');
      let size = 0;
      try {
        // for-await pulls one chunk at a time, which is the backpressure that keeps memory flat.
        for await (const chunk of data) {
          const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
          if (!isZero(buf)) await fh.write(buf, 0, buf.length, size);
          size += buf.length;
        }
        await fh.truncate(size);
      } finally {
        await fh.close();
      }
      await rename(part, path);
      return size;
    } catch (e) {
      await rm(part, { force: true });
      throw e;
    }
  }

  /**
   * An instance's own copy of its image's disk, for a workload to write to: a reflink where the filesystem can,
   * else a copy that keeps holes as holes. Grown to at least SEED_DISK_BYTES (sparse) so the key-value log fits,
   * as a root volume may be larger than its image.
   */
  async cloneForInstance(source: string, file: string): Promise<void> {
    const path = this.path(file);
    const part = `${path}.part`;
    try {
      if (!existsSync(this.path(source))) throw new Error(`the disk file ${source} is missing`);
      await cloneFile(this.path(source), part);
      if ((await stat(part)).size < SEED_DISK_BYTES) await truncate(part, SEED_DISK_BYTES);
      await rename(part, path);
    } catch (e) {
      await rm(part, { force: true });
      throw e;
    }
  }

  /** The absolute path of `file`, for the workload host, which opens instance disks itself. */
  pathOf(file: string): string {
    return resolve(this.path(file));
  }

  /** Disk files of instances (`i-….raw`), to find copies whose instance is gone. */
  instanceFiles(): string[] {
    return readdirSync(this.dir).filter((f) => /^i-[0-9a-f]+\.raw$/.test(f));
  }

  /** A read stream over `file` and its size, or undefined when the file is missing. */
  async read(file: string): Promise<{ stream: Readable; sizeBytes: number } | undefined> {
    const path = this.path(file);
    const size = await stat(path).then(
      (s) => s.size,
      () => undefined,
    );
    return size === undefined ? undefined : { stream: createReadStream(path), sizeBytes: size };
  }

  async remove(file: string): Promise<void> {
    await rm(this.path(file), { force: true });
  }

  private path(file: string): string {
    return join(this.dir, file);
  }
}

/** Reflink when the filesystem can (instant, shares blocks); otherwise a copy that keeps holes as holes. */
async function cloneFile(from: string, to: string): Promise<void> {
  try {
    await copyFile(from, to, constants.COPYFILE_FICLONE_FORCE);
    return;
  } catch {
    // No reflink here (ext4, tmpfs...): a plain copy would fill the 64 MiB of holes with real zeros.
  }
  try {
    // GNU cp skips holes with SEEK_DATA/SEEK_HOLE: a 64 MiB sparse disk copies in milliseconds rather than being read whole.
    await execFileAsync('cp', ['--reflink=auto', '--sparse=always', '--', from, to]);
    return;
  } catch {
    // Not GNU cp (or none): read it all, and write back only the chunks that are not zero.
    await rm(to, { force: true });
  }
  const src = await open(from, 'r');
  const dst = await open(to, 'w');
  try {
    const size = (await src.stat()).size;
    const buf = Buffer.alloc(COPY_CHUNK_BYTES);
    for (let pos = 0; pos < size; ) {
      const { bytesRead } = await src.read(buf, 0, COPY_CHUNK_BYTES, pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      if (!isZero(chunk)) await dst.write(chunk, 0, bytesRead, pos);
      pos += bytesRead;
    }
    await dst.truncate(size);
  } finally {
    await src.close();
    await dst.close();
  }
}

const ZERO = Buffer.alloc(COPY_CHUNK_BYTES);

/** memcmp against a zero block, slice by slice: far faster than a byte loop in JS. */
function isZero(buf: Buffer): boolean {
  for (let off = 0; off < buf.length; off += ZERO.length) {
    const part = buf.subarray(off, off + ZERO.length);
    if (!part.equals(ZERO.subarray(0, part.length))) return false;
  }
  return true;
}

async function writeBlank(path: string): Promise<void> {
  await (await open(path, 'w')).close();
  await truncate(path, SEED_DISK_BYTES);
}

/** Recognisable, reproducible seed bytes: a text header, then a SHA-256 chain seeded by the label. */
function seedContent(label: string): Buffer {
  const out = Buffer.alloc(SEED_CONTENT_BYTES);
  let pos = out.write(`SKYGATE SIM DISK ${label}\n`);
  let block = createHash('sha256').update(label).digest();
  while (pos < SEED_CONTENT_BYTES) {
    pos += block.copy(out, pos);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}
