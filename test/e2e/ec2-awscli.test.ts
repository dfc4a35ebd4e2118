/**
 * The EC2 front driven by Debian's AWS CLI, against a real gateway process (`src/server/main.ts`): the README's
 * tour exactly as written, twice in a row (run, wait, describe with filters, image, stop, start, terminate,
 * clean up), then paging and error cases checked by the CLI's exit code and message.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AWS, type AwsCli, awsCli, type CliResult, SERVICE_ERROR } from '../helpers/aws-cli.js';
import { fastSims, type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { readmeBlock, runBash } from '../helpers/readme-blocks.js';

let gw: GatewayProcess;
let cli: AwsCli;

const aws = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> => cli.ec2(args, { env: extraEnv });

before(async () => {
  assert.ok(existsSync(AWS), `${AWS} is missing: install Debian's awscli package (scripts/test.sh does)`);
  // Fast sims: the CLI's waiters poll every 15 s, so an instance still pending at the first look costs 15 s.
  gw = await startGatewayProcess({ config: fastSims(), env: { SKYGATE_LOG_LEVEL: 'warn' } });
  cli = await awsCli(gw, 'awscli-test');
});
after(async () => {
  await gw.close();
});

describe('the README tour with the AWS CLI', () => {
  it('runs twice in a row as written: launch, wait, find by filters, image, stop, start, terminate, clean up', async () => {
    const block = await readmeBlock('ec2-tour');
    // After the tour, what the reader's shell holds in its environment: the key must not be there.
    const script = `${block}\necho "exported: $(env | grep -c '^AWS_' || true)"`;
    const vms: string[] = [];
    for (let i = 1; i <= 2; i++) {
      const res = await runBash(script, {
        // Debian's CLI first on PATH, as `aws`; the reader's shell knows the gateway's port, not its URL or token.
        env: {
          PATH: `${path.dirname(AWS)}:${process.env.PATH}`,
          HOME: gw.dataDir,
          SKYGATE_PORT: String(gw.port),
          SKYGATE_DATA_DIR: gw.dataDir,
        },
        cwd: gw.dataDir,
        timeoutMs: 180_000,
      });
      assert.equal(res.code, 0, `run ${i} failed\n${res.stderr}\n${res.stdout}`);
      const lines = res.stdout.trim().split('\n');
      assert.deepEqual(lines[0]?.split('\t'), ['sim-east', 'sim-west'], res.stdout);
      assert.deepEqual(lines[1]?.split('\t'), ['sim-east-a', 'sim-east-b'], res.stdout);
      const vm = lines[2]?.split('\t') ?? [];
      assert.match(vm[0] ?? '', /^i-[0-9a-f]{17}$/, res.stdout);
      assert.deepEqual(vm.slice(1), ['sim.small', vm[2], 'running'], res.stdout);
      assert.match(vm[2] ?? '', /^sim-east-[ab]$/);
      assert.match(lines[3] ?? '', /^ami-[0-9a-f]{17}\ttour-web-backup\tavailable$/, res.stdout);
      assert.deepEqual(lines.slice(4), ['stopping', 'pending', 'shutting-down', 'exported: 0'], res.stdout);
      vms.push(vm[0] ?? '');
    }
    assert.notEqual(vms[1], vms[0], 'the second run launched its own instance');
    const images = await aws(['describe-images', '--owners', 'self', '--filters', 'Name=name,Values=tour-web-backup']);
    assert.equal(images.code, 0, images.stderr);
    assert.deepEqual(JSON.parse(images.stdout).Images, [], 'the tour deregistered its image');
  });
});

describe('Describe paging as the CLI drives it', () => {
  it('lists volumes with the CLI default MaxResults=1000 and with pages of 5, following NextToken', async () => {
    // Six volumes made over REST (the CLI costs seconds a call); EC2 shows every volume of the region.
    const created: string[] = [];
    for (let i = 0; i < 6; i++) {
      const op = await gw.api('post', '/v1/volumes', {
        provider: 'sim-east',
        name: `paged-${i}`,
        sizeGiB: 1,
        zone: 'sim-east-a',
      });
      assert.equal(op.status, 202, JSON.stringify(op.body));
      const done = await gw.waitOperation(op.body.id);
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
      created.push(String(done.target));
    }
    const tagged = await aws(['describe-volumes', '--filters', 'Name=size,Values=1']);
    assert.equal(tagged.code, 0, tagged.stderr);
    const volumeIds = (JSON.parse(tagged.stdout).Volumes as Array<{ VolumeId: string }>).map((v) => v.VolumeId);
    assert.ok(volumeIds.length >= created.length, tagged.stdout);
    const ids = (out: string) => (JSON.parse(out).Volumes as Array<{ VolumeId: string }>).map((v) => v.VolumeId);
    // `aws ec2 describe-volumes` sends MaxResults=1000, above DescribeVolumes' 500: EC2 answers 500 a page.
    const whole = await aws(['describe-volumes']);
    assert.equal(whole.code, 0, whole.stderr);
    for (const id of volumeIds) assert.ok(ids(whole.stdout).includes(id), `${id} listed`);
    const paged = await aws(['describe-volumes', '--page-size', '5', '--debug']);
    assert.equal(paged.code, 0, paged.stderr);
    assert.deepEqual(ids(paged.stdout).sort(), ids(whole.stdout).sort());
    assert.ok(
      (paged.stderr.match(/OperationModel\(name=DescribeVolumes\)/g) ?? []).length >= 2,
      'more than one page was asked for',
    );
    const snapshots = await aws(['describe-snapshots', '--owner-ids', 'self']);
    assert.equal(snapshots.code, 0, snapshots.stderr);
  });
});

describe('errors as the CLI shows them', () => {
  it('a bad signature: exit 254 and SignatureDoesNotMatch', async () => {
    const res = await aws(['describe-instances'], { AWS_SECRET_ACCESS_KEY: `${cli.env.AWS_SECRET_ACCESS_KEY}x` });
    assert.equal(res.code, SERVICE_ERROR, res.stderr);
    assert.match(res.stderr, /An error occurred \(SignatureDoesNotMatch\) when calling the DescribeInstances operation/);
  });

  it('an unknown access key: AuthFailure', async () => {
    const res = await aws(['describe-instances'], { AWS_ACCESS_KEY_ID: 'AKIAAAAAAAAAAAAAAAAA' });
    assert.equal(res.code, SERVICE_ERROR, res.stderr);
    assert.match(res.stderr, /\(AuthFailure\)/);
  });

  it('an unknown instance id: InvalidInstanceID.NotFound naming it', async () => {
    const res = await aws(['describe-instances', '--instance-ids', 'i-0123456789abcdef0']);
    assert.equal(res.code, SERVICE_ERROR, res.stderr);
    assert.match(res.stderr, /\(InvalidInstanceID\.NotFound\).*i-0123456789abcdef0/);
  });

  it('an id of the wrong shape: InvalidInstanceID.Malformed', async () => {
    const res = await aws(['stop-instances', '--instance-ids', 'i-nothex']);
    assert.equal(res.code, SERVICE_ERROR, res.stderr);
    assert.match(res.stderr, /\(InvalidInstanceID\.Malformed\)/);
  });

  it('a missing parameter: MissingParameter naming it, and nothing created', async () => {
    const before = (await gw.api('get', '/v1/instances?limit=1000&fresh=true')).body.items.length;
    const res = await aws(['run-instances', '--count', '1']);
    assert.equal(res.code, SERVICE_ERROR, res.stderr);
    assert.match(res.stderr, /\(MissingParameter\).*ImageId/);
    assert.equal((await gw.api('get', '/v1/instances?limit=1000&fresh=true')).body.items.length, before);
  });

  it('a region that is no provider: AuthFailure listing the providers', async () => {
    const res = await aws(['describe-instances', '--region', 'us-east-1']);
    assert.equal(res.code, SERVICE_ERROR, res.stderr);
    assert.match(res.stderr, /\(AuthFailure\).*sim-east, sim-west/);
  });

  it('an action skygate does not offer: InvalidAction', async () => {
    const res = await aws(['describe-nat-gateways']);
    assert.equal(res.code, SERVICE_ERROR, res.stderr);
    assert.match(res.stderr, /\(InvalidAction\)/);
  });
});
