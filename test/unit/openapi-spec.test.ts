/** The OpenAPI spec is well-formed, matches the core model, and its validator accepts and rejects what it should. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ERROR_CODES, SkygateError, type SerializedError } from '../../src/core/errors.js';
import type {
  Capabilities,
  Flavor,
  Image,
  Instance,
  Operation,
  OperationStep,
  Provider,
  ProviderHealth,
  Snapshot,
  SkygateEvent,
  Volume,
} from '../../src/core/model.js';
import type { ApiToken, KeyPair } from '../../src/core/store-port.js';
import type { CreatedNetwork, DefaultNetwork } from '../../src/core/services/network-service.js';
import type { components } from '../../src/api/rest/openapi-types.js';
import {
  allowedMethods,
  matchOperation,
  openApiDocument,
  validateRequest,
  validateResponse,
} from '../../src/api/rest/openapi-validator.js';

// ---------------------------------------------------------------- compile-time drift checks
// tsx strips types, so these bite under `tsc --noEmit`: the generated schema types must be the model's shapes,
// same keys and same optionality (mutual assignability alone would miss an extra optional key).
type Same<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [keyof A] extends [keyof B]
      ? [keyof B] extends [keyof A]
        ? true
        : false
      : false
    : false
  : false;
type S = components['schemas'];
const same = <T extends true>(): T | undefined => undefined;
same<Same<S['Instance'], Instance>>();
same<Same<S['Image'], Image>>();
same<Same<S['Snapshot'], Snapshot>>();
same<Same<S['Volume'], Volume>>();
same<Same<S['Flavor'], Flavor>>();
same<Same<S['Provider'], Provider>>();
same<Same<S['ProviderHealth'], ProviderHealth>>();
same<Same<S['Capabilities'], Capabilities>>();
same<Same<S['Operation'], Omit<Operation, 'state'>>>();
same<Same<S['OperationStep'], OperationStep>>();
same<Same<S['OperationError'], SerializedError>>();
same<Same<S['SkygateEvent'], SkygateEvent>>();
same<Same<S['ApiToken'], ApiToken>>();
same<Same<S['KeyPair'], KeyPair>>();
same<Same<S['DefaultNetwork'], DefaultNetwork>>();
same<Same<S['Network'], CreatedNetwork>>();

// ---------------------------------------------------------------- helpers

type Obj = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

function operations(): Array<{ path: string; method: string; op: Obj }> {
  const out: Array<{ path: string; method: string; op: Obj }> = [];
  for (const [path, item] of Object.entries(openApiDocument().paths)) {
    for (const method of METHODS) if (item[method]) out.push({ path, method, op: item[method] as Obj });
  }
  return out;
}

function resolvePointer(ref: string): unknown {
  let node: unknown = openApiDocument();
  for (const raw of ref.slice(2).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(part in node)) return undefined;
    node = (node as Obj)[part];
  }
  return node;
}

/** Runs `fn`, which must throw invalid_input; answers its per-field errors. */
function invalidFields(fn: () => unknown): Array<{ field: string; reason: string }> {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SkygateError, `expected a SkygateError, got ${String(e)}`);
    assert.equal(e.code, 'invalid_input');
    assert.ok(e.errors && e.errors.length > 0, 'errors lists the fields');
    assert.equal(e.field, e.errors[0]?.field);
    return e.errors;
  }
  assert.fail('expected invalid_input');
}

const goodInstanceBody = {
  provider: 'sim',
  name: 'web-1',
  flavorId: 'sim:m1.small',
  imageId: 'img-ubuntu-24.04',
  zone: 'sim-a',
  tags: { env: 'prod' },
  userData: '#cloud-config\n',
  keyName: 'ops',
};
const json = { 'content-type': 'application/json' };
const createInstance = (body: unknown, headers: Obj = json) =>
  validateRequest({ method: 'POST', path: '/v1/instances', headers: headers as Record<string, string>, body });
const listInstances = (query: Obj) => validateRequest({ method: 'GET', path: '/v1/instances', query });

const now = '2025-06-01T12:00:00.000Z';
const sampleInstance: Instance = {
  id: 'sim:i-0001',
  provider: 'sim',
  nativeId: 'i-0001',
  observedAt: now,
  freshness: 'fresh',
  name: 'web-1',
  state: 'running',
  flavorId: 'sim:m1.small',
  imageId: 'sim:img-ubuntu',
  zone: 'sim-a',
  privateIp: '10.0.0.5',
  tags: { env: 'prod' },
  createdAt: now,
};
const samplePage = {
  items: [sampleInstance],
  nextCursor: 'c2ltOmktMDAwMQ',
  providers: [
    { id: 'sim', status: 'fresh', observedAt: now },
    { id: 'aws-east', status: 'stale', observedAt: now, error: 'connect ETIMEDOUT' },
  ],
};
const sampleOperation = {
  id: 'op-01J0000000',
  kind: 'instance.create',
  status: 'pending',
  progress: 0,
  provider: 'sim',
  input: { name: 'web-1' },
  steps: [{ name: 'create', status: 'pending' }],
  createdAt: now,
  updatedAt: now,
  attempts: 0,
};

// ---------------------------------------------------------------- the document

describe('openapi.yaml', () => {
  test('parses as OpenAPI 3.1 and explains auth and idempotency', () => {
    const doc = openApiDocument();
    assert.equal(doc.openapi, '3.1.0');
    const description = String(doc.info.description);
    assert.match(description, /Bearer/);
    assert.match(description, /Idempotency-Key/);
    assert.ok(Object.keys(doc.paths).length >= 30);
  });

  test('every operation has a unique operationId, a summary, a description and responses', () => {
    const ids = new Set<string>();
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.equal(typeof op.operationId, 'string', `${where}: operationId`);
      assert.ok(!ids.has(op.operationId as string), `${where}: duplicate operationId ${String(op.operationId)}`);
      ids.add(op.operationId as string);
      assert.ok(typeof op.summary === 'string' && op.summary.length > 0, `${where}: summary`);
      assert.ok(typeof op.description === 'string' && op.description.length > 0, `${where}: description`);
      assert.ok(op.responses && Object.keys(op.responses).length > 0, `${where}: responses`);
    }
  });

  test('the API needs a bearer token and documents 401/403; the probes are open', () => {
    const doc = openApiDocument();
    assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      const responses = op.responses as Obj;
      if (PROBES.has(path)) {
        assert.deepEqual(op.security, [], `${where}: open`);
      } else {
        assert.equal(op.security, undefined, `${where}: inherits bearer auth`);
        assert.ok(['viewer', 'operator', 'admin'].includes(op['x-required-role'] as string), `${where}: x-required-role`);
        assert.ok(responses['401'] && responses['403'], `${where}: 401 and 403`);
      }
      if (op.requestBody) assert.ok(responses['400'] && responses['415'], `${where}: 400 and 415 with a body`);
    }
  });

  test('every 202 answers an Operation with a Location header', () => {
    for (const { path, method, op } of operations()) {
      const accepted = (op.responses as Obj)['202'] as Obj | undefined;
      if (accepted) assert.equal(accepted.$ref, '#/components/responses/OperationAccepted', `${method} ${path}`);
    }
    const accepted = resolvePointer('#/components/responses/OperationAccepted') as Obj;
    assert.ok((accepted.headers as Obj).Location);
  });

  test('every $ref resolves', () => {
    const broken: string[] = [];
    let count = 0;
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => {
          walk(n, `${at}/${i}`);
        });
        return;
      }
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') {
          count++;
          if (!value.startsWith('#/') || resolvePointer(value) === undefined) broken.push(`${at}: ${value}`);
        } else {
          walk(value, `${at}/${key}`);
        }
      }
    };
    walk(openApiDocument(), '');
    assert.ok(count > 100, `found ${count} refs`);
    assert.deepEqual(broken, []);
  });

  test('every component schema is valid JSON Schema 2020-12', () => {
    const ajv = new Ajv2020({ strict: false });
    for (const [name, schema] of Object.entries((openApiDocument().components as Obj).schemas as Obj)) {
      assert.ok(ajv.validateSchema(schema as object), `${name}: ${ajv.errorsText(ajv.errors)}`);
    }
  });

  test('request bodies and resources reject unknown fields', () => {
    const schemas = (openApiDocument().components as Obj).schemas as Record<string, Obj>;
    const closed = Object.keys(schemas).filter((n) => /Request$|Update$/.test(n));
    closed.push('Instance', 'Image', 'Snapshot', 'Volume', 'Flavor', 'Provider', 'Operation', 'Problem');
    for (const name of closed) assert.equal(schemas[name]?.additionalProperties, false, name);
  });

  test('every example of a request or response body matches its schema', () => {
    let checked = 0;
    for (const { path, method, op } of operations()) {
      const item = openApiDocument().paths[path] as Obj;
      const params = [...((item.parameters as Obj[]) ?? []), ...((op.parameters as Obj[]) ?? [])].map(
        (p) => (typeof p.$ref === 'string' ? resolvePointer(p.$ref) : p) as Obj,
      );
      // A concrete path from the examples of its parameters' schemas.
      const concrete = () =>
        path.replace(/\{([^}]+)\}/g, (_, name: string) => {
          const param = params.find((p) => p.name === name && p.in === 'path');
          const schema = param?.schema as Obj | undefined;
          const resolved = (typeof schema?.$ref === 'string' ? resolvePointer(schema.$ref) : schema) as Obj | undefined;
          const example = (resolved?.examples as unknown[] | undefined)?.[0];
          assert.ok(example !== undefined, `${method} ${path}: path parameter ${name} needs a schema example`);
          return encodeURIComponent(String(example));
        });
      const requestBody = op.requestBody as Obj | undefined;
      for (const [media, entry] of Object.entries((requestBody?.content as Obj) ?? {})) {
        for (const [name, example] of Object.entries(((entry as Obj).examples as Obj) ?? {})) {
          const body = (example as Obj).value;
          assert.doesNotThrow(
            () => validateRequest({ method, path: concrete(), headers: { 'content-type': media }, body }),
            `${method} ${path} request example ${name}`,
          );
          checked++;
        }
      }
      for (const [status, raw] of Object.entries(op.responses as Obj)) {
        const response = (typeof (raw as Obj).$ref === 'string' ? resolvePointer((raw as Obj).$ref as string) : raw) as Obj;
        for (const [media, entry] of Object.entries((response.content as Obj) ?? {})) {
          for (const [name, example] of Object.entries(((entry as Obj).examples as Obj) ?? {})) {
            const problems = validateResponse(method, concrete(), Number(status), media, (example as Obj).value);
            assert.deepEqual(problems, [], `${method} ${path} ${status} example ${name}`);
            checked++;
          }
        }
      }
    }
    assert.ok(checked >= 10, `checked ${checked} examples`);
  });

  test('the error codes are those of errors.ts, each with its problem type', () => {
    const codes = (resolvePointer('#/components/schemas/ErrorCode') as Obj).enum as string[];
    assert.deepEqual([...codes].sort(), Object.keys(ERROR_CODES).sort());
    const problem = resolvePointer('#/components/schemas/Problem') as Obj;
    for (const code of codes) assert.ok(String(problem.description).includes(code.replace(/_/g, '-')), code);
  });
});

// ---------------------------------------------------------------- routing

describe('matchOperation', () => {
  test('matches templates with one URL-encoded segment per parameter', () => {
    assert.deepEqual(matchOperation('GET', '/v1/instances/sim%3Ai-0001'), {
      operationId: 'getInstance',
      pathParams: { id: 'sim:i-0001' },
      template: '/v1/instances/{id}',
      requiredRole: 'viewer',
    });
    assert.equal(matchOperation('post', '/v1/instances/sim:i-1/reboot?x=1')?.operationId, 'rebootInstance');
    assert.equal(matchOperation('GET', '/v1/events/recent')?.operationId, 'listRecentEvents');
    assert.equal(matchOperation('GET', '/healthz')?.requiredRole, undefined);
    assert.equal(matchOperation('PUT', '/v1/admin/providers/sim/faults')?.requiredRole, 'admin');
    // Reading tags and attributes is for viewers; changing them, and reading user data, for operators.
    for (const kind of ['instances', 'images', 'volumes', 'snapshots']) {
      assert.equal(matchOperation('GET', `/v1/${kind}/sim:x-1/tags`)?.requiredRole, 'viewer');
      assert.equal(matchOperation('PUT', `/v1/${kind}/sim:x-1/tags`)?.requiredRole, 'operator');
      assert.equal(matchOperation('PATCH', `/v1/${kind}/sim:x-1/tags`)?.requiredRole, 'operator');
    }
    assert.equal(matchOperation('GET', '/v1/instances/sim:i-1/attributes')?.requiredRole, 'viewer');
    assert.equal(matchOperation('PATCH', '/v1/instances/sim:i-1/attributes')?.requiredRole, 'operator');
    assert.equal(matchOperation('GET', '/v1/instances/sim:i-1/attributes/user-data')?.requiredRole, 'operator');
    assert.deepEqual(matchOperation('DELETE', '/v1/providers/sim/key-pairs/my%20key%2F1')?.pathParams, {
      providerId: 'sim',
      keyName: 'my key/1',
    });
    assert.equal(matchOperation('POST', '/v1/providers/sim/key-pairs')?.requiredRole, 'operator');
    assert.equal(matchOperation('GET', '/v1/providers/sim/network')?.requiredRole, 'viewer');
  });

  test('answers undefined for unknown paths, extra segments and undocumented methods', () => {
    assert.equal(matchOperation('GET', '/v1/nothing'), undefined);
    assert.equal(matchOperation('GET', '/v1/instances/a/b/c'), undefined);
    assert.equal(matchOperation('PATCH', '/v1/instances/sim:i-1'), undefined);
    assert.deepEqual(allowedMethods('/v1/instances/sim:i-1').sort(), ['DELETE', 'GET']);
  });
});

// ---------------------------------------------------------------- requests

describe('validateRequest', () => {
  test('accepts a good create-instance body', () => {
    const out = createInstance(goodInstanceBody, { ...json, 'idempotency-key': 'retry-1' });
    assert.equal(out.operationId, 'createInstance');
    assert.deepEqual(out.headers, { 'idempotency-key': 'retry-1' });
    createInstance({ provider: 'sim', name: 'x', flavorId: 'm1', imageId: 'sim:img-1' });
  });

  test('takes the launch fields count, disableApiTermination and securityGroups, within their bounds', () => {
    createInstance({ ...goodInstanceBody, count: 100, disableApiTermination: true, securityGroups: ['sim:sg-1', 'sg-2'] });
    const reasons = (body: Obj) => invalidFields(() => createInstance({ ...goodInstanceBody, ...body }));
    assert.deepEqual(reasons({ count: 0 }), [{ field: 'body.count', reason: 'must be >= 1' }]);
    assert.deepEqual(reasons({ count: 101 }), [{ field: 'body.count', reason: 'must be <= 100' }]);
    assert.deepEqual(reasons({ count: 1.5 }), [{ field: 'body.count', reason: 'must be integer' }]);
    assert.deepEqual(reasons({ disableApiTermination: 'yes' }), [
      { field: 'body.disableApiTermination', reason: 'must be boolean' },
    ]);
    assert.equal(reasons({ securityGroups: [] })[0]?.field, 'body.securityGroups');
    assert.equal(reasons({ securityGroups: ['a b'] })[0]?.field, 'body.securityGroups[0]');
    assert.equal(reasons({ securityGroups: ['sg-1', 'sg-1'] })[0]?.field, 'body.securityGroups');
  });

  test('tag bodies: PUT takes strings, PATCH strings or null; keys are 1 to 128 characters, not aws:', () => {
    const tags = (method: 'PUT' | 'PATCH', body: unknown) =>
      validateRequest({ method, path: '/v1/volumes/sim%3Avol-1/tags', headers: json, body });
    tags('PUT', { tags: { env: 'prod' } });
    tags('PUT', { tags: {} });
    tags('PATCH', { tags: { env: 'prod', old: null } });
    assert.deepEqual(
      invalidFields(() => tags('PUT', { tags: { old: null } })),
      [{ field: 'body.tags.old', reason: 'must be string' }],
    );
    assert.deepEqual(
      invalidFields(() => tags('PATCH', { tags: { 'aws:cloudformation:stack': 'x' } })),
      [
        {
          field: 'body.tags.aws:cloudformation:stack',
          reason: 'key must be 1 to 128 characters, not starting with aws: (reserved)',
        },
      ],
    );
    assert.deepEqual(
      invalidFields(() => tags('PUT', { tags: { '': 'x' } })),
      [{ field: 'body.tags[""]', reason: 'key must not be empty' }],
    );
    assert.deepEqual(
      invalidFields(() => tags('PUT', { tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) })),
      [{ field: 'body.tags', reason: 'must have at most 50 entries' }],
    );
    assert.deepEqual(
      invalidFields(() => tags('PATCH', { set: { a: 'b' } }))
        .map((e) => e.field)
        .sort(),
      ['body.set', 'body.tags'],
    );
  });

  test('rejects an unknown field', () => {
    assert.deepEqual(
      invalidFields(() => createInstance({ ...goodInstanceBody, colour: 'blue' })),
      [{ field: 'body.colour', reason: 'unknown field' }],
    );
  });

  test('rejects a wrong type', () => {
    assert.deepEqual(
      invalidFields(() => createInstance({ ...goodInstanceBody, name: 42 })),
      [{ field: 'body.name', reason: 'must be string' }],
    );
    const tags = invalidFields(() => createInstance({ ...goodInstanceBody, tags: { env: 1 } }));
    assert.deepEqual(tags, [{ field: 'body.tags.env', reason: 'must be string' }]);
  });

  test('rejects a missing field and a missing body', () => {
    const { imageId: _omitted, ...noImage } = goodInstanceBody;
    assert.deepEqual(
      invalidFields(() => createInstance(noImage)),
      [{ field: 'body.imageId', reason: 'is required' }],
    );
    assert.deepEqual(
      invalidFields(() => createInstance(undefined)),
      [{ field: 'body', reason: 'is required' }],
    );
    assert.deepEqual(
      invalidFields(() => createInstance(undefined, { 'content-type': 'text/plain' })),
      [{ field: 'header.content-type', reason: 'must be application/json' }],
    );
  });

  test('reports every problem at once', () => {
    const errors = invalidFields(() => createInstance({ provider: 'Not_A_Provider', name: '', flavorId: 'x', extra: 1 }));
    assert.deepEqual(errors.map((e) => e.field).sort(), ['body.extra', 'body.imageId', 'body.name', 'body.provider']);
  });

  test('rejects a bad id pattern, in the path and in the body', () => {
    for (const path of ['/v1/instances/no-colon', '/v1/instances/sim%3Aa%2Fb', '/v1/instances/Sim%3Ai-1']) {
      const [error] = invalidFields(() => validateRequest({ method: 'GET', path }));
      assert.equal(error?.field, 'path.id');
      assert.match(error?.reason ?? '', /skygate id/);
    }
    assert.equal(invalidFields(() => createInstance({ ...goodInstanceBody, flavorId: 'a b' }))[0]?.field, 'body.flavorId');
    const snapshot = { volumeId: 'vol-1', name: 's' }; // no provider in the body, so a full id is required
    const [error] = invalidFields(() =>
      validateRequest({ method: 'POST', path: '/v1/snapshots', headers: json, body: snapshot }),
    );
    assert.equal(error?.field, 'body.volumeId');
  });

  test('rejects limit 0, 5000 and non-integers', () => {
    assert.deepEqual(
      invalidFields(() => listInstances({ limit: '0' })),
      [{ field: 'query.limit', reason: 'must be >= 1' }],
    );
    assert.deepEqual(
      invalidFields(() => listInstances({ limit: '5000' })),
      [{ field: 'query.limit', reason: 'must be <= 1000' }],
    );
    assert.deepEqual(
      invalidFields(() => listInstances({ limit: 'ten' })),
      [{ field: 'query.limit', reason: 'must be integer' }],
    );
  });

  test('coerces query parameters and fills defaults', () => {
    assert.deepEqual(listInstances({}).query, { limit: 100, fresh: false });
    const { query } = listInstances({ limit: '5', provider: ['sim', 'aws-east'], tag: 'env=prod', fresh: '', state: 'running' });
    assert.deepEqual(query, { limit: 5, provider: 'sim,aws-east', tag: ['env=prod'], fresh: true, state: 'running' });
    assert.deepEqual(listInstances({ tag: ['env=prod', 'team'], fresh: 'false' }).query.tag, ['env=prod', 'team']);
  });

  test('rejects unknown query parameters and bad filters', () => {
    assert.deepEqual(
      invalidFields(() => listInstances({ limt: '5' })),
      [{ field: 'query.limt', reason: 'unknown parameter' }],
    );
    assert.equal(invalidFields(() => listInstances({ state: 'asleep' }))[0]?.field, 'query.state');
    assert.equal(invalidFields(() => listInstances({ provider: 'sim,,x' }))[0]?.field, 'query.provider');
    const status = () => validateRequest({ method: 'GET', path: '/v1/operations', query: { status: 'pending,done' } });
    assert.equal(invalidFields(status)[0]?.field, 'query.status');
  });

  test('endpoints without a request body take nothing or {}', () => {
    const start = (body: unknown) => validateRequest({ method: 'POST', path: '/v1/instances/sim%3Ai-1/start', body });
    assert.deepEqual(start(undefined).params, { id: 'sim:i-1' });
    start({});
    assert.equal(invalidFields(() => start({ force: true }))[0]?.field, 'body');
  });

  test('an unknown endpoint is not_found', () => {
    assert.throws(
      () => validateRequest({ method: 'GET', path: '/v1/unknown' }),
      (e: unknown) => e instanceof SkygateError && e.code === 'not_found',
    );
  });
});

// ---------------------------------------------------------------- responses

describe('validateResponse', () => {
  test('accepts a sample Instance list page', () => {
    assert.deepEqual(validateResponse('GET', '/v1/instances?limit=1', 200, 'application/json; charset=utf-8', samplePage), []);
  });

  test('rejects a page with a missing field, an unknown field or a bad enum', () => {
    const { state: _omitted, ...noState } = sampleInstance;
    const problems = validateResponse('GET', '/v1/instances', 200, 'application/json', { ...samplePage, items: [noState] });
    assert.deepEqual(problems, ['listInstances 200: body.items[0].state: is required']);
    assert.equal(validateResponse('GET', '/v1/instances', 200, 'application/json', { items: [] }).length, 1);
    const leaked = { ...sampleOperation, state: { step: 1 } }; // the operation's internal scratch state must not leak
    assert.deepEqual(validateResponse('GET', '/v1/operations/op-1', 200, 'application/json', leaked), [
      'getOperation 200: body.state: unknown field',
    ]);
  });

  test('rejects undocumented statuses and content types', () => {
    assert.deepEqual(validateResponse('GET', '/v1/instances', 418, 'application/json', {}), [
      'listInstances 418: status 418 is not documented',
    ]);
    assert.equal(validateResponse('GET', '/v1/instances', 200, 'text/html', samplePage).length, 1);
  });

  test('an operation result may list resourceIds, each a skygate id', () => {
    const done = {
      ...sampleOperation,
      status: 'succeeded',
      result: { resourceId: 'sim:i-1', resourceIds: ['sim:i-1', 'sim:i-2'] },
    };
    assert.deepEqual(validateResponse('GET', '/v1/operations/op-1', 200, 'application/json', done), []);
    const bad = { ...done, result: { resourceIds: ['i-1'] } };
    assert.deepEqual(validateResponse('GET', '/v1/operations/op-1', 200, 'application/json', bad), [
      'getOperation 200: body.result.resourceIds[0]: must be a skygate id like "aws-east:i-0abc123"',
    ]);
  });

  test('checks 202 operations and their Location header', () => {
    const location = { location: `/v1/operations/${sampleOperation.id}` };
    assert.deepEqual(validateResponse('POST', '/v1/instances', 202, 'application/json', sampleOperation, location), []);
    assert.deepEqual(validateResponse('POST', '/v1/instances', 202, 'application/json', sampleOperation, {}), [
      'createInstance 202: header Location is missing',
    ]);
  });

  test('checks problems, empty bodies and non-JSON content', () => {
    const problem = {
      type: 'https://skygate.dev/problems/invalid-input',
      title: 'Invalid input',
      status: 400,
      detail: 'query.limit: must be >= 1',
      code: 'invalid_input',
      field: 'query.limit',
      errors: [{ field: 'query.limit', reason: 'must be >= 1' }],
    };
    assert.deepEqual(validateResponse('GET', '/v1/instances', 400, 'application/problem+json', problem), []);
    assert.equal(validateResponse('GET', '/v1/instances', 400, 'application/json', problem).length, 1);
    assert.equal(
      validateResponse('GET', '/v1/instances', 400, 'application/problem+json', { ...problem, code: 'nope' }).length,
      1,
    );
    assert.deepEqual(
      validateResponse('GET', '/v1/nowhere', 404, 'application/problem+json', { ...problem, status: 404, code: 'not_found' }),
      [],
    );
    assert.deepEqual(validateResponse('DELETE', '/v1/tokens/tok-1', 204, undefined, {}), []);
    assert.equal(validateResponse('DELETE', '/v1/tokens/tok-1', 204, 'application/json', { ok: true }).length, 1);
    assert.deepEqual(validateResponse('GET', '/metrics', 200, 'text/plain; version=0.0.4; charset=utf-8', '# HELP x\n'), []);
    assert.deepEqual(
      validateResponse('GET', '/readyz', 503, 'application/json', {
        status: 'unavailable',
        checks: { store: { status: 'failing', detail: 'SQLITE_BUSY' }, providers: { status: 'ok' } },
      }),
      [],
    );
  });
});
