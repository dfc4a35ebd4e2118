/**
 * Scratch space of the OVA pipeline, `<dataDir>/tmp/<name>`: one directory per operation or upload,
 * removed when it finishes or fails, and swept at start-up of anything no unfinished operation owns.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export class WorkDirs {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = resolve(dataDir, 'tmp');
  }

  /** The scratch directory of operation `opId` (not created). */
  forOperation(opId: string): string {
    return join(this.root, opId);
  }

  /** A new, empty scratch directory for work that has no operation yet (an upload). */
  async fresh(): Promise<string> {
    const dir = join(this.root, `upload-${randomUUID()}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async ensure(dir: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async remove(dir: string): Promise<void> {
    // Only ever below the root: a corrupted operation state must not point this at anything else.
    if (!resolve(dir).startsWith(`${this.root}/`)) return;
    await rm(dir, { recursive: true, force: true });
  }

  /** Removes every scratch directory not in `keep` (the ones unfinished operations will resume with). */
  async sweep(keep: Set<string>): Promise<number> {
    const entries = await readdir(this.root).catch(() => [] as string[]);
    let removed = 0;
    for (const name of entries) {
      const dir = join(this.root, name);
      if (keep.has(dir)) continue;
      await rm(dir, { recursive: true, force: true });
      removed++;
    }
    return removed;
  }
}
