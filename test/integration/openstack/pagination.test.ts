/** Nova and Glance listings walked with their own marker/limit, with more items than one page. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, it } from 'node:test';
import type { OpenStackCloudAdapter } from '../../../adapters/openstack/index.js';
import { walkPages } from '../../contract/cloud-adapter-contract.js';
import { baseImage, TINY_FLAVOR, tenantAdapter } from './openstack-env.js';

const COUNT = 12;
const PAGE = 5;
let adapter: OpenStackCloudAdapter;
const run = `it-page-${randomUUID().slice(0, 8)}`;
const servers: string[] = [];
const images: string[] = [];

before(async () => {
  adapter = await tenantAdapter();
});

after(async () => {
  for (const id of servers) await adapter.deleteInstance(id).catch(() => undefined);
  for (const id of images) await adapter.deleteImage(id).catch(() => undefined);
});

it(`lists ${COUNT} servers in pages of ${PAGE} through nova's markers`, { timeout: 300_000 }, async () => {
  const imageId = await baseImage(adapter);
  for (let i = 0; i < COUNT; i++) {
    const vm = await adapter.createInstance({
      name: `${run}-${i}`,
      flavorId: TINY_FLAVOR,
      imageId,
      clientToken: `${run}-vm-${i}`,
    });
    servers.push(vm.nativeId);
  }
  // listed at once, while nova is still building them (its build requests and cell records overlap)
  const pages = await walkPages((p) => adapter.listInstances(p), PAGE);
  const ids = pages.flat().map((s) => s.nativeId);
  assert.ok(pages.length >= Math.ceil(COUNT / PAGE), `${pages.length} pages`);
  assert.ok(
    pages.every((p) => p.length <= PAGE),
    'no page is longer than the limit',
  );
  assert.equal(new Set(ids).size, ids.length, 'no server twice');
  for (const id of servers) assert.ok(ids.includes(id), `server ${id} listed`);
});

it(`lists ${COUNT} images in pages of ${PAGE} through glance's markers`, { timeout: 300_000 }, async () => {
  for (let i = 0; i < COUNT; i++) {
    const image = await adapter.uploadImage(
      { name: `${run}-${i}`, diskFormat: 'raw', clientToken: `${run}-img-${i}` },
      Readable.from([Buffer.from(`skygate pagination image ${i}\n`)]),
    );
    images.push(image.nativeId);
  }
  const pages = await walkPages((p) => adapter.listImages(p), PAGE);
  const ids = pages.flat().map((i) => i.nativeId);
  assert.ok(pages.length >= Math.ceil(COUNT / PAGE), `${pages.length} pages`);
  assert.ok(
    pages.every((p) => p.length <= PAGE),
    'no page is longer than the limit',
  );
  assert.equal(new Set(ids).size, ids.length, 'no image twice');
  for (const id of images) assert.ok(ids.includes(id), `image ${id} listed`);
});
