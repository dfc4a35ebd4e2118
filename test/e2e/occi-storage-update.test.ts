/**
 * OCCI storages and storagelinks updated in place (GFD.223 PUT and partial update), and tag mixins across kinds
 * (computes and storages), against a real gateway (two sims). Every refusal is followed by a re-read showing
 * nothing changed. JSON answers are checked against the OCCI schema, text answers read by the GFD.229 parser.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { computeCreateText, INFRA, occiClient, SKYGATE, waitComputeState } from '../helpers/occi-client.js';
import { occiJson as json } from '../helpers/occi-schema.js';
import { parseTextOcci, parseTextPlain, type TextRendering } from '../helpers/occi-text-grammar.js';
import { recordedAwsProvider, startRecordedServer } from '../helpers/recorded-aws-server.js';

let gw: TestGateway;
let call: ReturnType<typeof occiClient>;
before(async () => {
  gw = await startTestGateway();
  call = occiClient(gw);
});
after(async () => {
  await gw.close();
});

const TAG = `${SKYGATE}tag#`;
const tagLine = (term: string) => `Category: ${term};scheme="${TAG}";class="mixin"`;
const storageKind = `Category: storage;scheme="${INFRA}";class="kind"`;

/** A path read in text/plain and text/occi: both must say the same. */
async function text(path: string): Promise<TextRendering> {
  const plain = await call('GET', path, { accept: 'text/plain' });
  assert.equal(plain.status, 200, plain.text);
  const occi = await call('GET', path, { accept: 'text/occi' });
  assert.equal(occi.status, 200, occi.text);
  const a = parseTextPlain(plain.text);
  assert.deepEqual(parseTextOcci(occi.headers), a, 'text/occi and text/plain say the same');
  return a;
}

/** Creates a storage (text/plain) and waits until it is available; answers its path and skygate id. */
async function createStorage(provider: string, extra: string[] = []): Promise<{ path: string; id: string }> {
  const res = await call('POST', '/storage/', {
    contentType: 'text/plain',
    body: [
      storageKind,
      `Category: ${provider};scheme="${SKYGATE}provider#";class="mixin"`,
      'X-OCCI-Attribute: occi.storage.size=1',
      ...extra,
    ].join('\n'),
  });
  assert.equal(res.status, 201, res.text);
  const path = new URL(res.headers.get('location') ?? '').pathname;
  const id = decodeURIComponent(path.slice('/storage/'.length));
  const deadline = Date.now() + 10_000;
  while ((await volume(id)).state !== 'available') {
    assert.ok(Date.now() < deadline, `${path} becomes available`);
    await sleep(50);
  }
  return { path, id };
}

async function createCompute(provider: string, image: string, extra: string[] = []): Promise<string> {
  const res = await call('POST', '/compute/', { contentType: 'text/plain', body: computeCreateText(provider, image, extra) });
  assert.equal(res.status, 201, res.text);
  return new URL(res.headers.get('location') ?? '').pathname;
}

/** The volume as REST shows it (name, tags, size, state...). */
async function volume(id: string): Promise<Record<string, unknown> & { name: string; tags: Record<string, string> }> {
  const res = await gw.api('get', `/v1/volumes/${encodeURIComponent(id)}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** The volume's fields an update could change, to compare before and after a refusal. */
const changeable = async (id: string) => {
  const v = await volume(id);
  return { name: v.name, tags: v.tags, sizeGiB: v.sizeGiB, zone: v.zone, provider: v.provider };
};

const uris = async (path: string) => {
  const res = await call('GET', path, { accept: 'text/uri-list' });
  assert.equal(res.status, 200, res.text);
  return res.text.split('\r\n').filter((l) => l !== '');
};

describe('OCCI storage updates in place', () => {
  it('renames a storage and sets its summary and tag mixins by partial update, replaces them with PUT', async () => {
    const { path, id } = await createStorage('sim-east', [
      'X-OCCI-Attribute: occi.core.title="disk-before"',
      'X-OCCI-Attribute: occi.core.summary="first words"',
    ]);
    assert.equal((await volume(id)).tags['occi.core.summary'], 'first words');

    // Partial update in text/plain: only the title changes.
    const renamed = await call('POST', path, {
      contentType: 'text/plain',
      accept: 'text/plain',
      body: 'X-OCCI-Attribute: occi.core.title="disk-after"',
    });
    assert.equal(renamed.status, 200, renamed.text);
    const t = parseTextPlain(renamed.text);
    assert.equal(t.attributes['occi.core.title'], 'disk-after');
    assert.equal(t.attributes['occi.core.summary'], 'first words');
    assert.equal((await volume(id)).name, 'disk-after');

    // Partial update in JSON: a summary and a tag mixin, in one change.
    const both = await call('POST', path, {
      contentType: 'application/occi+json',
      accept: 'application/occi+json',
      body: JSON.stringify({ attributes: { 'occi.core.summary': 'second words' }, mixins: [`${TAG}web`] }),
    });
    assert.equal(both.status, 200, both.text);
    const doc = json('resource', both.text);
    assert.equal(doc.title, 'disk-after');
    assert.equal(doc.summary, 'second words');
    assert.deepEqual(doc.mixins, [`${SKYGATE}provider#sim-east`, `${TAG}web`]);
    assert.deepEqual((await volume(id)).tags, { 'occi.core.summary': 'second words', web: '' });
    const read = await text(path);
    assert.equal(read.attributes['occi.core.summary'], 'second words');
    assert.ok(read.categories.some((c) => c.scheme === TAG && c.term === 'web' && c.class === 'mixin'));

    // A tag mixin already carried keeps its value (set through REST).
    const tags = { ...(await volume(id)).tags, web: 'frontend' };
    assert.equal((await gw.api('put', `/v1/volumes/${encodeURIComponent(id)}/tags`, { tags })).status, 200);
    const again = await call('POST', path, { contentType: 'text/plain', body: tagLine('web') });
    assert.equal(again.status, 200, again.text);
    assert.equal((await volume(id)).tags.web, 'frontend');

    // PUT back what GET answered (immutables at their values), with a new title, a new tag set and no summary.
    const current = json('resource', (await call('GET', path, { accept: 'application/occi+json' })).text) as {
      mixins: string[];
      attributes: Record<string, unknown>;
    };
    const { 'occi.core.summary': _, ...attributes } = current.attributes;
    const put = await call('PUT', path, {
      contentType: 'application/occi+json',
      accept: 'application/occi+json',
      body: JSON.stringify({
        kind: `${INFRA}storage`,
        mixins: [...current.mixins.filter((m) => !m.startsWith(TAG)), `${TAG}db`],
        attributes: { ...attributes, 'occi.core.title': 'disk-replaced' },
      }),
    });
    assert.equal(put.status, 200, put.text);
    const replaced = json('resource', put.text);
    assert.equal(replaced.title, 'disk-replaced');
    assert.equal(replaced.summary, undefined);
    assert.deepEqual(replaced.mixins, [`${SKYGATE}provider#sim-east`, `${TAG}db`]);
    const after = await volume(id);
    assert.equal(after.name, 'disk-replaced');
    assert.deepEqual(after.tags, { db: '' });

    // PUT in text/plain naming only the kind: the whole set is now empty, the name stays (a volume always has one).
    const bare = await call('PUT', path, { contentType: 'text/plain', accept: 'text/plain', body: storageKind });
    assert.equal(bare.status, 200, bare.text);
    assert.deepEqual((await volume(id)).tags, {});
    assert.equal((await volume(id)).name, 'disk-replaced');
    assert.equal(
      (await call('PUT', '/storage/sim-east:vol-0000000000', { contentType: 'text/plain', body: storageKind })).status,
      404,
    );
  });

  it('refuses what a storage cannot change, naming it, and changes nothing (POST and PUT)', async () => {
    const { path, id } = await createStorage('sim-west', [
      'X-OCCI-Attribute: occi.core.title="fixed-disk"',
      'X-OCCI-Attribute: occi.core.summary="kept"',
    ]);
    const tagged = await call('POST', path, { contentType: 'text/plain', body: tagLine('keep') });
    assert.equal(tagged.status, 200, tagged.text);
    const before = await changeable(id);
    const zone = String(before.zone);
    for (const [body, status, says] of [
      [
        'X-OCCI-Attribute: occi.storage.size=5',
        400,
        /attribute occi\.storage\.size: cannot change \(it is 1\): not applicable: skygate cannot resize volumes at provider 'sim-west'/,
      ],
      // A new title with a refused size: the title is not applied either.
      [
        'X-OCCI-Attribute: occi.core.title="renamed"\nX-OCCI-Attribute: occi.storage.size=2',
        400,
        /occi\.storage\.size: cannot change/,
      ],
      ['X-OCCI-Attribute: occi.storage.state="offline"', 400, /attribute occi\.storage\.state: is immutable \(it is "online"\)/],
      [
        'X-OCCI-Attribute: skygate.zone="sim-west-b"',
        400,
        new RegExp(`attribute skygate\\.zone: is immutable \\(it is "${zone}"\\)`),
      ],
      ['X-OCCI-Attribute: occi.compute.cores=2', 400, /attribute occi\.compute\.cores: not defined/],
      [
        `Category: sim-east;scheme="${SKYGATE}provider#";class="mixin"`,
        400,
        /mixin .*provider#sim-east: the provider of a storage is immutable \(it is .*provider#sim-west\)/,
      ],
      [
        `Category: img-debian-12;scheme="${SKYGATE}sim-west/os_tpl#";class="mixin"`,
        400,
        /only user mixins \(scheme .*tag#\) can be added to a storage/,
      ],
      [
        `Category: snapshot;scheme="http://schemas.ogf.org/occi/infrastructure/storage/action#";class="action"`,
        400,
        /an update names no action/,
      ],
      [`Category: compute;scheme="${INFRA}";class="kind"`, 400, /kind .*#compute' is not .*#storage/],
      ['X-OCCI-Attribute: occi.core.title="bell\u0007"', 400, /attribute occi\.core\.title: contains U\+0007/],
      [`${tagLine('other')}\nX-OCCI-Attribute: occi.core.summary="${'s'.repeat(300)}"`, 400, /occi\.core\.summary/],
    ] as const) {
      for (const method of ['POST', 'PUT']) {
        const res = await call(method, path, {
          contentType: 'text/plain',
          body: body.startsWith('Category: compute') ? body : `${storageKind}\n${body}`,
        });
        assert.equal(res.status, status, `${method} ${body}: ${res.text}`);
        assert.match(res.text, says, `${method} ${body}`);
        assert.deepEqual(await changeable(id), before, `${method} ${body} changed nothing`);
      }
    }
    // The same refusal in JSON.
    const res = await call('PUT', path, {
      contentType: 'application/occi+json',
      body: JSON.stringify({ kind: `${INFRA}storage`, attributes: { 'occi.storage.size': 3 } }),
    });
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /occi\.storage\.size: cannot change/);
    assert.deepEqual(await changeable(id), before);
  });
});

describe('OCCI storage updates at AWS (recorded EC2 answers)', () => {
  it('changes the tags, then the Name tag; when EC2 refuses the tags, the name is never sent', async () => {
    let refuse = true;
    const server = await startRecordedServer('test/fixtures/aws/ec2', (action) => {
      if (action === 'DescribeVolumes') return { file: 'DescribeVolumes-renamed.xml' };
      if (action === 'CreateTags')
        return refuse ? { file: 'CreateTags-UnauthorizedOperation.xml', status: 403 } : { file: 'CreateTags-true.xml' };
      if (action === 'DeleteTags') return { file: 'DeleteTags-true.xml' };
      return undefined;
    });
    const aws = await startTestGateway({ providers: [recordedAwsProvider(server.url)] });
    try {
      const awsCall = occiClient(aws);
      const path = '/storage/aws-rec:vol-1234567890abcdef0';
      const shown = json('resource', (await awsCall('GET', path, { accept: 'application/occi+json' })).text);
      assert.equal(shown.title, 'data 2');
      assert.deepEqual(shown.mixins, [`${SKYGATE}provider#aws-rec`, `${TAG}purpose`]);
      // PUT: the title, and tag web instead of purpose.
      const put = () =>
        awsCall('PUT', path, {
          contentType: 'application/occi+json',
          accept: 'application/occi+json',
          body: JSON.stringify({
            kind: `${INFRA}storage`,
            mixins: [`${SKYGATE}provider#aws-rec`, `${TAG}web`],
            attributes: { 'occi.core.title': 'data 3' },
          }),
        });
      const tagWrites = () =>
        server.requests
          .filter((r) => r.action === 'CreateTags' || r.action === 'DeleteTags')
          .map((r) => [
            r.action,
            [...r.params.entries()]
              .filter(([k]) => k.startsWith('Tag.'))
              .map(([k, v]) => `${k}=${v}`)
              .join(' '),
          ]);
      const refused = await put();
      assert.equal(refused.status, 403, refused.text);
      assert.deepEqual(tagWrites(), [['CreateTags', 'Tag.1.Key=web Tag.1.Value=']], 'the rename never reached EC2');

      refuse = false;
      server.requests.length = 0;
      const done = await put();
      assert.equal(done.status, 200, done.text);
      json('resource', done.text);
      assert.deepEqual(tagWrites(), [
        ['CreateTags', 'Tag.1.Key=web Tag.1.Value='],
        ['DeleteTags', 'Tag.1.Key=purpose'],
        ['CreateTags', 'Tag.1.Key=Name Tag.1.Value=data 3'],
      ]);
    } finally {
      await aws.close();
      await server.close();
    }
  });
});

/** Creates a network at `provider` carrying the user mixins `tags`; answers its location path. */
async function createNetwork(provider: string, cidr: string, tags: string[]): Promise<string> {
  const res = await call('POST', '/network/', {
    contentType: 'application/occi+json',
    body: JSON.stringify({
      kind: `${INFRA}network`,
      mixins: [
        `${SKYGATE}provider#${provider}`,
        'http://schemas.ogf.org/occi/infrastructure/network#ipnetwork',
        ...tags.map((t) => `${TAG}${t}`),
      ],
      attributes: { 'occi.core.title': `tagged-${cidr.split('.')[1]}`, 'occi.network.address': cidr },
    }),
  });
  assert.equal(res.status, 201, res.text);
  return new URL(res.headers.get('location') ?? '').pathname;
}

describe('OCCI tag mixins across kinds', () => {
  it('lists the computes and storages carrying a tag, filters and pages them, and filters storages by tag', async () => {
    const compute = await createCompute('sim-east', 'img-debian-12');
    const disk = await createStorage('sim-east');
    const other = await createStorage('sim-west');
    for (const [p, body] of [
      [compute, tagLine('shared')],
      [disk.path, `${tagLine('shared')}\n${tagLine('diskonly')}`],
      [other.path, tagLine('diskonly')],
    ] as const) {
      const res = await call('POST', p, { contentType: 'text/plain', body });
      assert.equal(res.status, 200, res.text);
    }
    assert.deepEqual(await uris('/mixin/tag/shared/'), [`${gw.url}${compute}`, `${gw.url}${disk.path}`]);
    const plain = await call('GET', '/mixin/tag/shared/', { accept: 'text/plain' });
    assert.deepEqual(parseTextPlain(plain.text).locations, [`${gw.url}${compute}`, `${gw.url}${disk.path}`]);
    const collection = json(
      'entity-collection',
      (await call('GET', '/mixin/tag/shared/', { accept: 'application/occi+json' })).text,
    );
    const resources = collection.resources as Array<{ kind: string; id: string; mixins: string[] }>;
    assert.deepEqual(
      resources.map((r) => [r.kind, r.id]),
      [
        [`${INFRA}compute`, decodeURIComponent(compute.slice('/compute/'.length))],
        [`${INFRA}storage`, disk.id],
      ],
    );
    assert.ok(resources.every((r) => r.mixins.includes(`${TAG}shared`)));

    // A kind category lists that kind only; other filters apply to each kind listed.
    assert.deepEqual(await uris(`/mixin/tag/shared/?category=${encodeURIComponent(`${INFRA}storage`)}`), [
      `${gw.url}${disk.path}`,
    ]);
    const byHeader = await call('GET', '/mixin/tag/shared/', {
      accept: 'text/uri-list',
      headers: { Category: `compute;scheme="${INFRA}";class="kind"` },
    });
    assert.deepEqual(
      byHeader.text.split('\r\n').filter((l) => l !== ''),
      [`${gw.url}${compute}`],
    );
    assert.deepEqual(await uris(`/mixin/tag/diskonly/?category=${encodeURIComponent(`${SKYGATE}provider#sim-west`)}`), [
      `${gw.url}${other.path}`,
    ]);
    // A created network carrying the tag is listed after the storages, and by its kind alone.
    const net = await createNetwork('sim-east', '10.61.0.0/24', ['shared']);
    assert.deepEqual(await uris('/mixin/tag/shared/'), [`${gw.url}${compute}`, `${gw.url}${disk.path}`, `${gw.url}${net}`]);
    assert.deepEqual(await uris(`/mixin/tag/shared/?category=${encodeURIComponent(`${INFRA}network`)}`), [`${gw.url}${net}`]);
    const links = await call('GET', `/mixin/tag/shared/?category=${encodeURIComponent(`${INFRA}storagelink`)}`);
    assert.equal(links.status, 400);
    assert.match(links.text, /holds .*#compute and .*#storage and .*#network/);
    await call('DELETE', net);

    // Paging across kinds: the compute, then the storage, then past the end.
    const first = await call('GET', '/mixin/tag/shared/?page=1&number=1', { accept: 'text/uri-list' });
    assert.deepEqual(
      first.text.split('\r\n').filter((l) => l !== ''),
      [`${gw.url}${compute}`],
    );
    assert.match(first.headers.get('link') ?? '', /page=2&number=1>; rel="next"/);
    const second = await call('GET', '/mixin/tag/shared/?page=2&number=1', { accept: 'text/uri-list' });
    assert.deepEqual(
      second.text.split('\r\n').filter((l) => l !== ''),
      [`${gw.url}${disk.path}`],
    );
    assert.equal(second.headers.get('link'), null);
    assert.equal((await call('GET', '/mixin/tag/shared/?page=3&number=1')).status, 404);

    // The storage collection filtered by a tag mixin (query or Category header), with its provider.
    const tagged = await uris(`/storage/?category=${encodeURIComponent(`${TAG}diskonly`)}`);
    assert.deepEqual(tagged.sort(), [`${gw.url}${disk.path}`, `${gw.url}${other.path}`].sort());
    const headerFiltered = await call('GET', '/storage/', {
      accept: 'application/occi+json',
      headers: { Category: `diskonly;scheme="${TAG}";class="mixin", sim-west;scheme="${SKYGATE}provider#";class="mixin"` },
    });
    const filtered = json('entity-collection', headerFiltered.text).resources as Array<{ id: string }>;
    assert.deepEqual(
      filtered.map((r) => r.id),
      [other.id],
    );
    const wrong = await call('GET', `/storage/?category=${encodeURIComponent(`${SKYGATE}sim-east/os_tpl#img-debian-12`)}`);
    assert.equal(wrong.status, 400);
    assert.match(wrong.text, /storages are filtered only by provider and user mixins/);
  });

  it('deletes a tag mixin from every compute, storage and network that carries it, other tags stay', async () => {
    const compute = await createCompute('sim-west', 'img-cirros-0-6');
    const disk = await createStorage('sim-west');
    const net = await createNetwork('sim-west', '10.62.0.0/24', ['doomed', 'survivor']);
    for (const [p, body] of [
      [compute, tagLine('doomed')],
      [disk.path, `${tagLine('doomed')}\n${tagLine('survivor')}`],
    ] as const) {
      assert.equal((await call('POST', p, { contentType: 'text/plain', body })).status, 200);
    }
    assert.equal((await uris('/mixin/tag/doomed/')).length, 3);
    const refused = await call('DELETE', '/-/', {
      contentType: 'text/plain',
      body: `${tagLine('doomed')}\nCategory: sim-west;scheme="${SKYGATE}provider#";class="mixin"`,
    });
    assert.equal(refused.status, 400);
    assert.equal((await uris('/mixin/tag/doomed/')).length, 3, 'a refused DELETE removes nothing');

    const deleted = await call('DELETE', '/-/', {
      contentType: 'application/occi+json',
      body: JSON.stringify({ mixins: [{ scheme: TAG, term: 'doomed' }] }),
    });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(await uris('/mixin/tag/doomed/'), []);
    assert.deepEqual((await volume(disk.id)).tags, { survivor: '' });
    const instance = (await gw.api('get', `/v1/instances/${encodeURIComponent(compute.slice('/compute/'.length))}`)).body;
    assert.equal(instance.tags.doomed, undefined);
    const diskDoc = json('resource', (await call('GET', disk.path, { accept: 'application/occi+json' })).text);
    assert.deepEqual(diskDoc.mixins, [`${SKYGATE}provider#sim-west`, `${TAG}survivor`]);
    const netDoc = json('resource', (await call('GET', net, { accept: 'application/occi+json' })).text);
    assert.ok(!(netDoc.mixins as string[]).includes(`${TAG}doomed`), JSON.stringify(netDoc.mixins));
    assert.ok((netDoc.mixins as string[]).includes(`${TAG}survivor`), JSON.stringify(netDoc.mixins));
    await call('DELETE', net);
  });
});

describe('OCCI storagelink updates', () => {
  it('answers 200 to a storagelink PUT or POST repeating what it is, and 400 naming what would change', async () => {
    const compute = await createCompute('sim-east', 'img-debian-12', ['X-OCCI-Attribute: skygate.zone="sim-east-a"']);
    await waitComputeState(call, compute, 'running');
    const disk = await createStorage('sim-east', ['X-OCCI-Attribute: skygate.zone="sim-east-a"']);
    const spare = await createStorage('sim-east', ['X-OCCI-Attribute: skygate.zone="sim-east-a"']);
    const attach = await call('POST', '/storagelink/', {
      contentType: 'application/occi+json',
      body: JSON.stringify({
        kind: `${INFRA}storagelink`,
        attributes: { 'occi.core.source': compute, 'occi.core.target': disk.path, 'occi.storagelink.deviceid': '/dev/vdc' },
      }),
    });
    assert.equal(attach.status, 201, attach.text);
    const linkPath = new URL(attach.headers.get('location') ?? '').pathname;
    const deadline = Date.now() + 10_000;
    let link: Record<string, unknown>;
    for (;;) {
      link = json('link', (await call('GET', linkPath, { accept: 'application/occi+json' })).text);
      if ((link.attributes as Record<string, unknown>)['occi.storagelink.state'] === 'active') break;
      assert.ok(Date.now() < deadline, 'the link becomes active');
      await sleep(50);
    }
    const attributes = link.attributes as Record<string, unknown>;

    // PUT back what GET answered (JSON), and a partial update repeating the device with absolute locations (text).
    const put = await call('PUT', linkPath, {
      contentType: 'application/occi+json',
      accept: 'application/occi+json',
      body: JSON.stringify({ kind: `${INFRA}storagelink`, attributes }),
    });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(json('link', put.text), link);
    const post = await call('POST', linkPath, {
      contentType: 'text/plain',
      accept: 'text/plain',
      body: [
        'X-OCCI-Attribute: occi.storagelink.deviceid="/dev/vdc"',
        `X-OCCI-Attribute: occi.core.source="${gw.url}${compute}"`,
      ].join('\n'),
    });
    assert.equal(post.status, 200, post.text);
    assert.equal(parseTextPlain(post.text).attributes['occi.core.target'], disk.path);

    for (const [body, says] of [
      [
        'X-OCCI-Attribute: occi.storagelink.deviceid="/dev/vdd"',
        /attribute occi\.storagelink\.deviceid: cannot change \(it is "\/dev\/vdc"\): a storagelink is fixed once attached/,
      ],
      [
        `X-OCCI-Attribute: occi.core.target="${spare.path}"`,
        /attribute occi\.core\.target: cannot change \(it is "\/storage\/.*"\)/,
      ],
      ['X-OCCI-Attribute: occi.storagelink.state="inactive"', /attribute occi\.storagelink\.state: cannot change/],
      ['X-OCCI-Attribute: occi.core.title="boot disk"', /attribute occi\.core\.title: cannot change \(it has none\)/],
      ['X-OCCI-Attribute: occi.storagelink.mountpoint="/mnt"', /attribute occi\.storagelink\.mountpoint: not defined/],
      [`Category: web;scheme="${TAG}";class="mixin"`, /a storagelink takes no mixin/],
    ] as const) {
      for (const method of ['POST', 'PUT']) {
        const res = await call(method, linkPath, { contentType: 'text/plain', body });
        assert.equal(res.status, 400, `${method} ${body}: ${res.text}`);
        assert.match(res.text, says, `${method} ${body}`);
        assert.deepEqual(json('link', (await call('GET', linkPath, { accept: 'application/occi+json' })).text), link);
      }
    }
    assert.equal((await volume(spare.id)).attachedTo, undefined);
    // A storage that is not attached has no link to update.
    const missing = await call('PUT', `/storagelink/${spare.id}`, { contentType: 'text/plain', body: '' });
    assert.equal(missing.status, 404, missing.text);
  });
});
