/**
 * What reaches or leaves an OVF descriptor stays well-formed and countable: values are escaped so they read back
 * exactly, characters XML 1.0 cannot carry are refused (written or read), capacity × units and memory × units
 * must stay exact integers, and an imported disk's virtual size (declared, or read by qemu-img from the disk's
 * header) is capped before anything converts it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SkygateError } from '../../src/core/errors.js';
import { receivePackage } from '../../src/portability/commands/import-pipeline.js';
import { planImport } from '../../src/portability/import-plan.js';
import { type DescriptorInput, buildDescriptor } from '../../src/portability/ovf-build.js';
import { parseOvf } from '../../src/portability/ovf-parse.js';
import { loadPortabilityConfig } from '../../src/portability/portability-config.js';
import { parseXml } from '../../src/portability/xml.js';
import { sha256, tarOf } from '../helpers/ova-craft.js';

const run = promisify(execFile);
const GiB = 2 ** 30;

const input = (over: Partial<DescriptorInput> = {}): DescriptorInput => ({
  version: '1.0',
  name: 'web',
  vcpus: 1,
  memoryMiB: 512,
  disk: { href: 'web-disk1.vmdk', sizeBytes: 1024, capacityBytes: 64 * 2 ** 20, format: 'vmdk' },
  product: { product: 'web', vendor: 'skygate' },
  ...over,
});

function refusal(fn: () => unknown): SkygateError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SkygateError, String(e));
    assert.equal(e.code, 'invalid_input');
    return e;
  }
  assert.fail('was accepted');
}

/** xmllint's verdict on well-formedness alone: '' when the document is well-formed XML. */
async function wellFormed(dir: string, xml: string): Promise<string> {
  const file = path.join(dir, `doc-${Math.random().toString(36).slice(2)}.xml`);
  await writeFile(file, xml);
  try {
    await run('xmllint', ['--nonet', '--noout', file]);
    return '';
  } catch (e) {
    return (e as { stderr?: string }).stderr ?? String(e);
  }
}

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'skygate-ovf-limits-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('writing descriptors', () => {
  const tricky = 'a & b <c> "d" \'e\'\r\nf\tg';

  it('escapes every value so that XML reads it back exactly (CR, LF and TAB included)', async () => {
    const xml = buildDescriptor(
      input({ name: tricky, os: 'x\r\ny', product: { product: tricky, vendor: 'v', properties: { 'k\tk': tricky } } }),
    );
    assert.equal(await wellFormed(dir, xml), '');
    const env = parseOvf(xml);
    assert.equal(env.virtualSystems[0]?.name, tricky);
    // xmllint, a parser that normalises whitespace in attributes, reads the property value back unchanged too.
    const file = path.join(dir, 'tricky.ovf');
    await writeFile(file, xml);
    const { stdout } = await run('xmllint', [
      '--nonet',
      '--xpath',
      'string(//*[local-name()="Property"]/@*[local-name()="value"])',
      file,
    ]);
    assert.equal(stdout.replace(/\n$/, ''), tricky);
  });

  for (const [label, name, code] of [
    ['ESC', 'web\u001b[31m', 'U+001B'],
    ['NUL', 'web\u0000', 'U+0000'],
    ['a lone surrogate', 'web\ud800', 'U+D800'],
    ['U+FFFE', 'web\ufffe', 'U+FFFE'],
  ] as const) {
    it(`refuses a name with ${label}, naming the element, instead of writing XML that is not well-formed`, () => {
      const err = refusal(() => buildDescriptor(input({ name: name })));
      assert.equal(err.field, 'descriptor.Envelope.VirtualSystem.Name');
      assert.match(err.message, new RegExp(`contains ${code.replace('+', '\\+')}, a character XML 1\\.0 cannot carry`));
    });
  }
});

describe('reading descriptors', () => {
  const good = buildDescriptor(input());

  it('refuses a raw control character, saying which and where', () => {
    const err = refusal(() => parseXml(good.replace('<ovf:Name>web', '<ovf:Name>w\u001beb')));
    assert.equal(err.field, 'descriptor');
    assert.match(err.message, /contains U\+001B at character \d+, which XML 1\.0 does not allow/);
  });

  it('refuses a character reference to a character XML 1.0 does not allow', () => {
    for (const ref of ['&#27;', '&#x1B;', '&#xD800;', '&#xFFFF;']) {
      const err = refusal(() => parseOvf(good.replace('<ovf:Name>web', `<ovf:Name>w${ref}eb`)));
      assert.match(err.message, /which XML 1\.0 does not allow/, ref);
    }
    // Allowed references still decode.
    assert.equal(parseOvf(good.replace('<ovf:Name>web', '<ovf:Name>w&#233;&#x9;eb')).virtualSystems[0]?.name, 'wé\teb');
  });

  it('refuses a capacity whose product with its units is not an exact integer, naming the disk', () => {
    // 4.5e15 × 2^40 = 4.95e27 bytes: each factor is a fine integer, the product is not countable.
    const xml = good.replace(
      /ovf:capacity="\d+" ovf:capacityAllocationUnits="byte"/,
      'ovf:capacity="4500000000000000" ovf:capacityAllocationUnits="byte * 2^40"',
    );
    assert.notEqual(xml, good);
    const err = refusal(() => parseOvf(xml));
    assert.equal(err.field, 'descriptor.DiskSection.Disk[vmdisk1].capacity');
    assert.match(err.message, /4500000000000000 × 'byte \* 2\^40' is more bytes than can be counted exactly/);
  });

  it('refuses a memory size whose product with its units is not an exact integer, naming the item', () => {
    const xml = good.replace(
      /<rasd:AllocationUnits>byte \* 2\^20<\/rasd:AllocationUnits>([\s\S]*?)<rasd:VirtualQuantity>512</,
      '<rasd:AllocationUnits>byte * 2^40</rasd:AllocationUnits>$1<rasd:VirtualQuantity>4500000000000000<',
    );
    assert.notEqual(xml, good);
    const err = refusal(() => parseOvf(xml));
    assert.match(String(err.field), /Item\[2\]\.VirtualQuantity$/);
    assert.match(err.message, /is more bytes than can be counted exactly/);
  });

  it('an import plan refuses a declared capacity over the cap, naming it', () => {
    const env = parseOvf(buildDescriptor(input({ disk: { ...input().disk, capacityBytes: 8 * GiB } })));
    assert.equal(planImport(env, { maxVirtualBytes: 8 * GiB }).disk.capacityBytes, 8 * GiB);
    const err = refusal(() => planImport(env, { maxVirtualBytes: GiB }));
    assert.equal(err.field, 'descriptor.DiskSection.Disk[vmdisk1].capacity');
    assert.match(err.message, /declares 8589934592 bytes \(8\.0 GiB\) is more than the 1073741824 bytes an import accepts/);
  });

  it('an import plan refuses a virtual system name outside the name policy', () => {
    const env = parseOvf(buildDescriptor(input()).replace('<ovf:Name>web', '<ovf:Name>web&#x202E;gpj.exe'));
    const err = refusal(() => planImport(env));
    assert.equal(err.field, 'descriptor.VirtualSystem[web].Name');
    assert.match(err.message, /U\+202E \(a bidirectional control\)/);
  });
});

describe('the virtual size cap', () => {
  it('defaults to 2 TiB and reads SKYGATE_VIRTUAL_SIZE_MAX_BYTES or the config file', () => {
    assert.equal(loadPortabilityConfig({}).virtualSizeMaxBytes, 2 * 2 ** 40);
    assert.equal(loadPortabilityConfig({ SKYGATE_VIRTUAL_SIZE_MAX_BYTES: '1073741824' }).virtualSizeMaxBytes, GiB);
    assert.equal(loadPortabilityConfig({}, { virtualSizeMaxBytes: 5 }).virtualSizeMaxBytes, 5);
    for (const bad of ['0', '-1', '1e309', 'lots', '']) {
      assert.throws(() => loadPortabilityConfig({ SKYGATE_VIRTUAL_SIZE_MAX_BYTES: bad }), /portability\.virtualSizeMaxBytes/);
    }
  });

  it('refuses a small qcow2 claiming 8 GiB while receiving it, before anything converts it', async () => {
    const qcow = path.join(dir, 'claims-8g.qcow2');
    await run('qemu-img', ['create', '-f', 'qcow2', qcow, '8G']);
    const disk = await readFile(qcow);
    assert.ok(disk.length < 2 ** 20, `the qcow2 is ${disk.length} bytes`);
    // No ovf:capacity: only the disk's own header says how big it is.
    const ovf = buildDescriptor(
      input({ disk: { href: 'crafted-disk1.qcow2', sizeBytes: disk.length, capacityBytes: 1, format: 'qcow2' } }),
    ).replace(/ ovf:capacity="1"/, '');
    assert.doesNotMatch(ovf, /ovf:capacity=/);
    const ova = await tarOf([
      { name: 'crafted.ovf', data: ovf },
      { name: 'crafted.mf', data: `SHA256(crafted.ovf)= ${sha256(ovf)}\nSHA256(crafted-disk1.qcow2)= ${sha256(disk)}\n` },
      { name: 'crafted-disk1.qcow2', data: disk },
    ]);
    const work = path.join(dir, 'receive');
    await mkdir(work);
    await assert.rejects(
      receivePackage(Readable.from([ova]), work, { maxBytes: GiB, limitField: 'body', maxVirtualBytes: GiB }),
      (e: unknown) => {
        assert.ok(e instanceof SkygateError, String(e));
        assert.equal(e.field, 'package.crafted-disk1.qcow2');
        assert.match(e.message, /has a virtual size of 8589934592 bytes \(8\.0 GiB\) is more than the 1073741824 bytes/);
        return true;
      },
    );
    // Nothing was converted: the work directory holds no more than the few KiB received.
    const sizes = await Promise.all((await readdir(work)).map(async (f) => (await stat(path.join(work, f))).size));
    assert.ok(sizes.reduce((a, b) => a + b, 0) < 2 ** 20, `work directory holds ${sizes.join(', ')} bytes`);
    // The same package under the default cap is received.
    const work2 = path.join(dir, 'receive-ok');
    await mkdir(work2);
    const pkg = await receivePackage(Readable.from([ova]), work2, {
      maxBytes: GiB,
      limitField: 'body',
      maxVirtualBytes: loadPortabilityConfig({}).virtualSizeMaxBytes,
    });
    assert.equal(pkg.disk.format, 'qcow2');
  });
});
