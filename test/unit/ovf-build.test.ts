/** The descriptors skygate writes validate against the DMTF schemas with xmllint, and read back to the same hardware. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type DescriptorInput, buildDescriptor } from '../../src/portability/ovf-build.js';
import { parseOvf } from '../../src/portability/ovf-parse.js';
import { summarize } from '../../src/portability/ovf-summary.js';

const run = promisify(execFile);
const SCHEMA = {
  '1.0': 'test/fixtures/ovf/xsd/ovf-1.1.1-xen-orchestra/dsp8023_1.1.1.xsd',
  '2.0': 'test/fixtures/ovf/xsd/ovf-2.0.1-itchy/dsp8023_2.0.1.xsd',
};

/** `xmllint --schema`, offline; answers its complaints (empty when the document validates). */
async function xmllint(file: string, schema: string): Promise<string> {
  try {
    await run('xmllint', ['--nonet', '--noout', '--schema', schema, file]);
    return '';
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return (err.stderr ?? err.message)
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.includes('Skipping import'))
      .join('\n');
  }
}

const input = (over: Partial<DescriptorInput> = {}): DescriptorInput => ({
  version: '1.0',
  name: 'web & "db" <1>',
  os: 'ubuntu-22.04',
  vcpus: 2,
  memoryMiB: 4096,
  disk: { href: 'web-disk1.vmdk', sizeBytes: 123_456, capacityBytes: 64 * 2 ** 20, format: 'vmdk' },
  product: { product: 'web', vendor: 'skygate', version: '0.1.0', properties: { 'skygate.sourceImageId': 'sim-east:img-1' } },
  ...over,
});

describe('OVF descriptors skygate writes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'skygate-ovf-build-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const version of ['1.0', '2.0'] as const) {
    for (const format of ['vmdk', 'qcow2', 'raw'] as const) {
      it(`OVF ${version} with a ${format} disk validates against DSP8023 ${version === '1.0' ? '1.1.1' : '2.0.1'}`, async () => {
        const xml = buildDescriptor(input({ version, disk: { ...input().disk, format } }));
        const file = path.join(dir, `out-${version}-${format}.ovf`);
        await writeFile(file, xml);
        assert.equal(await xmllint(file, SCHEMA[version]), '');
      });
    }

    it(`OVF ${version} reads back to the same hardware, without warnings`, () => {
      const env = parseOvf(buildDescriptor(input({ version })));
      assert.deepEqual(env.warnings, []);
      assert.equal(env.version, version);
      const vs = summarize(env).virtualSystems[0];
      assert.deepEqual(
        {
          name: vs?.name,
          os: vs?.os,
          vcpus: vs?.vcpus,
          memoryMiB: vs?.memoryMiB,
          disks: vs?.disks,
          networks: vs?.networks,
          nics: vs?.nics,
        },
        {
          name: 'web & "db" <1>',
          os: 'ubuntu-22.04',
          vcpus: 2,
          memoryMiB: 4096,
          disks: [{ id: 'vmdisk1', capacityBytes: 64 * 2 ** 20, format: 'vmdk', file: 'web-disk1.vmdk' }],
          networks: ['default'],
          nics: 1,
        },
      );
      assert.equal(env.files[0]?.size, 123_456);
      assert.equal(env.virtualSystems[0]?.os?.cimId, 94);
    });
  }

  it('the schema check itself rejects an invalid descriptor (the test can fail)', async () => {
    const broken = buildDescriptor(input()).replace(/<ovf:References>[\s\S]*?<\/ovf:References>/, '');
    const file = path.join(dir, 'broken.ovf');
    await writeFile(file, broken);
    assert.match(await xmllint(file, SCHEMA['1.0']), /References|not expected|fails to validate/);
  });
});
