/**
 * Broken and hostile OVAs, crafted with tar-stream: each is refused with a clear error and leaves the scratch area
 * empty. Every bad package is the good one with exactly one defect (an edit of its members), so a package is refused
 * for that defect and would be accepted without it: the good package itself is accepted first.
 */
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
import { descriptorFor, type Member, sha256, tarOf } from '../helpers/ova-craft.js';

const DISK = randomBytes(64 * 1024);
const DISK_NAME = 'crafted-disk1.vmdk';
const OVF = descriptorFor(DISK_NAME, DISK.length);
/** A manifest with the right digest of `ovf` and of the disk. */
const manifestFor = (ovf: string) => `SHA256(crafted.ovf)= ${sha256(ovf)}\nSHA256(${DISK_NAME})= ${sha256(DISK)}\n`;
const MF = manifestFor(OVF);

/** The good package's members: descriptor, manifest, disk. */
const good = (): Member[] => [
  { name: 'crafted.ovf', data: OVF },
  { name: 'crafted.mf', data: MF },
  { name: DISK_NAME, data: DISK },
];
/** The good package with member `i` replaced (or removed, with no member given). */
const replacing = (i: number, ...by: Member[]) => {
  const members = good();
  members.splice(i, 1, ...by);
  return members;
};
/** The good package with another descriptor text, and a manifest that agrees with it. */
const withDescriptor = (ovf: string): Member[] => [
  { name: 'crafted.ovf', data: ovf },
  { name: 'crafted.mf', data: manifestFor(ovf) },
  { name: DISK_NAME, data: DISK },
];

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

  const receive = (pkg: Buffer, maxBytes = 1 << 30) => receiveFresh(dirs, Readable.from([pkg]), { maxBytes, limitField: 'body' });

  async function accepted(pkg: Buffer, maxBytes?: number): Promise<void> {
    const { dir, pkg: received } = await receive(pkg, maxBytes);
    assert.equal(received.disk.member, DISK_NAME);
    await dirs.remove(dir);
  }

  async function refused(pkg: Buffer, code: SkygateError['code'], reason: RegExp, maxBytes?: number): Promise<void> {
    await assert.rejects(receive(pkg, maxBytes), (e: unknown) => {
      assert.ok(e instanceof SkygateError, String(e));
      assert.equal(e.code, code, e.message);
      assert.match(e.message, reason);
      return true;
    });
  }

  it('accepts the good package, and keeps only the boot disk (the control every case below differs from once)', async () => {
    const { dir, pkg } = await receive(await tarOf(good()));
    assert.equal(pkg.disk.member, DISK_NAME);
    assert.deepEqual(await readdir(dir), ['file-0']);
    await dirs.remove(dir);
    // Without a manifest too: the cases that drop or move the manifest differ from this one once.
    await accepted(await tarOf(replacing(1)));
  });

  /** [what is wrong, the good package's members with that one defect, the error code, the reason] */
  const cases: Array<[string, () => Member[], SkygateError['code'], RegExp]> = [
    [
      'an extra member escaping the package with ../',
      () => [...good(), { name: '../evil.vmdk', data: DISK }],
      'invalid_input',
      /member '\.\.\/evil\.vmdk' escapes the package/,
    ],
    [
      'an extra member with an absolute path',
      () => [...good(), { name: '/etc/cron.d/evil', data: 'x' }],
      'invalid_input',
      /member '\/etc\/cron\.d\/evil' has an absolute path/,
    ],
    [
      'the disk as a symbolic link',
      () => replacing(2, { name: DISK_NAME, type: 'symlink', linkname: '/etc/passwd' }),
      'invalid_input',
      /is a symlink; an OVA holds regular files only/,
    ],
    [
      'the disk as a hard link',
      () => replacing(2, { name: DISK_NAME, type: 'link', linkname: 'crafted.ovf' }),
      'invalid_input',
      /is a link; an OVA holds regular files only/,
    ],
    [
      'a manifest whose digest of the disk is wrong',
      () => replacing(1, { name: 'crafted.mf', data: MF.replace(sha256(DISK), sha256('other bytes')) }),
      'invalid_input',
      /crafted-disk1\.vmdk: SHA256 digest mismatch/,
    ],
    [
      'a manifest listing a file the package lacks',
      () => replacing(1, { name: 'crafted.mf', data: `${MF}SHA256(ghost.vmdk)= ${sha256('ghost')}\n` }),
      'invalid_input',
      /lists 'ghost\.vmdk', which is not in the package/,
    ],
    [
      'a manifest missing a file the package has',
      () => replacing(1, { name: 'crafted.mf', data: `SHA256(crafted.ovf)= ${sha256(OVF)}\n` }),
      'invalid_input',
      /no digest for 'crafted-disk1\.vmdk'/,
    ],
    [
      'a disk one byte larger than its References entry declares',
      () => withDescriptor(descriptorFor(DISK_NAME, DISK.length - 1)),
      'invalid_input',
      /is 65536 bytes, larger than the 65535 declared in References/,
    ],
    [
      'the referenced disk missing from the package',
      () => replacing(2),
      'invalid_input',
      /references 'crafted-disk1\.vmdk' \(file 'file1'\), which is not in the package/,
    ],
    [
      'a descriptor in an unknown OVF namespace',
      () => withDescriptor(OVF.replaceAll('http://schemas.dmtf.org/ovf/envelope/1', 'http://schemas.example.org/ovf/envelope/9')),
      'invalid_input',
      /not an OVF Envelope in a known namespace/,
    ],
    [
      'a descriptor carrying a DTD (entity bomb)',
      () =>
        withDescriptor(
          OVF.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'),
        ),
      'invalid_input',
      /DTD/,
    ],
    [
      'the disk before the descriptor (no manifest)',
      () => [
        { name: DISK_NAME, data: DISK },
        { name: 'crafted.ovf', data: OVF },
      ],
      'invalid_input',
      /first member must be the OVF descriptor/,
    ],
    [
      'the manifest after the disk',
      () => [...replacing(1), { name: 'crafted.mf', data: MF }],
      'invalid_input',
      /must directly follow the descriptor/,
    ],
    ['the disk twice', () => [...good(), { name: DISK_NAME, data: DISK }], 'invalid_input', /appears twice/],
    [
      'a descriptor pointing at a file outside the package (a URL) instead of the disk',
      () => withDescriptor(descriptorFor('http://169.254.169.254/latest/meta-data', DISK.length)),
      'invalid_input',
      /outside the package; skygate does not fetch external files/,
    ],
  ];
  for (const [what, members, code, reason] of cases) {
    it(what, async () => {
      const bad = members();
      assert.notEqual(JSON.stringify(bad), JSON.stringify(good()), 'the case changes the good package');
      await refused(await tarOf(bad), code, reason);
    });
  }

  it('the good package cut short (a truncated tar)', async () => {
    const whole = await tarOf(good());
    await refused(whole.subarray(0, whole.length - 20_000), 'invalid_input', /not a readable OVA .*Unexpected end of data/);
  });

  it('something that is not a tar at all, and an empty tar', async () => {
    await refused(randomBytes(4096), 'invalid_input', /not a readable OVA/);
    await refused(await tarOf([]), 'invalid_input', /is empty/);
  });

  it('the good package over the size quota, accepted under a quota it fits', async () => {
    const pkg = await tarOf(good());
    await refused(pkg, 'payload_too_large', /larger than the 10000 bytes accepted/, 10_000);
    await accepted(pkg, pkg.length);
  });
});
