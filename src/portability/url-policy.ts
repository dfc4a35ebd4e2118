/**
 * Where the gateway may fetch packages from: http(s) only, hosts on the configured allowlist on allowed ports, never a
 * link-local, unspecified or multicast address, nor the gateway itself. Addresses are checked when the
 * request is accepted and again on every connection (DNS may answer differently the second time).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';
import { invalid } from '../core/errors.js';
import { DEFAULT_URL_PORTS } from './portability-config.js';

const FORBIDDEN_RANGES = new Set(['linkLocal', 'unspecified', 'multicast', 'broadcast']);

export class UrlPolicy {
  constructor(
    private readonly allowlist: readonly string[],
    /** The gateway's own listening port, once known. */
    private readonly selfPort: () => number | undefined,
    /** The ports an allowlisted host may be reached on. */
    private readonly ports: readonly number[] = DEFAULT_URL_PORTS,
  ) {}

  /** Checks the scheme and host of `raw` (no DNS); answers the parsed URL. */
  checkUrl(raw: string, field: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalid(field, `'${raw}' is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw invalid(field, `scheme '${url.protocol.replace(/:$/, '')}' is not allowed; use http or https`);
    }
    if (url.username !== '' || url.password !== '') throw invalid(field, 'must not carry credentials');
    const host = hostOf(url);
    if (this.allowlist.length === 0) {
      throw invalid(field, 'importing from a URL is off: no host is on the allowlist (portability.urlAllowlist)');
    }
    if (!this.allowlist.some((entry) => hostMatches(host, entry))) {
      throw invalid(field, `host '${host}' is not on the allowlist (portability.urlAllowlist)`);
    }
    // An allowed host may also run services that are not meant to serve images (an admin API on 8080).
    const port = Number(portOf(url));
    if (!this.ports.includes(port)) {
      throw invalid(field, `port ${port} is not allowed; allowed ports: ${this.ports.join(', ')} (portability.urlPorts)`);
    }
    return url;
  }

  /** Refuses an address the gateway must never connect to for `url`. */
  checkAddress(address: string, url: URL, field: string): void {
    const ip = ipaddr.process(address);
    const range = ip.range();
    if (FORBIDDEN_RANGES.has(range)) throw invalid(field, `'${hostOf(url)}' resolves to ${address}, a ${range} address`);
    if (Number(portOf(url)) === this.selfPort() && isOwnAddress(ip)) {
      throw invalid(field, `'${url.host}' is the gateway itself`);
    }
  }

  /** Full check including DNS: every address the host resolves to must be acceptable. */
  async check(raw: string, field: string): Promise<URL> {
    const url = this.checkUrl(raw, field);
    const host = hostOf(url);
    const addresses = isIP(host) ? [host] : await resolveAll(host, field);
    for (const a of addresses) this.checkAddress(a, url, field);
    return url;
  }

  /** A `lookup` for http.request that applies checkAddress to what DNS answers at connect time. */
  lookupFor(url: URL, field: string): typeof dnsLookup {
    const checked = ((hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
      dnsLookup(hostname, { ...(options as object), all: true }, (err, addresses) => {
        if (err) return callback(err);
        try {
          const list = addresses as LookupAddress[];
          for (const a of list) this.checkAddress(a.address, url, field);
          if ((options as { all?: boolean }).all) return callback(null, list);
          const first = list[0] as LookupAddress;
          return callback(null, first.address, first.family);
        } catch (e) {
          return callback(e);
        }
      });
    }) as unknown as typeof dnsLookup;
    return checked;
  }
}

async function resolveAll(host: string, field: string): Promise<string[]> {
  try {
    return (await dnsLookupAsync(host, { all: true })).map((a) => a.address);
  } catch (e) {
    throw invalid(field, `host '${host}' does not resolve (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** The URL's host without IPv6 brackets, lower-case. */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
const portOf = (url: URL): string => url.port || (url.protocol === 'https:' ? '443' : '80');

/** `images.example.com` matches itself; `*.example.com` matches its subdomains. */
function hostMatches(host: string, entry: string): boolean {
  const e = entry
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (e.startsWith('*.')) return host.endsWith(e.slice(1));
  if (isIP(e) && isIP(host)) return ipaddr.process(e).toString() === ipaddr.process(host).toString();
  return host === e;
}

/** Loopback, unspecified, or an address of one of this host's interfaces. */
function isOwnAddress(ip: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  const range = ip.range();
  if (range === 'loopback' || range === 'unspecified') return true;
  const own = Object.values(networkInterfaces())
    .flat()
    .map((i) => i?.address)
    .filter((a): a is string => a !== undefined);
  const text = ip.toString();
  return own.some((a) => ipaddr.process(a.split('%')[0] as string).toString() === text);
}
