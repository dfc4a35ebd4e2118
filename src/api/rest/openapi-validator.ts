/** Validates REST requests and responses against api-spec/openapi.yaml, so the spec and the server cannot drift apart. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { SkygateError, type Role } from '../../core/index.js';
import { HttpProblem } from './problem.js';

type Obj = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  info: Obj;
  paths: Record<string, Obj>;
  components?: Obj;
  [key: string]: unknown;
}

export interface OperationMatch {
  operationId: string;
  /** Path parameters, URL-decoded. */
  pathParams: Record<string, string>;
  /** The spec's path template, e.g. `/v1/instances/{id}`. */
  template: string;
  /** The role the spec asks for (`x-required-role`); absent on the open probes. */
  requiredRole?: Role;
}

export interface RequestInput {
  method: string;
  /** The request path as received (URL-encoded; a query string is ignored), e.g. `req.originalUrl`. */
  path: string;
  query?: Record<string, unknown>;
  headers?: Record<string, string | string[] | undefined>;
  body?: unknown;
  /** Whether the request carried body bytes (a parsed body may be empty because its type was not JSON). */
  bodySent?: boolean;
}

export interface ValidatedRequest {
  operationId: string;
  /** Path parameters, decoded and validated. */
  params: Record<string, string>;
  /** Query parameters coerced to their schema types, with defaults filled in. */
  query: Record<string, unknown>;
  /** The declared header parameters present, keyed by lower-case name. */
  headers: Record<string, unknown>;
}

export interface FieldError {
  field: string;
  reason: string;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;
// The key under which the whole document is registered with ajv, so every $ref can point into it.
const DOC_ID = 'skygate:openapi';

// ---------------------------------------------------------------- loading

// Two candidates because compiled output (dist/src/api/rest) sits one level deeper than the source.
const SPEC_CANDIDATES = ['../../../api-spec/openapi.yaml', '../../../../api-spec/openapi.yaml'];

let documentCache: OpenApiDocument | undefined;

/** The parsed spec, read from disk once. */
export function openApiDocument(): OpenApiDocument {
  if (documentCache) return documentCache;
  const file = SPEC_CANDIDATES.map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find((p) => existsSync(p));
  if (!file) throw new Error(`api-spec/openapi.yaml not found next to ${fileURLToPath(import.meta.url)}`);
  documentCache = parseYaml(readFileSync(file, 'utf8')) as OpenApiDocument;
  return documentCache;
}

// ---------------------------------------------------------------- JSON pointers and $ref

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapePointer = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');
const pointer = (...parts: Array<string | number>) => parts.map((p) => `/${escapePointer(String(p))}`).join('');
// ajv parses refs as URIs, so pointer segments must be percent-encoded (`{id}` in path templates).
const refTo = (ptr: string) =>
  `${DOC_ID}#${ptr
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/')}`;

function atPointer(doc: unknown, ptr: string): unknown {
  let node = doc;
  for (const part of ptr.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Obj)[unescapePointer(part)];
  }
  return node;
}

/** Follows `$ref` chains of non-schema objects (parameters, responses...), keeping track of where the result lives. */
function deref(doc: OpenApiDocument, value: unknown, ptr: string): { value: Obj; ptr: string } {
  let node = value as Obj;
  let at = ptr;
  for (let hops = 0; typeof node?.$ref === 'string' && hops < 20; hops++) {
    const ref = node.$ref as string;
    if (!ref.startsWith('#/')) throw new Error(`only local $ref is supported, got ${ref} at ${at}`);
    at = ref.slice(1);
    node = atPointer(doc, at) as Obj;
    if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
  }
  return { value: node, ptr: at };
}

// ---------------------------------------------------------------- route table

interface ParamSpec {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  /** Where the parameter's schema lives in the document. */
  schemaPtr: string;
  schema: Obj;
  commaSeparated: boolean;
}

interface OperationSpec {
  operationId: string;
  method: string;
  template: string;
  ptr: string;
  operation: Obj;
  params: ParamSpec[];
  requiredRole?: Role;
}

interface Route {
  template: string;
  /** Literal segments as strings, parameters as `{ param }`. */
  segments: Array<string | { param: string }>;
  literals: number;
  methods: Map<string, OperationSpec>;
}

let routesCache: Route[] | undefined;
const operationsById = new Map<string, OperationSpec>();

function resolveSchema(doc: OpenApiDocument, schema: unknown): Obj {
  return deref(doc, schema, '').value ?? {};
}

function collectParams(doc: OpenApiDocument, list: unknown, basePtr: string, into: Map<string, ParamSpec>): void {
  if (!Array.isArray(list)) return;
  list.forEach((raw, i) => {
    const { value: p, ptr } = deref(doc, raw, `${basePtr}/${i}`);
    const location = p.in as ParamSpec['in'];
    // Operation-level parameters override path-level ones with the same name and location.
    into.set(`${location}:${String(p.name)}`, {
      name: String(p.name),
      in: location,
      required: p.required === true,
      schemaPtr: `${ptr}/schema`,
      schema: resolveSchema(doc, p.schema),
      commaSeparated: p['x-comma-separated'] === true,
    });
  });
}

function routes(): Route[] {
  if (routesCache) return routesCache;
  const doc = openApiDocument();
  const table: Route[] = [];
  for (const [template, rawItem] of Object.entries(doc.paths ?? {})) {
    const itemPtr = pointer('paths', template);
    const { value: item } = deref(doc, rawItem, itemPtr);
    const segments = template
      .split('/')
      .slice(1)
      .map((s) => (/^\{[^}]+\}$/.test(s) ? { param: s.slice(1, -1) } : s));
    const route: Route = {
      template,
      segments,
      literals: segments.filter((s) => typeof s === 'string').length,
      methods: new Map(),
    };
    for (const method of HTTP_METHODS) {
      const operation = item[method] as Obj | undefined;
      if (!operation) continue;
      const params = new Map<string, ParamSpec>();
      collectParams(doc, item.parameters, `${itemPtr}/parameters`, params);
      collectParams(doc, operation.parameters, `${itemPtr}/${method}/parameters`, params);
      const spec: OperationSpec = {
        operationId: String(operation.operationId),
        method: method.toUpperCase(),
        template,
        ptr: `${itemPtr}/${method}`,
        operation,
        params: [...params.values()],
        requiredRole: operation['x-required-role'] as Role | undefined,
      };
      route.methods.set(spec.method, spec);
      operationsById.set(spec.operationId, spec);
    }
    table.push(route);
  }
  // Literal segments win over templated ones, as a router would match them.
  routesCache = table.sort((a, b) => b.literals - a.literals);
  return routesCache;
}

function splitPath(path: string): string[] {
  // (indexOf rather than a regex split: this runs on every request)
  const q = path.indexOf('?');
  const h = path.indexOf('#');
  const end = q < 0 ? h : h < 0 ? q : Math.min(q, h);
  let p = end < 0 ? path : path.slice(0, end);
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p.split('/').slice(1);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // left encoded: its `%` then fails the parameter's pattern, which names the field
  }
}

function findRoute(path: string): { route: Route; pathParams: Record<string, string> } | undefined {
  const parts = splitPath(path);
  // Runs on every request: routes are tested without allocating, and only the match builds its parameters.
  const route = routes().find((r) => matchesSegments(r.segments, parts));
  if (!route) return undefined;
  const pathParams: Record<string, string> = {};
  for (const [i, seg] of route.segments.entries())
    if (typeof seg !== 'string') pathParams[seg.param] = decodeSegment(parts[i] ?? '');
  return { route, pathParams };
}

function matchesSegments(segments: Route['segments'], parts: string[]): boolean {
  if (segments.length !== parts.length) return false;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (typeof seg === 'string' ? seg !== parts[i] : parts[i] === '') return false;
  }
  return true;
}

function findOperation(method: string, path: string): { op: OperationSpec; pathParams: Record<string, string> } | undefined {
  const found = findRoute(path);
  if (!found) return undefined;
  const m = method.toUpperCase();
  const op = found.route.methods.get(m) ?? (m === 'HEAD' ? found.route.methods.get('GET') : undefined);
  return op ? { op, pathParams: found.pathParams } : undefined;
}

/** The spec operation a request targets; `{param}` segments match one URL-encoded segment each. */
export function matchOperation(method: string, path: string): OperationMatch | undefined {
  const found = findOperation(method, path);
  if (!found) return undefined;
  const { op, pathParams } = found;
  return {
    operationId: op.operationId,
    pathParams,
    template: op.template,
    ...(op.requiredRole !== undefined && { requiredRole: op.requiredRole }),
  };
}

/** Whether the operation takes a request body: the REST front parses bodies only where one is expected. */
export function operationTakesBody(operationId: string): boolean {
  return operationsById.get(operationId)?.operation.requestBody !== undefined;
}

/** Methods the spec documents for a path (for `405 Allow`); empty when the path is unknown. */
export function allowedMethods(path: string): string[] {
  const found = findRoute(path);
  return found ? [...found.route.methods.keys()] : [];
}

// ---------------------------------------------------------------- ajv

// The CJS default export arrives as the module object under NodeNext; `.default` is the plugin.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => void;

let dataAjv: Ajv2020 | undefined;
let paramAjv: Ajv2020 | undefined;

function makeAjv(coerce: boolean): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    // parentSchema on errors, for the `x-format-hint` of a failed pattern
    verbose: true,
    // OpenAPI adds keywords (x-*, example) JSON Schema does not know
    strict: false,
    // query strings and headers are text: "5" must pass as integer 5 and a lone tag as a one-item array
    coerceTypes: coerce ? 'array' : false,
  });
  addFormats(ajv);
  ajv.addSchema(openApiDocument() as object, DOC_ID, undefined, false);
  return ajv;
}

// Bodies and responses: the data must match as sent, no coercion.
const bodyAjv = () => (dataAjv ??= makeAjv(false));
// Path, query and header parameters.
const paramsAjv = () => (paramAjv ??= makeAjv(true));

const refValidators = new WeakMap<Ajv2020, Map<string, ValidateFunction>>();

function validatorFor(ajv: Ajv2020, ptr: string): ValidateFunction {
  let cache = refValidators.get(ajv);
  if (!cache) {
    cache = new Map();
    refValidators.set(ajv, cache);
  }
  let fn = cache.get(ptr);
  if (!fn) {
    fn = ajv.compile({ $ref: refTo(ptr) });
    cache.set(ptr, fn);
  }
  return fn;
}

// ---------------------------------------------------------------- error messages

function instancePathToField(prefix: string, instancePath: string): string {
  let field = prefix;
  for (const raw of instancePath.split('/').slice(1)) {
    const part = unescapePointer(raw);
    field += /^\d+$/.test(part) ? `[${part}]` : `.${part}`;
  }
  return field;
}

function describeError(e: ErrorObject, prefix: string, unknownReason: string): FieldError {
  const field = instancePathToField(prefix, e.instancePath);
  const p = e.params as Record<string, unknown>;
  const hint = (e.parentSchema as Obj | undefined)?.['x-format-hint'];
  let out: FieldError;
  switch (e.keyword) {
    case 'required':
      out = { field: `${field}.${String(p.missingProperty)}`, reason: 'is required' };
      break;
    case 'additionalProperties':
      out = { field: `${field}.${String(p.additionalProperty)}`, reason: unknownReason };
      break;
    case 'type': {
      const types = String(p.type).split(',');
      out = { field, reason: `must be ${types.join(' or ')}` };
      break;
    }
    case 'enum':
      out = { field, reason: `must be one of: ${(p.allowedValues as unknown[]).map(String).join(', ')}` };
      break;
    case 'const':
      out = { field, reason: `must be ${JSON.stringify(p.allowedValue)}` };
      break;
    case 'pattern':
      out = { field, reason: typeof hint === 'string' ? `must be ${hint}` : `must match pattern ${String(p.pattern)}` };
      break;
    case 'format':
      out = { field, reason: `must be a valid ${String(p.format)}` };
      break;
    case 'minLength':
      out = { field, reason: p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters` };
      break;
    case 'maxLength':
      out = { field, reason: `must be at most ${String(p.limit)} characters` };
      break;
    case 'maxProperties':
      out = { field, reason: `must have at most ${String(p.limit)} entries` };
      break;
    case 'maxItems':
      out = { field, reason: `must have at most ${String(p.limit)} items` };
      break;
    default:
      out = { field, reason: e.message ?? 'is invalid' };
  }
  // An error about an object key (propertyNames) is reported against the key itself.
  if (e.propertyName !== undefined) {
    out = { field: `${field}${e.propertyName === '' ? '[""]' : `.${e.propertyName}`}`, reason: `key ${out.reason}` };
  }
  return out;
}

function describeErrors(errors: ErrorObject[] | null | undefined, prefix: string, unknownReason: string): FieldError[] {
  // propertyNames reports the specific failure and then a generic wrapper; the wrapper adds nothing.
  return (errors ?? []).filter((e) => e.keyword !== 'propertyNames').map((e) => describeError(e, prefix, unknownReason));
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.field}\0${e.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------- requests

interface CompiledRequest {
  path: ValidateFunction;
  query: ValidateFunction;
  header: ValidateFunction;
  queryParams: Map<string, ParamSpec>;
  headerParams: ParamSpec[];
  body?: { validate: ValidateFunction; required: boolean };
  /** Media types declared as `format: binary`: such bodies are streamed by the handler, never parsed here. */
  binaryMedia: Set<string>;
}

const compiledRequests = new Map<string, CompiledRequest>();

function paramObjectSchema(params: ParamSpec[], closed: boolean): Obj {
  return {
    type: 'object',
    properties: Object.fromEntries(
      params.map((p) => [p.in === 'header' ? p.name.toLowerCase() : p.name, { $ref: refTo(p.schemaPtr) }]),
    ),
    required: params.filter((p) => p.required).map((p) => (p.in === 'header' ? p.name.toLowerCase() : p.name)),
    // Unknown query parameters are refused like unknown body fields: a typo must not silently widen a list.
    additionalProperties: !closed,
  };
}

// Compiled on first use per operation, so startup only pays for parsing the spec.
function compiledRequest(op: OperationSpec): CompiledRequest {
  const cached = compiledRequests.get(op.operationId);
  if (cached) return cached;
  const doc = openApiDocument();
  const ajv = paramsAjv();
  const of = (where: ParamSpec['in']) => op.params.filter((p) => p.in === where);
  const compiled: CompiledRequest = {
    path: ajv.compile(paramObjectSchema(of('path'), true)),
    query: ajv.compile(paramObjectSchema(of('query'), true)),
    header: ajv.compile(paramObjectSchema(of('header'), false)),
    queryParams: new Map(of('query').map((p) => [p.name, p])),
    headerParams: of('header'),
    binaryMedia: new Set(),
  };
  if (op.operation.requestBody !== undefined) {
    const { value: rb, ptr } = deref(doc, op.operation.requestBody, `${op.ptr}/requestBody`);
    const content = (rb.content ?? {}) as Obj;
    for (const [type, entry] of Object.entries(content)) {
      if (((entry as Obj).schema as Obj | undefined)?.format === 'binary') compiled.binaryMedia.add(type.toLowerCase());
    }
    const media = Object.keys(content).find(isJsonMediaType);
    if (media === undefined) throw new Error(`${op.operationId}: only JSON request bodies are supported`);
    compiled.body = {
      validate: validatorFor(bodyAjv(), `${ptr}/content/${escapePointer(media)}/schema`),
      required: rb.required === true,
    };
  }
  compiledRequests.set(op.operationId, compiled);
  return compiled;
}

function isJsonMediaType(mediaType: string): boolean {
  return /^application\/(?:[\w.+-]+\+)?json$/i.test(mediaType);
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  const media = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return media ? media : undefined;
}

function isEmptyBody(body: unknown): boolean {
  if (body === undefined || body === null || body === '') return true;
  if (Buffer.isBuffer(body)) return body.length === 0;
  return typeof body === 'object' && !Array.isArray(body) && Object.keys(body as Obj).length === 0;
}

function headerValue(headers: RequestInput['headers'], name: string): string | string[] | undefined {
  if (!headers) return undefined;
  const lower = name.toLowerCase();
  const direct = headers[lower];
  if (direct !== undefined) return direct;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : headers[key];
}

function normaliseQuery(raw: Record<string, unknown> | undefined, params: Map<string, ParamSpec>): Record<string, unknown> {
  // A copy: ajv coerces in place, and the caller's query object must stay as received.
  const query: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    const spec = params.get(name);
    let v = value;
    // `provider=a&provider=b` means the same as `provider=a,b`.
    if (spec?.commaSeparated && Array.isArray(v)) v = v.map(String).join(',');
    // A bare flag (`?fresh`) means true.
    if (spec?.schema.type === 'boolean' && v === '') v = 'true';
    query[name] = Array.isArray(v) ? [...v] : v;
  }
  for (const spec of params.values()) {
    const fallback = spec.schema.default;
    // Defaults are applied here because ajv's useDefaults does not look behind $ref.
    // (A primitive default needs no copy; only objects and arrays could be changed by the handler.)
    if (query[spec.name] === undefined && fallback !== undefined)
      query[spec.name] = typeof fallback === 'object' ? structuredClone(fallback) : fallback;
  }
  return query;
}

/**
 * Checks a request against its operation in the spec. Answers the coerced path, query and header
 * parameters; throws `invalid_input` naming every field at fault (`body.flavorId`, `query.limit`...),
 * or `not_found` when no operation matches the method and path.
 */
export function validateRequest(input: RequestInput, matched?: OperationMatch): ValidatedRequest {
  // A caller that already matched the request (the REST front, for the role) passes the match, so the
  // route table is scanned once per request.
  const op = matched && operationsById.get(matched.operationId);
  const found = op ? { op, pathParams: matched.pathParams } : findOperation(input.method, input.path);
  if (!found) throw new SkygateError('not_found', `no such endpoint: ${input.method.toUpperCase()} ${input.path.split('?')[0]}`);
  const { pathParams } = found;
  const compiled = compiledRequest(found.op);
  const errors: FieldError[] = [];

  const params = { ...pathParams };
  if (!compiled.path(params)) errors.push(...describeErrors(compiled.path.errors, 'path', 'unknown parameter'));

  const query = normaliseQuery(input.query, compiled.queryParams);
  if (!compiled.query(query)) errors.push(...describeErrors(compiled.query.errors, 'query', 'unknown parameter'));

  const headers: Record<string, unknown> = {};
  for (const p of compiled.headerParams) {
    const v = headerValue(input.headers, p.name);
    if (v !== undefined) headers[p.name.toLowerCase()] = Array.isArray(v) ? [...v] : v;
  }
  if (!compiled.header(headers)) errors.push(...describeErrors(compiled.header.errors, 'header', 'unknown header'));

  const body = input.body;
  if (compiled.body) {
    const media = mediaTypeOf(headerValue(input.headers, 'content-type') as string | undefined);
    if (media !== undefined && compiled.binaryMedia.has(media)) {
      // A declared binary body (an upload) is left unread for the handler to stream.
    } else if ((media !== undefined && !isJsonMediaType(media) && isEmptyBody(body)) || (media === undefined && input.bodySent)) {
      // A body in another format, or of no declared type, is never parsed: "missing" would be the wrong complaint.
      const accepted = ['application/json', ...compiled.binaryMedia].join(', ');
      const types = accepted.includes(',') ? `one of ${accepted}` : accepted;
      const error = {
        field: 'header.content-type',
        reason: media === undefined ? `is missing; a body must be sent as ${types}` : `must be ${types}`,
      };
      throw new HttpProblem(415, 'Unsupported media type', 'invalid_input', `${error.field}: ${error.reason}`, {
        field: error.field,
        errors: [error],
      });
    } else if (body === undefined || body === null || body === '') {
      if (compiled.body.required) errors.push({ field: 'body', reason: 'is required' });
    } else if (!compiled.body.validate(body)) {
      errors.push(...describeErrors(compiled.body.validate.errors, 'body', 'unknown field'));
    }
  } else if (!isEmptyBody(body)) {
    errors.push({ field: 'body', reason: 'must be empty: this endpoint takes no body' });
  }

  if (errors.length > 0) {
    const unique = dedupe(errors);
    const shown = unique.slice(0, 5).map((e) => `${e.field}: ${e.reason}`);
    if (unique.length > shown.length) shown.push(`and ${unique.length - shown.length} more`);
    throw new SkygateError('invalid_input', shown.join('; '), { field: unique[0]?.field, errors: unique });
  }
  return { operationId: found.op.operationId, params, query, headers };
}

// ---------------------------------------------------------------- responses

function responseFor(op: OperationSpec, status: number): { value: Obj; ptr: string } | undefined {
  const responses = (op.operation.responses ?? {}) as Obj;
  const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in responses);
  return key === undefined ? undefined : deref(openApiDocument(), responses[key], `${op.ptr}/responses/${escapePointer(key)}`);
}

function checkBody(ptr: string, body: unknown, label: string): string[] {
  if (body === undefined) return [`${label}: the body is missing`];
  const validate = validatorFor(bodyAjv(), ptr);
  if (validate(body)) return [];
  return dedupe(describeErrors(validate.errors, 'body', 'unknown field')).map((e) => `${label}: ${e.field}: ${e.reason}`);
}

/**
 * Checks a response against what the spec documents for its operation and status. Answers a list of
 * problems, empty when the response matches; pass `headers` to check the documented required headers too.
 */
export function validateResponse(
  method: string,
  path: string,
  status: number,
  contentType: string | undefined,
  body: unknown,
  headers?: Record<string, string | string[] | number | undefined>,
): string[] {
  const media = mediaTypeOf(contentType);
  const found = findOperation(method, path);
  if (!found) {
    // Unknown routes and methods are answered by the server's fallback, which must still be a problem.
    const label = `${method.toUpperCase()} ${path.split('?')[0]} ${status}`;
    if (status < 400) return [`${label}: no operation in the spec matches`];
    if (media !== 'application/problem+json')
      return [`${label}: content type ${media ?? '(none)'} is not application/problem+json`];
    return checkBody(pointer('components', 'schemas', 'Problem'), body, label);
  }
  const { op } = found;
  const label = `${op.operationId} ${status}`;
  const response = responseFor(op, status);
  if (!response) return [`${label}: status ${status} is not documented`];

  const problems: string[] = [];
  if (headers) {
    const documented = (response.value.headers ?? {}) as Obj;
    for (const [name, raw] of Object.entries(documented)) {
      const { value: h } = deref(openApiDocument(), raw, '');
      const present = headerValue(headers as RequestInput['headers'], name) !== undefined;
      if (h.required === true && !present) problems.push(`${label}: header ${name} is missing`);
    }
  }

  const content = response.value.content as Obj | undefined;
  if (!content || Object.keys(content).length === 0) {
    if (!isEmptyBody(body)) problems.push(`${label}: a body was sent but none is documented`);
    return problems;
  }
  if (media === undefined) return [...problems, `${label}: no content type (expected ${Object.keys(content).join(' or ')})`];
  const mediaKey = Object.keys(content).find((k) => k.toLowerCase() === media);
  if (mediaKey === undefined) {
    return [...problems, `${label}: content type ${media} is not documented (expected ${Object.keys(content).join(' or ')})`];
  }
  const entry = content[mediaKey] as Obj;
  // Only JSON bodies are checked field by field; streams and Prometheus text are checked by type alone.
  if (isJsonMediaType(mediaKey) && entry.schema !== undefined) {
    problems.push(...checkBody(`${response.ptr}/content/${escapePointer(mediaKey)}/schema`, body, label));
  }
  return problems;
}
