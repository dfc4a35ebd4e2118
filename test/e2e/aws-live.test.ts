/**
 * Opt-in: the adapter contract against real AWS EC2. It launches (and terminates) a few small instances, volumes,
 * snapshots and AMIs in the account, so it runs only with SKYGATE_AWS_LIVE=1 and credentials (adapters/aws/README.md).
 */
import { test } from 'node:test';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { createCloudAdapter, createEc2Client } from '../../adapters/aws/index.js';
import { runCloudAdapterContract } from '../contract/cloud-adapter-contract.js';

const env = process.env;
const region = env.SKYGATE_AWS_REGION ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
/** The SDK's default chain may also use an instance role, but only these can be checked without a network call. */
const hasCredentials = [
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
].some((name) => (env[name] ?? '') !== '');

function skipReason(): string | undefined {
  if (env.SKYGATE_AWS_LIVE !== '1')
    return 'live AWS test: set SKYGATE_AWS_LIVE=1 to run it against a real account (it costs a few cents)';
  if (!hasCredentials)
    return 'live AWS test: no AWS credentials in the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)';
  if (region === undefined) return 'live AWS test: set SKYGATE_AWS_REGION (or AWS_REGION)';
  return undefined;
}

const reason = skipReason();
if (reason !== undefined) {
  test('CloudAdapter contract: aws (live AWS)', { skip: reason }, () => {});
} else {
  runCloudAdapterContract(`aws (live AWS, ${region})`, async () => {
    // Nothing wraps the adapter here, so the SDK's own retry strategy is the only one: give it room, and adapt.
    const settings = { region: region as string, maxAttempts: 5, retryMode: 'adaptive' as const };
    const adapter = createCloudAdapter({ providerId: 'aws-live', settings, dataDir: '', log: console });
    let imageId = env.SKYGATE_AWS_IMAGE_ID;
    if (imageId === undefined) {
      // The newest Amazon Linux 2023 minimal image of the region: small, free of charge, and no id to look up by hand.
      const client = createEc2Client({ ...settings });
      const out = await client.send(
        new DescribeImagesCommand({
          Owners: ['amazon'],
          Filters: [
            { Name: 'name', Values: ['al2023-ami-minimal-*-x86_64'] },
            { Name: 'state', Values: ['available'] },
          ],
        }),
      );
      client.destroy();
      imageId = [...(out.Images ?? [])].sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''))[0]?.ImageId;
      if (imageId === undefined) throw new Error(`no Amazon Linux 2023 minimal image in ${region}; set SKYGATE_AWS_IMAGE_ID`);
    }
    return {
      adapter,
      flavorId: env.SKYGATE_AWS_INSTANCE_TYPE ?? 't3.micro',
      imageId,
      timeoutMs: 15 * 60_000,
      cleanup: () => adapter.close(),
    };
  });
}
