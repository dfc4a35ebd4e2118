/**
 * Glance streaming at size: a 1 GiB qcow2 of random data (made by qemu-img) goes up and comes back
 * through the adapter with this process's memory flat, and the same sha256 locally, at glance
 * (glance here hashes with sha256) and after the download.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import type { OpenStackCloudAdapter } from '../../../adapters/openstack/index.js';
import { call, makeQcow2, tenantAdapter } from './openstack-env.js';

const GIB = 1024;
/** What "constant memory" allows: far below the 1 GiB that a buffering client would hold. */
const MAX_RSS_GROWTH_MIB = 96;

let adapter: OpenStackCloudAdapter;
let dir: string;
let disk: { file: string; sha256: string; bytes: number };
let imageId: string | undefined;

/** Runs `work` while sampling this process's RSS; answers the growth over the value before it started. */
async function rssGrowthMiB(work: () => Promise<void>): Promise<number> {
  global.gc?.();
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return (peak - base) / 1024 / 1024;
}

before(async () => {
  adapter = await tenantAdapter();
  dir = await mkdtemp(path.join(tmpdir(), 'skygate-os-1g-'));
  disk = await makeQcow2(dir, GIB);
  assert.ok(disk.bytes > 1024 ** 3, `qemu-img made a ${disk.bytes}-byte qcow2 of 1 GiB of random data`);
});

after(async () => {
  if (imageId) await adapter.deleteImage(imageId).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

it('uploads a 1 GiB qcow2 with constant memory; glance hashes the same sha256', { timeout: 600_000 }, async (t) => {
  const growth = await rssGrowthMiB(async () => {
    const image = await adapter.uploadImage(
      { name: 'skygate-it-1gib', diskFormat: 'qcow2', sizeBytes: disk.bytes, clientToken: `it-1gib-${Date.now()}` },
      createReadStream(disk.file),
    );
    imageId = image.nativeId;
    assert.equal(image.state, 'available');
    assert.equal(image.sizeBytes, disk.bytes);
    assert.equal(image.diskFormat, 'qcow2');
  });
  t.diagnostic(`RSS growth while uploading ${disk.bytes} bytes: ${growth.toFixed(1)} MiB`);
  assert.ok(growth < MAX_RSS_GROWTH_MIB, `RSS grew ${growth.toFixed(1)} MiB while uploading 1 GiB`);
  const raw = await call('tenant', 'GET', `http://127.0.0.1:9292/v2/images/${imageId}`);
  const record = raw.body as { os_hash_algo: string; os_hash_value: string; size: number };
  assert.equal(record.os_hash_algo, 'sha256');
  assert.equal(record.os_hash_value, disk.sha256, "glance's sha256 of what it received equals the file's");
});

it('downloads it back with constant memory and the same sha256', { timeout: 600_000 }, async (t) => {
  assert.ok(imageId, 'the upload test ran');
  let got = '';
  let bytes = 0;
  const growth = await rssGrowthMiB(async () => {
    const { stream, sizeBytes, diskFormat } = await adapter.downloadImage(imageId as string);
    assert.equal(sizeBytes, disk.bytes);
    assert.equal(diskFormat, 'qcow2');
    const h = createHash('sha256');
    for await (const chunk of stream) {
      h.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    got = h.digest('hex');
  });
  assert.equal(bytes, disk.bytes);
  assert.equal(got, disk.sha256, 'the downloaded bytes hash as the original file');
  t.diagnostic(`RSS growth while downloading ${bytes} bytes: ${growth.toFixed(1)} MiB`);
  assert.ok(growth < MAX_RSS_GROWTH_MIB, `RSS grew ${growth.toFixed(1)} MiB while downloading 1 GiB`);
});
