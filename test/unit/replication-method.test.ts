/** Which way replication moves an image to each target: native copy within one cloud type, else the OVA pipeline. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Capabilities } from '../../src/core/model.js';
import { replicationMethod } from '../../src/portability/commands/replicate-image-command.js';

const caps = (over: Partial<Capabilities> = {}): Capabilities => ({
  instances: true,
  images: true,
  snapshots: true,
  volumes: true,
  imageDownload: true,
  imageUpload: true,
  nativeImageCopy: false,
  idempotentCreate: true,
  extensions: [],
  ...over,
});

describe('replicationMethod', () => {
  const aws = { type: 'aws', capabilities: caps({ nativeImageCopy: true }) };

  it('copies natively between regions of one cloud when both sides can and the adapter implements it', () => {
    assert.equal(replicationMethod(aws, { ...aws, copies: true }), 'native');
  });

  it('falls back to the OVA pipeline when the adapter lacks copyImageFrom, or the clouds differ, or one side cannot copy', () => {
    assert.equal(replicationMethod(aws, { ...aws, copies: false }), 'ova');
    assert.equal(
      replicationMethod(aws, { type: 'openstack', capabilities: caps({ nativeImageCopy: true }), copies: true }),
      'ova',
    );
    assert.equal(replicationMethod({ type: 'aws', capabilities: caps() }, { ...aws, copies: true }), 'ova');
    assert.equal(
      replicationMethod({ type: 'sim', capabilities: caps() }, { type: 'sim', capabilities: caps(), copies: false }),
      'ova',
    );
  });

  it('has no way when the target takes no image bytes and cannot copy natively', () => {
    assert.equal(replicationMethod(aws, { type: 'gcp', capabilities: caps({ imageUpload: false }), copies: false }), undefined);
  });
});
