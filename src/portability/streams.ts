/** Stream pieces of the OVA pipeline: byte limits, digests on the way through, sparse writes, file digests. */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { type Readable, Transform } from 'node:stream';
import { SkygateError } from '../core/errors.js';

/** Passes bytes through until more than `maxBytes` went by, then fails with `payload_too_large`. */
export function byteLimit(maxBytes: number, what: string, field: string): Transform & { bytes(): number } {
  let seen = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes)
        done(new SkygateError('payload_too_large', `${what} is larger than the ${maxBytes} bytes accepted`, { field }));
      else done(null, chunk);
    },
  });
  return Object.assign(t, { bytes: () => seen });
}

/** Hashes (when given an algorithm) and counts what passes through; `digest()` is valid once the stream has ended. */
export function digestThrough(
  algorithm: string | undefined,
  onChunk?: (bytes: number) => void,
): Transform & { digest(): string | undefined } {
  const hash: Hash | undefined = algorithm ? createHash(algorithm) : undefined;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash?.update(chunk);
      onChunk?.(chunk.length);
      done(null, chunk);
    },
  });
  let result: string | undefined;
  return Object.assign(t, { digest: () => (result ??= hash?.digest('hex')) });
}

const ZERO = Buffer.alloc(256 * 1024);

function isZero(buf: Buffer): boolean {
  for (let off = 0; off < buf.length; off += ZERO.length) {
    const part = buf.subarray(off, off + ZERO.length);
    if (!part.equals(ZERO.subarray(0, part.length))) return false;
  }
  return true;
}

/**
 * Writes `data` to `path` with constant memory, leaving all-zero chunks as holes, so a mostly empty raw
 * disk costs only its data on disk. Answers the bytes written (the file's apparent size).
 */
export async function writeSparse(data: Readable, path: string, onProgress?: (bytes: number) => void): Promise<number> {
  const fh = await open(path, 'w');
  let size = 0;
  let last = 0;
  try {
    for await (const chunk of data) {
      const buf = chunk as Buffer;
      if (!isZero(buf)) await fh.write(buf, 0, buf.length, size);
      size += buf.length;
      if (onProgress && Date.now() - last >= 500) {
        last = Date.now();
        onProgress(size);
      }
    }
    await fh.truncate(size);
  } finally {
    await fh.close();
  }
  return size;
}

/**
 * SHA-256 (or `algorithm`) of a file, read into one reused buffer: a multi-GiB disk leaves no garbage
 * behind, so the gateway's memory stays flat however large the disk is.
 */
export async function fileDigest(path: string, algorithm = 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  const buf = Buffer.allocUnsafe(1024 * 1024);
  const fh = await open(path, 'r');
  try {
    for (let pos = 0; ; ) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}
