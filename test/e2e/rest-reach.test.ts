/**
 * What every front can reach, through the REST API of a real gateway on 127.0.0.1 (two sim clouds): tags,
 * SSH key pairs, instance attributes and default networks. Every response is checked against the spec,
 * bad input must name its field and leave nothing behind, and what REST sets the EC2 front sees.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  DescribeKeyPairsCommand,
  DescribeInstancesCommand,
  type EC2Client,
  type EC2ServiceException,
  ModifyInstanceAttributeCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import request from 'supertest';
import { openApiDocument } from '../../src/api/rest/openapi-validator.js';
import type { Instance } from '../../src/core/model.js';
import { ec2ClientFor } from '../helpers/ec2-client.js';
import { ADMIN_TOKEN, assertMatchesSpec, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const run = promisify(execFile);
let gw: TestGateway;
let viewer: string;
let operator: string;
let keyDir: string;
let ec2: EC2Client;
const enc = encodeURIComponent;

/** PATCH through the same spec check as `gw.api` (which speaks get/post/put/delete). */
async function patch(p: string, body: unknown, token = ADMIN_TOKEN): Promise<request.Response> {
  const res = await request(gw.url)
    .patch(p)
    .set('Authorization', `Bearer ${token}`)
    .send(body as object);
  assertMatchesSpec('patch', p, res);
  return res;
}

/** A 4xx problem+json naming `field`; answers its body. */
function assertProblem(res: request.Response, status: number, field: string): { detail: string; errors?: unknown[] } {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.type, /application\/problem\+json/);
  const body = JSON.parse(res.text) as { field?: string; detail: string };
  assert.equal(body.field, field, body.detail);
  return body;
}

async function created(res: request.Response): Promise<string> {
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const op = await gw.waitOperation(res.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
  return String(op.result?.resourceId);
}

async function createInstance(name: string): Promise<string> {
  const body = { provider: 'sim-east', name, flavorId: 'sim.small', imageId: 'img-ubuntu-22-04', tags: { reach: name } };
  return created(await gw.api('post', '/v1/instances', body));
}

async function operationCount(): Promise<number> {
  return (await gw.gateway.core.operations.list({ limit: 1000 })).length;
}

/** A key made by the real ssh-keygen, and the fingerprint ssh-keygen reports for it in EC2's form. */
async function sshKeygen(type: 'ed25519' | 'rsa' | 'ecdsa'): Promise<{ line: string; fingerprint: string }> {
  const file = path.join(keyDir, `${type}-${Math.random().toString(36).slice(2)}`);
  await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'someone@laptop', '-f', file]);
  return { line: (await readFile(`${file}.pub`, 'utf8')).trim(), fingerprint: await fingerprintOf(`${file}.pub`, type) };
}

async function fingerprintOf(pubFile: string, type: string): Promise<string> {
  const hash = type === 'rsa' ? 'md5' : 'sha256';
  const { stdout } = await run('ssh-keygen', ['-l', '-E', hash, '-f', pubFile]);
  const fp = (stdout.split(' ')[1] ?? '').replace(/^(MD5|SHA256):/, '');
  // ssh-keygen leaves out base64 padding; EC2 (and skygate) keep it.
  return hash === 'sha256' ? fp.padEnd(Math.ceil(fp.length / 4) * 4, '=') : fp;
}

async function ec2Error(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as EC2ServiceException).name;
  }
  assert.fail('the EC2 call succeeded');
}

before(async () => {
  gw = await startTestGateway();
  keyDir = await mkdtemp(path.join(tmpdir(), 'skygate-reach-'));
  viewer = (await gw.api('post', '/v1/tokens', { name: 'dash', role: 'viewer' })).body.token;
  operator = (await gw.api('post', '/v1/tokens', { name: 'ops', role: 'operator' })).body.token;
  ec2 = await ec2ClientFor(gw, 'sim-east');
});
after(async () => {
  ec2?.destroy();
  await gw.close();
  await rm(keyDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- tags

describe('tags', () => {
  const resources: Record<string, string> = {};

  before(async () => {
    resources.instances = await createInstance('tagged');
    resources.images = await created(await gw.api('post', `/v1/instances/${enc(resources.instances)}/snapshot`, { name: 'img' }));
    resources.volumes = await created(await gw.api('post', '/v1/volumes', { provider: 'sim-east', name: 'v', sizeGiB: 1 }));
    resources.snapshots = await created(await gw.api('post', '/v1/snapshots', { volumeId: resources.volumes, name: 's' }));
  });

  for (const collection of ['instances', 'images', 'volumes', 'snapshots']) {
    it(`${collection}: GET, PUT replaces all, PATCH sets and removes; the resource itself shows the change`, async () => {
      const id = resources[collection] as string;
      const url = `/v1/${collection}/${enc(id)}/tags`;
      const put = await gw.api('put', url, { tags: { env: 'prod', team: 'blue', 'cost center': 'R&D / 42' } }, operator);
      assert.equal(put.status, 200);
      assert.deepEqual(put.body, { id, tags: { env: 'prod', team: 'blue', 'cost center': 'R&D / 42' } });

      const patched = await patch(url, { tags: { team: 'red', env: null, absent: null, owner: '' } }, operator);
      assert.equal(patched.status, 200);
      assert.deepEqual(patched.body.tags, { team: 'red', 'cost center': 'R&D / 42', owner: '' });

      const read = await gw.api('get', url, undefined, viewer);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, patched.body);
      assert.deepEqual((await gw.api('get', `/v1/${collection}/${enc(id)}`)).body.tags, patched.body.tags);
      const listed = await gw.api('get', `/v1/${collection}?tag=team=red&provider=sim-east`);
      assert.deepEqual(
        listed.body.items.map((r: { id: string }) => r.id),
        [id],
      );

      const cleared = await gw.api('put', url, { tags: {} }, operator);
      assert.deepEqual(cleared.body.tags, {});
    });
  }

  it('the EC2 front sees tags set through REST', async () => {
    const id = resources.instances as string;
    await gw.api('put', `/v1/instances/${enc(id)}/tags`, { tags: { reach: 'tagged', front: 'rest' } });
    const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:front', Values: ['rest'] }] }));
    const instances = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    assert.equal(instances.length, 1);
    const tags = Object.fromEntries((instances[0]?.Tags ?? []).map((t) => [t.Key, t.Value]));
    assert.equal(tags.front, 'rest');
  });

  describe('bad input names the field and changes nothing', () => {
    const url = () => `/v1/instances/${enc(resources.instances as string)}/tags`;
    let kept: Record<string, string>;
    const unchanged = async () => assert.deepEqual((await gw.api('get', url())).body.tags, kept);

    before(async () => {
      kept = (await gw.api('put', url(), { tags: { keep: 'me' } })).body.tags;
    });

    it('a reserved, empty or too long key', async () => {
      const reserved = assertProblem(await gw.api('put', url(), { tags: { 'aws:owner': 'x' } }), 400, 'body.tags.aws:owner');
      assert.match(reserved.detail, /aws: \(reserved\)/);
      assertProblem(await patch(url(), { tags: { 'AWS:x': 'y' } }), 400, 'body.tags.AWS:x');
      assertProblem(await gw.api('put', url(), { tags: { '': 'x' } }), 400, 'body.tags[""]');
      const long = 'k'.repeat(129);
      assertProblem(await patch(url(), { tags: { [long]: 'x' } }), 400, `body.tags.${long}`);
      await unchanged();
    });

    it('a value too long, or not a string', async () => {
      assertProblem(await gw.api('put', url(), { tags: { env: 'v'.repeat(257) } }), 400, 'body.tags.env');
      assertProblem(await gw.api('put', url(), { tags: { env: null } }), 400, 'body.tags.env');
      assertProblem(await patch(url(), { tags: { env: 7 } }), 400, 'body.tags.env');
      assertProblem(await gw.api('put', url(), { tags: { env: 'x' }, extra: 1 }), 400, 'body.extra');
      assertProblem(await patch(url(), {}), 400, 'body.tags');
      await unchanged();
    });

    it('too many tags: 51 in a PUT, or a PATCH that would make 51', async () => {
      const many = (n: number, prefix: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'x']));
      const put = assertProblem(await gw.api('put', url(), { tags: many(51, 'k') }), 400, 'body.tags');
      assert.match(put.detail, /at most 50/);
      // One tag is there already, so fifty more are one too many; only the core can know that.
      const patched = assertProblem(await patch(url(), { tags: many(50, 'more') }), 400, 'body.tags');
      assert.match(patched.detail, /at most 50/);
      await unchanged();
      assert.equal((await patch(url(), { tags: many(49, 'more') })).status, 200, 'fifty in all is fine');
      kept = (await gw.api('put', url(), { tags: { keep: 'me' } })).body.tags;
    });

    it('an unknown resource is 404 naming path.id; a malformed id 400', async () => {
      for (const id of ['sim-east:i-doesnotexist', 'nowhere:i-1']) {
        assertProblem(await gw.api('get', `/v1/instances/${enc(id)}/tags`), 404, 'path.id');
        assertProblem(await gw.api('put', `/v1/instances/${enc(id)}/tags`, { tags: {} }), 404, 'path.id');
        assertProblem(await patch(`/v1/volumes/${enc(id)}/tags`, { tags: { a: 'b' } }), 404, 'path.id');
      }
      assertProblem(await gw.api('put', '/v1/snapshots/no-colon/tags', { tags: {} }), 400, 'path.id');
    });

    it('a viewer may read but not change', async () => {
      assert.equal((await gw.api('get', url(), undefined, viewer)).status, 200);
      assert.equal((await gw.api('put', url(), { tags: {} }, viewer)).status, 403);
      assert.equal((await patch(url(), { tags: { a: 'b' } }, viewer)).status, 403);
      await unchanged();
    });
  });
});

// ---------------------------------------------------------------- key pairs

describe('key pairs', () => {
  const base = '/v1/providers/sim-east/key-pairs';
  const names = async () => (await gw.api('get', base)).body.items.map((k: { name: string }) => k.name).sort();

  it('imports keys made by ssh-keygen, with the fingerprints ssh-keygen shows, and never a private key', async () => {
    for (const type of ['ed25519', 'rsa', 'ecdsa'] as const) {
      const key = await sshKeygen(type);
      const name = `laptop ${type}/1`; // spaces and slashes are printable ASCII, so allowed
      const res = await gw.api('post', base, { name, publicKey: key.line, tags: { owner: 'me' } }, operator);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.keyType, type);
      assert.equal(res.body.fingerprint, key.fingerprint);
      assert.equal(res.body.publicKey, key.line.split(' ').slice(0, 2).join(' '), 'kept without the comment');
      assert.equal(res.body.privateKey, undefined);
      assert.deepEqual(res.body.tags, { owner: 'me' });
      const got = await gw.api('get', `${base}/${enc(name)}`, undefined, viewer);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, res.body);
    }
  });

  it('creates rsa (the default) and ed25519 keys whose private key, shown once, loads in ssh-keygen', async () => {
    for (const keyType of [undefined, 'ed25519'] as const) {
      const name = `made-${keyType ?? 'default'}`;
      const res = await gw.api('post', base, { name, ...(keyType && { keyType }) }, operator);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.body.keyType, keyType ?? 'rsa');
      const file = path.join(keyDir, name);
      await writeFile(file, res.body.privateKey as string);
      await chmod(file, 0o600);
      const { stdout } = await run('ssh-keygen', ['-y', '-f', file]);
      assert.equal(stdout.trim(), res.body.publicKey, 'the private key is the public key kept');
      await writeFile(`${file}.pub`, stdout);
      assert.equal(res.body.fingerprint, await fingerprintOf(`${file}.pub`, res.body.keyType));
      const again = await gw.api('get', `${base}/${name}`);
      assert.equal(again.body.privateKey, undefined, 'the private key is not shown again');
      const { privateKey: _shownOnce, ...kept } = res.body;
      assert.deepEqual(again.body, kept);
    }
  });

  it('the EC2 front sees key pairs made through REST', async () => {
    const out = await ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['made-ed25519'] }));
    const rest = await gw.api('get', `${base}/made-ed25519`);
    assert.equal(out.KeyPairs?.[0]?.KeyFingerprint, rest.body.fingerprint);
    assert.equal(out.KeyPairs?.[0]?.KeyPairId, rest.body.id);
  });

  it('a duplicate name is 409, imported or generated, and the first key stays', async () => {
    const first = (await gw.api('get', `${base}/made-default`)).body;
    const key = await sshKeygen('ed25519');
    assertProblem(await gw.api('post', base, { name: 'made-default', publicKey: key.line }), 409, 'body.name');
    assertProblem(await gw.api('post', base, { name: 'made-default', keyType: 'ed25519' }), 409, 'body.name');
    assert.deepEqual((await gw.api('get', `${base}/made-default`)).body, first);
  });

  it('bad public key material is 400 naming body.publicKey, and nothing is kept', async () => {
    const before = await names();
    const good = await sshKeygen('ed25519');
    const [label, data] = good.line.split(' ') as [string, string];
    for (const publicKey of [
      'not a key',
      '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----',
      `${label} ${data.slice(0, 30)}`, // truncated
      `ssh-rsa ${data}`, // the label does not match the blob
      `${label} ***`,
      'ssh-dss AAAAB3NzaC1kc3MAAACBAP',
    ]) {
      const res = await gw.api('post', base, { name: 'bad', publicKey }, operator);
      assertProblem(res, 400, 'body.publicKey');
    }
    assert.deepEqual(await names(), before);
  });

  it('other bad input: name, keyType with a public key, unknown fields', async () => {
    const before = await names();
    const key = await sshKeygen('ed25519');
    assertProblem(await gw.api('post', base, { name: 'ключ', publicKey: key.line }), 400, 'body.name');
    assertProblem(await gw.api('post', base, { name: '' }), 400, 'body.name');
    assertProblem(await gw.api('post', base, { publicKey: key.line }), 400, 'body.name');
    assertProblem(await gw.api('post', base, { name: 'x', keyType: 'ed25519', publicKey: key.line }), 400, 'body.keyType');
    assertProblem(await gw.api('post', base, { name: 'x', keyType: 'dsa' }), 400, 'body.keyType');
    assertProblem(await gw.api('post', base, { name: 'x', tags: { 'aws:x': 'y' } }), 400, 'body.tags.aws:x');
    assertProblem(await gw.api('post', base, { name: 'x', privateKey: 'mine' }), 400, 'body.privateKey');
    assert.deepEqual(await names(), before);
  });

  it('an unknown provider is 404 naming path.providerId; an unknown name 404 naming path.keyName', async () => {
    assertProblem(await gw.api('get', '/v1/providers/nowhere/key-pairs'), 404, 'path.providerId');
    assertProblem(await gw.api('post', '/v1/providers/nowhere/key-pairs', { name: 'x' }), 404, 'path.providerId');
    assertProblem(await gw.api('get', '/v1/providers/Not_Valid/key-pairs'), 400, 'path.providerId');
    assertProblem(await gw.api('get', `${base}/nothing-here`), 404, 'path.keyName');
    assertProblem(await gw.api('delete', `${base}/nothing-here`), 404, 'path.keyName');
    // Key pairs belong to their provider.
    assertProblem(await gw.api('get', '/v1/providers/sim-west/key-pairs/made-default'), 404, 'path.keyName');
  });

  it('a viewer may list and read but not create or delete', async () => {
    assert.equal((await gw.api('get', base, undefined, viewer)).status, 200);
    assert.equal((await gw.api('post', base, { name: 'v' }, viewer)).status, 403);
    assert.equal((await gw.api('delete', `${base}/made-default`, undefined, viewer)).status, 403);
    assert.ok((await names()).includes('made-default'));
  });

  it('deletes: 204, then gone from REST and EC2', async () => {
    assert.equal((await gw.api('delete', `${base}/made-ed25519`, undefined, operator)).status, 204);
    assertProblem(await gw.api('get', `${base}/made-ed25519`), 404, 'path.keyName');
    assert.ok(!(await names()).includes('made-ed25519'));
    assert.equal(
      await ec2Error(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['made-ed25519'] }))),
      'InvalidKeyPair.NotFound',
    );
  });
});

// ---------------------------------------------------------------- instance attributes

describe('instance attributes', () => {
  let id: string;
  let url: string;
  let ec2Id: string;

  before(async () => {
    id = await createInstance('attrs');
    url = `/v1/instances/${enc(id)}/attributes`;
    const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:reach', Values: ['attrs'] }] }));
    ec2Id = String(out.Reservations?.[0]?.Instances?.[0]?.InstanceId);
  });

  it('shows the defaults of an instance never changed', async () => {
    const res = await gw.api('get', url, undefined, viewer);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      instanceId: id,
      disableApiTermination: false,
      instanceInitiatedShutdownBehavior: 'stop',
      sourceDestCheck: true,
      ebsOptimized: false,
      hasUserData: false,
    });
  });

  it('termination protection refuses a REST DELETE (409 naming the reason) and an EC2 terminate, until turned off', async () => {
    const on = await patch(url, { disableApiTermination: true, instanceInitiatedShutdownBehavior: 'terminate' }, operator);
    assert.equal(on.status, 200);
    assert.equal(on.body.disableApiTermination, true);
    assert.equal(on.body.instanceInitiatedShutdownBehavior, 'terminate');
    assert.deepEqual((await gw.api('get', url, undefined, viewer)).body, on.body);

    const ops = await operationCount();
    const refused = assertProblem(await gw.api('delete', `/v1/instances/${enc(id)}`), 409, 'disableApiTermination');
    assert.match(refused.detail, /termination protection/);
    assert.equal(await ec2Error(ec2.send(new TerminateInstancesCommand({ InstanceIds: [ec2Id] }))), 'OperationNotPermitted');
    assert.equal(await operationCount(), ops, 'no operation was started');
    assert.equal((await gw.api('get', `/v1/instances/${enc(id)}`)).body.state, 'running');

    const off = await patch(url, { disableApiTermination: false }, operator);
    assert.equal(off.body.disableApiTermination, false);
    assert.equal(off.body.instanceInitiatedShutdownBehavior, 'terminate', 'the other attribute stays');
  });

  it('user data changes only while stopped, and only operators read it back', async () => {
    const running = assertProblem(await patch(url, { userData: '#cloud-config\n' }), 409, 'body.userData');
    assert.match(running.detail, /stop it first/);
    assert.equal((await gw.api('get', url)).body.hasUserData, false);

    await created(await gw.api('post', `/v1/instances/${enc(id)}/stop`));
    const script = '#cloud-config\nwrite_files: [{path: /etc/motd, content: "héllo"}]\n';
    const set = await patch(url, { userData: script, ebsOptimized: true }, operator);
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.hasUserData, true);
    assert.equal(set.body.ebsOptimized, true);
    assert.equal(set.body.userData, undefined, 'never shown with the other attributes');

    const asViewer = await gw.api('get', `${url}/user-data`, undefined, viewer);
    assert.equal(asViewer.status, 403);
    assert.doesNotMatch(asViewer.text, /cloud-config/);
    assert.equal((await gw.api('get', url, undefined, viewer)).body.userData, undefined);
    const asOperator = await gw.api('get', `${url}/user-data`, undefined, operator);
    assert.equal(asOperator.status, 200);
    assert.equal(asOperator.headers['cache-control'], 'no-store');
    assert.deepEqual(asOperator.body, {
      instanceId: id,
      userData: script,
      userDataBase64: Buffer.from(script).toString('base64'),
    });
  });

  it('user data set through EC2 as gzip reads back as its exact bytes', async () => {
    const gz = gzipSync('#!/bin/sh\necho hi\n');
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: ec2Id, UserData: { Value: gz } }));
    const res = await gw.api('get', `${url}/user-data`);
    assert.deepEqual(res.body, { instanceId: id, userDataBase64: gz.toString('base64') });
    assert.equal((await patch(url, { userData: '' })).body.hasUserData, false, '"" clears it');
    assert.deepEqual((await gw.api('get', `${url}/user-data`)).body, { instanceId: id });
  });

  it('bad input names the field and changes nothing', async () => {
    const before = (await gw.api('get', url)).body;
    assertProblem(await patch(url, {}), 400, 'body');
    assertProblem(await patch(url, { disableApiTermination: 'yes' }), 400, 'body.disableApiTermination');
    assertProblem(
      await patch(url, { instanceInitiatedShutdownBehavior: 'hibernate' }),
      400,
      'body.instanceInitiatedShutdownBehavior',
    );
    assertProblem(await patch(url, { instanceType: 'sim.large' }), 400, 'body.instanceType');
    // 8,200 two-byte characters: within the text limit, over EC2's 16 KiB of bytes.
    const big = assertProblem(await patch(url, { userData: 'é'.repeat(8200) }), 400, 'body.userData');
    assert.match(big.detail, /16384 bytes/);
    assert.equal((await patch(url, { disableApiTermination: true }, viewer)).status, 403);
    assert.deepEqual((await gw.api('get', url)).body, before);
    for (const unknown of ['sim-east:i-doesnotexist', 'nowhere:i-1']) {
      assertProblem(await gw.api('get', `/v1/instances/${enc(unknown)}/attributes`), 404, 'path.id');
      assertProblem(await patch(`/v1/instances/${enc(unknown)}/attributes`, { sourceDestCheck: false }), 404, 'path.id');
      assertProblem(await gw.api('get', `/v1/instances/${enc(unknown)}/attributes/user-data`), 404, 'path.id');
    }
  });
});

// ---------------------------------------------------------------- default networks

describe('default network', () => {
  it('answers the network, a subnet per zone of the provider and the default security group', async () => {
    const res = await gw.api('get', '/v1/providers/sim-west/network', undefined, viewer);
    assert.equal(res.status, 200);
    const zones = await gw.gateway.internals.registry.cloud('sim-west').zones();
    assert.deepEqual(
      res.body.subnets.map((s: { zone: string }) => s.zone),
      zones,
    );
    assert.equal(new Set(res.body.subnets.map((s: { cidr: string }) => s.cidr)).size, zones.length, 'subnets do not overlap');
    assert.equal(res.body.provider, 'sim-west');
    assert.match(res.body.securityGroup.id, /^sim-west:/);
  });

  it('is what the spec example says for sim-east', async () => {
    const op = openApiDocument().paths['/v1/providers/{providerId}/network'] as Record<string, Record<string, unknown>>;
    const example = (
      op.get as { responses: Record<string, { content: Record<string, { examples: Record<string, { value: unknown }> }> }> }
    ).responses['200']?.content['application/json']?.examples.sim?.value;
    assert.deepEqual((await gw.api('get', '/v1/providers/sim-east/network')).body, example);
  });

  it('an unknown provider is 404 naming path.providerId', async () => {
    assertProblem(await gw.api('get', '/v1/providers/nowhere/network'), 404, 'path.providerId');
    assertProblem(await gw.api('get', '/v1/providers/NOPE/network'), 400, 'path.providerId');
  });
});

// ---------------------------------------------------------------- instance list stays consistent
describe('nothing left behind', () => {
  it('no instance was created by the bad requests above', async () => {
    const list = await gw.api('get', '/v1/instances?fresh=true&limit=1000');
    assert.deepEqual(list.body.items.map((i: Instance) => i.name).sort(), ['attrs', 'tagged']);
  });
});
