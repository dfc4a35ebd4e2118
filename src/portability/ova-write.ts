/** Writes an OVA: a tar whose first member is the descriptor, then the manifest, then the disk files, streamed from disk. */
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { digestThrough } from './streams.js';

/** Large sequential reads move a disk faster with the same flat memory. */
const READ_CHUNK = 1024 * 1024;

export interface OvaParts {
  descriptor: { name: string; text: string };
  manifest?: { name: string; text: string };
  files: Array<{ name: string; path: string; size: number }>;
}

/** Streams the package into `out` with constant memory; `onBytes` sees the file bytes written so far. */
export async function writeOva(out: Writable, parts: OvaParts, onBytes?: (bytes: number) => void): Promise<void> {
  const pack = tar.pack();
  const written = pipeline(pack, out);
  const mtime = new Date();
  const header = (name: string, size: number) => ({ name, size, mode: 0o644, mtime, uid: 0, gid: 0 });
  try {
    const small = [parts.descriptor, ...(parts.manifest ? [parts.manifest] : [])];
    for (const { name, text } of small) {
      const data = Buffer.from(text, 'utf8');
      await new Promise<void>((resolve, reject) =>
        pack.entry(header(name, data.length), data, (e) => (e ? reject(e) : resolve())),
      );
    }
    let total = 0;
    for (const f of parts.files) {
      const entry = pack.entry(header(f.name, f.size));
      await pipeline(
        createReadStream(f.path, { highWaterMark: READ_CHUNK }),
        digestThrough(undefined, (n) => {
          total += n;
          onBytes?.(total);
        }),
        entry,
      );
    }
    pack.finalize();
  } catch (e) {
    pack.destroy(e instanceof Error ? e : new Error(String(e)));
    await written.catch(() => {});
    throw e;
  }
  await written;
}
