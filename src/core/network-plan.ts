/** A network's address plan: an IPv4 block in CIDR notation and a gateway inside it, checked with reasons. */
import ipaddr from 'ipaddr.js';
import { invalid } from './errors.js';

export interface NetworkPlan {
  cidr: string;
  gateway: string;
}

/** The prefix lengths the core accepts; an adapter may narrow them (the sim: /16 to /28). */
export const PREFIX_RANGE = { min: 16, max: 28 };

const toInt = (a: ipaddr.IPv4): number => a.octets.reduce((n, o) => n * 256 + o, 0) >>> 0;
const fromInt = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** The host addresses of a checked block, first to last (neither its network nor its broadcast address). */
export function* hostsOf(cidr: string): Generator<string> {
  const [addr, prefix] = ipaddr.IPv4.parseCIDR(cidr);
  const base = toInt(addr);
  for (let host = base + 1; host < base + 2 ** (32 - prefix) - 1; host++) yield fromInt(host);
}

/** A block's first host: the default gateway, and on AWS always the router. */
export const firstHost = (cidr: string): string => hostsOf(cidr).next().value ?? '';

/**
 * Checks `cidr` (IPv4, network address, prefix in `range`) and `gateway` (a host of the block, neither its
 * network nor its broadcast address; default the first host). Throws `invalid` naming `fields`.
 */
export function checkNetworkPlan(
  cidr: unknown,
  gateway: unknown,
  fields = { cidr: 'cidr', gateway: 'gateway' },
  range = PREFIX_RANGE,
): NetworkPlan {
  const shown = JSON.stringify(cidr);
  if (typeof cidr !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr))
    throw invalid(fields.cidr, `must be an IPv4 block in CIDR notation, such as 10.20.0.0/24 (got ${shown})`);
  let addr: ipaddr.IPv4;
  let prefix: number;
  try {
    [addr, prefix] = ipaddr.IPv4.parseCIDR(cidr);
  } catch {
    throw invalid(fields.cidr, `must be an IPv4 block in CIDR notation, such as 10.20.0.0/24 (got ${shown})`);
  }
  if (prefix < range.min || prefix > range.max)
    throw invalid(fields.cidr, `must be a /${range.min} to /${range.max} block (got /${prefix})`);
  const size = 2 ** (32 - prefix);
  const base = toInt(addr);
  if (base % size !== 0)
    throw invalid(fields.cidr, `must start at its block's network address (${fromInt(base - (base % size))}/${prefix})`);
  if (gateway === undefined) return { cidr, gateway: firstHost(cidr) };
  if (typeof gateway !== 'string' || !ipaddr.IPv4.isValidFourPartDecimal(gateway))
    throw invalid(fields.gateway, `must be an IPv4 address (got ${JSON.stringify(gateway)})`);
  const g = toInt(ipaddr.IPv4.parse(gateway));
  if (g <= base || g >= base + size - 1) throw invalid(fields.gateway, `must be a host address inside ${cidr} (got ${gateway})`);
  return { cidr, gateway };
}
