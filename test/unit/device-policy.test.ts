/** Which device names a volume attaches as: EC2's and OpenStack's data volume forms, nothing else. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SkygateError } from '../../src/core/errors.js';
import { checkDeviceName } from '../../src/core/device-policy.js';

const reasonFor = (device: unknown): string => {
  try {
    checkDeviceName(device, 'body.device');
  } catch (e) {
    assert.ok(e instanceof SkygateError, String(e));
    assert.equal(e.code, 'invalid_input');
    assert.equal(e.field, 'body.device');
    return e.message;
  }
  assert.fail(`${JSON.stringify(device)} was accepted`);
};

describe('device names', () => {
  it('accepts /dev/sd[b-z], /dev/xvd[b-z], /dev/vd[b-z] and /dev/xvd[b-c][a-z]', () => {
    for (const d of [
      '/dev/sdb',
      '/dev/sdf',
      '/dev/sdp',
      '/dev/sdz',
      '/dev/xvdb',
      '/dev/xvdz',
      '/dev/vdb',
      '/dev/vdz',
      '/dev/xvdba',
      '/dev/xvdcz',
    ]) {
      assert.equal(checkDeviceName(d, 'body.device'), d);
    }
  });

  it('refuses a path escape without echoing it', () => {
    const reason = reasonFor('../../../etc/passwd');
    assert.match(reason, /is not a device name a volume can attach as; use \/dev\/sd\[b-z\]/);
    assert.doesNotMatch(reason, /passwd/);
  });

  it('refuses the root device of each family', () => {
    for (const d of ['/dev/sda', '/dev/sda1', '/dev/xvda', '/dev/vda']) assert.match(reasonFor(d), /is the root device/, d);
  });

  it('refuses partitions, other families, other directories, traversal, controls and non-strings', () => {
    for (const d of [
      '/dev/sdf1',
      '/dev/nvme1n1',
      '/dev/hdb',
      '/dev/xvdda',
      '/dev/sdb/../../etc/passwd',
      '/dev/../etc/passwd',
      'sdf',
      '/dev/sdf\n',
      '/dev/SDF',
      '',
      42,
      undefined,
    ]) {
      assert.match(reasonFor(d), /device name/, JSON.stringify(d));
    }
  });
});
