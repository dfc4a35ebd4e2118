/**
 * OCCI storage updates in place with the local OpenStack behind the gateway: a title change renames the cinder
 * volume (`PUT /volumes/{id}`), read back from cinder itself; tag mixins on a volume answer 501 there (the
 * adapter keeps metadata on servers only) and change nothing, not even a title sent with them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import type { Volume } from '../../../src/core/model.js';
import { simProviders, startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { INFRA, occiClient, SKYGATE } from '../../helpers/occi-client.js';
import { occiSchemaErrors } from '../../helpers/occi-schema.js';
import { parseTextPlain } from '../../helpers/occi-text-grammar.js';
import { CINDER, call as openstack, issueToken, openstackProvider } from './openstack-env.js';

let gw: TestGateway;
let occi: ReturnType<typeof occiClient>;
const run = randomUUID().slice(0, 8);

before(async () => {
  gw = await startTestGateway({ providers: [...simProviders(20).slice(0, 1), openstackProvider('os')] });
  occi = occiClient(gw);
});

after(async () => {
  await gw.close();
});

/** The volume as cinder itself has it (not through skygate). */
async function cinderVolume(nativeId: string): Promise<{ name: string; size: number; metadata: Record<string, string> }> {
  const { projectId } = await issueToken('tenant');
  const res = await openstack('tenant', 'GET', `${CINDER}/${projectId}/volumes/${nativeId}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as { volume: { name: string; size: number; metadata: Record<string, string> } }).volume;
}

async function restVolume(id: string): Promise<Volume> {
  const res = await gw.api('get', `/v1/volumes/${encodeURIComponent(id)}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as Volume;
}

it('renames a cinder volume by OCCI partial update and PUT; tag mixins answer 501 and change nothing', {
  timeout: 300_000,
}, async () => {
  const created = await occi('POST', '/storage/', {
    contentType: 'text/plain',
    accept: 'application/occi+json',
    body: [
      `Category: storage;scheme="${INFRA}";class="kind"`,
      `Category: os;scheme="${SKYGATE}provider#";class="mixin"`,
      'X-OCCI-Attribute: occi.storage.size=1',
      'X-OCCI-Attribute: skygate.zone="nova"',
      `X-OCCI-Attribute: occi.core.title="occi-${run}-before"`,
    ].join('\n'),
  });
  assert.equal(created.status, 201, created.text);
  const path = new URL(created.headers.get('location') ?? '').pathname;
  const id = decodeURIComponent(path.slice('/storage/'.length));
  const nativeId = id.slice('os:'.length);
  const deadline = Date.now() + 120_000;
  while ((await restVolume(id)).state !== 'available') {
    assert.ok(Date.now() < deadline, `${id} becomes available`);
    await sleep(1000);
  }
  try {
    // Partial update: the title renames the volume in cinder.
    const renamed = await occi('POST', path, {
      contentType: 'text/plain',
      accept: 'text/plain',
      body: `X-OCCI-Attribute: occi.core.title="occi-${run}-after"`,
    });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(parseTextPlain(renamed.text).attributes['occi.core.title'], `occi-${run}-after`);
    assert.equal((await cinderVolume(nativeId)).name, `occi-${run}-after`);
    assert.equal((await restVolume(id)).name, `occi-${run}-after`);

    // PUT back what GET answered, with another title.
    const current = JSON.parse((await occi('GET', path, { accept: 'application/occi+json' })).text) as {
      mixins: string[];
      attributes: Record<string, unknown>;
    };
    const put = await occi('PUT', path, {
      contentType: 'application/occi+json',
      accept: 'application/occi+json',
      body: JSON.stringify({
        kind: `${INFRA}storage`,
        mixins: current.mixins,
        attributes: { ...current.attributes, 'occi.core.title': `occi-${run}-put` },
      }),
    });
    assert.equal(put.status, 200, put.text);
    const doc = JSON.parse(put.text) as Record<string, unknown>;
    assert.deepEqual(occiSchemaErrors('resource', doc), []);
    assert.equal(doc.title, `occi-${run}-put`);
    const named = await cinderVolume(nativeId);
    assert.equal(named.name, `occi-${run}-put`);
    assert.equal(named.size, 1);

    // Tags on a volume are not kept at OpenStack: 501 with the core's reason, and the title sent along stays unapplied.
    const tagged = await occi('POST', path, {
      contentType: 'text/plain',
      body: [`Category: web;scheme="${SKYGATE}tag#";class="mixin"`, `X-OCCI-Attribute: occi.core.title="occi-${run}-no"`].join(
        '\n',
      ),
    });
    assert.equal(tagged.status, 501, tagged.text);
    assert.match(tagged.text, /cannot change tags of volumes/);
    const after = await cinderVolume(nativeId);
    assert.equal(after.name, `occi-${run}-put`);
    assert.deepEqual(after.metadata, named.metadata);

    // A size change is refused before cinder is asked.
    const resized = await occi('PUT', path, {
      contentType: 'application/occi+json',
      body: JSON.stringify({ kind: `${INFRA}storage`, attributes: { 'occi.storage.size': 2 } }),
    });
    assert.equal(resized.status, 400, resized.text);
    assert.match(resized.text, /occi\.storage\.size: cannot change \(it is 1\): not applicable/);
    assert.equal((await cinderVolume(nativeId)).size, 1);
  } finally {
    assert.equal((await occi('DELETE', path)).status, 200);
  }
});
