/** `skygate ova inspect|validate` run as real processes, on real descriptors and on packages crafted here. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { descriptorFor, goodOva, sha256, tarOf } from '../helpers/ova-craft.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function skygate(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/skygate.mjs', ...args], (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('skygate ova', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'skygate-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('inspect --json prints the envelope of a real descriptor, with its deployment configurations', async () => {
    const r = await skygate('ova', 'inspect', '--json', 'test/fixtures/ovf/cisco-csr1000v-multi-config.ovf');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ovfVersion, '1.0');
    const vs = out.virtualSystems[0];
    assert.deepEqual(
      { id: vs.id, os: vs.os, vcpus: vs.vcpus, memoryMiB: vs.memoryMiB, nics: vs.nics, configuration: vs.configuration },
      { id: 'com.cisco.csr1000v', os: 'Cisco IOS-XE Software', vcpus: 1, memoryMiB: 4096, nics: 3, configuration: '1CPU-4GB' },
    );
    assert.deepEqual(
      vs.otherConfigurations.map((o: { id: string }) => o.id),
      ['2CPU-4GB', '4CPU-4GB', '4CPU-8GB'],
    );
    assert.deepEqual(vs.disks, [{ id: 'vmdisk1', capacityBytes: 2 ** 30, format: 'vmdk', file: 'input.vmdk' }]);
    assert.deepEqual(
      out.files.map((f: { href: string }) => f.href),
      ['input.vmdk', 'input.iso'],
    );
    assert.ok(Array.isArray(out.warnings));
  });

  it('inspect prints a readable summary of an OVA it has checked member by member', async () => {
    const file = path.join(dir, 'good.ova');
    await writeFile(file, await goodOva(randomBytes(8192)));
    const r = await skygate('ova', 'inspect', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /OVF 1\.0 package \(manifest: sha256\)/);
    assert.match(r.stdout, /1 vCPU, 512 MiB memory, 1 NIC\(s\) on default/);
    assert.match(r.stdout, /disk vmdisk1: 0\.06 GiB, vmdk, file crafted-disk1\.vmdk/);
  });

  it('validate accepts a good OVA and a real descriptor (exit 0)', async () => {
    const file = path.join(dir, 'good2.ova');
    await writeFile(file, await goodOva(randomBytes(4096)));
    const r = await skygate('ova', 'validate', '--json', file);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { valid: true, errors: [], warnings: [] });
    const ovf = await skygate('ova', 'validate', 'test/fixtures/ovf/virtualbox-ovf20-ubuntu.ovf');
    assert.equal(ovf.code, 0, ovf.stderr);
    assert.match(ovf.stdout, /valid \(OVF 2\.0\)/);
  });

  // Each refusal below is a good package or descriptor with one defect; the same input without it is accepted.
  it('validate refuses a package whose manifest disagrees (exit 1, the member named), and accepts it corrected', async () => {
    const disk = randomBytes(4096);
    const ovf = descriptorFor('crafted-disk1.vmdk', disk.length);
    const members = (diskDigest: string) => [
      { name: 'crafted.ovf', data: ovf },
      { name: 'crafted.mf', data: `SHA256(crafted.ovf)= ${sha256(ovf)}\nSHA256(crafted-disk1.vmdk)= ${diskDigest}\n` },
      { name: 'crafted-disk1.vmdk', data: disk },
    ];
    const file = path.join(dir, 'tampered.ova');
    await writeFile(file, await tarOf(members(sha256('not the disk'))));
    const r = await skygate('ova', 'validate', file);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid\n\s+package\.crafted-disk1\.vmdk: SHA256 digest mismatch/);
    const fixed = path.join(dir, 'untampered.ova');
    await writeFile(fixed, await tarOf(members(sha256(disk))));
    assert.equal((await skygate('ova', 'validate', fixed)).code, 0);
  });

  it('inspect refuses a good package with one path-escaping member (exit 1, the member and reason named)', async () => {
    const disk = randomBytes(4096);
    const ovf = descriptorFor('crafted-disk1.vmdk', disk.length);
    const good = [
      { name: 'crafted.ovf', data: ovf },
      { name: 'crafted.mf', data: `SHA256(crafted.ovf)= ${sha256(ovf)}\nSHA256(crafted-disk1.vmdk)= ${sha256(disk)}\n` },
      { name: 'crafted-disk1.vmdk', data: disk },
    ];
    const file = path.join(dir, 'escape.ova');
    await writeFile(file, await tarOf([...good, { name: '../../etc/evil', data: 'x' }]));
    const escaping = await skygate('ova', 'inspect', '--json', file);
    assert.equal(escaping.code, 1, escaping.stderr);
    assert.deepEqual(JSON.parse(escaping.stdout), {
      valid: false,
      errors: [{ field: 'package.../../etc/evil', reason: "member '../../etc/evil' escapes the package ('..')" }],
    });
    const control = path.join(dir, 'no-escape.ova');
    await writeFile(control, await tarOf(good));
    const ok = await skygate('ova', 'inspect', '--json', control);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).virtualSystems[0].id, 'crafted');
  });

  it('inspect refuses a descriptor in an unknown OVF namespace (exit 1), and reads it in the DMTF one', async () => {
    const ovf = descriptorFor('crafted-disk1.vmdk', 4096);
    const alien = path.join(dir, 'alien.ovf');
    await writeFile(alien, ovf.replaceAll('http://schemas.dmtf.org/ovf/envelope/1', 'http://example.org/ovf/envelope/7'));
    const r = await skygate('ova', 'inspect', alien);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /descriptor: root element \{http:\/\/example\.org\/ovf\/envelope\/7\}Envelope is not an OVF Envelope in a known namespace/,
    );
    const known = path.join(dir, 'known.ovf');
    await writeFile(known, ovf);
    const ok = await skygate('ova', 'inspect', known);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('exits 2 when the file cannot be read', async () => {
    const r = await skygate('ova', 'validate', path.join(dir, 'missing.ova'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot be read/);
  });

  it('works through npx from the checkout', async () => {
    const r = await new Promise<Run>((resolve) =>
      execFile(
        'npx',
        ['--no-install', 'skygate', 'ova', 'validate', 'test/fixtures/ovf/vmware-ovftool-build880146-vmx08.ovf'],
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid \(OVF 1\.0\)/);
  });
});
