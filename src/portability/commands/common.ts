/** What the portability commands share: their dependencies, scratch directories, cleanup on failure, throttled progress. */
import { rm } from 'node:fs/promises';
import type { Step, StepContext } from '../../core/operations/engine.js';
import type { UrlPolicy } from '../url-policy.js';
import type { WorkDirs } from '../work-dirs.js';

export interface PortabilityDeps {
  dirs: WorkDirs;
  /** Where OVAs made for download are kept (`<dataDir>/exports`). */
  exportsDir: string;
  /** The configured export target directory, when there is one. */
  exportDir?: string;
  uploadMaxBytes: number;
  /** Largest virtual size of an imported disk (portability.virtualSizeMaxBytes). */
  virtualSizeMaxBytes: number;
  urlPolicy: UrlPolicy;
}

/** The operation's scratch directory: named at submit time (uploads) or after the operation id. */
export const workDirOf = (deps: PortabilityDeps, ctx: StepContext): string =>
  typeof ctx.op.state.workDir === 'string' ? ctx.op.state.workDir : deps.dirs.forOperation(ctx.op.id);

/**
 * Wraps `steps` so that a failing step removes the operation's scratch directory and any partial output
 * named by `partials`: a failed operation leaves nothing behind. (A crash leaves them for the resumed
 * step to overwrite, or for the start-up sweep.)
 */
export function cleanedOnFailure(
  steps: Step[],
  deps: PortabilityDeps,
  partials: (ctx: StepContext) => string[] = () => [],
): Step[] {
  return steps.map((step) => ({
    name: step.name,
    async run(ctx) {
      try {
        await step.run(ctx);
      } catch (e) {
        await deps.dirs.remove(workDirOf(deps, ctx));
        for (const p of partials(ctx)) await rm(p, { force: true });
        throw e;
      }
    },
  }));
}

export interface Reporter {
  /** Reports progress at most every `everyMs` (each report is a store write), from any callback. */
  (detail: string, fraction?: number): void;
  /** Waits for reports in flight, so none lands after the step has finished. */
  flush(): Promise<void>;
  /** Reports now, unthrottled, in order with the others: for state that must be saved (a finished target). */
  persist(detail: string, fraction?: number): Promise<void>;
}

export function throttledReport(ctx: StepContext, everyMs = 500): Reporter {
  let last = 0;
  let chain = Promise.resolve();
  const report = (detail: string, fraction?: number) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    // Chained, so the store sees reports in order; progress is best effort and never fails the step.
    chain = chain.then(() => ctx.report(detail, fraction)).catch(() => {});
  };
  const persist = (detail: string, fraction?: number) => {
    chain = chain.then(() => ctx.report(detail, fraction));
    const done = chain;
    chain = chain.catch(() => {});
    return done;
  };
  return Object.assign(report, { flush: () => chain, persist });
}

/** A reporter that reports nothing, for work whose progress is shown another way. */
export const silentReporter = (): Reporter => Object.assign(() => {}, { flush: async () => {}, persist: async () => {} });

const MiB = 2 ** 20;
export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(bytes < 10 * MiB ? 1 : 0)} MiB`;
