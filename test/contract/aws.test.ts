/**
 * The adapter contract against the aws adapter, pointed at a second skygate process whose EC2 front (/ec2)
 * serves sim clouds: real HTTP, real SigV4 from the SDK, verified by the front with an access key it issued.
 * The front's two regions (sim-east, sim-west) also carry an AWS-to-AWS replication through CopyImage.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { type AwsCloudAdapter, createCloudAdapter, createEc2Client } from '../../adapters/aws/index.js';
import { TOKEN, startGateway, stop } from '../../bench/harness.js';
import { isSkygateError } from '../../src/core/errors.js';
import { parseId } from '../../src/core/ids.js';
import type { Operation } from '../../src/core/model.js';
import { startTestGateway } from '../helpers/gateway.js';
import { runCloudAdapterContract, waitFor } from './cloud-adapter-contract.js';

const quiet = { info() {}, warn() {}, error() {} };
/** The second gateway's clouds, and so the regions its EC2 front signs for. */
const REGION = 'sim-east';
const OTHER_REGION = 'sim-west';
/** The sim's seed image the contract boots: the smallest. */
const IMAGE_NAME = 'cirros-0.6';
const TIMEOUT_MS = 30_000;
const CONFIG = `providers:
  - id: ${REGION}
    type: sim
    settings:
      latencyMs: 100
  - id: ${OTHER_REGION}
    type: sim
    settings:
      latencyMs: 100
`;

interface Front {
  adapter: AwsCloudAdapter;
  /** Fresh aws adapter settings for one of the front's regions (the SDK marks up the credentials it is given). */
  settingsFor(region: string): Record<string, unknown>;
  flavorId: string;
  imageId: string;
  teardown(): Promise<void>;
}

/** Fails the whole suite with what is missing, rather than skipping: the EC2 front is part of this build. */
function missing(what: string, cause: unknown): Error {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new Error(`the second gateway's EC2 front cannot serve the aws adapter: ${what} (${detail})`, { cause });
}

async function startFront(): Promise<Front> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skygate-aws-contract-'));
  await writeFile(join(dataDir, 'config.yaml'), CONFIG);
  const gateway = await startGateway({ SKYGATE_DATA_DIR: dataDir, SKYGATE_CONFIG: join(dataDir, 'config.yaml') }).catch(
    async (e: unknown) => {
      await rm(dataDir, { recursive: true, force: true });
      throw missing('the second gateway did not start (its stderr is above)', e);
    },
  );
  const teardown = async () => {
    await stop(gateway.child);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const res = await fetch(`${gateway.url}/v1/access-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'aws-contract' }),
    });
    if (res.status !== 201) throw missing('POST /v1/access-keys did not issue a key', `${res.status} ${await res.text()}`);
    const key = (await res.json()) as { accessKeyId: string; secretAccessKey: string };
    const settings = {
      region: REGION,
      endpoint: `${gateway.url}/ec2`,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      // The contract's own waits poll; a second retry layer would only slow failures down.
      maxAttempts: 1,
      retryMode: 'standard' as const,
    };
    const adapter = createCloudAdapter({ providerId: 'aws-contract', settings, dataDir, log: quiet });

    await adapter.zones().catch((e: unknown) => {
      throw missing('DescribeAvailabilityZones failed', e);
    });
    const flavors = await adapter.listFlavors().catch((e: unknown) => {
      throw missing('DescribeInstanceTypes failed', e);
    });
    const flavor = flavors.find((f) => f.nativeId === 'sim.small') ?? [...flavors].sort((a, b) => a.vcpus - b.vcpus)[0];
    if (flavor === undefined) throw missing('DescribeInstanceTypes listed no instance type', flavors);
    // The seed images belong to the cloud, not to the caller, so look them up by name rather than Owner=self.
    const client = createEc2Client(settings);
    const found = await client
      .send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: [IMAGE_NAME] }] }))
      .catch((e: unknown) => {
        throw missing(`DescribeImages with Filter name=${IMAGE_NAME} failed`, e);
      })
      .finally(() => client.destroy());
    const imageId = found.Images?.[0]?.ImageId;
    if (imageId === undefined) throw missing(`DescribeImages found no image named ${IMAGE_NAME}`, JSON.stringify(found.Images));
    return {
      adapter,
      settingsFor: (region) => ({
        ...settings,
        region,
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      }),
      flavorId: flavor.nativeId,
      imageId,
      teardown: async () => {
        await adapter.close();
        await teardown();
      },
    };
  } catch (e) {
    await teardown();
    throw e;
  }
}

// One second gateway serves the contract and the checks below; it stops when the file is done.
let front: Promise<Front> | undefined;
const useFront = () => {
  front ??= startFront();
  return front;
};
after(async () => {
  if (front !== undefined) await (await front.catch(() => undefined))?.teardown();
});

runCloudAdapterContract('aws (EC2 front of a second skygate over the sim)', async () => {
  const { adapter, flavorId, imageId } = await useFront();
  return { adapter, flavorId, imageId, timeoutMs: TIMEOUT_MS, cleanup: async () => {} };
});

describe('aws adapter over the EC2 front: what the contract does not check', () => {
  const run = `aws-extra-${Date.now().toString(36)}`;

  it('keeps the provider request id on an error (EC2 sends it as x-amzn-RequestId)', async () => {
    const { adapter } = await useFront();
    try {
      await adapter.getInstance('i-00000000000000000');
      assert.fail('expected not_found');
    } catch (e) {
      assert.ok(isSkygateError(e));
      assert.equal(e.code, 'not_found');
      assert.ok(e.requestId, 'the SDK reads a failed call request id from the x-amzn-RequestId header only');
    }
  });

  it('makes one image and one snapshot per client token, through the client-token tag', async () => {
    const { adapter, flavorId, imageId } = await useFront();
    const vm = await adapter.createInstance({ name: `${run}-vm`, flavorId, imageId, clientToken: `${run}-vm`, tags: { run } });
    try {
      await waitFor(
        'instance running',
        () => adapter.getInstance(vm.nativeId),
        (i) => i.state === 'running',
        TIMEOUT_MS,
      );
      const spec = { name: `${run}-image`, clientToken: `${run}-image`, tags: { run } };
      const first = await adapter.createImageFromInstance(vm.nativeId, spec);
      const second = await adapter.createImageFromInstance(vm.nativeId, spec);
      assert.equal(second.nativeId, first.nativeId);
      assert.deepEqual(first.tags, { run }, 'the client-token tag stays out of sight');

      const vol = await adapter.createVolume({ name: `${run}-vol`, sizeGiB: 1, zone: vm.zone, clientToken: `${run}-vol` });
      await waitFor(
        'volume available',
        () => adapter.getVolume(vol.nativeId),
        (v) => v.state === 'available',
        TIMEOUT_MS,
      );
      const snapSpec = { name: `${run}-snap`, clientToken: `${run}-snap` };
      const snap = await adapter.createSnapshot(vol.nativeId, snapSpec);
      assert.equal((await adapter.createSnapshot(vol.nativeId, snapSpec)).nativeId, snap.nativeId);

      await adapter.setTags('volume', vol.nativeId, { stage: 'one', keep: 'yes' });
      await adapter.setTags('volume', vol.nativeId, { keep: 'yes' });
      const tagged = await adapter.getVolume(vol.nativeId);
      assert.deepEqual(tagged.tags, { keep: 'yes' });
      assert.equal(tagged.name, `${run}-vol`, 'the Name tag survives a tag replacement');

      await adapter.deleteSnapshot(snap.nativeId);
      await adapter.deleteVolume(vol.nativeId);
      await adapter.deleteImage(first.nativeId);
    } finally {
      await adapter.deleteInstance(vm.nativeId);
    }
  });
});

describe('AWS to AWS replication over the EC2 front: CopyImage between two regions', () => {
  it('replicates natively through copyImageFrom: the copy is available in the other region and tagged', async () => {
    const { settingsFor, imageId } = await useFront();
    // A first gateway whose two aws providers are the front's two regions: one endpoint, one access key.
    const gw = await startTestGateway({
      providers: [
        { id: 'aws-a', type: 'aws', settings: settingsFor(REGION) },
        { id: 'aws-b', type: 'aws', settings: settingsFor(OTHER_REGION) },
      ],
    });
    const other = createCloudAdapter({
      providerId: 'aws-check',
      settings: settingsFor(OTHER_REGION),
      dataDir: '',
      log: quiet,
    });
    try {
      const source = `aws-a:${imageId}`;
      const res = await gw.api('post', `/v1/images/${encodeURIComponent(source)}/replicate`, { targets: ['aws-b'] });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const op: Operation = await gw.waitOperation(res.body.id, 150_000);
      assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
      const replicas = op.result?.replicas as Array<{ provider: string; imageId: string; method: string }>;
      assert.deepEqual(
        replicas.map((r) => [r.provider, r.method]),
        [['aws-b', 'native']],
      );
      const copy = await other.getImage(parseId(replicas[0]?.imageId ?? '', 'replicas[0].imageId').nativeId);
      assert.equal(copy.state, 'available');
      assert.notEqual(copy.nativeId, imageId);
      assert.equal(copy.tags['skygate.replicaOf'], source, 'the copy carries the tags replication asked for');
      await other.deleteImage(copy.nativeId);
    } finally {
      await other.close();
      await gw.close();
    }
  });
});
