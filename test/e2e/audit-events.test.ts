/**
 * Changes made at once, without an operation (tags, renames, instance attributes, key pairs, networks), are
 * audited by the core whichever front asked: against a real gateway, each change is made through REST, some
 * through EC2 (the AWS SDK) and OCCI, by an operator token of its own, and `/v1/events/recent` must then hold
 * exactly its event, about the right subject, `by` that token. A refused change leaves no event.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DescribeInstancesCommand,
  EC2Client,
  ImportKeyPairCommand,
  ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import type { Instance, SkygateEvent } from '../../src/core/model.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { occiClient, SKYGATE } from '../helpers/occi-client.js';

/** The events of changes made without an operation: what this test watches for. */
const AUDIT_TYPES = new Set([
  'resource.tags-changed',
  'resource.renamed',
  'instance.attributes-changed',
  'key-pair.imported',
  'key-pair.created',
  'key-pair.deleted',
  'network.created',
  'network.updated',
  'network.deleted',
]);

let gw: TestGateway;
/** The operator's API token, and its id: what every event must name as `by`. */
let token: string;
let tokenId: string;
let ec2: EC2Client;
let call: ReturnType<typeof occiClient>;
let instance: Instance;

async function lastSeq(): Promise<number> {
  let since = 0;
  for (;;) {
    const items = (await gw.api('get', `/v1/events/recent?since=${since}&limit=1000`)).body.items as SkygateEvent[];
    if (items.length === 0) return since;
    since = items.at(-1)?.seq ?? since;
  }
}

/** Runs `change` and answers the audit events it left (read back through REST, oldest first). */
async function auditedBy(change: () => Promise<unknown>): Promise<SkygateEvent[]> {
  const since = await lastSeq();
  await change();
  const items = (await gw.api('get', `/v1/events/recent?since=${since}&limit=1000`)).body.items as SkygateEvent[];
  return items.filter((e) => AUDIT_TYPES.has(e.type));
}

/** Asserts that `events` is exactly one event of `type` about `subject` by the operator, and answers its data. */
function theOne(events: SkygateEvent[], type: string, subject: string): Record<string, unknown> {
  assert.deepEqual(
    events.map((e) => [e.type, e.subject]),
    [[type, subject]],
    JSON.stringify(events),
  );
  const data = events[0]?.data ?? {};
  assert.equal(data.by, tokenId, `the event names the operator's token: ${JSON.stringify(data)}`);
  return data;
}

const rest = (method: 'post' | 'put' | 'patch' | 'delete', path: string, body?: unknown) => gw.api(method, path, body, token);
const instancePath = (id: string) => `/v1/instances/${encodeURIComponent(id)}`;

function sshPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const sshString = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} audit@skygate`;
}

/** The EC2 id of the one instance (launched through REST, so it carries no Name tag to find it by). */
async function ec2IdOf(): Promise<string> {
  const found = await ec2.send(new DescribeInstancesCommand({}));
  const ids = (found.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId));
  assert.equal(ids.length, 1, JSON.stringify(ids));
  return String(ids[0]);
}

before(async () => {
  gw = await startTestGateway();
  const issued = await gw.api('post', '/v1/tokens', { name: 'audited-tool', role: 'operator' });
  assert.equal(issued.status, 201, JSON.stringify(issued.body));
  token = issued.body.token;
  tokenId = issued.body.id;
  // The access key acts for the same token: EC2 changes are audited as that token's.
  const key = await gw.api('post', '/v1/access-keys', { name: 'audited-tool' }, token);
  assert.equal(key.status, 201, JSON.stringify(key.body));
  ec2 = new EC2Client({
    endpoint: `${gw.url}/ec2`,
    region: 'sim-east',
    credentials: { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey },
    maxAttempts: 1,
  });
  call = occiClient(gw);

  const launched = await rest('post', '/v1/instances', {
    provider: 'sim-east',
    name: 'audited-vm',
    flavorId: 'sim-east:sim.small',
    imageId: 'img-ubuntu-22-04',
    tags: { app: 'shop', team: 'blue' },
  });
  assert.equal(launched.status, 202, JSON.stringify(launched.body));
  const op = await gw.waitOperation(launched.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
  instance = (await gw.api('get', instancePath(String(op.result?.resourceId)))).body;
});
after(async () => {
  ec2?.destroy();
  await gw.close();
});

describe('audit of tag changes and renames', () => {
  it('REST: a tag patch is one resource.tags-changed with what was set and removed; no change, no event', async () => {
    const events = await auditedBy(async () => {
      const res = await rest('patch', `${instancePath(instance.id)}/tags`, { tags: { team: 'red', app: null } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
    assert.deepEqual(theOne(events, 'resource.tags-changed', instance.id), {
      kind: 'instance',
      set: { team: 'red' },
      removed: ['app'],
      by: tokenId,
    });

    const same = await auditedBy(async () => {
      const res = await rest('put', `${instancePath(instance.id)}/tags`, { tags: { team: 'red' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
    assert.deepEqual(same, [], 'tags left as they were are no change');
  });

  it('REST: a refused tag change (a key too long, an unknown resource) leaves no event', async () => {
    const events = await auditedBy(async () => {
      const long = await rest('patch', `${instancePath(instance.id)}/tags`, { tags: { ['k'.repeat(129)]: 'v' } });
      assert.equal(long.status, 400, JSON.stringify(long.body));
      const missing = await rest('patch', `${instancePath('sim-east:i-00000000000000000')}/tags`, { tags: { a: 'b' } });
      assert.equal(missing.status, 404, JSON.stringify(missing.body));
    });
    assert.deepEqual(events, []);
  });

  it('EC2: CreateTags is audited as the access key token, and a refused one (aws: key) leaves no event', async () => {
    const ec2Id = await ec2IdOf();
    const events = await auditedBy(() =>
      ec2.send(new CreateTagsCommand({ Resources: [ec2Id], Tags: [{ Key: 'stage', Value: 'prod' }] })),
    );
    assert.deepEqual(theOne(events, 'resource.tags-changed', instance.id), {
      kind: 'instance',
      set: { stage: 'prod' },
      removed: [],
      by: tokenId,
    });

    const refused = await auditedBy(() =>
      assert.rejects(ec2.send(new CreateTagsCommand({ Resources: [ec2Id], Tags: [{ Key: 'aws:x', Value: 'y' }] }))),
    );
    assert.deepEqual(refused, []);
  });

  it('OCCI: a partial update of the title is one resource.renamed, a tag mixin deleted everywhere a tags-changed', async () => {
    const path = `/compute/${encodeURIComponent(instance.id)}`;
    const renamed = await auditedBy(async () => {
      const res = await call('POST', path, {
        token,
        contentType: 'text/plain',
        body: 'X-OCCI-Attribute: occi.core.title="audited-vm-2"',
      });
      assert.equal(res.status, 200, res.text);
    });
    assert.deepEqual(theOne(renamed, 'resource.renamed', instance.id), {
      kind: 'instance',
      from: 'audited-vm',
      to: 'audited-vm-2',
      by: tokenId,
    });

    const refused = await auditedBy(async () => {
      const res = await call('POST', path, {
        token,
        contentType: 'text/plain',
        body: `X-OCCI-Attribute: occi.core.title="${'n'.repeat(300)}"`,
      });
      assert.equal(res.status, 400, res.text);
    });
    assert.deepEqual(refused, [], 'a refused rename leaves no event');

    const untagged = await auditedBy(async () => {
      const res = await call('DELETE', '/-/', {
        token,
        contentType: 'text/plain',
        body: `Category: stage;scheme="${SKYGATE}tag#";class="mixin"`,
      });
      assert.equal(res.status, 200, res.text);
    });
    assert.deepEqual(theOne(untagged, 'resource.tags-changed', instance.id), {
      kind: 'instance',
      set: {},
      removed: ['stage'],
      by: tokenId,
    });
  });
});

describe('audit of instance attributes', () => {
  it('REST and EC2: names the attributes changed, never user data; a refused change leaves no event', async () => {
    const on = await auditedBy(async () => {
      const res = await rest('patch', `${instancePath(instance.id)}/attributes`, {
        disableApiTermination: true,
        sourceDestCheck: true,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
    // sourceDestCheck is true by default: asked for, but not changed.
    assert.deepEqual(theOne(on, 'instance.attributes-changed', instance.id), {
      changed: ['disableApiTermination'],
      by: tokenId,
    });

    const refused = await auditedBy(async () => {
      // User data changes only while the instance is stopped.
      const res = await rest('patch', `${instancePath(instance.id)}/attributes`, { userData: 'password=hunter2' });
      assert.equal(res.status, 409, JSON.stringify(res.body));
    });
    assert.deepEqual(refused, []);

    const ec2Id = await ec2IdOf();
    const off = await auditedBy(() =>
      ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: ec2Id, DisableApiTermination: { Value: false } })),
    );
    assert.deepEqual(theOne(off, 'instance.attributes-changed', instance.id), {
      changed: ['disableApiTermination'],
      by: tokenId,
    });

    const stop = await rest('post', `${instancePath(instance.id)}/stop`);
    assert.equal(stop.status, 202, JSON.stringify(stop.body));
    assert.equal((await gw.waitOperation(stop.body.id)).status, 'succeeded');
    const secret = 'password=hunter2';
    const userData = await auditedBy(async () => {
      const res = await rest('patch', `${instancePath(instance.id)}/attributes`, { userData: secret });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
    const data = theOne(userData, 'instance.attributes-changed', instance.id);
    assert.deepEqual(data.changed, ['userData']);
    const text = JSON.stringify(userData);
    assert.ok(!text.includes('hunter2') && !text.includes(Buffer.from(secret).toString('base64')), text);
  });
});

describe('audit of key pairs', () => {
  it('REST: import, generate and delete are audited with the fingerprint, never the private key', async () => {
    const keys = '/v1/providers/sim-east/key-pairs';
    let imported: Record<string, string> = {};
    const importEvents = await auditedBy(async () => {
      const res = await rest('post', keys, { name: 'deploy', publicKey: sshPublicKey() });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      imported = res.body;
    });
    assert.deepEqual(theOne(importEvents, 'key-pair.imported', String(imported.id)), {
      provider: 'sim-east',
      name: 'deploy',
      fingerprint: imported.fingerprint,
      by: tokenId,
    });

    let generated: Record<string, string> = {};
    const createEvents = await auditedBy(async () => {
      const res = await rest('post', keys, { name: 'made', keyType: 'ed25519' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      generated = res.body;
    });
    const created = theOne(createEvents, 'key-pair.created', String(generated.id));
    assert.equal(created.fingerprint, generated.fingerprint);
    assert.ok(!JSON.stringify(createEvents).includes('PRIVATE KEY'), 'the private key stays out of the event');

    const deleteEvents = await auditedBy(async () => {
      assert.equal((await rest('delete', `${keys}/deploy`)).status, 204);
    });
    assert.deepEqual(theOne(deleteEvents, 'key-pair.deleted', String(imported.id)), {
      provider: 'sim-east',
      name: 'deploy',
      fingerprint: imported.fingerprint,
      by: tokenId,
    });

    const refused = await auditedBy(async () => {
      assert.equal((await rest('delete', `${keys}/deploy`)).status, 404, 'already gone');
      assert.equal((await rest('post', keys, { name: 'made', keyType: 'ed25519' })).status, 409, 'name taken');
      assert.equal((await rest('post', keys, { name: 'bad', publicKey: 'ssh-ed25519 AAAA' })).status, 400);
    });
    assert.deepEqual(refused, []);
  });

  it('EC2: ImportKeyPair and DeleteKeyPair are audited; deleting an unknown key pair succeeds and leaves no event', async () => {
    const events = await auditedBy(async () => {
      await ec2.send(new ImportKeyPairCommand({ KeyName: 'ec2-key', PublicKeyMaterial: Buffer.from(sshPublicKey()) }));
      await ec2.send(new DeleteKeyPairCommand({ KeyName: 'ec2-key' }));
    });
    assert.deepEqual(
      events.map((e) => [e.type, e.data.name, e.data.provider, e.data.by]),
      [
        ['key-pair.imported', 'ec2-key', 'sim-east', tokenId],
        ['key-pair.deleted', 'ec2-key', 'sim-east', tokenId],
      ],
    );
    assert.equal(events[0]?.subject, events[1]?.subject);
    const none = await auditedBy(() => ec2.send(new DeleteKeyPairCommand({ KeyName: 'never-was' })));
    assert.deepEqual(none, []);
  });
});

describe('audit of networks', () => {
  it('REST: create, update and delete are audited; a refused change (the default network, bad tags) is not', async () => {
    let id = '';
    const createEvents = await auditedBy(async () => {
      const res = await rest('post', '/v1/networks', { provider: 'sim-east', name: 'backend', cidr: '10.90.0.0/24' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      id = res.body.id;
    });
    assert.deepEqual(theOne(createEvents, 'network.created', id), {
      provider: 'sim-east',
      name: 'backend',
      cidr: '10.90.0.0/24',
      by: tokenId,
    });

    const updateEvents = await auditedBy(async () => {
      const res = await rest('patch', `/v1/networks/${encodeURIComponent(id)}`, { name: 'backend-2', tags: { tier: 'db' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
    assert.deepEqual(theOne(updateEvents, 'network.updated', id), {
      provider: 'sim-east',
      changed: ['name', 'tags'],
      name: 'backend-2',
      tags: { tier: 'db' },
      by: tokenId,
    });

    const refused = await auditedBy(async () => {
      const dflt = encodeURIComponent('sim-east:default-network');
      assert.equal((await rest('patch', `/v1/networks/${dflt}`, { name: 'x' })).status, 400);
      assert.equal((await rest('delete', `/v1/networks/${dflt}`)).status, 400);
      const long = await rest('patch', `/v1/networks/${encodeURIComponent(id)}`, { tags: { k: 'v'.repeat(300) } });
      assert.equal(long.status, 400, JSON.stringify(long.body));
    });
    assert.deepEqual(refused, []);

    const deleteEvents = await auditedBy(async () => {
      assert.equal((await rest('delete', `/v1/networks/${encodeURIComponent(id)}`)).status, 204);
    });
    assert.deepEqual(theOne(deleteEvents, 'network.deleted', id), { provider: 'sim-east', by: tokenId });
  });

  it('OCCI: a network created and deleted through OCCI is audited as the same token', async () => {
    let id = '';
    const created = await auditedBy(async () => {
      const res = await call('POST', '/network/', {
        token,
        contentType: 'application/occi+json',
        accept: 'application/occi+json',
        body: JSON.stringify({
          kind: 'http://schemas.ogf.org/occi/infrastructure#network',
          mixins: [`${SKYGATE}provider#sim-west`],
          attributes: { 'occi.core.title': 'occi-net', 'occi.network.address': '10.91.0.0/24' },
        }),
      });
      assert.equal(res.status, 201, res.text);
      id = String(JSON.parse(res.text).id);
    });
    assert.equal(theOne(created, 'network.created', id).name, 'occi-net');
    const deleted = await auditedBy(async () => {
      assert.equal((await call('DELETE', `/network/${id}`, { token })).status, 200);
    });
    theOne(deleted, 'network.deleted', id);
  });
});
