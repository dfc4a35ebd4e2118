/**
 * The load generator, run as its own process by bench/harness.ts so that its CPU is never counted against the
 * server it measures: reads a LoadSpec (JSON) as its argument, drives the load with wrk (Debian's package, in C)
 * or autocannon (BENCH_LOADGEN=autocannon), and prints a LoadResult (JSON) on stdout, with the CPU the generator
 * itself used. A generator near a full core measures itself, not the server: autocannon parses each response in
 * JavaScript and saturates its core on large pages (a 230 KB XML page at about 1,300 a second here), which wrk
 * serves at a fifth of a core.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { type LoadGenerator, type LoadResult, type LoadSpec, loadGenerator } from './harness.js';

const execFileAsync = promisify(execFile);

/** A Lua long string: the text as it is, whatever quotes or backslashes it holds. */
function luaString(text: string): string {
  let level = '=';
  while (text.includes(`]${level}]`)) level += '=';
  return `[${level}[${text}]${level}]`;
}

/** The request (method, body, headers) and a summary in JSON at the end: wrk's own text report is for people. */
function wrkScript(spec: LoadSpec): string {
  const lines = [`wrk.method = ${luaString(spec.method ?? 'GET')}`];
  if (spec.body !== undefined) lines.push(`wrk.body = ${luaString(spec.body)}`);
  // Spaces inside the brackets: `[[` would open a long string.
  for (const [name, value] of Object.entries(spec.headers ?? {}))
    lines.push(`wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`);
  lines.push(
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(\'\\n{"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\\n\',',
    '    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),',
    '    e.status, e.connect, e.read, e.write, e.timeout))',
    'end',
  );
  return `${lines.join('\n')}\n`;
}

/** `0m1.230s` (bash's `times`) in seconds. */
const bashSeconds = (t: string) => {
  const m = /^(\d+)m([\d.]+)s$/.exec(t);
  if (!m) throw new Error(`unexpected time '${t}'`);
  return Number(m[1]) * 60 + Number(m[2]);
};

async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skygate-bench-wrk-'));
  try {
    const script = path.join(dir, 'load.lua');
    await writeFile(script, wrkScript(spec));
    // One thread: the machine has two cores, and the server under test needs the other. bash's `times` gives the
    // CPU wrk used (user and system), exactly, once it has exited.
    const { stdout, stderr } = await execFileAsync(
      'bash',
      [
        '-c',
        'wrk "$@"; status=$?; times; exit $status',
        'wrk',
        '-t1',
        `-c${spec.connections}`,
        `-d${spec.durationS}s`,
        '--timeout',
        '10s',
        '-s',
        script,
        spec.url,
      ],
      { maxBuffer: 1024 * 1024 },
    );
    // wrk reports a script error on stderr and runs on without the script: refuse such a run.
    if (stderr.trim() !== '') throw new Error(`wrk: ${stderr.trim()}`);
    const lines = stdout.trim().split('\n');
    const summary = JSON.parse(lines.find((l) => l.startsWith('{"requests"')) ?? 'null') as Record<string, number> | null;
    if (!summary) throw new Error(`wrk printed no summary:\n${stdout}`);
    const [user = '', system = ''] = (lines.at(-1) ?? '').trim().split(/\s+/);
    const cpuSeconds = bashSeconds(user) + bashSeconds(system);
    const seconds = (summary.durationUs as number) / 1e6;
    return {
      requestsPerSec: Math.round((summary.requests as number) / seconds),
      p50Ms: (summary.p50Us as number) / 1000,
      p99Ms: (summary.p99Us as number) / 1000,
      // wrk counts answers with a status of 400 or more; the subjects here answer 200 or fail.
      non2xx: summary.status as number,
      errors: (summary.connect as number) + (summary.read as number) + (summary.write as number),
      timeouts: summary.timeout as number,
      generatorCpuPct: Math.round((100 * cpuSeconds) / seconds),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const cpuBefore = process.cpuUsage();
  const r = await autocannon({
    url: spec.url,
    method: spec.method ?? 'GET',
    ...(spec.body !== undefined && { body: spec.body }),
    ...(spec.headers !== undefined && { headers: spec.headers }),
    connections: spec.connections,
    duration: spec.durationS,
  });
  const cpu = process.cpuUsage(cpuBefore);
  return {
    requestsPerSec: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    generatorCpuPct: Math.round((cpu.user + cpu.system) / 1e4 / r.duration),
  };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const generators: Record<LoadGenerator, (s: LoadSpec) => Promise<LoadResult>> = { wrk: runWrk, autocannon: runAutocannon };
const result = await generators[loadGenerator()](spec);
process.stdout.write(`${JSON.stringify(result)}\n`);
