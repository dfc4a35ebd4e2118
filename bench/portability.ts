/**
 * `npx tsx bench/portability.ts`: OVA export and import through a real gateway process, beside the
 * physical baseline in the same run (export: `qemu-img convert` to streamOptimized VMDK then `tar`;
 * import: `tar -x` then `qemu-img convert` to raw), and the gateway's peak RSS (VmHWM) per image size.
 * Each image is half random data (16 MiB random, 16 MiB zeros, alternating). Sizes in GiB come from
 * BENCH_PORTABILITY_SIZES (default `1,2,4`; `0.25` for a quick run); a fresh gateway serves each size,
 * so its peak RSS belongs to that size alone. Results also go to bench/results/portability.json.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createCloudAdapter } from '../adapters/sim/index.js';
import { TOKEN, peakRssMiB, startGateway, stop } from './harness.js';

const run = promisify(execFile);
const SIZES = (process.env.BENCH_PORTABILITY_SIZES ?? '1,2,4').split(',').map(Number);
const GiB = 2 ** 30;
const STRIPE = 16 * 2 ** 20;
const auth = { Authorization: `Bearer ${TOKEN}` };
const silentLog = { info() {}, warn() {}, error() {} };
const seconds = (ms: number) => Math.round(ms) / 1000;

/** Disk bytes: 16 MiB of random data, then 16 MiB of zeros, to `bytes`. */
async function* halfRandom(bytes: number): AsyncGenerator<Buffer> {
  const zeros = Buffer.alloc(STRIPE);
  for (let at = 0, i = 0; at < bytes; at += STRIPE, i++) {
    const n = Math.min(STRIPE, bytes - at);
    yield i % 2 === 0 ? randomBytes(n) : zeros.subarray(0, n);
  }
}

/** Writes the benchmark image straight into sim-east's store (not a measured path); answers its id and disk file. */
async function seedImage(dataDir: string, bytes: number): Promise<{ id: string; file: string }> {
  const providerDir = path.join(dataDir, 'providers', 'sim-east');
  const sim = await createCloudAdapter({
    providerId: 'sim-east',
    settings: { latencyMs: 0 },
    dataDir: providerDir,
    log: silentLog,
  });
  const image = await sim.uploadImage?.(
    { name: 'bench-disk', diskFormat: 'raw', clientToken: 'bench-seed' },
    Readable.from(halfRandom(bytes)),
  );
  await sim.close?.();
  if (!image) throw new Error('the sim adapter cannot upload');
  return { id: `sim-east:${image.nativeId}`, file: path.join(providerDir, 'disks', `${image.nativeId}.raw`) };
}

async function waitOp(url: string, id: string): Promise<Record<string, unknown>> {
  for (;;) {
    const op = (await (await fetch(`${url}/v1/operations/${id}`, { headers: auth })).json()) as Record<string, unknown>;
    if (op.status === 'succeeded') return op;
    if (op.status === 'failed') throw new Error(`operation ${id} failed: ${JSON.stringify(op.error)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Streams a file as the body of a POST (chunked), answering the parsed JSON reply. */
function postFile(url: string, file: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/x-tar' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) }));
    });
    req.on('error', reject);
    pipeline(createReadStream(file, { highWaterMark: 2 ** 20 }), req).catch(reject);
  });
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

async function benchSize(dir: string, sizeGiB: number) {
  const bytes = Math.round(sizeGiB * GiB);
  const dataDir = path.join(dir, `gw-${sizeGiB}`);
  const work = path.join(dir, `work-${sizeGiB}`);
  await mkdir(work, { recursive: true });
  const image = await seedImage(dataDir, bytes);

  // Baseline: the same disk through the same tools, with no gateway in between.
  const vmdk = path.join(work, 'disk1.vmdk');
  const exportBase = await timed(async () => {
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', image.file, vmdk]);
    await run('tar', ['-cf', path.join(work, 'baseline.ova'), '-C', work, 'disk1.vmdk']);
  });
  await rm(vmdk);
  const importBase = await timed(async () => {
    await run('tar', ['-xf', path.join(work, 'baseline.ova'), '-C', work]);
    await run('qemu-img', ['convert', '-f', 'vmdk', '-O', 'raw', vmdk, path.join(work, 'baseline.raw')]);
  });
  await rm(path.join(work, 'baseline.raw'));
  await rm(path.join(work, 'baseline.ova'));
  await rm(vmdk);

  const config = path.join(dir, 'skygate.yaml');
  const { child, url } = await startGateway({
    SKYGATE_DATA_DIR: dataDir,
    SKYGATE_CONFIG: config,
    SKYGATE_UPLOAD_MAX_BYTES: String(64 * GiB),
  });
  try {
    // The gateway's own footprint before any image moves, so the pipeline's share of the peak is visible.
    await new Promise((r) => setTimeout(r, 500));
    const idleRssMiB = peakRssMiB(child.pid ?? 0);
    const exported = await timed(async () => {
      const res = await fetch(`${url}/v1/images/${encodeURIComponent(image.id)}/export`, { method: 'POST', headers: auth });
      if (res.status !== 202) throw new Error(`export: ${res.status} ${await res.text()}`);
      return waitOp(url, ((await res.json()) as { id: string }).id);
    });
    const ova = path.join(work, 'exported.ova');
    const downloadUrl = (exported.value.result as { ova: { downloadUrl: string } }).ova.downloadUrl;
    const download = await timed(async () => {
      const res = await fetch(`${url}${downloadUrl}`, { headers: auth });
      await pipeline(Readable.fromWeb(res.body as never), createWriteStream(ova));
    });
    const imported = await timed(async () => {
      const res = await postFile(`${url}/v1/images/import?provider=sim-west`, ova);
      if (res.status !== 202) throw new Error(`import: ${res.status} ${JSON.stringify(res.body)}`);
      return waitOp(url, String(res.body.id));
    });
    return {
      sizeGiB,
      randomGiB: sizeGiB / 2,
      ovaBytes: (await stat(ova)).size,
      export: { ms: Math.round(exported.ms), baselineMs: Math.round(exportBase.ms), ratio: exportBase.ms / exported.ms },
      import: { ms: Math.round(imported.ms), baselineMs: Math.round(importBase.ms), ratio: importBase.ms / imported.ms },
      downloadMs: Math.round(download.ms),
      gatewayIdleRssMiB: idleRssMiB,
      gatewayPeakRssMiB: peakRssMiB(child.pid ?? 0),
    };
  } finally {
    await stop(child);
    await rm(dataDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skygate-bench-ova-'));
  try {
    const providers = ['sim-east', 'sim-west']
      .map((id) => `  - id: ${id}\n    type: sim\n    settings:\n      latencyMs: 0\n`)
      .join('');
    await writeFile(path.join(dir, 'skygate.yaml'), `providers:\n${providers}`);
    const results = [];
    for (const size of SIZES) results.push(await benchSize(dir, size));

    const mibps = (gib: number, ms: number) => `${((gib * 1024) / (ms / 1000)).toFixed(0)} MiB/s`;
    const rows = [['benchmark', 'skygate', 'baseline (same run)', 'ratio', 'aim']];
    for (const r of results) {
      rows.push(
        [
          `export ${r.sizeGiB} GiB (${r.randomGiB} GiB random) to OVA`,
          `${seconds(r.export.ms)} s, ${mibps(r.sizeGiB, r.export.ms)}`,
          `${seconds(r.export.baselineMs)} s (qemu-img convert + tar)`,
          r.export.ratio.toFixed(2),
          '>= 0.8',
        ],
        [
          `import ${r.sizeGiB} GiB from OVA (upload + operation)`,
          `${seconds(r.import.ms)} s, ${mibps(r.sizeGiB, r.import.ms)}`,
          `${seconds(r.import.baselineMs)} s (tar -x + qemu-img convert)`,
          r.import.ratio.toFixed(2),
          '>= 0.8',
        ],
        [`  OVA size / download`, `${(r.ovaBytes / GiB).toFixed(2)} GiB / ${seconds(r.downloadMs)} s`, '-', '-', ''],
        [
          `  gateway peak RSS (VmHWM)`,
          `${r.gatewayPeakRssMiB} MiB (idle ${r.gatewayIdleRssMiB} MiB)`,
          '-',
          '-',
          '< 200 MiB, flat',
        ],
      );
    }
    const width = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
    for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(width[c] ?? 0)).join('  '));
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/portability.json', `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`);
    console.log('\nwritten bench/results/portability.json');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
