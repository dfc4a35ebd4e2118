/**
 * One request to an OpenStack service over Node's fetch: JSON in and out, deadlines, the provider's
 * request id, and every failure mapped into the taxonomy (including bodies that are no JSON at all,
 * such as an HTML 502 from a proxy in front of the cloud).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { SkygateError, type ErrorCode } from '../../src/core/index.js';
import type { Keystone } from './keystone.js';
import type { ServiceKey } from './openstack-settings.js';

/** A list repeats its parameter (`device_id=a&device_id=b`), as neutron's filters take several values. */
export type Query = Record<string, string | number | string[] | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  json?: unknown;
  headers?: Record<string, string>;
}

/** Where a request went, for error messages. */
interface Site {
  provider: string;
  service: string;
  method: string;
  url: string;
}

/** `x-openstack-request-id` (every service), or nova's older `x-compute-request-id`. */
export function requestIdOf(headers: Headers): string | undefined {
  const id = headers.get('x-openstack-request-id') ?? headers.get('x-compute-request-id');
  return id?.split(',')[0]?.trim() || undefined;
}

/**
 * fetch with a deadline for the answer's headers (a streamed body may take longer); a refused or dropped
 * connection is `provider_unavailable`, a missed deadline `timeout`.
 */
export async function fetchWithDeadline(url: string, init: RequestInit, timeoutMs: number, site: Site): Promise<Response> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    return await fetch(url, { ...init, signal: abort.signal });
  } catch (e) {
    throw abort.signal.aborted ? late(site, timeoutMs, e) : unreachable(site, e);
  } finally {
    clearTimeout(timer);
  }
}

const late = (site: Site, timeoutMs: number, cause: unknown) =>
  new SkygateError('timeout', `${site.service} did not answer ${site.method} ${path(site.url)} within ${timeoutMs} ms`, {
    provider: site.provider,
    cause,
  });

function unreachable(site: Site, e: unknown): SkygateError {
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const why = err.cause?.code ?? err.code ?? err.cause?.message ?? err.message;
  return new SkygateError('provider_unavailable', `${site.service} at ${new URL(site.url).origin} is unreachable (${why})`, {
    provider: site.provider,
    cause: e,
  });
}

/** Reads a failed answer and names it in the taxonomy, with the provider's message and request id. */
export async function errorFrom(res: Response, site: Site): Promise<SkygateError> {
  const text = await res.text().catch(() => '');
  const message = messageOf(text) || `${res.status} ${res.statusText}`.trim();
  const retryAfter = retryAfterOf(res.headers.get('retry-after'));
  const code = classify(res.status, message, retryAfter);
  return new SkygateError(code, `${site.service} answered ${res.status} to ${site.method} ${path(site.url)}: ${message}`, {
    provider: site.provider,
    requestId: requestIdOf(res.headers),
    ...((code === 'throttled' || code === 'quota_exceeded' || code === 'provider_unavailable') &&
      retryAfter !== undefined && { retryAfter }),
  });
}

/** The human message out of any OpenStack error body: nova/cinder, keystone, neutron, octavia, webob HTML or JSON. */
export function messageOf(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  try {
    const body = JSON.parse(trimmed) as Record<string, unknown>;
    const found = findMessage(body);
    if (found) return clip(found);
  } catch {
    // not JSON: HTML or plain text below
  }
  return clip(
    trimmed
      .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/&nbsp;/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

function findMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const o = body as Record<string, unknown>;
  for (const key of ['message', 'faultstring', 'explanation', 'detail', 'title']) {
    if (typeof o[key] === 'string' && o[key] !== '') return o[key] as string;
  }
  // nova/cinder `{"itemNotFound": {"message": …}}`, keystone `{"error": {…}}`, neutron `{"NeutronError": {…}}`
  for (const value of Object.values(o)) {
    const inner = findMessage(value);
    if (inner) return inner;
  }
  return undefined;
}

const clip = (s: string) => (s.length > 400 ? `${s.slice(0, 400)}…` : s);

function retryAfterOf(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Nova, cinder, octavia and neutron say "quota" or "exceeded" when a limit of the account is reached. */
const QUOTA = /quota|exceeds? (the )?(allowed|maximum|limit)|limit exceeded|over ?limit/i;
/** cinder answers 400 (not 409) when a volume's state forbids an action. */
const STATE_CONFLICT = /status must be|must be (available|in-use)|while it is in|in (vm_|task_)?state|is (currently )?in use/i;

function classify(status: number, message: string, retryAfter: number | undefined): ErrorCode {
  if (status === 400) return STATE_CONFLICT.test(message) ? 'conflict' : 'invalid_input';
  if (status === 401) return 'unauthorized';
  if (status === 403) return QUOTA.test(message) ? 'quota_exceeded' : 'forbidden';
  if (status === 404) return 'not_found';
  // neutron answers an exhausted network or subnet quota with 409 "Quota exceeded for resources"
  if (status === 409) return QUOTA.test(message) ? 'quota_exceeded' : 'conflict';
  // 413 is cinder's (and glance's) over-quota answer, and older nova rate limits' with a Retry-After
  if (status === 413) return QUOTA.test(message) ? 'quota_exceeded' : (retryAfter ?? 0) > 0 ? 'throttled' : 'payload_too_large';
  if (status === 429) return 'throttled';
  if (status === 501) return 'unsupported';
  if (status >= 500) return 'provider_unavailable';
  return 'invalid_input';
}

/**
 * uwsgi, which serves glance on Debian, reads a chunked body with a buffer of 64 KiB and fails the upload
 * ("unable to receive chunked part") on any larger chunk; node:http sends each write as one chunk, so
 * larger writes are split.
 */
const MAX_CHUNK = 32 * 1024;
function smallChunks(): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      for (let at = 0; at < chunk.length; at += MAX_CHUNK) this.push(chunk.subarray(at, at + MAX_CHUNK));
      cb();
    },
  });
}

const path = (url: string) => {
  const u = new URL(url);
  return u.pathname + u.search;
};

export interface ServiceOptions {
  provider: string;
  /** Added to every request (microversion headers). */
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Turns the catalog's URL into the versioned base the paths are relative to (glance: + /v2). */
  base?: (endpoint: string) => string;
}

/** A client of one catalog service: resolves its endpoint from Keystone, authenticates, renews on a 401. */
export class ServiceClient {
  constructor(
    readonly auth: Keystone,
    readonly service: ServiceKey,
    private readonly options: ServiceOptions,
  ) {}

  /** JSON request; answers the parsed body (undefined for an empty one) and the headers. */
  async json<T>(method: string, p: string, opts: RequestOptions = {}): Promise<{ data: T; headers: Headers }> {
    const res = await this.send(method, p, opts);
    const text = await res.text();
    if (text.trim() === '') return { data: undefined as T, headers: res.headers };
    try {
      return { data: JSON.parse(text) as T, headers: res.headers };
    } catch {
      throw new SkygateError(
        'provider_unavailable',
        `${this.service} answered ${res.status} to ${method} ${p} with a body that is not JSON: ${messageOf(text)}`,
        { provider: this.options.provider, requestId: requestIdOf(res.headers) },
      );
    }
  }

  /** Sends a request and answers the successful response unread (downloads stream its body). */
  async send(method: string, p: string, opts: RequestOptions = {}): Promise<Response> {
    // A token Keystone revoked or let expire early is renewed once.
    for (let attempt = 1; ; attempt++) {
      const token = await this.auth.token();
      const url = await this.url(p, opts.query);
      const site = { provider: this.options.provider, service: this.service, method, url };
      const headers: Record<string, string> = {
        Accept: 'application/json',
        'X-Auth-Token': token,
        ...this.options.headers,
        ...opts.headers,
      };
      const init: RequestInit = { method, headers };
      if (opts.json !== undefined) {
        headers['Content-Type'] ??= 'application/json';
        init.body = JSON.stringify(opts.json);
      }
      const res = await fetchWithDeadline(url, init, this.options.timeoutMs, site);
      if (res.ok) return res;
      if (res.status === 401 && attempt === 1) {
        await res.body?.cancel();
        this.auth.invalidate(token);
        continue;
      }
      throw await errorFrom(res, site);
    }
  }

  /**
   * Streams `body` as a chunked request body with node:http, not fetch: Node 20's fetch (undici 6)
   * kept every chunk of a streamed request body until the request ended (+1 GiB of RSS for a 1 GiB
   * upload, measured), where a piped http request stays flat. A body cannot be sent twice, so a 401
   * is final here: call it with a token far from expiry.
   */
  async upload(method: string, p: string, body: Readable, headers: Record<string, string>): Promise<void> {
    const token = await this.auth.token();
    const url = await this.url(p);
    const site = { provider: this.options.provider, service: this.service, method, url };
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, {
      method,
      headers: { Accept: 'application/json', 'X-Auth-Token': token, ...this.options.headers, ...headers },
    });
    // the deadline is on silence, not on the whole transfer
    req.setTimeout(this.options.timeoutMs, () => req.destroy(late(site, this.options.timeoutMs, undefined)));
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    answered.catch(() => undefined);
    let sendError: unknown;
    await pipeline(body, smallChunks(), req).catch((e) => {
      sendError = e;
    });
    // A service that refuses early (401, 413) answers before the body is through: its answer is the error.
    const res = await (sendError === undefined ? answered : Promise.race([answered, sleep(1000, undefined)])).catch(
      () => undefined,
    );
    if (!res) {
      throw sendError instanceof SkygateError ? sendError : unreachable(site, sendError);
    }
    const status = res.statusCode ?? 0;
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    if (status >= 200 && status < 300) return;
    const responseHeaders = new Headers();
    for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') responseHeaders.set(k, v);
    throw await errorFrom(new Response(Buffer.concat(chunks), { status, headers: responseHeaders }), site);
  }

  private async url(p: string, query?: Query): Promise<string> {
    const endpoint = await this.auth.endpoint(this.service);
    const base = this.options.base ? this.options.base(endpoint) : endpoint;
    const url = new URL(base + p);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (Array.isArray(v)) for (const one of v) url.searchParams.append(k, one);
      else if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return url.toString();
  }
}
