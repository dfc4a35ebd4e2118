/** The real AWS SDK's EC2 client pointed at a test gateway's EC2 front, with a fresh access key of the admin token. */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { TestGateway } from './gateway.js';

export async function ec2ClientFor(gw: TestGateway, region: string): Promise<EC2Client> {
  const key = await gw.api('post', '/v1/access-keys', { name: `test ${region}` });
  return new EC2Client({
    endpoint: `${gw.url}/ec2`,
    region,
    credentials: { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey },
    maxAttempts: 1,
  });
}
