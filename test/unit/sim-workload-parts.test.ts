/** The pieces under the sim's workload, without processes: address blocks, workload settings and the key-value log format. */
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AddressBlock } from '../../adapters/sim/sim-addresses.js';
import { parseSimSettings } from '../../adapters/sim/sim-settings.js';
import { KV_OFFSET, KvFullError, KvLog, readKvLog } from '../../adapters/sim/workload/kv-log.js';
import { isSkygateError } from '../../src/core/errors.js';

const warn = () => {};

describe('sim address blocks', () => {
  it('hands out .4 to .253 of each /24 in turn, inside the block', () => {
    const block = AddressBlock.parse('127.10.0.0/16');
    assert.ok(block instanceof AddressBlock);
    assert.equal(block.capacity, 250 * 256);
    assert.equal(block.addressAt(0), '127.10.0.4');
    assert.equal(block.addressAt(249), '127.10.0.253');
    assert.equal(block.addressAt(250), '127.10.1.4');
    assert.equal(block.addressAt(block.capacity - 1), '127.10.255.253');
  });

  it('normalises the block to its network address', () => {
    const block = AddressBlock.parse('127.10.20.30/24') as AddressBlock;
    assert.equal(block.cidr, '127.10.20.0/24');
    assert.equal(block.addressAt(0), '127.10.20.4');
  });

  it('refuses blocks outside 127.0.0.0/8, too small, or not CIDR, saying why', () => {
    for (const [cidr, reason] of [
      ['10.0.0.0/16', /127\.0\.0\.0\/8/],
      ['127.10.0.0/28', /\/8 to \/24/],
      ['::1/128', /127\.0\.0\.0\/8/],
      ['127.10.0.0', /CIDR/],
      ['banana', /CIDR/],
    ] as const) {
      const refused = AddressBlock.parse(cidr);
      assert.equal(typeof refused, 'string', cidr);
      assert.match(refused as string, reason, cidr);
    }
  });

  it('gives each provider id a default /16 of its own, the same every time', () => {
    const east = AddressBlock.defaultFor('sim-east');
    assert.equal(east.cidr, AddressBlock.defaultFor('sim-east').cidr);
    assert.notEqual(east.cidr, AddressBlock.defaultFor('sim-west').cidr);
    assert.match(east.cidr, /^127\.(\d+)\.0\.0\/16$/);
    const second = Number(/^127\.(\d+)\./.exec(east.cidr)?.[1]);
    assert.ok(second >= 16 && second < 240, east.cidr);
  });
});

describe('sim workload settings', () => {
  const parse = (raw: Record<string, unknown>) => parseSimSettings('sim-x', raw, warn);
  const fieldOf = (raw: Record<string, unknown>): string | undefined => {
    try {
      parse(raw);
    } catch (e) {
      assert.ok(isSkygateError(e));
      assert.equal(e.code, 'invalid_input');
      return e.field;
    }
    return assert.fail('expected invalid_input');
  };

  it('takes an address block, a port and images to seed', () => {
    const s = parse({ addressBlock: '127.30.0.0/16', workload: { port: 18000, images: [{ id: 'img-kv-app', name: 'kv-app' }] } });
    assert.equal(s.addressBlock.cidr, '127.30.0.0/16');
    assert.deepEqual(s.workload, { port: 18000, images: [{ id: 'img-kv-app', name: 'kv-app' }] });
    assert.deepEqual(parse({}).workload, { port: 8000, images: [] });
  });

  it('names the setting at fault', () => {
    assert.equal(fieldOf({ addressBlock: '10.0.0.0/8' }), 'addressBlock');
    assert.equal(fieldOf({ workload: { port: 70000 } }), 'workload.port');
    assert.equal(fieldOf({ workload: { ports: 1 } }), 'workload.ports');
    assert.equal(fieldOf({ workload: { images: 'img-a' } }), 'workload.images');
    assert.equal(fieldOf({ workload: { images: [{ id: 'kv-app', name: 'x' }] } }), 'workload.images[0].id');
    assert.equal(fieldOf({ workload: { images: [{ id: 'img-debian-12', name: 'x' }] } }), 'workload.images[0].id');
    assert.equal(fieldOf({ workload: { images: [{ id: 'img-a', name: '' }] } }), 'workload.images[0].name');
    assert.equal(
      fieldOf({
        workload: {
          images: [
            { id: 'img-a', name: 'a' },
            { id: 'img-a', name: 'b' },
          ],
        },
      }),
      'workload.images[1].id',
    );
  });
});

describe('the workload key-value log', () => {
  let dir: string;
  let disk: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skygate-kv-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const blankDisk = async (name: string, bytes = 64 * 1024 * 1024): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, 'SKYGATE SIM DISK test\n');
    await truncate(path, bytes);
    return path;
  };

  it('replays puts and deletes from the disk file, and a copy of the file carries them', async () => {
    disk = await blankDisk('a.raw');
    const kv = KvLog.open(disk);
    assert.equal(kv.put('a', Buffer.from('1')), true);
    assert.equal(kv.put('b', Buffer.from('2')), true);
    assert.equal(kv.put('a', Buffer.from('3')), false);
    assert.equal(kv.delete('b'), true);
    assert.equal(kv.delete('b'), false);
    kv.close();
    const again = KvLog.open(disk);
    assert.deepEqual(again.keys(), ['a']);
    assert.equal(again.get('a')?.toString(), '3');
    again.close();
    const copy = join(dir, 'copy.raw');
    await writeFile(copy, readFileSync(disk));
    assert.deepEqual(
      [...readKvLog(copy)].map(([k, v]) => [k, v.toString()]),
      [['a', '3']],
    );
  });

  it('ends the log at a torn record: what was written before it survives, nothing after it is invented', async () => {
    const path = await blankDisk('torn.raw');
    const kv = KvLog.open(path);
    kv.put('kept', Buffer.from('yes'));
    kv.put('torn', Buffer.from('this record will be damaged'));
    kv.close();
    // Damage one byte of the second record's value, as a crash mid-write or a copy taken mid-write could.
    const fd = openSync(path, 'r+');
    const secondRecordValue = KV_OFFSET + 16 + 'kept'.length + 'yes'.length + 16 + 'torn'.length + 3;
    writeSync(fd, Buffer.from('X'), 0, 1, secondRecordValue);
    closeSync(fd);
    assert.deepEqual([...readKvLog(path).keys()], ['kept']);
    const reopened = KvLog.open(path);
    reopened.put('after', Buffer.from('ok'));
    reopened.close();
    assert.deepEqual([...readKvLog(path).keys()].sort(), ['after', 'kept']);
  });

  it('refuses a write that would not fit, and keeps the data it has', async () => {
    const path = await blankDisk('small.raw', KV_OFFSET + 200);
    const kv = KvLog.open(path);
    kv.put('a', Buffer.alloc(100, 1));
    assert.throws(() => kv.put('b', Buffer.alloc(100, 2)), KvFullError);
    kv.close();
    assert.deepEqual([...readKvLog(path).keys()], ['a']);
  });

  it('refuses a disk too small to hold a log', async () => {
    const path = await blankDisk('tiny.raw', 4096);
    assert.throws(() => KvLog.open(path), /too small/);
  });
});
