/**
 * AWS Signature V4 verification: the request's signature is recomputed with @smithy/signature-v4 (the
 * AWS SDK's own signer) from the parsed request and the stored secret, and compared in constant time.
 * Both forms are accepted: the Authorization header and a pre-signed query string.
 */
import { createHash, createHmac, type Hash, type Hmac, hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Principal } from '../../core/index.js';
import { Ec2Error } from './ec2-errors.js';

type SignableRequest = Parameters<SignatureV4['presign']>[0];
type SourceData = string | ArrayBuffer | ArrayBufferView;

const toBytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string' ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);

/**
 * The signer's hash (SHA-256, or HMAC-SHA256 when given a key) on node:crypto: verification runs on
 * every EC2 request, and OpenSSL is several times faster than the pure-JS hash the SDK ships for browsers.
 */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

/** How far a request's timestamp may be from the gateway's clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const ALGORITHM = 'AWS4-HMAC-SHA256';
const SERVICE = 'ec2';
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export interface SignedRequest {
  method: string;
  /** The path as sent (still percent-encoded), without the query. */
  path: string;
  /** The decoded query parameters, repeated names as arrays. */
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Verified {
  accessKeyId: string;
  /** The credential scope's region: for skygate, a provider id. */
  region: string;
  principal: Principal;
}

/** Looks an access key up: its secret and who it acts as, or undefined when unknown or revoked. */
export type KeyResolver = (accessKeyId: string) => Promise<{ secret: string; principal: Principal } | undefined>;

interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** X-Amz-Date (or Date) of the request. */
  timestamp: Date;
  /** Pre-signed only: seconds the signature stays valid. */
  expiresIn?: number;
}

const incomplete = (message: string) => new Ec2Error('IncompleteSignature', message);
const mismatch = (message: string) => new Ec2Error('SignatureDoesNotMatch', message, 403);

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};
const queryValue = (query: SignedRequest['query'], name: string): string | undefined => {
  const v = query[name];
  return Array.isArray(v) ? v[0] : v;
};

/** `20250101T000000Z` as a date, or undefined. */
function parseAmzDate(raw: string | undefined): Date | undefined {
  const m = raw === undefined ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(raw);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function parseScope(scope: string): Pick<Credential, 'accessKeyId' | 'date' | 'region' | 'service'> {
  const parts = scope.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || parts.some((p) => p === '')) {
    throw incomplete(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${scope}'`,
    );
  }
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  return { accessKeyId, date, region, service };
}

function fromHeader(authorization: string, headers: IncomingHttpHeaders): Credential {
  const space = authorization.indexOf(' ');
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  if (algorithm !== ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}' (expected ${ALGORITHM})`);
  const fields = new Map<string, string>();
  for (const part of authorization.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const required of ['Credential', 'SignedHeaders', 'Signature']) {
    if (!fields.get(required)) throw incomplete(`Authorization header requires '${required}' parameter`);
  }
  const rawDate = header(headers, 'x-amz-date');
  const timestamp = rawDate !== undefined ? parseAmzDate(rawDate) : dateHeader(header(headers, 'date'));
  if (!timestamp) throw incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header");
  return {
    ...parseScope(fields.get('Credential') as string),
    signedHeaders: (fields.get('SignedHeaders') as string).split(';'),
    signature: fields.get('Signature') as string,
    timestamp,
  };
}

function dateHeader(raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const date = new Date(raw);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function fromQuery(query: SignedRequest['query']): Credential {
  const algorithm = queryValue(query, 'X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}' (expected ${ALGORITHM})`);
  const missing = ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Expires'].filter(
    (p) => !queryValue(query, p),
  );
  if (missing.length > 0) throw incomplete(`A pre-signed request requires the query parameters ${missing.join(', ')}`);
  const timestamp = parseAmzDate(queryValue(query, 'X-Amz-Date'));
  if (!timestamp) throw incomplete("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  const expiresIn = Number(queryValue(query, 'X-Amz-Expires'));
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGN_SECONDS) {
    throw incomplete(`X-Amz-Expires must be from 1 to ${MAX_PRESIGN_SECONDS} seconds`);
  }
  return {
    ...parseScope(queryValue(query, 'X-Amz-Credential') as string),
    signedHeaders: (queryValue(query, 'X-Amz-SignedHeaders') as string).split(';'),
    signature: queryValue(query, 'X-Amz-Signature') as string,
    timestamp,
    expiresIn,
  };
}

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/**
 * Signatures computed before, keyed by everything the signature is a function of but the secret, which is kept
 * beside it and must be the same: the same request signed once and sent again (a tool polling a page, within
 * the clock skew allowed) is checked by one map lookup instead of the whole signing chain. The key is the
 * inputs themselves, joined (a body over 4 KiB by its SHA-256): building it costs less than hashing it.
 * Bounded; emptied when full.
 */
const computed = new Map<string, { secret: string; signature: string }>();
const COMPUTED_LIMIT = 2000;
const BODY_KEPT_AS_IS = 4096;

function signatureInputsKey(cred: Credential, presigned: boolean, request: SignableRequest): string {
  const body = request.body as Buffer | undefined;
  const bodyKey =
    body === undefined ? '' : body.length <= BODY_KEPT_AS_IS ? body.toString('latin1') : hash('sha256', body, 'base64');
  return JSON.stringify([
    presigned,
    cred.accessKeyId,
    cred.region,
    cred.timestamp.getTime(),
    cred.expiresIn ?? null,
    cred.signedHeaders,
    request.method,
    request.hostname,
    request.path,
    request.query,
    request.headers,
    bodyKey,
  ]);
}

function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks a request's SigV4 signature and freshness and answers who signed it and for which region;
 * throws the EC2 error a real endpoint would (MissingAuthenticationToken, IncompleteSignature,
 * AuthFailure, SignatureDoesNotMatch, RequestExpired).
 */
export async function verifySigV4(req: SignedRequest, resolveKey: KeyResolver, now = Date.now()): Promise<Verified> {
  const authorization = header(req.headers, 'authorization');
  const presigned = authorization === undefined && queryValue(req.query, 'X-Amz-Algorithm') !== undefined;
  if (authorization === undefined && !presigned) {
    throw new Ec2Error(
      'MissingAuthenticationToken',
      'Request is missing Authentication Token (sign it with AWS Signature V4)',
      401,
    );
  }
  const cred = presigned ? fromQuery(req.query) : fromHeader(authorization as string, req.headers);

  const shortDate = stamp(cred.timestamp).slice(0, 8);
  if (cred.date !== shortDate) {
    throw mismatch(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${cred.date}' != '${shortDate}'`,
    );
  }
  if (cred.service !== SERVICE) throw mismatch(`Credential should be scoped to correct service: '${SERVICE}'.`);
  if (!cred.signedHeaders.includes('host')) throw mismatch("'Host' must be a 'SignedHeader' in the AWS Authorization.");

  const key = await resolveKey(cred.accessKeyId);
  if (!key) throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);

  const age = now - cred.timestamp.getTime();
  if (presigned ? age > (cred.expiresIn as number) * 1000 || age < -MAX_CLOCK_SKEW_MS : Math.abs(age) > MAX_CLOCK_SKEW_MS) {
    throw new Ec2Error(
      'RequestExpired',
      `Request has expired: signed at ${cred.timestamp.toISOString()}, the gateway's time is ${new Date(now).toISOString()} ` +
        `(at most ${MAX_CLOCK_SKEW_MS / 60_000} minutes apart${presigned ? `, or ${cred.expiresIn} s after signing` : ''})`,
    );
  }

  // Only what the client signed goes into the canonical request, exactly as it arrived.
  const signed = new Set(cred.signedHeaders);
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = header(req.headers, name);
    if (value === undefined) throw mismatch(`The signed header '${name}' is missing from the request`);
    headers[name] = value;
  }
  // A signed payload hash must be the body's: put the real one in, so that a body swapped under a
  // genuine header (or an UNSIGNED-PAYLOAD claim) fails the comparison.
  if (signed.has('x-amz-content-sha256')) headers['x-amz-content-sha256'] = hash('sha256', req.body, 'hex');
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.query)) if (name !== 'X-Amz-Signature') query[name] = value;

  const request: SignableRequest = {
    method: req.method,
    protocol: 'http:',
    hostname: headers.host ?? '',
    path: req.path,
    query,
    headers,
    body: req.body.length > 0 ? req.body : undefined,
  };
  const inputs = signatureInputsKey(cred, presigned, request);
  const known = computed.get(inputs);
  let expected = known?.secret === key.secret ? known.signature : '';
  if (expected === '') {
    expected = await computeSignature(request, cred, key.secret, presigned, signed, headers);
    if (computed.size >= COMPUTED_LIMIT) computed.clear();
    computed.set(inputs, { secret: key.secret, signature: expected });
  }
  if (!sameSignature(expected, cred.signature)) {
    throw mismatch(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return { accessKeyId: cred.accessKeyId, region: cred.region, principal: key.principal };
}

/** The signature @smithy/signature-v4 computes for the request as the client presented it. */
async function computeSignature(
  request: SignableRequest,
  cred: Credential,
  secret: string,
  presigned: boolean,
  signed: Set<string>,
  headers: Record<string, string>,
): Promise<string> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: cred.accessKeyId, secretAccessKey: secret },
    region: cred.region,
    service: SERVICE,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  if (presigned) {
    // presign() re-adds the X-Amz-* auth parameters itself, from the same values.
    const query = { ...request.query };
    for (const p of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders']) {
      delete query[p];
    }
    const out = await signer.presign(
      { ...request, query },
      {
        signingDate: cred.timestamp,
        expiresIn: cred.expiresIn,
        signableHeaders: signed,
        unhoistableHeaders: new Set(Object.keys(headers)),
      },
    );
    return String(out.query?.['X-Amz-Signature'] ?? '');
  }
  const out = await signer.sign(request, { signingDate: cred.timestamp, signableHeaders: signed });
  return /Signature=([0-9a-f]+)/.exec(String(out.headers.authorization ?? ''))?.[1] ?? '';
}
