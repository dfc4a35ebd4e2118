/** The aws adapter module: EC2 (and EC2-compatible endpoints) as a skygate cloud; ELBv2 lives in adapters/aws-elbv2. */
import type { AdapterContext, CloudAdapterFactory } from '../../src/core/index.js';
import { AwsCloudAdapter } from './aws-cloud.js';

export { AwsCloudAdapter, CLIENT_TOKEN_TAG, createEc2Client } from './aws-cloud.js';
export { EC2_ERRORS, fromAwsError } from './aws-errors.js';
export type { AwsSettings } from './aws-settings.js';

// `satisfies` keeps the concrete class, so callers reach the extensions without casts.
export const createCloudAdapter = ((ctx: AdapterContext) => AwsCloudAdapter.open(ctx)) satisfies CloudAdapterFactory;
