/** What an EC2 call failed with, for tests: the front's own Ec2Error code, or the AWS SDK's error as a client sees it. */
import assert from 'node:assert/strict';
import type { EC2ServiceException } from '@aws-sdk/client-ec2';
import { Ec2Error } from '../../src/api/ec2/ec2-errors.js';

/** The EC2 code `fn` throws (the front's functions, called directly). */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Ec2Error, String(e));
    return e.code;
  }
  assert.fail('did not throw');
}

/** The EC2 error an AWS SDK call fails with: its code, status, message and request id. */
export async function ec2Error(
  p: Promise<unknown>,
): Promise<{ code: string; status: number; message: string; requestId?: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as EC2ServiceException;
    return {
      code: err.name,
      status: err.$metadata.httpStatusCode ?? 0,
      message: err.message,
      requestId: err.$metadata.requestId,
    };
  }
  assert.fail('the call succeeded');
}
