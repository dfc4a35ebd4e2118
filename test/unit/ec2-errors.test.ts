/** skygate's error taxonomy as EC2 error codes and statuses: what the EC2 front answers for each core error. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ec2Error, ec2Errors, toEc2Error } from '../../src/api/ec2/ec2-errors.js';
import { SkygateError, conflict, invalid, notFound } from '../../src/core/errors.js';

const mapped = (e: unknown) => {
  const err = toEc2Error(e);
  return [err.code, err.status];
};

describe('toEc2Error', () => {
  it('names the missing resource kind, as EC2 does', () => {
    assert.deepEqual(mapped(notFound('instance', 'sim-east:i-1')), ['InvalidInstanceID.NotFound', 400]);
    assert.deepEqual(mapped(notFound('volume', 'sim-east:vol-1')), ['InvalidVolume.NotFound', 400]);
    assert.deepEqual(mapped(notFound('snapshot', 'x')), ['InvalidSnapshot.NotFound', 400]);
    assert.deepEqual(mapped(notFound('image', 'x')), ['InvalidAMIID.NotFound', 400]);
    assert.deepEqual(mapped(new SkygateError('not_found', "key pair 'k' does not exist", { field: 'KeyName' })), [
      'InvalidKeyPair.NotFound',
      400,
    ]);
    assert.deepEqual(mapped(invalid('body.imageId', "image 'x' does not exist")), ['InvalidAMIID.NotFound', 400]);
    assert.deepEqual(mapped(invalid('body.flavorId', 'no such flavor')), ['InvalidParameterValue', 400]);
  });

  it('tells state conflicts, termination protection and idempotency mismatches apart', () => {
    assert.deepEqual(mapped(conflict("cannot stop instance 'a' while it is terminated", 'path.id')), [
      'IncorrectInstanceState',
      400,
    ]);
    assert.deepEqual(mapped(conflict("cannot delete volume 'v' while it is in-use", 'path.id')), ['VolumeInUse', 400]);
    assert.deepEqual(mapped(conflict("cannot detach volume 'v' while it is available", 'path.id')), ['IncorrectState', 400]);
    assert.deepEqual(mapped(conflict('protected', 'disableApiTermination')), ['OperationNotPermitted', 400]);
    assert.deepEqual(mapped(conflict('reused', 'header.idempotency-key')), ['IdempotentParameterMismatch', 400]);
    assert.deepEqual(mapped(conflict("image name 'web' is already used by image 'sim-east:img-1'", 'body.name')), [
      'InvalidAMIName.Duplicate',
      400,
    ]);
  });

  it('answers a launch from an image that is gone or not ready as EC2 does', () => {
    assert.deepEqual(mapped(invalid('body.imageId', "image 'x' is deleted, not available")), ['InvalidAMIID.NotFound', 400]);
    assert.deepEqual(mapped(invalid('body.imageId', "image 'x' is pending, not available")), ['InvalidAMIID.Unavailable', 400]);
    assert.deepEqual(mapped(invalid('body.imageId', "image 'x' is failed, not available")), ['InvalidAMIID.Unavailable', 400]);
    assert.equal(ec2Errors.deregistered('ami-0123456789abcdef0').code, 'InvalidAMIID.Unavailable');
  });

  it('maps auth, limits and provider trouble onto EC2 codes a client retries correctly', () => {
    assert.deepEqual(mapped(new SkygateError('unauthorized', 'x')), ['AuthFailure', 401]);
    assert.deepEqual(mapped(new SkygateError('forbidden', 'x')), ['UnauthorizedOperation', 403]);
    assert.deepEqual(mapped(new SkygateError('throttled', 'slow down')), ['RequestLimitExceeded', 503]);
    assert.deepEqual(mapped(new SkygateError('quota_exceeded', 'sim: instances quota exceeded')), ['InstanceLimitExceeded', 400]);
    assert.deepEqual(mapped(new SkygateError('quota_exceeded', 'sim: volumeGiB quota exceeded')), ['VolumeLimitExceeded', 400]);
    assert.deepEqual(mapped(new SkygateError('unsupported', 'x')), ['UnsupportedOperation', 400]);
    assert.deepEqual(mapped(new SkygateError('provider_unavailable', 'x')), ['Unavailable', 503]);
    assert.deepEqual(mapped(new SkygateError('timeout', 'x')), ['Unavailable', 503]);
  });

  it('hides internal detail and passes EC2 errors through', () => {
    const internal = toEc2Error(new Error('database password is hunter2'));
    assert.deepEqual([internal.code, internal.status], ['InternalError', 500]);
    assert.doesNotMatch(internal.message, /hunter2/);
    const own = ec2Errors.malformed('instance', 'i-x');
    assert.equal(toEc2Error(own), own);
    assert.ok(own instanceof Ec2Error);
    assert.match(ec2Errors.notFound('instance', ['i-1', 'i-2']).message, /The instance IDs 'i-1, i-2' do not exist/);
  });
});
