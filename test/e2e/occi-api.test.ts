/**
 * The OCCI 1.2 front against a real gateway: the query interface, computes, storage, links and networks
 * in all four renderings. Every JSON answer is checked against the OCCI JSON schema and every text answer
 * is read by an independent GFD.229 parser (test/helpers/occi-text-grammar.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ACTION, computeCreateText, INFRA, occiClient, SKYGATE, waitComputeState } from '../helpers/occi-client.js';
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

/**
 * Reads a path in text/plain and text/occi with the grammar parser; both must say the same (read again
 * when the entity moved on between the two reads, as a provider's state may).
 */
async function text(path: string): Promise<TextRendering> {
  for (let attempt = 1; ; attempt++) {
    const plain = await call('GET', path, { accept: 'text/plain' });
    assert.equal(plain.status, 200, plain.text);
    assert.match(plain.headers.get('content-type') ?? '', /^text\/plain/);
    const occi = await call('GET', path, { accept: 'text/occi' });
    assert.equal(occi.status, 200, occi.text);
    const a = parseTextPlain(plain.text);
    const b = parseTextOcci(occi.headers);
    if (attempt < 5 && JSON.stringify(a) !== JSON.stringify(b)) continue;
    assert.deepEqual(b, a, 'text/occi and text/plain say the same');
    return a;
  }
}

async function createCompute(provider: string, image: string, extra: string[] = []): Promise<string> {
  const res = await call('POST', '/compute/', { contentType: 'text/plain', body: computeCreateText(provider, image, extra) });
  assert.equal(res.status, 201, res.text);
  const location = res.headers.get('location') ?? '';
  assert.match(location, new RegExp(`^${gw.url}/compute/${provider}:`));
  return new URL(location).pathname;
}

describe('OCCI query interface', () => {
  it('lists the kinds, actions, and per provider a provider mixin, an os_tpl per image and a resource_tpl per flavor', async () => {
    const t = await text('/-/');
    const byId = new Map(t.categories.map((c) => [`${c.scheme}${c.term}`, c]));
    for (const kind of ['compute', 'storage', 'network', 'networkinterface', 'storagelink']) {
      const c = byId.get(`${INFRA}${kind}`);
      assert.equal(c?.class, 'kind', kind);
      assert.equal(c?.location, `/${kind}/`);
    }
    const compute = byId.get(`${INFRA}compute`);
    assert.deepEqual(
      compute?.actions?.map((a) => a.split('#')[1]),
      ['start', 'stop', 'restart', 'suspend', 'save'],
    );
    assert.ok(compute?.attributes?.some((a) => a.name === 'occi.compute.state' && a.immutable));
    const images = (await gw.api('get', '/v1/images?limit=1000')).body.items as Array<{ provider: string; nativeId: string }>;
    const flavors = (await gw.api('get', '/v1/flavors?limit=1000')).body.items as Array<{ provider: string; nativeId: string }>;
    assert.ok(images.length >= 6 && flavors.length >= 8);
    for (const i of images) {
      const term = i.nativeId.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
      assert.equal(byId.get(`${SKYGATE}${i.provider}/os_tpl#${term}`)?.rel?.[0], `${INFRA}os_tpl`, i.nativeId);
    }
    for (const f of flavors) {
      const term = f.nativeId.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
      assert.ok(byId.has(`${SKYGATE}${f.provider}/resource_tpl#${term}`), f.nativeId);
    }
    for (const p of ['sim-east', 'sim-west']) assert.equal(byId.get(`${SKYGATE}provider#${p}`)?.class, 'mixin');
    assert.ok(byId.has('http://schemas.ogf.org/occi/infrastructure/compute#user_data'));
    assert.ok(byId.has('http://schemas.ogf.org/occi/infrastructure/credentials#ssh_key'));

    const model = json('model', (await call('GET', '/-/', { accept: 'application/occi+json' })).text);
    assert.equal((model.kinds as unknown[]).length, 8);
    assert.equal((model.mixins as unknown[]).length, t.categories.filter((c) => c.class === 'mixin').length);
    const wellKnown = await call('GET', '/.well-known/org/ogf/occi/-/', { accept: 'application/occi+json' });
    assert.deepEqual(JSON.parse(wellKnown.text), model);
    const uris = await call('GET', '/-/', { accept: 'text/uri-list' });
    assert.ok(uris.text.split('\r\n').includes('/compute/'));
  });

  it('names itself and refuses a newer OCCI version with 501', async () => {
    const ok = await call('GET', '/-/', { headers: { 'User-Agent': 'rOCCI-cli OCCI/1.2' } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('server') ?? '', /^skygate\/\d+\.\d+\.\d+ OCCI\/1\.2$/);
    const newer = await call('GET', '/-/', { headers: { 'User-Agent': 'future-client OCCI/2.0' } });
    assert.equal(newer.status, 501);
    assert.match(newer.text, /OCCI\/2\.0/);
  });

  it('takes the same tokens as REST, as Bearer or X-Auth-Token', async () => {
    assert.equal((await call('GET', '/compute/', { token: null })).status, 401);
    assert.equal((await call('GET', '/compute/', { token: 'not-a-token' })).status, 401);
    const viaHeader = await call('GET', '/compute/', {
      token: null,
      headers: { 'X-Auth-Token': 'test-admin-token-0123456789abcdef' },
    });
    assert.equal(viaHeader.status, 200);
    const viewer = await gw.api('post', '/v1/tokens', { name: 'occi-viewer', role: 'viewer' });
    assert.equal(viewer.status, 201);
    const token = viewer.body.token as string;
    assert.equal((await call('GET', '/compute/', { token })).status, 200);
    const refused = await call('POST', '/compute/', {
      token,
      contentType: 'text/plain',
      body: computeCreateText('sim-east', 'img-debian-12'),
    });
    assert.equal(refused.status, 403);
  });
});

describe('OCCI computes', () => {
  it('creates, reads, acts on, saves and deletes a compute, in every rendering', async () => {
    const userData = Buffer.from('#cloud-config\nhostname: occi\n').toString('base64');
    const path = await createCompute('sim-east', 'img-debian-12', [
      `Category: sim_medium;scheme="${SKYGATE}sim-east/resource_tpl#";class="mixin"`,
      `Category: user_data;scheme="http://schemas.ogf.org/occi/infrastructure/compute#";class="mixin"`,
      'X-OCCI-Attribute: occi.core.title="occi-vm-1"',
      `X-OCCI-Attribute: occi.compute.userdata="${userData}"`,
    ]);
    const id = decodeURIComponent(path.slice('/compute/'.length));
    // The core kept what OCCI asked for: the flavor and the user data.
    const rest = await gw.api('get', `/v1/instances/${encodeURIComponent(id)}`);
    assert.equal(rest.body.flavorId, 'sim-east:sim.medium');
    assert.equal(rest.body.name, 'occi-vm-1');
    const attrs = await gw.api('get', `/v1/instances/${encodeURIComponent(id)}/attributes/user-data`);
    assert.equal(attrs.status, 200);

    const running = await waitComputeState(call, path, 'running');
    json('resource', JSON.stringify(running));
    const t = await text(path);
    assert.equal(t.attributes['occi.compute.state'], 'active');
    assert.equal(t.attributes['occi.compute.cores'], 2);
    assert.equal(t.attributes['occi.compute.memory'], 4);
    assert.equal(t.categories[0]?.term, 'compute');
    assert.ok(t.categories.some((c) => c.scheme === `${SKYGATE}sim-east/os_tpl#` && c.term === 'img-debian-12'));
    assert.deepEqual(
      t.links.filter((l) => l.rel[0]?.startsWith(ACTION)).map((l) => l.target),
      ['stop', 'restart', 'suspend', 'save'].map((a) => `${path}?action=${a}`),
    );
    const nic = t.links.find((l) => l.category?.[0] === `${INFRA}networkinterface`);
    assert.equal(nic?.target, '/network/sim-east:default-network');

    // The collection shows it (read your writes) in every rendering.
    const list = json('entity-collection', (await call('GET', '/compute/', { accept: 'application/occi+json' })).text);
    const listed = (list.resources as Array<{ id: string; actions?: unknown; links?: unknown }>).find((r) => r.id === id);
    // A collection lists what a compute is; its actions and links are in its own rendering.
    assert.ok(listed && listed.actions === undefined && listed.links === undefined);
    assert.deepEqual(
      running.actions,
      ['stop', 'restart', 'suspend', 'save'].map((a) => `${ACTION}${a}`),
    );
    const uris = await call('GET', '/compute/', { accept: 'text/uri-list' });
    assert.ok(uris.text.split('\r\n').includes(`${gw.url}${path}`));
    assert.ok((await text('/compute/')).locations.includes(`${gw.url}${path}`));

    const act = async (action: string, body = JSON.stringify({ action: `${ACTION}${action}` })) => {
      const res = await call('POST', `${path}?action=${action}`, {
        contentType: 'application/occi+json',
        accept: 'application/occi+json',
        body,
      });
      return res;
    };
    assert.equal((await act('stop')).status, 200);
    await waitComputeState(call, path, 'stopped');
    const stopped = await text(path);
    assert.equal(stopped.attributes['occi.compute.state'], 'inactive');
    // The action in text/plain, as GFD.229 writes it.
    const start = await call('POST', `${path}?action=start`, {
      contentType: 'text/plain',
      body: `Category: start;scheme="${ACTION}";class="action"`,
    });
    assert.equal(start.status, 200, start.text);
    await waitComputeState(call, path, 'running');
    assert.equal((await act('restart')).status, 200);
    await waitComputeState(call, path, 'running');

    const saved = await act('save', JSON.stringify({ action: `${ACTION}save`, attributes: { name: 'occi-saved' } }));
    assert.equal(saved.status, 200, saved.text);
    const mixins = json('category-identifiers', saved.text).mixins as string[];
    assert.equal(mixins.length, 1);
    assert.match(mixins[0] ?? '', new RegExp(`^${SKYGATE}sim-east/os_tpl#`));
    // The new os_tpl is in the query interface (once the image is available) and launches a compute.
    const term = (mixins[0] ?? '').split('#')[1] ?? '';
    const deadline = Date.now() + 10_000;
    while (!(await call('GET', '/-/')).text.includes(`Category: ${term};`)) {
      assert.ok(Date.now() < deadline, 'the saved image shows in /-/');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The image keeps the medium flavor's disk size, so the core refuses a smaller flavor for it.
    const fromSaved = await createCompute('sim-east', term, [
      `Category: sim_medium;scheme="${SKYGATE}sim-east/resource_tpl#";class="mixin"`,
    ]);
    await waitComputeState(call, fromSaved, 'running');

    for (const p of [path, fromSaved]) {
      const del = await call('DELETE', p);
      assert.equal(del.status, 200, del.text);
    }
    await waitComputeState(call, path, 'terminated').catch(async () => {
      assert.equal((await call('GET', path)).status, 404);
    });
  });

  it('creates a compute from a JSON rendering, at the provider its templates name', async () => {
    const body = JSON.stringify({
      kind: `${INFRA}compute`,
      mixins: [`${SKYGATE}sim-west/os_tpl#img-cirros-0-6`, `${SKYGATE}provider#sim-west`],
      attributes: { 'occi.core.title': 'occi-json-vm' },
    });
    const res = await call('POST', '/compute/', { contentType: 'application/occi+json', accept: 'application/occi+json', body });
    assert.equal(res.status, 201, res.text);
    const doc = json('resource', res.text);
    assert.match(String(doc.id), /^sim-west:/);
    assert.ok(['inactive', 'active'].includes(String((doc.attributes as Record<string, unknown>)['occi.compute.state'])));
    assert.equal(res.headers.get('location'), `${gw.url}/compute/${String(doc.id)}`);
  });

  it('creates a compute from a text/occi request (everything in headers)', async () => {
    const res = await call('POST', '/compute/', {
      contentType: 'text/occi',
      accept: 'text/occi',
      headers: {
        Category: `compute;scheme="${INFRA}";class="kind", img-cirros-0-6;scheme="${SKYGATE}sim-east/os_tpl#";class="mixin"`,
        'X-OCCI-Attribute': 'occi.core.title="occi-headers-vm", skygate.zone="sim-east-b"',
      },
    });
    assert.equal(res.status, 201, res.text);
    const t = parseTextOcci(res.headers);
    assert.equal(t.attributes['occi.core.title'], 'occi-headers-vm');
    assert.equal(t.attributes['skygate.zone'], 'sim-east-b');
    assert.equal(res.headers.get('location'), `${gw.url}/compute/${String(t.attributes['occi.core.id'])}`);
  });

  it('suspends a compute with the rOCCI-core action samples as request bodies, shows it suspended, and resumes it on start', async () => {
    const path = await createCompute('sim-east', 'img-debian-12');
    await waitComputeState(call, path, 'running');
    // Both samples are accepted: the first suspends, the second finds it suspending or suspended (harmless).
    for (const [file, contentType] of [
      ['action_instance.json', 'application/occi+json'],
      ['action_instance.txt', 'text/plain'],
    ] as const) {
      const body = readFileSync(new URL(`../fixtures/occi/examples/${file}`, import.meta.url), 'utf8');
      const res = await call('POST', `${path}?action=suspend`, { contentType, body });
      assert.equal(res.status, 200, `${file}: ${res.text}`);
    }
    const suspended = await waitComputeState(call, path, 'suspended');
    json('resource', JSON.stringify(suspended));
    assert.equal((suspended.attributes as Record<string, unknown>)['occi.compute.state'], 'suspended');
    assert.deepEqual(suspended.actions, [`${ACTION}start`], 'a suspended compute offers start (resume) only');
    const t = await text(path);
    assert.equal(t.attributes['occi.compute.state'], 'suspended');
    assert.equal(t.attributes['occi.compute.state.message'], 'suspended');
    // The same instance through REST: suspended there too.
    const id = decodeURIComponent(path.slice('/compute/'.length));
    assert.equal((await gw.api('get', `/v1/instances/${encodeURIComponent(id)}`)).body.state, 'suspended');
    // Stopping a suspended compute is the core's conflict; start resumes it.
    const stop = await call('POST', `${path}?action=stop`, {
      contentType: 'text/plain',
      body: `Category: stop;scheme="${ACTION}";class="action"`,
    });
    assert.equal(stop.status, 409, stop.text);
    assert.match(stop.text, /suspended/);
    const start = await call('POST', `${path}?action=start`, {
      contentType: 'text/plain',
      body: `Category: start;scheme="${ACTION}";class="action"`,
    });
    assert.equal(start.status, 200, start.text);
    const resumed = await waitComputeState(call, path, 'running');
    assert.equal((resumed.attributes as Record<string, unknown>)['occi.compute.state'], 'active');
    // Suspending a compute that is not running (stopped) is a conflict naming its state.
    const stopAgain = await call('POST', `${path}?action=stop`, {
      contentType: 'text/plain',
      body: `Category: stop;scheme="${ACTION}";class="action"`,
    });
    assert.equal(stopAgain.status, 200, stopAgain.text);
    await waitComputeState(call, path, 'stopped');
    const late = await call('POST', `${path}?action=suspend`, {
      contentType: 'text/plain',
      body: `Category: suspend;scheme="${ACTION}";class="action"`,
    });
    assert.equal(late.status, 409, late.text);
    assert.match(late.text, /while it is stopped/);
    assert.equal((await call('DELETE', path)).status, 200);
  });

  it('answers suspend not applicable, saying why, at a provider that cannot suspend (AWS), and does not advertise it', async () => {
    const server = await startRecordedServer('test/fixtures/aws/ec2', (action) =>
      // DescribeVpcs: the instance's VPC is looked up to tell whether it is a network skygate created (it is not).
      action === 'DescribeInstances'
        ? { file: 'DescribeInstances-one.xml' }
        : action === 'DescribeVpcs'
          ? { file: 'DescribeVpcs-none.xml' }
          : undefined,
    );
    const aws = await startTestGateway({ providers: [recordedAwsProvider(server.url)] });
    try {
      const awsCall = occiClient(aws);
      const path = '/compute/aws-rec:i-1234567890abcdef0';
      const shown = await awsCall('GET', path, { accept: 'application/occi+json' });
      assert.equal(shown.status, 200, shown.text);
      const doc = json('resource', shown.text);
      assert.deepEqual(
        doc.actions,
        ['stop', 'restart', 'save'].map((a) => `${ACTION}${a}`),
        'running, but no suspend here',
      );
      for (const [file, contentType] of [
        ['action_instance.json', 'application/occi+json'],
        ['action_instance.txt', 'text/plain'],
      ] as const) {
        const body = readFileSync(new URL(`../fixtures/occi/examples/${file}`, import.meta.url), 'utf8');
        const res = await awsCall('POST', `${path}?action=suspend`, { contentType, body });
        assert.equal(res.status, 400, `${file}: ${res.text}`);
        assert.match(res.text, /action suspend: not applicable: provider 'aws-rec' cannot suspend instances: .*hibernat/);
      }
      assert.ok(!server.requests.some((r) => r.action.endsWith('Instances') && r.action !== 'DescribeInstances'));
    } finally {
      await aws.close();
      await server.close();
    }
  });

  it('filters a collection by the categories a GET names (query or Category header)', async () => {
    const west = await createCompute('sim-west', 'img-cirros-0-6');
    const east = await createCompute('sim-east', 'img-debian-12');
    const ids = async (path: string, headers?: Record<string, string>) =>
      (
        (JSON.parse((await call('GET', path, { accept: 'application/occi+json', ...(headers && { headers }) })).text).resources ??
          []) as Array<{
          id: string;
        }>
      ).map((r) => r.id);
    const byProvider = await ids(`/compute/?category=${encodeURIComponent(`${SKYGATE}provider#sim-west`)}`);
    assert.ok(byProvider.includes(west.slice('/compute/'.length)));
    assert.ok(byProvider.every((id) => id.startsWith('sim-west:')));
    const byImage = await ids('/compute/', { Category: `img-cirros-0-6;scheme="${SKYGATE}sim-west/os_tpl#";class="mixin"` });
    assert.ok(byImage.includes(west.slice('/compute/'.length)));
    assert.ok(!byImage.includes(east.slice('/compute/'.length)));
    const byKind = await ids(`/compute/?category=${encodeURIComponent(`${INFRA}compute`)}`);
    assert.ok(byKind.includes(east.slice('/compute/'.length)) && byKind.includes(west.slice('/compute/'.length)));
    const byAction = await call('GET', `/compute/?category=${encodeURIComponent(`${ACTION}start`)}`);
    assert.equal(byAction.status, 400);
    // Attributes: as ?attribute=name=value or X-OCCI-Attribute headers; cores come from the flavor.
    const big = await createCompute('sim-west', 'img-cirros-0-6', [
      `Category: sim_large;scheme="${SKYGATE}sim-west/resource_tpl#";class="mixin"`,
    ]);
    const byCores = await ids(`/compute/?attribute=${encodeURIComponent('occi.compute.cores=4')}`);
    assert.ok(byCores.includes(big.slice('/compute/'.length)) && !byCores.includes(west.slice('/compute/'.length)));
    const byZoneAndProvider = await ids('/compute/', {
      Category: `sim-west;scheme="${SKYGATE}provider#";class="mixin"`,
      'X-OCCI-Attribute': 'occi.compute.cores=4, skygate.zone="sim-west-a"',
    });
    const bigZone = (await text(big)).attributes['skygate.zone'];
    assert.equal(byZoneAndProvider.includes(big.slice('/compute/'.length)), bigZone === 'sim-west-a');
    assert.ok(byZoneAndProvider.every((id) => id.startsWith('sim-west:')));
    // The same query in text/uri-list and in JSON lists the same computes (a kept page is per filter).
    const uris = await call('GET', '/compute/', {
      accept: 'text/uri-list',
      headers: { 'X-OCCI-Attribute': 'occi.compute.cores=4' },
    });
    assert.deepEqual(
      uris.text.split('\r\n').filter((l) => l !== ''),
      (await ids('/compute/', { 'X-OCCI-Attribute': 'occi.compute.cores=4' })).map((id) => `${gw.url}/compute/${id}`),
    );
    assert.notDeepEqual(await ids('/compute/'), await ids('/compute/', { 'X-OCCI-Attribute': 'occi.compute.cores=4' }));
  });

  it('pages a collection with page and number, and links the next page', async () => {
    for (let i = 0; i < 3; i++) await createCompute('sim-west', 'img-debian-12');
    const all = JSON.parse((await call('GET', '/compute/', { accept: 'application/occi+json' })).text).resources as Array<{
      id: string;
    }>;
    assert.ok(all.length >= 4);
    const first = await call('GET', '/compute/?page=1&number=2', { accept: 'text/uri-list' });
    assert.equal(first.text.trim().split('\r\n').length, 2);
    assert.match(first.headers.get('link') ?? '', /page=2&number=2>; rel="next"/);
    const second = await call('GET', '/compute/?page=2&number=2', { accept: 'application/occi+json' });
    const ids = (json('entity-collection', second.text).resources as Array<{ id: string }>).map((r) => r.id);
    assert.deepEqual(
      ids,
      all.slice(2, 4).map((r) => r.id),
    );
  });
});

describe('OCCI user mixins (tags)', () => {
  it('defines a tag mixin, adds it to a compute, lists its computes, and replaces the set with PUT', async () => {
    const web = `Category: web;scheme="${SKYGATE}tag#";class="mixin";title="web tier";location="/mixin/tag/web/"`;
    const defined = await call('POST', '/-/', { contentType: 'text/plain', body: web });
    assert.equal(defined.status, 200, defined.text);
    assert.equal(parseTextPlain(defined.text).categories[0]?.location, '/mixin/tag/web/');
    const elsewhere = await call('POST', '/-/', {
      contentType: 'text/plain',
      body: 'Category: web;scheme="http://example.org/mine#";class="mixin"',
    });
    assert.equal(elsewhere.status, 400);

    const path = await createCompute('sim-east', 'img-debian-12', ['X-OCCI-Attribute: occi.core.title="tagged"']);
    const id = decodeURIComponent(path.slice('/compute/'.length));
    const added = await call('POST', path, {
      contentType: 'text/plain',
      accept: 'application/occi+json',
      body: `Category: web;scheme="${SKYGATE}tag#";class="mixin"`,
    });
    assert.equal(added.status, 200, added.text);
    assert.ok((json('resource', added.text).mixins as string[]).includes(`${SKYGATE}tag#web`));
    const rest = await gw.api('get', `/v1/instances/${encodeURIComponent(id)}`);
    assert.equal(rest.body.tags.web, '');
    const members = await call('GET', '/mixin/tag/web/', { accept: 'text/uri-list' });
    assert.equal(members.status, 200);
    assert.deepEqual(members.text.trim().split('\r\n'), [`${gw.url}${path}`]);

    // PUT names the whole set: the compute's own templates and provider mixin, and now tag db instead of web.
    const current = json('resource', (await call('GET', path, { accept: 'application/occi+json' })).text);
    const mixins = [...(current.mixins as string[]).filter((m) => !m.startsWith(`${SKYGATE}tag#`)), `${SKYGATE}tag#db`];
    const put = await call('PUT', path, {
      contentType: 'application/occi+json',
      accept: 'application/occi+json',
      body: JSON.stringify({ kind: `${INFRA}compute`, mixins }),
    });
    assert.equal(put.status, 200, put.text);
    const tags = (await gw.api('get', `/v1/instances/${encodeURIComponent(id)}`)).body.tags as Record<string, string>;
    assert.equal(tags.db, '');
    assert.equal(tags.web, undefined);
    assert.equal((await call('GET', '/mixin/tag/web/', { accept: 'text/uri-list' })).text, '');
    const refused = await call('POST', path, {
      contentType: 'text/plain',
      body: `Category: sim_large;scheme="${SKYGATE}sim-east/resource_tpl#";class="mixin"`,
    });
    assert.equal(refused.status, 400);
    assert.match(
      refused.text,
      /mixin .*resource_tpl#sim_large: the resource_tpl of a compute is immutable \(it is .*#sim_small\)/,
    );
  });

  it('deletes a user mixin: its tag goes from every compute that carries it, other tags stay', async () => {
    const tag = (term: string) => `Category: ${term};scheme="${SKYGATE}tag#";class="mixin"`;
    const paths = [await createCompute('sim-east', 'img-debian-12'), await createCompute('sim-west', 'img-cirros-0-6')];
    for (const [k, p] of paths.entries()) {
      const res = await call('POST', p, {
        contentType: 'text/plain',
        body: [tag('doomed'), ...(k === 0 ? [tag('kept')] : [])].join('\n'),
      });
      assert.equal(res.status, 200, res.text);
    }
    const carriers = async (term: string) =>
      (await call('GET', `/mixin/tag/${term}/`, { accept: 'text/uri-list' })).text.split('\r\n').filter((l) => l !== '');
    assert.deepEqual((await carriers('doomed')).sort(), paths.map((p) => `${gw.url}${p}`).sort());

    const other = await call('DELETE', '/-/', {
      contentType: 'text/plain',
      body: `Category: sim-east;scheme="${SKYGATE}provider#";class="mixin"`,
    });
    assert.equal(other.status, 400);
    assert.match(other.text, /user mixins are tags/);
    const deleted = await call('DELETE', '/-/', {
      contentType: 'application/occi+json',
      body: JSON.stringify({ mixins: [{ scheme: `${SKYGATE}tag#`, term: 'doomed' }] }),
    });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(await carriers('doomed'), []);
    assert.deepEqual(await carriers('kept'), [`${gw.url}${paths[0]}`]);
    for (const p of paths) {
      const tags = (await gw.api('get', `/v1/instances/${encodeURIComponent(p.slice('/compute/'.length))}`)).body.tags;
      assert.equal(tags.doomed, undefined, p);
      const mixins = json('resource', (await call('GET', p, { accept: 'application/occi+json' })).text).mixins as string[];
      assert.ok(!mixins.includes(`${SKYGATE}tag#doomed`));
    }
  });
});

describe('OCCI updates in place', () => {
  it('renames a compute and sets its summary by partial update, replaces them with PUT, refuses immutables', async () => {
    const path = await createCompute('sim-east', 'img-debian-12', [
      'X-OCCI-Attribute: occi.core.title="before"',
      'X-OCCI-Attribute: occi.core.summary="the first words"',
    ]);
    const id = decodeURIComponent(path.slice('/compute/'.length));
    const rest = async () => (await gw.api('get', `/v1/instances/${encodeURIComponent(id)}`)).body;
    assert.equal((await rest()).tags['occi.core.summary'], 'the first words');
    await waitComputeState(call, path, 'running');

    // Partial update (POST without an action): only what it names changes.
    const renamed = await call('POST', path, {
      contentType: 'text/plain',
      accept: 'text/plain',
      body: 'X-OCCI-Attribute: occi.core.title="after"',
    });
    assert.equal(renamed.status, 200, renamed.text);
    const t = parseTextPlain(renamed.text);
    assert.equal(t.attributes['occi.core.title'], 'after');
    assert.equal(t.attributes['occi.core.summary'], 'the first words');
    assert.equal((await rest()).name, 'after');
    const both = await call('POST', path, {
      contentType: 'application/occi+json',
      accept: 'application/occi+json',
      body: JSON.stringify({ attributes: { 'occi.core.summary': 'second words' }, mixins: [`${SKYGATE}tag#web`] }),
    });
    assert.equal(both.status, 200, both.text);
    const doc = json('resource', both.text);
    assert.equal(doc.title, 'after');
    assert.equal(doc.summary, 'second words');
    assert.ok((doc.mixins as string[]).includes(`${SKYGATE}tag#web`));
    assert.equal((await text(path)).attributes['occi.core.summary'], 'second words');

    // Naming a user mixin the compute carries keeps its tag's value (here set through REST).
    const tags = { ...(await rest()).tags, web: 'frontend' };
    assert.equal((await gw.api('put', `/v1/instances/${encodeURIComponent(id)}/tags`, { tags })).status, 200);
    const again = await call('POST', path, {
      contentType: 'text/plain',
      body: `Category: web;scheme="${SKYGATE}tag#";class="mixin"`,
    });
    assert.equal(again.status, 200, again.text);
    assert.equal((await rest()).tags.web, 'frontend');

    // PUT back what GET answered (immutables at their values are fine), with a new title and no summary or tag.
    const current = json('resource', (await call('GET', path, { accept: 'application/occi+json' })).text) as {
      mixins: string[];
      attributes: Record<string, unknown>;
    };
    const { 'occi.core.summary': _, ...attributes } = current.attributes;
    const put = await call('PUT', path, {
      contentType: 'application/occi+json',
      accept: 'application/occi+json',
      body: JSON.stringify({
        kind: `${INFRA}compute`,
        mixins: current.mixins.filter((m) => !m.startsWith(`${SKYGATE}tag#`)),
        attributes: { ...attributes, 'occi.core.title': 'replaced' },
      }),
    });
    assert.equal(put.status, 200, put.text);
    const replaced = json('resource', put.text);
    assert.equal(replaced.title, 'replaced');
    assert.equal(replaced.summary, undefined);
    const after = await rest();
    assert.equal(after.name, 'replaced');
    assert.deepEqual(after.tags, {});

    // What the compute is made of cannot change: each refusal names it, and nothing changes.
    for (const [body, says] of [
      ['X-OCCI-Attribute: occi.compute.cores=8', /attribute occi\.compute\.cores: is immutable \(it is 1\)/],
      ['X-OCCI-Attribute: occi.compute.memory=64', /attribute occi\.compute\.memory: is immutable/],
      [`Category: img-cirros-0-6;scheme="${SKYGATE}sim-east/os_tpl#";class="mixin"`, /os_tpl of a compute is immutable/],
      [`Category: sim-west;scheme="${SKYGATE}provider#";class="mixin"`, /provider of a compute is immutable/],
      ['X-OCCI-Attribute: occi.core.title="bell\u0007"', /attribute occi\.core\.title: contains U\+0007/],
      [`X-OCCI-Attribute: occi.core.title="x"\nX-OCCI-Attribute: occi.core.summary="${'s'.repeat(300)}"`, /occi\.core\.summary/],
    ] as const) {
      for (const method of ['POST', 'PUT']) {
        const res = await call(method, path, {
          contentType: 'text/plain',
          body: `Category: compute;scheme="${INFRA}";class="kind"\n${body}`,
        });
        assert.equal(res.status, 400, `${method} ${body}: ${res.text}`);
        assert.match(res.text, says);
      }
    }
    assert.equal((await rest()).name, 'replaced');
  });
});

describe('OCCI storage, links and networks', () => {
  it('creates a storage, links it to a compute, unlinks and deletes it', async () => {
    // Both in one zone (skygate.zone, defined by the provider mixins), as a volume attaches only there.
    const compute = await createCompute('sim-east', 'img-debian-12', ['X-OCCI-Attribute: skygate.zone="sim-east-a"']);
    await waitComputeState(call, compute, 'running');
    assert.equal((await text(compute)).attributes['skygate.zone'], 'sim-east-a');
    const created = await call('POST', '/storage/', {
      contentType: 'text/plain',
      accept: 'application/occi+json',
      body: [
        `Category: storage;scheme="${INFRA}";class="kind"`,
        `Category: sim-east;scheme="${SKYGATE}provider#";class="mixin"`,
        'X-OCCI-Attribute: occi.storage.size=2',
        'X-OCCI-Attribute: skygate.zone="sim-east-a"',
        'X-OCCI-Attribute: occi.core.title="occi-disk"',
      ].join('\n'),
    });
    assert.equal(created.status, 201, created.text);
    const storage = json('resource', created.text);
    const storagePath = new URL(created.headers.get('location') ?? '').pathname;
    assert.equal(storagePath, `/storage/${String(storage.id)}`);
    assert.equal((storage.attributes as Record<string, unknown>)['occi.storage.size'], 2);
    const deadline = Date.now() + 10_000;
    while ((await text(storagePath)).attributes['occi.storage.state.message'] !== 'available') {
      assert.ok(Date.now() < deadline, 'the storage becomes available');
      await new Promise((r) => setTimeout(r, 50));
    }

    const link = await call('POST', '/storagelink/', {
      contentType: 'application/occi+json',
      body: JSON.stringify({
        kind: `${INFRA}storagelink`,
        attributes: { 'occi.core.source': compute, 'occi.core.target': storagePath, 'occi.storagelink.deviceid': '/dev/vdb' },
      }),
    });
    assert.equal(link.status, 201, link.text);
    const linkPath = new URL(link.headers.get('location') ?? '').pathname;
    for (;;) {
      const res = await call('GET', linkPath, { accept: 'application/occi+json' });
      if (res.status === 200) {
        const doc = json('link', res.text);
        assert.deepEqual(doc.source, { location: compute, kind: `${INFRA}compute` });
        if ((doc.attributes as Record<string, unknown>)['occi.storagelink.state'] === 'active') break;
      }
      assert.ok(Date.now() < deadline + 10_000, 'the link becomes active');
      await new Promise((r) => setTimeout(r, 50));
    }
    const withLink = await text(compute);
    assert.ok(
      withLink.links.some((l) => l.target === storagePath && l.self === linkPath && l.category?.[0] === `${INFRA}storagelink`),
    );
    json('entity-collection', (await call('GET', '/storagelink/', { accept: 'application/occi+json' })).text);

    assert.equal((await call('DELETE', linkPath)).status, 200);
    for (;;) {
      if ((await text(storagePath)).attributes['occi.storage.state.message'] === 'available') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await call('DELETE', storagePath)).status, 200);
  });

  it('snapshots a storage by action; the other storage actions answer not applicable, saying why', async () => {
    const created = await call('POST', '/storage/', {
      contentType: 'application/occi+json',
      accept: 'application/occi+json',
      body: JSON.stringify({
        kind: `${INFRA}storage`,
        mixins: [`${SKYGATE}provider#sim-west`],
        attributes: { 'occi.storage.size': 1, 'occi.core.title': 'occi-snap-disk' },
      }),
    });
    assert.equal(created.status, 201, created.text);
    const path = new URL(created.headers.get('location') ?? '').pathname;
    const id = path.slice('/storage/'.length);
    const deadline = Date.now() + 10_000;
    let t = await text(path);
    while (t.attributes['occi.storage.state.message'] !== 'available') {
      assert.ok(Date.now() < deadline, 'the storage becomes available');
      await new Promise((r) => setTimeout(r, 50));
      t = await text(path);
    }
    // An available storage offers snapshot, in text and in JSON (schema-checked).
    assert.deepEqual(
      t.links.map((l) => [l.target, l.rel[0]]),
      [[`${path}?action=snapshot`, 'http://schemas.ogf.org/occi/infrastructure/storage/action#snapshot']],
    );
    const doc = json('resource', (await call('GET', path, { accept: 'application/occi+json' })).text);
    assert.deepEqual(doc.actions, ['http://schemas.ogf.org/occi/infrastructure/storage/action#snapshot']);

    const STORAGE_ACTION = 'http://schemas.ogf.org/occi/infrastructure/storage/action#';
    const snap = await call('POST', `${path}?action=snapshot`, {
      contentType: 'text/plain',
      body: `Category: snapshot;scheme="${STORAGE_ACTION}";class="action"\nX-OCCI-Attribute: name="occi-snap-1"`,
    });
    assert.equal(snap.status, 200, snap.text);
    for (;;) {
      const snaps = (await gw.api('get', '/v1/snapshots?limit=1000')).body.items as Array<{ name: string; volumeId: string }>;
      if (snaps.some((x) => x.name === 'occi-snap-1' && x.volumeId === id)) break;
      assert.ok(Date.now() < deadline + 10_000, 'the snapshot appears in /v1/snapshots');
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const [action, says] of [
      ['online', /action online: not applicable: a volume at provider 'sim-west' is online/],
      ['offline', /action offline: not applicable: .*detach it/],
      ['backup', /action backup: not applicable: .*use \?action=snapshot/],
      ['resize', /action resize: not applicable: skygate cannot resize volumes at provider 'sim-west'/],
    ] as const) {
      const res = await call('POST', `${path}?action=${action}`, {
        contentType: 'application/occi+json',
        body: JSON.stringify({ action: `${STORAGE_ACTION}${action}` }),
      });
      assert.equal(res.status, 400, `${action}: ${res.text}`);
      assert.match(res.text, says);
    }
    assert.equal((await call('DELETE', path)).status, 200);
  });

  it('filters storages and networks by provider mixin and attribute', async () => {
    const make = async (provider: string, size: number) => {
      const res = await call('POST', '/storage/', {
        contentType: 'text/plain',
        body: [
          `Category: storage;scheme="${INFRA}";class="kind"`,
          `Category: ${provider};scheme="${SKYGATE}provider#";class="mixin"`,
          `X-OCCI-Attribute: occi.storage.size=${size}`,
        ].join('\n'),
      });
      assert.equal(res.status, 201, res.text);
      return new URL(res.headers.get('location') ?? '').pathname.slice('/storage/'.length);
    };
    const east = await make('sim-east', 7);
    const west = await make('sim-west', 7);
    const ids = async (path: string, headers?: Record<string, string>) => {
      const res = await call('GET', path, { accept: 'application/occi+json', ...(headers && { headers }) });
      assert.equal(res.status, 200, res.text);
      return ((json('entity-collection', res.text).resources ?? []) as Array<{ id: string }>).map((r) => r.id);
    };
    const sevens = await ids(`/storage/?attribute=${encodeURIComponent('occi.storage.size=7')}`);
    assert.ok(sevens.includes(east) && sevens.includes(west));
    const eastSevens = await ids('/storage/', {
      Category: `sim-east;scheme="${SKYGATE}provider#";class="mixin"`,
      'X-OCCI-Attribute': 'occi.storage.size=7',
    });
    assert.ok(eastSevens.includes(east) && !eastSevens.includes(west));
    assert.deepEqual(await ids(`/storage/?attribute=${encodeURIComponent('occi.storage.size=999')}`), []);
    assert.deepEqual(await ids(`/network/?category=${encodeURIComponent(`${SKYGATE}provider#sim-west`)}`), [
      'sim-west:default-network',
    ]);
    assert.deepEqual(await ids('/network/', { 'X-OCCI-Attribute': 'occi.network.state="inactive"' }), []);
    const uris = await call('GET', `/network/?attribute=${encodeURIComponent('occi.network.state=active')}`, {
      accept: 'text/uri-list',
    });
    assert.equal(uris.text.trim().split('\r\n').length, 2);
  });

  it('takes up on a default network (always up) and answers down not applicable', async () => {
    const NETWORK_ACTION = 'http://schemas.ogf.org/occi/infrastructure/network/action#';
    const act = (path: string, action: string) =>
      call('POST', `${path}?action=${action}`, {
        contentType: 'text/plain',
        body: `Category: ${action};scheme="${NETWORK_ACTION}";class="action"`,
      });
    assert.equal((await act('/network/sim-east:default-network', 'up')).status, 200);
    const down = await act('/network/sim-east:default-network', 'down');
    assert.equal(down.status, 400);
    assert.match(down.text, /action down: not applicable: skygate cannot take default network of sim-east down/);
    assert.equal((await act('/network/sim-east:nothing', 'up')).status, 404);
  });

  it('shows each provider default network and a compute interface on it', async () => {
    const list = json('entity-collection', (await call('GET', '/network/', { accept: 'application/occi+json' })).text);
    assert.deepEqual(
      (list.resources as Array<{ id: string }>).map((r) => r.id),
      ['sim-east:default-network', 'sim-west:default-network'],
    );
    const net = await text('/network/sim-east:default-network');
    assert.equal(net.attributes['occi.network.state'], 'active');
    const compute = await createCompute('sim-east', 'img-debian-12');
    const nic = await call('GET', compute.replace('/compute/', '/networkinterface/'), { accept: 'application/occi+json' });
    assert.equal((json('link', nic.text).target as { location: string }).location, '/network/sim-east:default-network');
    assert.equal((await call('GET', '/network/sim-east:nothing')).status, 404);
  });
});
