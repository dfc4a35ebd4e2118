/** Broken and hostile OVAs, crafted with tar-stream: each is refused with a clear error and leaves the scratch area empty. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import { SkygateError } from '../../src/core/errors.js';
import { receiveFresh } from '../../src/portability/commands/import-pipeline.js';
import { WorkDirs } from '../../src/portability/work-dirs.js';
import { descriptorFor, goodOva, sha256, tarOf } from '../helpers/ova-craft.js';

const DISK = randomBytes(64 * 1024);
const DISK_NAME = 'crafted-disk1.vmdk';
const OVF = descriptorFor(DISK_NAME, DISK.length);
const MF = `SHA256(crafted.ovf)= ${sha256(OVF)}\nSHA256(${DISK_NAME})= ${sha256(DISK)}\n`;

describe('bad OVA packages', () => {
  let base: string;
  let dirs: WorkDirs;
  before(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'skygate-ova-bad-'));
    dirs = new WorkDirs(base);
    await mkdir(dirs.root, { recursive: true });
  });
  afterEach(async () => {
    assert.deepEqual(await readdir(dirs.root), [], 'the scratch area must be empty after a refused package');
  });
  after(() => rm(base, { recursive: true, force: true }));

  async function refused(pkg: Buffer, code: SkygateError['code'], reason: RegExp, maxBytes = 1 << 30): Promise<void> {
    await assert.rejects(receiveFresh(dirs, Readable.from([pkg]), { maxBytes, limitField: 'body' }), (e: unknown) => {
      assert.ok(e instanceof SkygateError, String(e));
      assert.equal(e.code, code, e.message);
      assert.match(e.message, reason);
      return true;
    });
  }

  it('accepts a good package and keeps only the boot disk (the control case)', async () => {
    const { dir, pkg } = await receiveFresh(dirs, Readable.from([await goodOva(DISK)]), {
      maxBytes: 1 << 30,
      limitField: 'body',
    });
    assert.equal(pkg.disk.member, DISK_NAME);
    assert.deepEqual(await readdir(dir), ['file-0']);
    await dirs.remove(dir);
  });

  it('a member escaping the package with ../', async () => {
    const pkg = await tarOf([
      { name: 'crafted.ovf', data: OVF },
      { name: '../evil.vmdk', data: DISK },
    ]);
    await refused(pkg, 'invalid_input', /member '\.\.\/evil\.vmdk' escapes the package/);
  });

  it('a member with an absolute path', async () => {
    const pkg = await tarOf([
      { name: 'crafted.ovf', data: OVF },
      { name: '/etc/cron.d/evil', data: 'x' },
    ]);
    await refused(pkg, 'invalid_input', /absolute path/);
  });

  it('a symbolic link member', async () => {
    const pkg = await tarOf([
      { name: 'crafted.ovf', data: OVF },
      { name: DISK_NAME, type: 'symlink', linkname: '/etc/passwd' },
    ]);
    await refused(pkg, 'invalid_input', /is a symlink; an OVA holds regular files only/);
  });

  it('a hard link member', async () => {
    const pkg = await tarOf([
      { name: 'crafted.ovf', data: OVF },
      { name: DISK_NAME, type: 'link', linkname: 'crafted.ovf' },
    ]);
    await refused(pkg, 'invalid_input', /is a link; an OVA holds regular files only/);
  });

  it('a truncated tar', async () => {
    const whole = await goodOva(DISK);
    await refused(whole.subarray(0, whole.length - 20_000), 'invalid_input', /not a readable OVA .*Unexpected end of data/);
  });

  it('something that is not a tar at all', async () => {
    await refused(randomBytes(4096), 'invalid_input', /not a readable OVA/);
  });

  it('a manifest that disagrees with a member', async () => {
    const badMf = MF.replace(sha256(DISK), sha256(Buffer.from('other bytes')));
    const pkg = await tarOf([
      { name: 'crafted.ovf', data: OVF },
      { name: 'crafted.mf', data: badMf },
      { name: DISK_NAME, data: DISK },
    ]);
    await refused(pkg, 'invalid_input', /crafted-disk1\.vmdk: SHA256 digest mismatch/);
  });

  it('a manifest that lists a file the package lacks, or misses one it has', async () => {
    const extra = `${MF}SHA256(ghost.vmdk)= ${sha256('ghost')}\n`;
    await refused(
      await tarOf([
        { name: 'crafted.ovf', data: OVF },
        { name: 'crafted.mf', data: extra },
        { name: DISK_NAME, data: DISK },
      ]),
      'invalid_input',
      /lists 'ghost\.vmdk', which is not in the package/,
    );
    const partial = `SHA256(crafted.ovf)= ${sha256(OVF)}\n`;
    await refused(
      await tarOf([
        { name: 'crafted.ovf', data: OVF },
        { name: 'crafted.mf', data: partial },
        { name: DISK_NAME, data: DISK },
      ]),
      'invalid_input',
      /no digest for 'crafted-disk1\.vmdk'/,
    );
  });

  it('a disk larger than its References entry declares', async () => {
    const small = descriptorFor(DISK_NAME, DISK.length - 1);
    const pkg = await tarOf([
      { name: 'crafted.ovf', data: small },
      { name: DISK_NAME, data: DISK },
    ]);
    await refused(pkg, 'invalid_input', /is 65536 bytes, larger than the 65535 declared in References/);
  });

  it('a descriptor referencing a file missing from the package', async () => {
    const pkg = await tarOf([
      { name: 'crafted.ovf', data: OVF },
      { name: 'crafted.mf', data: MF },
    ]);
    await refused(pkg, 'invalid_input', /references 'crafted-disk1\.vmdk' \(file 'file1'\), which is not in the package/);
  });

  it('a descriptor in an unknown OVF namespace', async () => {
    const alien = OVF.replaceAll('http://schemas.dmtf.org/ovf/envelope/1', 'http://schemas.example.org/ovf/envelope/9');
    await refused(
      await tarOf([
        { name: 'crafted.ovf', data: alien },
        { name: DISK_NAME, data: DISK },
      ]),
      'invalid_input',
      /not an OVF Envelope in a known namespace/,
    );
  });

  it('a descriptor carrying a DTD (entity bomb)', async () => {
    const bomb = OVF.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>');
    await refused(
      await tarOf([
        { name: 'crafted.ovf', data: bomb },
        { name: DISK_NAME, data: DISK },
      ]),
      'invalid_input',
      /DTD/,
    );
  });

  it('a package whose first member is not the descriptor', async () => {
    await refused(
      await tarOf([
        { name: DISK_NAME, data: DISK },
        { name: 'crafted.ovf', data: OVF },
      ]),
      'invalid_input',
      /first member must be the OVF descriptor/,
    );
  });

  it('a manifest after the disks', async () => {
    const pkg = await tarOf([
      { name: 'crafted.ovf', data: OVF },
      { name: DISK_NAME, data: DISK },
      { name: 'crafted.mf', data: MF },
    ]);
    await refused(pkg, 'invalid_input', /must directly follow the descriptor/);
  });

  it('a member that appears twice', async () => {
    const pkg = await tarOf([
      { name: 'crafted.ovf', data: OVF },
      { name: DISK_NAME, data: DISK },
      { name: DISK_NAME, data: DISK },
    ]);
    await refused(pkg, 'invalid_input', /appears twice/);
  });

  it('a descriptor pointing at a file outside the package (a URL)', async () => {
    const external = descriptorFor('http://169.254.169.254/latest/meta-data', 10);
    await refused(
      await tarOf([{ name: 'crafted.ovf', data: external }]),
      'invalid_input',
      /outside the package; skygate does not fetch external files/,
    );
  });

  it('a package over the size quota', async () => {
    await refused(await goodOva(DISK), 'payload_too_large', /larger than the 10000 bytes accepted/, 10_000);
  });

  it('an empty package', async () => {
    await refused(await tarOf([]), 'invalid_input', /is empty/);
  });
});
