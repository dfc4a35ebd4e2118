/**
 * Packages in the dialects of other tools, through every front a user meets them by: a XenServer-style
 * OVA (VHD disk attached as a Storage Extent) and a VMware OVF 0.9 one (unqualified elements) import over
 * REST into sim-west; packages skygate must refuse are refused with the same named reason in the REST
 * problem, in `skygate ova inspect --json` and on the CLI's stderr.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import request from 'supertest';
import { validateResponse } from '../../src/api/rest/openapi-validator.js';
import type { Image } from '../../src/core/model.js';
import { ADMIN_TOKEN, type TestGateway, startTestGateway } from '../helpers/gateway.js';
import { sha256, tarOf } from '../helpers/ova-craft.js';

const run = promisify(execFile);
const FIXTURES = 'test/fixtures/ovf/minimal';
const enc = encodeURIComponent;

interface FieldError {
  field: string;
  reason: string;
}

/** An OVA of `ovf` (its one File's ovf:size set to the disk's real size), a SHA-256 manifest and the disk. */
async function packageOf(ovf: string, diskName: string, disk: Buffer): Promise<Buffer> {
  const descriptor = ovf.replace(/(<(?:ovf:)?File [^>]*ovf:size=")\d+"/, `$1${disk.length}"`);
  assert.ok(descriptor.includes(`ovf:size="${disk.length}"`), 'the File size was not set');
  const mf = `SHA256(pkg.ovf)= ${sha256(descriptor)}\nSHA256(${diskName})= ${sha256(disk)}\n`;
  return tarOf([
    { name: 'pkg.ovf', data: descriptor },
    { name: 'pkg.mf', data: mf },
    { name: diskName, data: disk },
  ]);
}

function skygate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/skygate.mjs', ...args], (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('OVAs written by other tools', () => {
  let gw: TestGateway;
  let work: string;
  let xen: string;
  let v09: string;

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'skygate-dialects-'));
    gw = await startTestGateway();
    xen = await readFile(path.join(FIXTURES, 'xenserver-storage-extent.ovf'), 'utf8');
    v09 = await readFile(path.join(FIXTURES, 'vmware-ovf09-unqualified.ovf'), 'utf8');
  });
  after(async () => {
    await gw.close();
    await rm(work, { recursive: true, force: true });
  });

  async function upload(pkg: Buffer): Promise<request.Response> {
    const url = '/v1/images/import?provider=sim-west';
    const res = await request(gw.url)
      .post(url)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .set('Content-Type', 'application/x-tar')
      .send(pkg);
    const headers = res.headers as Record<string, string>;
    assert.deepEqual(validateResponse('POST', url, res.status, res.type, res.body, headers), []);
    return res;
  }

  /** A real disk image made by qemu-img. */
  async function diskImage(name: string, format: string): Promise<Buffer> {
    const file = path.join(work, name);
    await run('qemu-img', ['create', '-q', '-f', format, file, '32M']);
    return readFile(file);
  }

  async function importsAs(pkg: Buffer, want: { name: string; diskFormat: string }): Promise<void> {
    const res = await upload(pkg);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const op = await gw.waitOperation(res.body.id, 30_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    const image = (await gw.api('get', `/v1/images/${enc(String(op.target))}`)).body as Image;
    assert.deepEqual({ name: image.name, diskFormat: image.diskFormat, state: image.state }, { ...want, state: 'available' });
  }

  it('imports a XenServer-style package whose VHD disk is a Storage Extent (ResourceType 19)', async () => {
    const pkg = await packageOf(xen, '3c1e7a52-disk.vhd', await diskImage('xen.vhd', 'vpc'));
    // VHD is uploaded as raw (the sim, like most clouds, takes no VHD).
    await importsAs(pkg, { name: 'mini-xen', diskFormat: 'raw' });
  });

  it('imports a VMware OVF 0.9 package whose elements are unqualified', async () => {
    const pkg = await packageOf(v09, 'mini09-disk1.vmdk', await diskImage('v09.vmdk', 'vmdk'));
    await importsAs(pkg, { name: 'mini09', diskFormat: 'vmdk' });
  });

  /** The reason must be the same, and the real one, over REST, in `ova inspect --json` and on stderr. */
  async function refusedEverywhere(pkg: Buffer, want: FieldError[]): Promise<void> {
    const res = await upload(pkg);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.deepEqual(res.body.errors, want);
    assert.ok(String(res.body.detail).includes(want[0]?.reason ?? '?'), res.body.detail);

    const file = path.join(work, 'refused.ova');
    await writeFile(file, pkg);
    const json = await skygate('ova', 'inspect', '--json', file);
    assert.equal(json.code, 1, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { valid: false, errors: want });
    const text = await skygate('ova', 'validate', file);
    assert.equal(text.code, 1);
    for (const e of want) assert.ok(text.stderr.includes(`${e.field}: ${e.reason}`), text.stderr);
  }

  it('refuses an OVF 0.9 Content without xsi:type, saying so over REST and in the CLI', async () => {
    const untyped = v09.replace(' xsi:type="ovf:VirtualSystem_Type"', '');
    assert.notEqual(untyped, v09);
    await refusedEverywhere(await packageOf(untyped, 'mini09-disk1.vmdk', await diskImage('u.vmdk', 'vmdk')), [
      {
        field: 'descriptor.Content[mini09]',
        reason:
          'has no xsi:type, so it cannot be told whether it is a virtual system or a collection ' +
          '(expected ovf:VirtualSystem_Type or ovf:VirtualSystemCollection_Type)',
      },
    ]);
  });

  it('refuses a package whose disk no disk item references, naming the DiskSection disk', async () => {
    const tape = xen.replace('<rasd:ResourceType>19<', '<rasd:ResourceType>18<');
    assert.notEqual(tape, xen);
    const pkg = await packageOf(tape, '3c1e7a52-disk.vhd', await diskImage('t.vhd', 'vpc'));
    const res = await upload(pkg);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    const want = [
      {
        field: 'descriptor.VirtualSystem[mini-xen]',
        reason:
          "attaches none of the DiskSection's disks ('3c1e7a52'): no item of ResourceType Disk Drive (17), " +
          'Storage Extent (19), Logical Disk (31) names one in its HostResource (ovf:/disk/<id>), so there is nothing to import',
      },
    ];
    assert.deepEqual(res.body.errors, want);
    // A descriptor that is valid but not importable is a warning to `ova inspect`, with the same reason.
    const file = path.join(work, 'tape.ova');
    await writeFile(file, pkg);
    const json = await skygate('ova', 'inspect', '--json', file);
    assert.equal(json.code, 0, json.stderr);
    const warnings: string[] = JSON.parse(json.stdout).warnings;
    assert.ok(warnings.includes(`not importable by skygate: ${want[0]?.field}: ${want[0]?.reason}`), warnings.join('\n'));
  });
});
