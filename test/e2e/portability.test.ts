/**
 * Image portability through the REST API of a real gateway: export an image from sim-east to an OVA,
 * download it (whole and by Range), check it with real tools (tar, qemu-img, xmllint, the skygate CLI),
 * import it into sim-west by upload and by URL, replicate, boot from the import; and refuse bad URLs,
 * bad packages and oversized uploads with nothing left behind.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import request from 'supertest';
import { validateResponse } from '../../src/api/rest/openapi-validator.js';
import type { Image, Operation } from '../../src/core/model.js';
import { ADMIN_TOKEN, type TestGateway, startTestGateway } from '../helpers/gateway.js';
import { goodOva, sha256, tarOf } from '../helpers/ova-craft.js';

const run = promisify(execFile);
const QUOTA = 8 * 2 ** 20;
const SOURCE = 'sim-east:img-ubuntu-22-04';
const enc = encodeURIComponent;

/** Collects a binary body as a Buffer. */
const binary = (res: unknown, cb: (err: Error | null, body: Buffer) => void) => {
  const stream = res as http.IncomingMessage;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
};

const ovaResult = (op: Operation) => (op.result?.ova ?? {}) as { downloadUrl: string; sizeBytes: number; path?: string };

function specCheck(method: string, url: string, res: request.Response): void {
  const headers = res.headers as Record<string, string>;
  assert.deepEqual(
    validateResponse(method, url, res.status, res.type, res.body, headers),
    [],
    `${method} ${url} -> ${res.status}`,
  );
}

describe('image portability over REST', () => {
  let gw: TestGateway;
  let work: string;
  let exportDir: string;
  let origin: http.Server;
  let originUrl: string;
  let ova: Buffer;
  let exportOp: Operation;
  let imported: { op: Operation; imageId: string };

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'skygate-portability-'));
    exportDir = path.join(work, 'exports');
    origin = http.createServer((req, res) => {
      if (req.url === '/pkg.ova') return void res.writeHead(200, { 'Content-Type': 'application/x-tar' }).end(ova);
      if (req.url === '/moved') return void res.writeHead(302, { Location: '/pkg.ova' }).end();
      if (req.url === '/to-metadata')
        return void res.writeHead(302, { Location: 'http://169.254.169.254/latest/meta-data' }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    gw = await startTestGateway({
      env: {
        SKYGATE_UPLOAD_MAX_BYTES: String(QUOTA),
        SKYGATE_URL_ALLOWLIST: '127.0.0.1,169.254.169.254,example.com',
        SKYGATE_URL_PORTS: `80,443,${(origin.address() as AddressInfo).port}`,
        SKYGATE_EXPORT_DIR: exportDir,
      },
    });
  });
  after(async () => {
    await gw.close();
    await new Promise((resolve) => origin.close(resolve));
    await rm(work, { recursive: true, force: true });
  });

  /** The gateway's scratch area must hold nothing once a request or operation is over. */
  async function assertScratchEmpty(): Promise<void> {
    const entries = await readdir(path.join(gw.dataDir, 'tmp')).catch(() => []);
    assert.deepEqual(entries, [], 'the gateway left temporary files behind');
  }

  const authed = (r: request.Test) => r.set('Authorization', `Bearer ${ADMIN_TOKEN}`);

  /** POSTs an upload chunk by chunk (chunked unless a length is given), answering as soon as the gateway does. */
  function rawPost(headers: Record<string, string>, chunks: Buffer[]): Promise<{ status: number; body: { detail?: string } }> {
    return new Promise((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/images/import?provider=sim-west`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...headers },
        // A deadline: a gateway that never answers fails the test instead of hanging it.
        signal: AbortSignal.timeout(30_000),
      });
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}');
          assert.deepEqual(
            validateResponse('POST', '/v1/images/import', res.statusCode ?? 0, res.headers['content-type'], body),
            [],
          );
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        });
      });
      // The gateway may close the connection while chunks are still going out: that is the point.
      req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
      (async () => {
        for (const c of chunks) {
          if (req.destroyed) return;
          if (!req.write(c)) await new Promise((r) => req.once('drain', r));
        }
        if (!headers['Content-Length']) req.end();
      })().catch(reject);
    });
  }

  async function upload(body: Buffer, query: string): Promise<request.Response> {
    const url = `/v1/images/import?${query}`;
    const res = await authed(request(gw.url).post(url)).set('Content-Type', 'application/x-tar').send(body);
    specCheck('POST', url, res);
    return res;
  }

  it('exports an image to an OVA (202, then an operation that succeeds)', async () => {
    const res = await gw.api('post', `/v1/images/${enc(SOURCE)}/export`);
    assert.equal(res.status, 202);
    assert.equal(res.headers.location, `/v1/operations/${res.body.id}`);
    exportOp = await gw.waitOperation(res.body.id, 30_000);
    assert.equal(exportOp.status, 'succeeded', JSON.stringify(exportOp.error));
    assert.deepEqual(
      exportOp.steps.map((s) => [s.name, s.status]),
      [
        ['download', 'succeeded'],
        ['convert', 'succeeded'],
        ['checksum', 'succeeded'],
        ['package', 'succeeded'],
      ],
    );
    assert.equal(exportOp.result?.diskFormat, 'vmdk');
    await assertScratchEmpty();
  });

  it('downloads the OVA whole and by Range', async () => {
    const url = ovaResult(exportOp).downloadUrl;
    const whole = await authed(request(gw.url).get(url)).buffer(true).parse(binary);
    specCheck('GET', url, whole);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers['content-type'], 'application/x-tar');
    assert.match(whole.headers['content-disposition'] ?? '', /filename="?ubuntu-22\.04\.ova/);
    ova = whole.body as Buffer;
    assert.equal(ova.length, ovaResult(exportOp).sizeBytes);

    const part = await authed(request(gw.url).get(url)).set('Range', 'bytes=512-1535').buffer(true).parse(binary);
    specCheck('GET', url, part);
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 512-1535/${ova.length}`);
    assert.deepEqual(part.body, ova.subarray(512, 1536));

    const tail = await authed(request(gw.url).get(url))
      .set('Range', `bytes=${ova.length - 100}-`)
      .buffer(true)
      .parse(binary);
    assert.deepEqual(tail.body, ova.subarray(ova.length - 100));

    const outside = await authed(request(gw.url).get(url)).set('Range', `bytes=${ova.length + 10}-`);
    specCheck('GET', url, outside);
    assert.equal(outside.status, 416);
    assert.equal(outside.headers['content-range'], `bytes */${ova.length}`);

    const wrongImage = await gw.api('get', `/v1/images/${enc('sim-east:img-debian-12')}/export/${exportOp.id}/ova`);
    assert.equal(wrongImage.status, 404);
  });

  it('the OVA passes real tools: tar order, qemu-img check/info on its VMDK, the DMTF schema, skygate ova validate', async () => {
    const file = path.join(work, 'downloaded.ova');
    await writeFile(file, ova);
    const { stdout: listing } = await run('tar', ['-tf', file]);
    assert.deepEqual(listing.trim().split('\n'), ['ubuntu-22.04.ovf', 'ubuntu-22.04.mf', 'ubuntu-22.04-disk1.vmdk']);
    const out = path.join(work, 'unpacked');
    await run('mkdir', ['-p', out]);
    await run('tar', ['-xf', file, '-C', out]);
    await run('qemu-img', ['check', '-f', 'vmdk', path.join(out, 'ubuntu-22.04-disk1.vmdk')]);
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', path.join(out, 'ubuntu-22.04-disk1.vmdk')])).stdout);
    assert.equal(info.format, 'vmdk');
    assert.equal(info['format-specific'].data['create-type'], 'streamOptimized');
    assert.equal(info['virtual-size'], 64 * 2 ** 20);
    await run('xmllint', [
      '--nonet',
      '--noout',
      '--schema',
      'test/fixtures/ovf/xsd/ovf-1.1.1-xen-orchestra/dsp8023_1.1.1.xsd',
      path.join(out, 'ubuntu-22.04.ovf'),
    ]);
    const { stdout } = await run(process.execPath, ['bin/skygate.mjs', 'ova', 'validate', '--json', file]);
    assert.equal(JSON.parse(stdout).valid, true);
  });

  it('imports the OVA into sim-west by upload, maps a flavor, and boots an instance from it', async () => {
    const res = await upload(ova, 'provider=sim-west&name=web-from-ova');
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const op = await gw.waitOperation(res.body.id, 30_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    const mapping = op.result?.flavorMapping as { flavorId: string; fits: boolean; need: { vcpus: number } };
    assert.equal(mapping.flavorId, 'sim-west:sim.small');
    assert.equal(mapping.fits, true);
    imported = { op, imageId: String(op.target) };
    const image = (await gw.api('get', `/v1/images/${enc(imported.imageId)}`)).body as Image;
    assert.equal(image.name, 'web-from-ova');
    assert.equal(image.state, 'available');
    // Uploaded as the package carries it (streamOptimized VMDK): no conversion was asked for.
    assert.equal(image.diskFormat, 'vmdk');
    assert.equal(op.result?.diskFormat, 'vmdk');
    await assertScratchEmpty();

    const boot = await gw.api('post', '/v1/instances', {
      provider: 'sim-west',
      name: 'booted-from-ova',
      flavorId: mapping.flavorId,
      imageId: imported.imageId,
    });
    assert.equal(boot.status, 202, JSON.stringify(boot.body));
    const booted = await gw.waitOperation(boot.body.id, 30_000);
    assert.equal(booted.status, 'succeeded', JSON.stringify(booted.error));
    const vm = await gw.api('get', `/v1/instances/${enc(String(booted.target))}`);
    assert.equal(vm.body.state, 'running');
    assert.equal(vm.body.imageId, imported.imageId);
  });

  /** A sim image's disk file (the sim keeps one per image: `<dataDir>/disks/<nativeId>.<format>`). */
  const diskOf = (id: string, format: string) =>
    path.join(gw.dataDir, 'providers', id.split(':')[0] as string, 'disks', `${id.split(':')[1]}.${format}`);

  it('the imported disk holds the same bytes as the source (qemu-img compare)', async () => {
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'vmdk', diskOf(SOURCE, 'raw'), diskOf(imported.imageId, 'vmdk')]);
  });

  it('converts on import when asked for another format (raw)', async () => {
    const res = await upload(ova, 'provider=sim-west&diskFormat=raw');
    assert.equal(res.status, 202);
    const op = await gw.waitOperation(res.body.id, 30_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    const image = (await gw.api('get', `/v1/images/${enc(String(op.target))}`)).body as Image;
    assert.equal(image.diskFormat, 'raw');
    assert.equal(image.sizeBytes, 64 * 2 ** 20);
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', diskOf(SOURCE, 'raw'), diskOf(image.id, 'raw')]);
    await assertScratchEmpty();
  });

  it('imports by URL from an allowlisted server, following a redirect', async () => {
    const res = await gw.api('post', '/v1/images/import', {
      provider: 'sim-west',
      url: `${originUrl}/moved`,
      diskFormat: 'qcow2',
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const op = await gw.waitOperation(res.body.id, 30_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    const image = (await gw.api('get', `/v1/images/${enc(String(op.target))}`)).body as Image;
    assert.equal(image.diskFormat, 'qcow2');
    await assertScratchEmpty();
  });

  it('refuses URLs that are file://, link-local, the gateway itself or off the allowlist, before any operation', async () => {
    const cases: Array<[string, RegExp]> = [
      ['file:///etc/passwd', /scheme 'file' is not allowed/],
      ['http://169.254.169.254/latest/meta-data/', /link[Ll]ocal/],
      // The gateway's own port is not an allowed one here (the unit test covers the self-check on an allowed port).
      [`${gw.url}/v1/images`, /the gateway itself|port \d+ is not allowed/],
      ['http://203.0.113.7/a.ova', /not on the allowlist/],
    ];
    for (const [url, reason] of cases) {
      const res = await gw.api('post', '/v1/images/import', { provider: 'sim-west', url });
      assert.equal(res.status, 400, url);
      assert.equal(res.body.field, 'body.url');
      assert.match(res.body.detail, reason);
    }
    const ops = await gw.api('get', '/v1/operations?kind=image.import&status=failed');
    assert.equal(ops.body.items.length, 0);
  });

  it('fails an import whose redirect leads to a refused address, naming it', async () => {
    const res = await gw.api('post', '/v1/images/import', { provider: 'sim-west', url: `${originUrl}/to-metadata` });
    assert.equal(res.status, 202);
    const op = await gw.waitOperation(res.body.id, 30_000);
    assert.equal(op.status, 'failed');
    assert.match(op.error?.message ?? '', /169\.254\.169\.254, a linkLocal address/);
    await assertScratchEmpty();
  });

  it('refuses an upload over the quota with 413, by declared length or mid-stream, leaving nothing', async () => {
    // A declared 10 GB body is refused before a byte of it is read.
    const declared = await rawPost({ 'Content-Type': 'application/x-tar', 'Content-Length': '10000000000' }, [
      Buffer.alloc(64 * 1024),
    ]);
    assert.equal(declared.status, 413);
    await assertScratchEmpty();

    // Without a length (chunked), the stream is cut off once it passes the quota.
    const big = await goodOva(randomBytes(QUOTA + 1024));
    const chunks = Array.from({ length: Math.ceil(big.length / 65536) }, (_, i) => big.subarray(i * 65536, (i + 1) * 65536));
    const res = await rawPost({ 'Content-Type': 'application/octet-stream' }, chunks);
    assert.equal(res.status, 413, JSON.stringify(res.body));
    assert.match(res.body.detail ?? '', /larger than the 8388608 bytes accepted/);
    await assertScratchEmpty();
  });

  it('refuses a package whose manifest disagrees, with 400 and nothing left behind', async () => {
    const disk = randomBytes(4096);
    const good = await goodOva(disk);
    const tampered = Buffer.from(good);
    // Flip a byte inside the disk member's data (the last member; its data ends before tar's zero padding).
    const at = good.lastIndexOf(disk.subarray(0, 64)) + 100;
    tampered[at] = (tampered[at] ?? 0) ^ 0xff;
    const res = await upload(tampered, 'provider=sim-west');
    assert.equal(res.status, 400);
    assert.match(res.body.detail, /SHA256 digest mismatch/);
    await assertScratchEmpty();
  });

  it('fails an import whose disk is larger than declared, cleaning up after the operation', async () => {
    const raw = path.join(work, 'lie.raw');
    const vmdk = path.join(work, 'lie.vmdk');
    await run('qemu-img', ['create', '-f', 'raw', raw, '64M']);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', raw, vmdk]);
    const disk = await readFile(vmdk);
    const pkg = await goodOva(disk, 'crafted-disk1.vmdk', {
      disk: { href: 'crafted-disk1.vmdk', sizeBytes: disk.length, capacityBytes: 16 * 2 ** 20, format: 'vmdk' },
    });
    const res = await upload(pkg, 'provider=sim-west');
    assert.equal(res.status, 202);
    const op = await gw.waitOperation(res.body.id, 30_000);
    assert.equal(op.status, 'failed');
    assert.equal(op.error?.code, 'invalid_input');
    assert.match(op.error?.message ?? '', /larger than declared/);
    await assertScratchEmpty();
  });

  it('refuses an upload without a provider, to an unknown provider, or with a stray query on a URL import', async () => {
    const pkg = await tarOf([{ name: 'a.ovf', data: '<x/>' }]);
    assert.equal((await upload(pkg, 'name=x')).body.field, 'query.provider');
    assert.equal((await upload(pkg, 'provider=nowhere')).body.field, 'query.provider');
    const stray = await authed(request(gw.url).post('/v1/images/import?provider=sim-west')).send({
      provider: 'sim-west',
      url: `${originUrl}/pkg.ova`,
    });
    assert.equal(stray.status, 400);
    assert.equal(stray.body.field, 'query.provider');
    await assertScratchEmpty();
  });

  it('replicates an image to sim-west through the OVA pipeline, with the same bytes', async () => {
    const source = 'sim-east:img-debian-12';
    const res = await gw.api('post', `/v1/images/${enc(source)}/replicate`, { targets: ['sim-west'] });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const op = await gw.waitOperation(res.body.id, 30_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    const replicas = op.result?.replicas as Array<{ provider: string; imageId: string; method: string }>;
    assert.equal(replicas.length, 1);
    assert.equal(replicas[0]?.provider, 'sim-west');
    assert.equal(replicas[0]?.method, 'ova');
    const replica = (await gw.api('get', `/v1/images/${enc(String(replicas[0]?.imageId))}`)).body as Image;
    assert.equal(replica.tags['skygate.replicaOf'], source);
    // A replica keeps its source's format (raw here), though it travelled as a streamOptimized VMDK.
    assert.equal(replica.diskFormat, 'raw');
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', diskOf(source, 'raw'), diskOf(replica.id, 'raw')]);
    await assertScratchEmpty();
  });

  it("refuses to replicate to the image's own provider or an unknown one", async () => {
    const own = await gw.api('post', `/v1/images/${enc(SOURCE)}/replicate`, { targets: ['sim-east'] });
    assert.equal(own.status, 400);
    assert.equal(own.body.field, 'body.targets[0]');
    const unknown = await gw.api('post', `/v1/images/${enc(SOURCE)}/replicate`, { targets: ['sim-west', 'nowhere'] });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.field, 'body.targets[1]');
  });

  it('writes a qcow2 / OVF 2.0 export to the configured export directory, valid against the 2.0 schema', async () => {
    const res = await gw.api('post', `/v1/images/${enc(SOURCE)}/export`, {
      diskFormat: 'qcow2',
      ovfVersion: '2.0',
      destination: 'export-dir',
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const op = await gw.waitOperation(res.body.id, 30_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    const file = String(ovaResult(op).path);
    assert.equal(path.dirname(file), exportDir);
    assert.ok((await stat(file)).size > 0);
    const out = path.join(work, 'v2');
    await run('mkdir', ['-p', out]);
    await run('tar', ['-xf', file, '-C', out]);
    const files = await readdir(out);
    const ovf = files.find((f) => f.endsWith('.ovf')) as string;
    await run('xmllint', [
      '--nonet',
      '--noout',
      '--schema',
      'test/fixtures/ovf/xsd/ovf-2.0.1-itchy/dsp8023_2.0.1.xsd',
      path.join(out, ovf),
    ]);
    const qcow = files.find((f) => f.endsWith('.qcow2')) as string;
    await run('qemu-img', ['check', '-f', 'qcow2', path.join(out, qcow)]);
    const mf = await readFile(path.join(out, files.find((f) => f.endsWith('.mf')) as string), 'utf8');
    assert.ok(mf.includes(`SHA256(${qcow})= ${sha256(await readFile(path.join(out, qcow)))}`));
    await assertScratchEmpty();
  });

  it('refuses an export of a missing image or to an unknown disk format', async () => {
    assert.equal((await gw.api('post', `/v1/images/${enc('sim-east:img-nope')}/export`, {})).status, 404);
    const bad = await gw.api('post', `/v1/images/${enc(SOURCE)}/export`, { diskFormat: 'vhd' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'body.diskFormat');
  });
});
