/**
 * Shared pieces of the benchmarks: start a gateway process, measure its memory, and measure a server
 * under load fairly on a small shared machine — the load generator in its own process, the subject
 * and its baseline alternated over several rounds, each figure a median printed with its spread.
 */
import path from 'node:path';
import { createCloudAdapter } from '../adapters/sim/index.js';
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

export const TOKEN = 'bench-admin-token-0123456789abcdef';

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export async function waitHttp(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await fetch(url).then(
      (r) => r.status < 500,
      () => false,
    ))
  ) {
    if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before serving ${url}`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Starts `npm start`'s entry point as its own process, as an operator would run it. */
export async function startGateway(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  // BENCH_GATEWAY_NODE_ARGS passes Node flags to the gateway alone (e.g. `--cpu-prof --cpu-prof-dir=…` to profile it).
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/server/main.ts'], {
    env: { ...process.env, SKYGATE_PORT: String(port), SKYGATE_ADMIN_TOKEN: TOKEN, SKYGATE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/healthz`, child);
  return { child, url };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

/** Peak resident set (VmHWM) of a live process, in MiB. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round(kb / 1024);
}

// ---------------------------------------------------------------- load

/** One load run: what bench/load-worker.ts is asked to send. */
export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  durationS: number;
}

export interface LoadResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** The CPU the load generator used, in % of one core: near 100, it measured itself rather than the server. */
  generatorCpuPct: number;
}

export type LoadGenerator = 'wrk' | 'autocannon';

/**
 * The load generator: BENCH_LOADGEN when set, else wrk when it is installed (`npm run bench` installs it), else
 * autocannon (which saturates its own core on large pages: the table shows its CPU).
 */
export function loadGenerator(): LoadGenerator {
  const asked = process.env.BENCH_LOADGEN;
  if (asked === 'wrk' || asked === 'autocannon') return asked;
  if (asked !== undefined && asked !== '') throw new Error(`BENCH_LOADGEN must be wrk or autocannon, not '${asked}'`);
  return spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status === 0 ? 'wrk' : 'autocannon';
}

const execFileAsync = promisify(execFile);

/** Runs the load generator from a child process (bench/load-worker.ts), so it does not share the caller's event loop. */
export async function load(spec: LoadSpec): Promise<LoadResult> {
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', 'bench/load-worker.ts', JSON.stringify(spec)], {
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(stdout) as LoadResult;
}

// ---------------------------------------------------------------- rounds

/** A median with the smallest and largest value it was taken from. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  if (values.length === 0) throw new Error('no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted.at(-1) as number };
}

/** Something to measure; `spec` is asked afresh each run (a signed request may need signing again). */
export interface Subject {
  label: string;
  spec: () => LoadSpec | Promise<LoadSpec>;
}

export interface SubjectFigures {
  label: string;
  requestsPerSec: Spread;
  p99Ms: Spread;
  p50Ms: Spread;
  generatorCpuPct: Spread;
  /** Summed over all rounds. */
  non2xx: number;
  errors: number;
  timeouts: number;
  rounds: LoadResult[];
}

export interface Comparison {
  rounds: number;
  subject: SubjectFigures;
  baseline: SubjectFigures;
  /** Median is the ratio of the medians; min and max are the extremes of the per-round ratios. */
  throughputRatio: Spread;
  p99Ratio: Spread;
}

function figures(label: string, rounds: LoadResult[]): SubjectFigures {
  const sum = (k: 'non2xx' | 'errors' | 'timeouts') => rounds.reduce((n, r) => n + r[k], 0);
  return {
    label,
    requestsPerSec: spread(rounds.map((r) => r.requestsPerSec)),
    p99Ms: spread(rounds.map((r) => r.p99Ms)),
    p50Ms: spread(rounds.map((r) => r.p50Ms)),
    generatorCpuPct: spread(rounds.map((r) => r.generatorCpuPct)),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    rounds,
  };
}

function ratio(of: Spread, to: Spread, perRound: number[]): Spread {
  const r = spread(perRound);
  return { median: of.median / to.median, min: r.min, max: r.max };
}

/**
 * Measures `subject` and `baseline` in alternating rounds (subject first in even rounds, baseline first
 * in odd ones), after one unrecorded warm-up run each, so that a noisy neighbour, a background refresh
 * or JIT warm-up does not weigh on one side only. At least three rounds.
 */
export async function compareInRounds(
  subject: Subject,
  baseline: Subject,
  opts: { rounds: number; warmupS: number; log?: (line: string) => void },
): Promise<Comparison> {
  if (!Number.isInteger(opts.rounds) || opts.rounds < 3) throw new Error(`rounds must be an integer >= 3, got ${opts.rounds}`);
  const log = opts.log ?? ((line: string) => console.log(line));
  const run = async (s: Subject, durationS?: number) => {
    const spec = await s.spec();
    return load(durationS === undefined ? spec : { ...spec, durationS });
  };
  log(`  load generator: ${loadGenerator()} (its own process)`);
  for (const s of [subject, baseline]) if (opts.warmupS > 0) await run(s, opts.warmupS);
  const mine: LoadResult[] = [];
  const theirs: LoadResult[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    const order = i % 2 === 0 ? ([subject, baseline] as const) : ([baseline, subject] as const);
    for (const s of order) {
      const r = await run(s);
      (s === subject ? mine : theirs).push(r);
      log(
        `  round ${i + 1}/${opts.rounds} ${s.label}: ${r.requestsPerSec} req/s, p99 ${r.p99Ms} ms, generator CPU ${r.generatorCpuPct}%`,
      );
    }
  }
  const a = figures(subject.label, mine);
  const b = figures(baseline.label, theirs);
  return {
    rounds: opts.rounds,
    subject: a,
    baseline: b,
    throughputRatio: ratio(
      a.requestsPerSec,
      b.requestsPerSec,
      mine.map((r, i) => r.requestsPerSec / (theirs[i] as LoadResult).requestsPerSec),
    ),
    p99Ratio: ratio(
      a.p99Ms,
      b.p99Ms,
      mine.map((r, i) => r.p99Ms / (theirs[i] as LoadResult).p99Ms),
    ),
  };
}

// ---------------------------------------------------------------- reporting

/** `6210 (5980–6400)`: a median and its spread. */
export function showSpread(s: Spread, digits = 0): string {
  const f = (n: number) => n.toFixed(digits);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** The comparison's rows: throughput, p99 and p50 of both sides, with the ratios against their aims. */
export function comparisonRows(c: Comparison, aims: { minThroughputRatio: number; maxP99Ratio?: number }): string[][] {
  const t = c.throughputRatio;
  const p = c.p99Ratio;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  return [
    ['measure', c.subject.label, c.baseline.label, 'ratio (per-round range)', 'aim'],
    [
      'req/s, median (min–max)',
      showSpread(c.subject.requestsPerSec),
      showSpread(c.baseline.requestsPerSec),
      `${t.median.toFixed(2)}x (${t.min.toFixed(2)}–${t.max.toFixed(2)})`,
      `>= ${aims.minThroughputRatio}x: ${met(t.median >= aims.minThroughputRatio)}`,
    ],
    [
      'p99 ms, median (min–max)',
      showSpread(c.subject.p99Ms, 1),
      showSpread(c.baseline.p99Ms, 1),
      `${p.median.toFixed(2)}x (${p.min.toFixed(2)}–${p.max.toFixed(2)})`,
      aims.maxP99Ratio === undefined ? '' : `<= ${aims.maxP99Ratio}x: ${met(p.median <= aims.maxP99Ratio)}`,
    ],
    ['p50 ms, median (min–max)', showSpread(c.subject.p50Ms, 1), showSpread(c.baseline.p50Ms, 1), '', ''],
    [
      `${loadGenerator()} CPU %, median (min–max)`,
      showSpread(c.subject.generatorCpuPct),
      showSpread(c.baseline.generatorCpuPct),
      '',
      'well under 100',
    ],
    [
      'non-2xx / errors / timeouts (all rounds)',
      `${c.subject.non2xx} / ${c.subject.errors} / ${c.subject.timeouts}`,
      `${c.baseline.non2xx} / ${c.baseline.errors} / ${c.baseline.timeouts}`,
      '',
      '0 / 0 / 0',
    ],
  ];
}

export function printTable(rows: string[][]): void {
  const width = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  for (const r of rows)
    console.log(
      r
        .map((cell, c) => cell.padEnd(width[c] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}

/** What the figures were measured on: a 2-core machine shared with others gives noisier figures than a quiet one. */
export function machine(): { cpus: number; loadAverage1m: number; node: string } {
  return { cpus: cpus().length, loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)), node: process.version };
}

/** Writes bench/results/<name>.json (ignored by git). */
export async function writeResult(name: string, result: object): Promise<void> {
  await mkdir('bench/results', { recursive: true });
  const file = `bench/results/${name}.json`;
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwritten ${file}`);
}

/** Seeds each sim provider directly (not a measured path) with `perProvider` instances tagged by `tagsOf`. */
export async function seedSimInstances(
  dataDir: string,
  providers: string[],
  perProvider: number,
  tagsOf: (i: number) => Record<string, string>,
): Promise<void> {
  const silent = { info() {}, warn() {}, error() {} };
  for (const id of providers) {
    const sim = await createCloudAdapter({
      providerId: id,
      settings: { latencyMs: 0 },
      dataDir: path.join(dataDir, 'providers', id),
      log: silent,
    });
    for (let i = 0; i < perProvider; i++) {
      await sim.createInstance({
        name: `bench-${id}-${i}`,
        flavorId: 'sim.small',
        imageId: 'img-ubuntu-22-04',
        tags: tagsOf(i),
        clientToken: `seed-${id}-${i}`,
      });
    }
    await sim.close?.();
  }
}
