/**
 * The hostile-input corpus, kept as a suite of its own, against a real gateway on 127.0.0.1 (two sim clouds).
 * Bad input for every REST operation is generated from api-spec/openapi.yaml (so a new route cannot escape it)
 * and for every EC2 action from the front's action table; each must answer a 4xx that names the field (or an
 * EC2 error code), never a 5xx, and write nothing: operations, events, resources, key pairs, tokens and access
 * keys are counted before and after. Then the findings of issue 11, one test each: attach devices, user data
 * readable by viewers and the data directory's modes, names that broke exported XML, cursors and `since`, and
 * disks whose virtual size is out of bounds.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import request from 'supertest';
import { ACTIONS } from '../../src/api/ec2/actions/index.js';
import { openApiDocument } from '../../src/api/rest/openapi-validator.js';
import type { Instance, Operation } from '../../src/core/model.js';
import { listAllNative } from '../../src/core/resources.js';
import { buildDescriptor } from '../../src/portability/ovf-build.js';
import { type Ec2Credentials, type RawEc2Response, rawEc2 } from '../helpers/ec2-signer.js';
import { ADMIN_TOKEN, assertMatchesSpec, simProviders, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sha256, tarOf } from '../helpers/ova-craft.js';

const run = promisify(execFile);
const GiB = 2 ** 30;
const enc = encodeURIComponent;
type Obj = Record<string, unknown>;

let gw: TestGateway;
let root: string;
let ec2Creds: Ec2Credentials;

// ---------------------------------------------------------------- what a request may not leave behind

/** Everything a request could write, counted: a bad request must leave every count as it was. */
async function written(): Promise<Record<string, number>> {
  const { store, registry } = gw.gateway.internals;
  const counts: Record<string, number> = {
    operations: (await store.listOperations({ limit: 1_000_000 })).length,
    events: (await gw.gateway.core.events.since(0, 1_000_000)).length,
    tokens: (await store.listTokens()).length,
    'access keys': (await store.listAccessKeys()).length,
  };
  for (const provider of ['sim-east', 'sim-west']) {
    const adapter = registry.cloud(provider);
    for (const kind of ['instance', 'volume', 'snapshot', 'image'] as const) {
      counts[`${provider} ${kind}s`] = (await listAllNative(adapter, kind)).length;
    }
    counts[`${provider} key pairs`] = (await store.listKeyPairs(provider)).length;
  }
  return counts;
}

/** Runs `fn` and fails if it wrote anything. */
async function writesNothing<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const before = await written();
  const out = await fn();
  assert.deepEqual(await written(), before, `${label} wrote something`);
  return out;
}

// ---------------------------------------------------------------- REST helpers

interface Problem {
  status: number;
  code: string;
  detail: string;
  field?: string;
  errors?: Array<{ field: string; reason: string }>;
}

/** Sends a request with the admin token (or `token`), checks the answer against the spec, answers it. */
async function send(
  method: string,
  url: string,
  opts: { body?: unknown; rawBody?: string; headers?: Record<string, string>; token?: string } = {},
): Promise<request.Response> {
  let req = (request(gw.url) as unknown as Record<string, (u: string) => request.Test>)[method.toLowerCase()]?.(url);
  assert.ok(req, method);
  // A deadline on every request: a bad input that opens an event stream (since=1e309 once did) fails, never hangs.
  req = req
    .timeout({ response: 10_000, deadline: 20_000 })
    .set('Authorization', `Bearer ${opts.token ?? ADMIN_TOKEN}`)
    .set(opts.headers ?? {});
  if (opts.rawBody !== undefined) req = req.set('Content-Type', 'application/json').send(opts.rawBody);
  else if (opts.body !== undefined) req = req.send(opts.body as object);
  const res = await req;
  assertMatchesSpec(method, url, res);
  return res;
}

/** A 4xx problem+json whose `field` or `errors` name `field`; answers the problem. */
function assertNames(res: request.Response, field: string, label: string, status = 400): Problem {
  assert.ok(res.status < 500, `${label}: ${res.status} ${res.text}`);
  assert.equal(res.status, status, `${label}: ${res.text}`);
  assert.match(res.type, /^application\/problem\+json/, label);
  const p = JSON.parse(res.text) as Problem;
  const named = [p.field, ...(p.errors ?? []).map((e) => e.field)];
  // `body.securityGroups[0]` names `body.securityGroups`, down to the item at fault.
  const names = (f: string | undefined) => f === field || f?.startsWith(`${field}[`) || f?.startsWith(`${field}.`);
  assert.ok(named.some(names), `${label}: expected ${field} to be named, got ${JSON.stringify(named)}: ${p.detail}`);
  // Readable: a problem never carries raw control characters back, whatever the request held.
  assert.doesNotMatch(p.detail, /\p{Cc}/u, `${label}: raw control characters in ${p.detail}`);
  return p;
}

// ---------------------------------------------------------------- cases from the spec

interface Case {
  label: string;
  method: string;
  url: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  field: string;
}

const doc = () => openApiDocument() as unknown as Obj;

function atRef(ref: string): Obj {
  let node: unknown = doc();
  for (const part of ref.slice(2).split('/')) node = (node as Obj)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return node as Obj;
}

/** A schema with its `$ref` followed (siblings of the `$ref` win, as in JSON Schema 2020-12). */
function resolve(schema: unknown): Obj {
  let s = (schema ?? {}) as Obj;
  for (let hops = 0; typeof s.$ref === 'string' && hops < 10; hops++) {
    const { $ref, ...rest } = s;
    s = { ...atRef($ref as string), ...rest };
  }
  return s;
}

const HOSTILE = 'a\u001b[31mb';

/** Values `schema` must refuse, with what makes each bad; `text` when the value travels as text (query, path, header). */
function badValues(raw: unknown, text: boolean): Array<[string, unknown]> {
  const s = resolve(raw);
  const out: Array<[string, unknown]> = [];
  const type = s.type as string | undefined;
  if (Array.isArray(s.enum)) out.push(['a value outside the enum', 'not-one-of-them']);
  if (type === 'integer' || type === 'number') {
    out.push(['not a number', 'abc']);
    if (type === 'integer') out.push(['not an integer', text ? '1.5' : 1.5]);
    out.push(['1e309 (not finite)', text ? '1e309' : 'x']);
    if (typeof s.minimum === 'number') out.push(['below the minimum', text ? String(s.minimum - 1) : s.minimum - 1]);
    if (typeof s.maximum === 'number') out.push(['above the maximum', text ? String(s.maximum + 1) : s.maximum + 1]);
    if (!text) out.push(['a string', '12']);
  } else if (type === 'boolean') {
    out.push(['not a boolean', text ? 'maybe' : 'yes']);
  } else if (type === 'string') {
    if (!text) out.push(['a number', 12345]);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(HOSTILE)) out.push(['control characters', HOSTILE]);
    if (typeof s.maxLength === 'number') out.push(['oversize', 'x'.repeat(s.maxLength + 1)]);
    if (typeof s.minLength === 'number' && s.minLength > 0 && !text) out.push(['empty', '']);
  } else if (type === 'array') {
    if (!text) out.push(['not an array', 'x']);
    const item = resolve(s.items);
    const itemBad = badValues(item, text).find(([, v]) => typeof v === 'string');
    if (itemBad) out.push([`an item with ${itemBad[0]}`, [itemBad[1]]]);
    if (typeof s.maxItems === 'number') {
      const good = (item.examples as unknown[] | undefined)?.[0] ?? 'x';
      out.push([
        'too many items',
        Array.from({ length: s.maxItems + 1 }, (_, i) => (typeof good === 'string' ? `${good}${i}` : good)),
      ]);
    }
  } else if (type === 'object') {
    if (!text) out.push(['not an object', 'x']);
  }
  return out;
}

/** A value `schema` may accept, for the fields a case does not break. */
function goodValue(raw: unknown): unknown {
  const s = resolve(raw);
  const example = (s.examples as unknown[] | undefined)?.[0] ?? s.example ?? s.default ?? (s.enum as unknown[] | undefined)?.[0];
  if (example !== undefined) return example;
  switch (s.type) {
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return 'x';
  }
}

interface SpecOperation {
  method: string;
  template: string;
  op: Obj;
  params: Obj[];
}

function specOperations(): SpecOperation[] {
  const out: SpecOperation[] = [];
  for (const [template, item] of Object.entries(doc().paths as Record<string, Obj>)) {
    for (const method of ['get', 'put', 'post', 'patch', 'delete']) {
      const op = item[method] as Obj | undefined;
      if (!op) continue;
      const params = [...((item.parameters as Obj[]) ?? []), ...((op.parameters as Obj[]) ?? [])].map((p) =>
        typeof p.$ref === 'string' ? atRef(p.$ref) : p,
      );
      out.push({ method: method.toUpperCase(), template, op, params });
    }
  }
  return out;
}

/** Every bad request the spec lets us derive for one operation. */
function casesFor({ method, template, op, params }: SpecOperation): Case[] {
  const pathValue = (name: string) => String(goodValue(params.find((p) => p.in === 'path' && p.name === name)?.schema));
  const urlWith = (over: Record<string, string> = {}, query = '') =>
    template.replace(/\{([^}]+)\}/g, (_, name: string) => enc(over[name] ?? pathValue(name))) + query;
  const cases: Case[] = [];
  const where = `${method} ${template}`;

  cases.push({ label: `${where}: an unknown query parameter`, method, url: urlWith({}, '?hostile=1'), field: 'query.hostile' });
  for (const p of params) {
    const name = String(p.name);
    if (p.in === 'path') {
      cases.push({
        label: `${where}: path ${name} with control characters`,
        method,
        url: urlWith({ [name]: HOSTILE }),
        field: `path.${name}`,
      });
      cases.push({
        label: `${where}: path ${name} oversize`,
        method,
        url: urlWith({ [name]: 'x'.repeat(300) }),
        field: `path.${name}`,
      });
    } else if (p.in === 'query') {
      for (const [what, value] of badValues(p.schema, true)) {
        const values = Array.isArray(value) ? value : [value];
        const query = `?${values.map((v) => `${enc(name)}=${enc(String(v))}`).join('&')}`;
        cases.push({ label: `${where}: query ${name} ${what}`, method, url: urlWith({}, query), field: `query.${name}` });
      }
    } else if (p.in === 'header') {
      const schema = resolve(p.schema);
      for (const bad of ['bad value', 'x'.repeat(300)]) {
        const refused =
          (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(bad)) ||
          (typeof schema.maxLength === 'number' && bad.length > schema.maxLength);
        if (!refused) continue;
        cases.push({
          label: `${where}: header ${name} '${bad.slice(0, 12)}'`,
          method,
          url: urlWith(),
          headers: { [name]: bad },
          field: `header.${name.toLowerCase()}`,
        });
      }
    }
  }

  const content = (resolve(op.requestBody).content ?? {}) as Obj;
  const json = content['application/json'] as Obj | undefined;
  if (json) {
    const schema = resolve(json.schema);
    const props = (schema.properties ?? {}) as Obj;
    const required = (schema.required ?? []) as string[];
    const examples = Object.values((json.examples ?? {}) as Obj).map((e) => (e as Obj).value as Obj);
    const base: Obj = examples[0] ?? Object.fromEntries(required.map((k) => [k, goodValue(props[k])]));
    const url = urlWith();
    cases.push({ label: `${where}: a body that is a JSON array`, method, url, body: [base], field: 'body' });
    cases.push({ label: `${where}: a body that is not JSON`, method, url, rawBody: '{"unterminated', field: 'body' });
    cases.push({ label: `${where}: an unknown body field`, method, url, body: { ...base, hostile: 1 }, field: 'body.hostile' });
    for (const key of required) {
      const { [key]: _dropped, ...rest } = base;
      cases.push({ label: `${where}: body without required ${key}`, method, url, body: rest, field: `body.${key}` });
    }
    for (const [key, propSchema] of Object.entries(props)) {
      for (const [what, value] of badValues(propSchema, false)) {
        cases.push({
          label: `${where}: body.${key} ${what}`,
          method,
          url,
          body: { ...base, [key]: value },
          field: `body.${key}`,
        });
      }
    }
  }
  return cases;
}

// ---------------------------------------------------------------- EC2 helpers

const ec2 = (params: Record<string, string>): Promise<RawEc2Response> =>
  rawEc2(gw.url, ec2Creds, { Version: '2016-11-15', ...params });

function assertEc2Error(res: RawEc2Response, codes: string[], label: string): void {
  assert.ok(res.status < 500, `${label}: ${res.status} ${res.text}`);
  assert.ok(res.status >= 400, `${label}: answered ${res.status} ${res.text.slice(0, 300)}`);
  assert.ok(
    res.code !== undefined && codes.includes(res.code),
    `${label}: expected ${codes.join(' or ')}, got ${res.code}: ${res.message}`,
  );
  // The XML may hold line breaks between elements; no other control character.
  assert.doesNotMatch(res.text, /(?![\t\n\r])\p{Cc}/u, `${label}: raw control characters in the answer`);
}

// ---------------------------------------------------------------- fixtures

async function launched(body: Obj = {}): Promise<Instance> {
  const res = await send('POST', '/v1/instances', {
    body: { provider: 'sim-east', name: 'target', flavorId: 'sim-east:sim.small', imageId: 'img-ubuntu-22-04', ...body },
  });
  assert.equal(res.status, 202, res.text);
  const op = await gw.waitOperation(res.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
  return (await send('GET', `/v1/instances/${enc(String(op.result?.resourceId))}`)).body as Instance;
}

async function token(role: 'viewer' | 'operator'): Promise<string> {
  const res = await send('POST', '/v1/tokens', { body: { name: `hostile ${role}`, role } });
  assert.equal(res.status, 201, res.text);
  return res.body.token as string;
}

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'skygate-hostile-'));
  // A data directory an operator made with the usual umask: the gateway must close it.
  const dataDir = path.join(root, 'data');
  await mkdir(dataDir, { mode: 0o755 });
  gw = await startTestGateway({
    dataDir,
    providers: simProviders(1),
    env: { SKYGATE_VIRTUAL_SIZE_MAX_BYTES: String(GiB), SKYGATE_UPLOAD_MAX_BYTES: String(64 * 2 ** 20) },
  });
  const key = await send('POST', '/v1/access-keys', { body: { name: 'hostile ec2' } });
  assert.equal(key.status, 201, key.text);
  ec2Creds = { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey };
});
after(async () => {
  await gw.close();
  await rm(root, { recursive: true, force: true });
});

// ---------------------------------------------------------------- the corpus

describe('the REST corpus, from the spec', () => {
  const operations = specOperations().filter((o) => !['/healthz', '/readyz', '/metrics'].includes(o.template));

  it('covers every operation of the spec', () => {
    assert.ok(operations.length >= 60, `${operations.length} operations`);
    // Some 500 requests today; the count only grows with the spec.
    assert.ok(operations.reduce((n, o) => n + casesFor(o).length, 0) >= 450);
    // At least the unknown query parameter; one case per parameter and body field besides.
    for (const o of operations) {
      const fields =
        o.params.length +
        Object.keys(resolve(resolve(resolve(o.op.requestBody).content as Obj)?.['application/json'] as Obj)?.schema ?? {}).length;
      assert.ok(casesFor(o).length >= 1 + fields, `${o.method} ${o.template}: too few cases`);
    }
  });

  for (const o of operations) {
    it(`${o.method} ${o.template}: every bad input is a 4xx naming its field, and writes nothing`, async () => {
      const cases = casesFor(o);
      await writesNothing(`${o.method} ${o.template}`, async () => {
        for (const c of cases) {
          const res = await send(c.method, c.url, { body: c.body, rawBody: c.rawBody, headers: c.headers });
          assertNames(res, c.field, c.label);
        }
      });
    });
  }
});

describe('the EC2 corpus', () => {
  it('every action refuses an unknown parameter and a hostile value in each of its parameters, with no 5xx and nothing written', async () => {
    const actions = Object.entries(ACTIONS);
    assert.ok(actions.length >= 30, `${actions.length} actions`);
    const accepted: string[] = [];
    await writesNothing('EC2 actions', async () => {
      for (const [action, def] of actions) {
        assertEc2Error(await ec2({ Action: action, Hostile: '1' }), ['UnknownParameter'], `${action} Hostile=1`);
        for (const param of def.params) {
          // Control characters and 300 characters: no EC2 id, name, number, flag or token looks like this.
          const res = await ec2({ Action: action, [param]: `${HOSTILE}${'x'.repeat(300)}` });
          const label = `${action} ${param}: ${res.status} ${res.text.slice(0, 300)}`;
          assert.ok(res.status < 500, label);
          if (res.status >= 400 && res.code !== undefined) continue;
          // A read may treat an odd filter value as matching nothing, and EC2's DeleteKeyPair answers true for a
          // key that does not exist; anything else must refuse.
          if (!/^Describe/.test(action) && action !== 'DeleteKeyPair') accepted.push(label);
          else if (res.status >= 400) assert.ok(res.code !== undefined, label);
        }
      }
    });
    assert.deepEqual(accepted, [], 'hostile values accepted');
  });

  const BAD: Array<[string, Record<string, string>, string[]]> = [
    ['no Action', {}, ['MissingAction']],
    ['an unknown action', { Action: 'LaunchMissiles' }, ['InvalidAction']],
    ['RunInstances without ImageId', { Action: 'RunInstances', MinCount: '1', MaxCount: '1' }, ['MissingParameter']],
    [
      'RunInstances with MinCount=0',
      { Action: 'RunInstances', ImageId: 'ami-00000000', MinCount: '0', MaxCount: '1' },
      ['InvalidParameterValue'],
    ],
    [
      'RunInstances with MaxCount=abc',
      { Action: 'RunInstances', ImageId: 'ami-00000000', MinCount: '1', MaxCount: 'abc' },
      ['InvalidParameterValue'],
    ],
    [
      'DescribeInstances with a malformed id',
      { Action: 'DescribeInstances', 'InstanceId.1': 'garbage' },
      ['InvalidInstanceID.Malformed'],
    ],
    ['DescribeInstances with MaxResults=1', { Action: 'DescribeInstances', MaxResults: '1' }, ['InvalidParameterValue']],
    [
      'DescribeInstances with NextToken=garbage',
      { Action: 'DescribeInstances', NextToken: 'garbage' },
      ['InvalidPaginationToken'],
    ],
    [
      'DescribeInstances with an unknown filter',
      { Action: 'DescribeInstances', 'Filter.1.Name': 'bogus', 'Filter.1.Value.1': 'x' },
      ['InvalidParameterValue'],
    ],
    [
      'StopInstances of an instance that does not exist',
      { Action: 'StopInstances', 'InstanceId.1': 'i-0123456789abcdef0' },
      ['InvalidInstanceID.NotFound'],
    ],
    [
      'CreateVolume of size -1',
      { Action: 'CreateVolume', Size: '-1', AvailabilityZone: 'sim-east-a' },
      ['InvalidParameterValue'],
    ],
    [
      'CreateVolume with a control character in its Name tag',
      {
        Action: 'CreateVolume',
        Size: '1',
        AvailabilityZone: 'sim-east-a',
        'TagSpecification.1.ResourceType': 'volume',
        'TagSpecification.1.Tag.1.Key': 'Name',
        'TagSpecification.1.Tag.1.Value': 'v\u001bx',
      },
      ['InvalidParameterValue'],
    ],
    [
      'ImportKeyPair with a control character in its name',
      { Action: 'ImportKeyPair', KeyName: 'k\u001b', PublicKeyMaterial: Buffer.from('ssh-ed25519 AAAA').toString('base64') },
      ['InvalidParameterValue'],
    ],
    [
      'ImportKeyPair with bad key material',
      { Action: 'ImportKeyPair', KeyName: 'k', PublicKeyMaterial: Buffer.from('not a key').toString('base64') },
      ['InvalidKeyPair.Format', 'InvalidKey.Format'],
    ],
    ['DeleteKeyPair without a name', { Action: 'DeleteKeyPair' }, ['MissingParameter']],
    [
      'AttachVolume of volumes that do not exist',
      { Action: 'AttachVolume', VolumeId: 'vol-0123456789abcdef0', InstanceId: 'i-0123456789abcdef0', Device: '/dev/sdf' },
      ['InvalidVolume.NotFound', 'InvalidInstanceID.NotFound'],
    ],
  ];
  for (const [label, params, codes] of BAD) {
    it(`${label}: ${codes.join(' or ')}, nothing written`, async () => {
      await writesNothing(label, async () => assertEc2Error(await ec2(params), codes, label));
    });
  }
});

// ---------------------------------------------------------------- issue 11's findings, one by one

describe('attach: the device is checked before any operation', () => {
  it('a device of ../../../etc/passwd is 400 naming body.device over REST, InvalidParameterValue over EC2; /dev/sdg attaches', async () => {
    const instance = await launched({ name: 'attach-host', tags: { Name: 'attach-host' } });
    const vol = await send('POST', '/v1/volumes', {
      body: { provider: 'sim-east', name: 'attach-data', sizeGiB: 1, zone: instance.zone, tags: { Name: 'attach-data' } },
    });
    assert.equal(vol.status, 202, vol.text);
    const volumeId = String((await gw.waitOperation(vol.body.id)).result?.resourceId);
    const attach = `/v1/volumes/${enc(volumeId)}/attach`;
    for (const device of ['../../../etc/passwd', '/dev/sda', '/dev/sdf1', '/dev/nvme1n1']) {
      await writesNothing(`attach as ${device}`, async () => {
        const p = assertNames(await send('POST', attach, { body: { instanceId: instance.id, device } }), 'body.device', device);
        assert.match(p.detail, /\/dev\/sd\[b-z\]/);
      });
    }
    const byName = { 'Filter.1.Name': 'tag:Name', 'Filter.1.Value.1': 'attach-data' };
    const volEc2 = /<volumeId>(vol-[0-9a-f]+)<\/volumeId>/.exec((await ec2({ Action: 'DescribeVolumes', ...byName })).text)?.[1];
    const instEc2 = /<instanceId>(i-[0-9a-f]+)<\/instanceId>/.exec(
      (await ec2({ Action: 'DescribeInstances', 'Filter.1.Name': 'tag:Name', 'Filter.1.Value.1': 'attach-host' })).text,
    )?.[1];
    assert.ok(volEc2 && instEc2, `${volEc2} ${instEc2}`);
    await writesNothing('EC2 attach', async () => {
      const res = await ec2({ Action: 'AttachVolume', VolumeId: volEc2, InstanceId: instEc2, Device: '../../../etc/passwd' });
      assertEc2Error(res, ['InvalidParameterValue'], 'EC2 AttachVolume');
    });
    const ok = await send('POST', attach, { body: { instanceId: instance.id, device: '/dev/sdg' } });
    assert.equal(ok.status, 202, ok.text);
    assert.equal((await gw.waitOperation(ok.body.id)).status, 'succeeded');
  });
});

describe('secrets: user data is for operators, and the data directory for the gateway alone', () => {
  const SECRET = '#cloud-config\npassword: hunter2-hostile';

  it('a viewer reads operations without the user data; an operator reads it', async () => {
    const instance = await launched({ name: 'secretive', userData: SECRET });
    const viewer = await token('viewer');
    const operator = await token('operator');
    const list = await send('GET', '/v1/operations?kind=instance.create&limit=1000', { token: viewer });
    assert.equal(list.status, 200);
    const mine = (list.body.items as Operation[]).find((o) => o.result?.resourceId === instance.id);
    assert.ok(mine, 'the launch is listed');
    assert.ok(!JSON.stringify(list.body).includes('hunter2'), 'the list shows user data to a viewer');
    const one = await send('GET', `/v1/operations/${mine.id}`, { token: viewer });
    assert.ok(!one.text.includes('hunter2'), 'the operation shows user data to a viewer');
    assert.equal(one.body.input.userData, '[redacted]');
    assert.equal(one.body.input.name, 'secretive', 'what is not secret is still shown');
    const asOperator = await send('GET', `/v1/operations/${mine.id}`, { token: operator });
    assert.equal(asOperator.body.input.userData, SECRET);
  });

  it('the data directory is 0700 and the database with its -wal and -shm files 0600', async () => {
    const mode = async (p: string) => ((await stat(p)).mode & 0o777).toString(8);
    assert.equal(await mode(gw.dataDir), '700');
    for (const f of ['skygate.db', 'skygate.db-wal', 'skygate.db-shm'])
      assert.equal(await mode(path.join(gw.dataDir, f)), '600', f);
  });
});

describe('names: control characters are refused everywhere a name is given', () => {
  const NAMES: Array<[string, string]> = [
    ['NUL', 'a\u0000b'],
    ['ESC', 'a\u001b[2Jb'],
    ['CR', 'a\rb'],
    ['LF', 'a\nb'],
    ['a lone surrogate', 'a\ud800b'],
    ['a right-to-left override', 'a\u202eb'],
  ];

  it('every REST body and query field that takes a name refuses them, naming the field', async () => {
    const routes: Array<[string, string, (name: string) => Obj]> = [
      ['POST', '/v1/instances', (name) => ({ provider: 'sim-east', name, flavorId: 'sim.small', imageId: 'img-ubuntu-22-04' })],
      ['POST', '/v1/volumes', (name) => ({ provider: 'sim-east', name, sizeGiB: 1 })],
      ['POST', '/v1/snapshots', (name) => ({ volumeId: 'sim-east:vol-1', name })],
      ['POST', `/v1/instances/${enc('sim-east:i-1')}/snapshot`, (name) => ({ name })],
      ['POST', '/v1/images/import', (name) => ({ provider: 'sim-west', url: 'http://127.0.0.1/x.ova', name })],
      ['POST', '/v1/tokens', (name) => ({ name, role: 'viewer' })],
      ['POST', '/v1/access-keys', (name) => ({ name })],
      ['POST', '/v1/providers/sim-east/key-pairs', (name) => ({ name })],
    ];
    await writesNothing('names', async () => {
      for (const [label, name] of NAMES) {
        for (const [method, url, body] of routes) {
          assertNames(await send(method, url, { body: body(name) }), 'body.name', `${method} ${url} with ${label}`);
        }
        // A lone surrogate cannot travel in a URL at all (UTF-8 has no encoding for it).
        if (!/\p{Cs}/u.test(name)) {
          assertNames(await send('GET', `/v1/instances?name=${enc(name)}`), 'query.name', `name filter with ${label}`);
        }
      }
    });
  });

  it('over EC2 too: a Name tag at launch, a snapshot description', async () => {
    const image = /<imageId>(ami-[0-9a-f]+)<\/imageId>/.exec(
      (await ec2({ Action: 'DescribeImages', 'Owner.1': 'self' })).text,
    )?.[1];
    assert.ok(image);
    await writesNothing('EC2 names', async () => {
      for (const [label, name] of NAMES.filter(([l]) => l !== 'a lone surrogate')) {
        const run = await ec2({
          Action: 'RunInstances',
          ImageId: image,
          MinCount: '1',
          MaxCount: '1',
          'TagSpecification.1.ResourceType': 'instance',
          'TagSpecification.1.Tag.1.Key': 'Name',
          'TagSpecification.1.Tag.1.Value': name,
        });
        assertEc2Error(run, ['InvalidParameterValue'], `RunInstances Name with ${label}`);
      }
    });
  });
});

describe('cursors and since', () => {
  it('a cursor is refused on another collection, with other filters, or when made up, naming query.cursor', async () => {
    for (let i = 0; i < 3; i++) await launched({ name: `paged-${i}` });
    const page = await send('GET', '/v1/instances?provider=sim-east&limit=1');
    const cursor = page.body.nextCursor as string;
    assert.ok(cursor);
    assert.equal((await send('GET', `/v1/instances?provider=sim-east&limit=1&cursor=${cursor}`)).status, 200);
    await writesNothing('cursors', async () => {
      const other = assertNames(await send('GET', `/v1/images?provider=sim-east&cursor=${cursor}`), 'query.cursor', 'images');
      assert.match(other.detail, /issued for 'instances', not for 'images'/);
      const filtered = assertNames(
        await send('GET', `/v1/instances?provider=sim-west&cursor=${cursor}`),
        'query.cursor',
        'filters',
      );
      assert.match(filtered.detail, /other filters/);
      const ops = await send('GET', '/v1/operations?limit=1');
      const opCursor = ops.body.nextCursor as string;
      assert.ok(opCursor);
      assertNames(await send('GET', `/v1/operations?limit=1&status=failed&cursor=${opCursor}`), 'query.cursor', 'op filters');
      assertNames(await send('GET', `/v1/instances?cursor=${opCursor}`), 'query.cursor', 'an operations cursor on instances');
      const garbage = assertNames(await send('GET', '/v1/operations?cursor=garbage'), 'query.cursor', 'garbage');
      assert.match(garbage.detail, /^query\.cursor: is not a cursor this API issued/);
      assert.match(garbage.detail, /^[\x20-\x7e]+$/, 'a readable reason');
    });
    const next = await send(
      'GET',
      `/v1/operations?limit=1&cursor=${(await send('GET', '/v1/operations?limit=1')).body.nextCursor}`,
    );
    assert.equal(next.status, 200, next.text);
    assert.equal(next.body.items.length, 1);
  });

  it('since must be a safe integer', async () => {
    await writesNothing('since', async () => {
      for (const since of ['1e309', '9007199254740992', '-1', '1.5']) {
        assertNames(await send('GET', `/v1/events/recent?since=${since}`), 'query.since', `since=${since}`);
      }
    });
    assert.equal((await send('GET', '/v1/events/recent?since=9007199254740991')).status, 200);
  });
});

describe('disks out of bounds, refused before any work', () => {
  async function upload(ova: Buffer): Promise<request.Response> {
    const url = '/v1/images/import?provider=sim-west';
    const res = await request(gw.url)
      .post(url)
      .timeout({ response: 30_000, deadline: 60_000 })
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .set('Content-Type', 'application/x-tar')
      .send(ova);
    assertMatchesSpec('POST', url, res);
    return res;
  }

  async function ovaOf(disk: Buffer, name: string, edit: (ovf: string) => string = (x) => x): Promise<Buffer> {
    const ovf = edit(
      buildDescriptor({
        version: '1.0',
        name: 'crafted',
        vcpus: 1,
        memoryMiB: 512,
        disk: {
          href: name,
          sizeBytes: disk.length,
          capacityBytes: 512 * 2 ** 20,
          format: name.endsWith('qcow2') ? 'qcow2' : 'raw',
        },
        product: { product: 'crafted', vendor: 'test' },
      }),
    );
    return tarOf([
      { name: 'crafted.ovf', data: ovf },
      { name: 'crafted.mf', data: `SHA256(crafted.ovf)= ${sha256(ovf)}\nSHA256(${name})= ${sha256(disk)}\n` },
      { name, data: disk },
    ]);
  }

  it('a small qcow2 claiming 8 GiB is refused over the 1 GiB cap, naming the disk, with no operation and no file left', async () => {
    const qcow = path.join(root, 'claims-8g.qcow2');
    await run('qemu-img', ['create', '-f', 'qcow2', qcow, '8G']);
    const ova = await ovaOf(await readFile(qcow), 'crafted-disk1.qcow2');
    await writesNothing('8 GiB qcow2', async () => {
      const p = assertNames(await upload(ova), 'package.crafted-disk1.qcow2', 'qcow2 over the cap');
      assert.match(p.detail, /virtual size of 8589934592 bytes .* more than the 1073741824 bytes an import accepts/);
    });
    assert.deepEqual(await readdir(path.join(gw.dataDir, 'tmp')).catch(() => []), []);
  });

  it('a capacity × units that overflows is refused naming the disk', async () => {
    const ova = await ovaOf(Buffer.alloc(4096), 'crafted-disk1.img', (ovf) =>
      ovf.replace(
        /ovf:capacity="\d+" ovf:capacityAllocationUnits="byte"/,
        'ovf:capacity="4500000000000000" ovf:capacityAllocationUnits="byte * 2^40"',
      ),
    );
    await writesNothing('overflowing capacity', async () => {
      assertNames(await upload(ova), 'descriptor.DiskSection.Disk[vmdisk1].capacity', 'capacity overflow');
    });
  });
});

describe("the lead's fixes, kept in the corpus", () => {
  it('51 tags and an unknown keyName are refused before any operation', async () => {
    const tags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    const base = { provider: 'sim-east', name: 'lead', flavorId: 'sim.small', imageId: 'img-ubuntu-22-04' };
    await writesNothing('lead fixes', async () => {
      assertNames(await send('POST', '/v1/instances', { body: { ...base, tags } }), 'body.tags', '51 tags');
      assertNames(await send('POST', '/v1/instances', { body: { ...base, keyName: 'no-such-key' } }), 'body.keyName', 'keyName');
    });
  });
});
