/**
 * The OVA pipeline against real components: a sim image's disk out, converted by qemu-img into a
 * streamOptimized VMDK that passes `qemu-img check`/`info`, packaged, unpacked, verified and converted
 * back to the very same bytes (`qemu-img compare`); and the disk checks that refuse hostile images.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createCloudAdapter } from '../../adapters/sim/index.js';
import type { CloudAdapter } from '../../src/core/ports.js';
import { silentReporter } from '../../src/portability/commands/common.js';
import { checksum, convertDisk, downloadDisk, packageOva } from '../../src/portability/commands/export-pipeline.js';
import { convertForUpload, inspectDisk, receivePackage } from '../../src/portability/commands/import-pipeline.js';
import { readOva } from '../../src/portability/ova-read.js';
import { inspectUntrustedDisk } from '../../src/portability/qemu-img.js';
import { goodOva } from '../helpers/ova-craft.js';

const run = promisify(execFile);
const qemuImg = async (...args: string[]) => (await run('qemu-img', args)).stdout;
const MiB = 2 ** 20;

describe('the OVA pipeline', () => {
  let dir: string;
  let sim: CloudAdapter;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'skygate-ova-pipe-'));
    const log = { info() {}, warn() {}, error() {} };
    sim = await createCloudAdapter({ providerId: 'sim-east', settings: { latencyMs: 0 }, dataDir: path.join(dir, 'sim'), log });
  });
  after(async () => {
    await sim.close?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('exports a sim image to an OVA whose VMDK passes qemu-img, and imports it back bit for bit', async () => {
    const work = path.join(dir, 'export');
    await mkdir(work);
    const source = await downloadDisk(sim, 'img-ubuntu-22-04', work, silentReporter());
    assert.equal(source.format, 'raw');
    assert.equal(source.sizeBytes, 64 * MiB);
    // Kept sparse: the 64 MiB seed holds 4 KiB of data.
    assert.ok((await stat(source.path)).blocks * 512 < 4 * MiB);
    const original = path.join(dir, 'original.raw');
    await run('cp', ['--sparse=always', source.path, original]);

    const vmdk = await checksum(await convertDisk(source, 'vmdk', work, silentReporter()));
    const info = JSON.parse(await qemuImg('info', '--output=json', '-f', 'vmdk', vmdk.path)) as {
      'virtual-size': number;
      'format-specific': { data: Record<string, string> };
    };
    assert.equal(info['virtual-size'], 64 * MiB);
    assert.equal(info['format-specific'].data['create-type'], 'streamOptimized');
    await qemuImg('check', '-f', 'vmdk', vmdk.path);
    assert.equal(vmdk.capacityBytes, 64 * MiB);

    const ova = path.join(dir, 'exported.ova');
    const meta = {
      name: 'ubuntu 22.04',
      os: 'ubuntu-22.04',
      vcpus: 1,
      memoryMiB: 1024,
      ovfVersion: '2.0' as const,
      sourceImageId: 'sim-east:img-ubuntu-22-04',
    };
    const { sizeBytes } = await packageOva(meta, vmdk, ova, silentReporter());
    assert.equal(sizeBytes, (await stat(ova)).size);

    const contents = await readOva(createReadStream(ova));
    assert.deepEqual(
      contents.members.map((m) => m.name),
      ['ubuntu-22.04-disk1.vmdk'],
    );
    assert.equal(contents.descriptorName, 'ubuntu-22.04.ovf');
    assert.equal(contents.manifest?.algorithm, 'sha256');
    assert.deepEqual(contents.warnings, []);
    assert.equal(contents.envelope.version, '2.0');

    const unpacked = path.join(dir, 'import');
    await mkdir(unpacked);
    const pkg = await receivePackage(createReadStream(ova), unpacked, { maxBytes: 1 << 30, limitField: 'body' });
    assert.equal(await inspectDisk(pkg), 64 * MiB);
    const raw = await convertForUpload(pkg.disk, 'raw', unpacked, silentReporter());
    await qemuImg('compare', '-f', 'raw', '-F', 'raw', original, raw.path);
  });

  it('refuses a package disk whose virtual size exceeds the declared capacity', async () => {
    const src = path.join(dir, 'big.raw');
    await writeFile(src, Buffer.alloc(0));
    await qemuImg('resize', '-f', 'raw', src, '64M');
    const vmdk = path.join(dir, 'big.vmdk');
    await qemuImg('convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', src, vmdk);
    const disk = await readFile(vmdk);
    const lying = await goodOva(disk, 'crafted-disk1.vmdk', {
      disk: { href: 'crafted-disk1.vmdk', sizeBytes: disk.length, capacityBytes: 32 * MiB, format: 'vmdk' },
    });
    const work = path.join(dir, 'lying');
    await mkdir(work);
    const pkg = await receivePackage(Readable.from([lying]), work, { maxBytes: 1 << 30, limitField: 'body' });
    await assert.rejects(
      inspectDisk(pkg),
      /the disk is larger than declared: its virtual size is 67108864 bytes, the descriptor's capacity 33554432/,
    );
  });

  it('refuses disks that would read other files: a qcow2 backing file, a flat VMDK extent', async () => {
    const base = path.join(dir, 'base.qcow2');
    const child = path.join(dir, 'child.qcow2');
    await qemuImg('create', '-f', 'qcow2', base, '16M');
    await qemuImg('create', '-f', 'qcow2', '-b', base, '-F', 'qcow2', child);
    await assert.rejects(inspectUntrustedDisk(child, 'qcow2', 'package.child.qcow2'), /has a backing file/);

    const flat = path.join(dir, 'flat.vmdk');
    await writeFile(
      flat,
      '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 8 FLAT "/etc/hostname" 0\n',
    );
    await assert.rejects(
      inspectUntrustedDisk(flat, 'vmdk', 'package.flat.vmdk'),
      /monolithicFlat VMDK; only self-contained ones/,
    );
  });

  it('reads a raw disk as raw even when it starts with a qcow2 header (no format probing)', async () => {
    const qcow = path.join(dir, 'disguised.qcow2');
    await qemuImg('create', '-f', 'qcow2', '-b', '/etc/hostname', '-F', 'raw', qcow, '1M');
    const info = await inspectUntrustedDisk(qcow, 'raw', 'package.disguised.img');
    assert.equal(info.format, 'raw');
    assert.equal(info.backingFilename, undefined);
  });
});
