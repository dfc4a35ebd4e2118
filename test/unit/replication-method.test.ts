/**
 * Which way replication moves an image to each target, decided from the real adapters' own capabilities and
 * copy scopes (AWS, sim, OpenStack), not from made-up ones: native copy within one copy domain, else OVA.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCloudAdapter as createAws } from '../../adapters/aws/index.js';
import { OpenStackCloudAdapter } from '../../adapters/openstack/index.js';
import { createCloudAdapter as createSim } from '../../adapters/sim/index.js';
import { isSkygateError } from '../../src/core/errors.js';
import type { CloudAdapter } from '../../src/core/ports.js';
import { copySourceOf, replicationMethod } from '../../src/portability/replication-method.js';

const quiet = { info() {}, warn() {}, error() {} };
const KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const OTHER_KEY = { accessKeyId: 'AKIDOTHEREXAMPLE', secretAccessKey: 'secret' };

const aws = (providerId: string, settings: Record<string, unknown>) => ({
  type: 'aws',
  adapter: createAws({ providerId, settings, dataDir: '', log: quiet }) as CloudAdapter,
});

/** The error replicationMethod throws, or a failure when it answers a method. */
function refusal(source: ReturnType<typeof aws>, target: ReturnType<typeof aws>): string {
  try {
    const method = replicationMethod(source, target, 'body.targets[0]');
    return assert.fail(`expected a refusal, got ${method}`);
  } catch (e) {
    assert.ok(isSkygateError(e));
    assert.equal(e.code, 'unsupported');
    assert.equal(e.field, 'body.targets[0]');
    return e.message;
  }
}

describe('replicationMethod between aws providers (EC2 CopyImage)', () => {
  const east = aws('aws-east', { region: 'us-east-1', credentials: KEY });

  it('copies natively between two regions of one account: the same credentials', () => {
    const west = aws('aws-west', { region: 'eu-west-1', credentials: KEY });
    assert.equal(replicationMethod(east, west, 'body.targets[0]'), 'native');
    assert.deepEqual(copySourceOf(east.adapter), { sourceRegion: 'us-east-1' }, 'CopyImage reads from the source region');
  });

  it('copies natively with other credentials when both name the same account', () => {
    const a = aws('aws-a', { region: 'us-east-1', credentials: KEY, accountId: '123456789012' });
    const b = aws('aws-b', { region: 'us-west-2', credentials: OTHER_KEY, accountId: '123456789012' });
    assert.equal(replicationMethod(a, b, 'body.targets[0]'), 'native');
  });

  it('refuses, saying why, another account, another partition or another endpoint: EC2 takes no image bytes either', () => {
    const otherKey = refusal(east, aws('aws-other', { region: 'us-west-2', credentials: OTHER_KEY }));
    assert.match(otherKey, /cannot receive image bytes/);
    assert.match(otherKey, /cannot reach the images of 'aws-east'/);
    const otherAccount = refusal(
      aws('a', { region: 'us-east-1', credentials: KEY, accountId: '123456789012' }),
      aws('b', { region: 'us-west-2', credentials: KEY, accountId: '210987654321' }),
    );
    assert.match(otherAccount, /account 210987654321/);
    assert.match(refusal(east, aws('aws-china', { region: 'cn-north-1', credentials: KEY })), /partition aws-cn/);
    const endpoint = { region: 'sim-east', credentials: KEY };
    assert.match(
      refusal(
        aws('x', { ...endpoint, endpoint: 'http://127.0.0.1:1/ec2' }),
        aws('y', { ...endpoint, endpoint: 'http://127.0.0.1:2/ec2' }),
      ),
      /endpoint http:\/\/127\.0\.0\.1:2\/ec2/,
    );
  });

  it('refuses a bad accountId naming the setting', () => {
    assert.throws(
      () => aws('x', { region: 'us-east-1', accountId: '1234' }),
      (e: unknown) => isSkygateError(e) && e.field === 'accountId',
    );
  });
});

describe('replicationMethod with the sim and OpenStack', () => {
  let dir: string;
  const sims: CloudAdapter[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skygate-replication-method-'));
    for (const id of ['sim-east', 'sim-west']) {
      sims.push(await createSim({ providerId: id, settings: { latencyMs: 0 }, dataDir: join(dir, id), log: quiet }));
    }
  });
  after(async () => {
    for (const s of sims) await s.close?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('moves sim images through the OVA pipeline: the sim takes bytes and has no native copy', () => {
    const [east, west] = sims.map((adapter) => ({ type: 'sim', adapter }));
    assert.ok(east && west);
    assert.equal(east.adapter.capabilities().nativeImageCopy, false);
    assert.equal(replicationMethod(east, west, 'body.targets[0]'), 'ova');
    assert.deepEqual(copySourceOf(east.adapter), {});
  });

  it('sends an aws image to the sim through the OVA pipeline, and refuses the way back', () => {
    const sim = { type: 'sim', adapter: sims[0] as CloudAdapter };
    const east = aws('aws-east', { region: 'us-east-1', credentials: KEY });
    assert.equal(replicationMethod(east, sim, 'body.targets[0]'), 'ova');
    assert.match(refusal(sim as ReturnType<typeof aws>, east), /'aws-east' is a aws cloud and 'sim-east' a sim cloud/);
  });

  it('has no native copy on OpenStack (adapters/openstack/README.md, "Image copy")', () => {
    assert.equal('copyImageFrom' in OpenStackCloudAdapter.prototype, false);
    assert.equal('imageCopyScope' in OpenStackCloudAdapter.prototype, false);
  });
});
