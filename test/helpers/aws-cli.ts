/**
 * Debian's AWS CLI (v2) against a gateway's EC2 front: an operator access key of the gateway's own, and an
 * environment that holds it and nothing of the user's AWS configuration.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** Debian's CLI; another `aws` earlier on PATH (a pip-installed v1) answers errors differently. */
export const AWS = '/usr/bin/aws';
/** The AWS CLI v2's exit code when the service answered an error. */
export const SERVICE_ERROR = 254;

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What the CLI needs of a gateway: a TestGateway or a GatewayProcess. */
export interface CliGateway {
  url: string;
  dataDir: string;
  api(method: 'post', path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

export interface AwsCli {
  /** The key, for an SDK client beside the CLI. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The environment the CLI (or boto3) runs with: the key, HOME in the gateway's data directory, no pager. */
  env: NodeJS.ProcessEnv;
  /** Runs `aws ec2 ARGS`: the exit code and output, never a throw. */
  ec2(args: string[], opts?: { region?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult>;
}

/** Issues an operator access key named `keyName` and answers a CLI that signs with it. */
export async function awsCli(gw: CliGateway, keyName: string, region = 'sim-east'): Promise<AwsCli> {
  const key = await gw.api('post', '/v1/access-keys', { name: keyName, role: 'operator' });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  const { accessKeyId, secretAccessKey } = key.body as { accessKeyId: string; secretAccessKey: string };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: gw.dataDir,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_DEFAULT_REGION: region,
    AWS_PAGER: '',
  };
  return {
    credentials: { accessKeyId, secretAccessKey },
    env,
    async ec2(args, opts = {}) {
      const argv = ['--endpoint-url', `${gw.url}/ec2`, '--region', opts.region ?? region, '--output', 'json', 'ec2', ...args];
      try {
        const { stdout, stderr } = await run(AWS, argv, { env: { ...env, ...opts.env }, timeout: opts.timeoutMs ?? 60_000 });
        return { code: 0, stdout, stderr };
      } catch (e) {
        const err = e as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
      }
    },
  };
}
