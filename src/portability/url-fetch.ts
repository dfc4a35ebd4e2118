/** Streams a package from an allowed URL: re-checks the address on connect, follows a few checked redirects. */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { SkygateError, invalid } from '../core/errors.js';
import { redactUrl } from '../core/url-redaction.js';
import type { UrlPolicy } from './url-policy.js';

const MAX_REDIRECTS = 5;
const IDLE_TIMEOUT_MS = 60_000;

export interface FetchedBody {
  body: IncomingMessage;
  /** Content-Length when the server sent one. */
  length?: number;
  /** The URL actually answered, after redirects. */
  url: string;
}

/** The URL as error messages show it: a pre-signed URL's signature and other credentials redacted. */
const shown = (url: URL) => redactUrl(url.href);

/**
 * Why a connection failed, by error code only: Node's messages carry the resolved address and port
 * (`connect ECONNREFUSED 10.0.0.7:5432`), which would tell the caller about internal services.
 */
function failureOf(e: NodeJS.ErrnoException): string {
  const code = e.code ?? '';
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'the connection was reset';
  if (code === 'ETIMEDOUT' || code === 'ENETUNREACH' || code === 'EHOSTUNREACH') return 'the host could not be reached';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host does not resolve';
  if (code.startsWith('HPE_')) return 'the answer is not HTTP';
  if (/CERT|SSL|TLS/.test(code)) return `the TLS handshake failed (${code})`;
  return `the connection failed${/^[A-Z_]+$/.test(code) ? ` (${code})` : ''}`;
}

function get(url: URL, policy: UrlPolicy, field: string): Promise<IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { lookup: policy.lookupFor(url, field), timeout: IDLE_TIMEOUT_MS }, resolve);
    req.on('timeout', () => req.destroy(invalid(field, `'${url.host}' stopped answering for ${IDLE_TIMEOUT_MS / 1000} s`)));
    req.on('error', (e) =>
      reject(e.name === 'SkygateError' ? e : invalid(field, `fetching '${shown(url)}' failed: ${failureOf(e)}`)),
    );
  });
}

/** GETs `raw` under `policy`; any answer but 200 is bad input naming `field`. */
export async function fetchPackage(raw: string, policy: UrlPolicy, field: string, maxBytes: number): Promise<FetchedBody> {
  let url = await policy.check(raw, field);
  for (let hop = 0; ; hop++) {
    const res = await get(url, policy, field);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location !== undefined) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw invalid(field, `more than ${MAX_REDIRECTS} redirects`);
      // A redirect target must pass the same policy as the URL the caller gave.
      url = await policy.check(new URL(res.headers.location, url).href, field);
      continue;
    }
    if (status !== 200) {
      res.resume();
      // The status code only: the reason phrase and body of whatever answered (an internal service) stay out.
      throw invalid(field, `'${shown(url)}' answered HTTP ${status}, not 200`);
    }
    const length = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
    if (length !== undefined && length > maxBytes) {
      res.destroy();
      throw new SkygateError(
        'payload_too_large',
        `'${shown(url)}' is ${length} bytes, more than the ${maxBytes} accepted (portability.uploadMaxBytes)`,
        { field },
      );
    }
    return { body: res, ...(length !== undefined && Number.isFinite(length) && { length }), url: url.href };
  }
}
