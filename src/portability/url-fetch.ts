/** Streams a package from an allowed URL: re-checks the address on connect, follows a few checked redirects. */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { SkygateError, invalid } from '../core/errors.js';
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

function get(url: URL, policy: UrlPolicy, field: string): Promise<IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { lookup: policy.lookupFor(url, field), timeout: IDLE_TIMEOUT_MS }, resolve);
    req.on('timeout', () => req.destroy(invalid(field, `'${url.host}' stopped answering for ${IDLE_TIMEOUT_MS / 1000} s`)));
    req.on('error', (e) => reject(e.name === 'SkygateError' ? e : invalid(field, `fetching '${url.href}' failed: ${e.message}`)));
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
      throw invalid(field, `'${url.href}' answered HTTP ${status}`);
    }
    const length = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
    if (length !== undefined && length > maxBytes) {
      res.destroy();
      throw new SkygateError(
        'payload_too_large',
        `'${url.href}' is ${length} bytes, more than the ${maxBytes} accepted (portability.uploadMaxBytes)`,
        { field },
      );
    }
    return { body: res, ...(length !== undefined && Number.isFinite(length) && { length }), url: url.href };
  }
}
