/** The sim's private network: a block of loopback addresses per provider, so each instance's privateIp is reachable here. */
import ipaddr from 'ipaddr.js';

/** Hosts used in each /24: .4 to .253, leaving the network, gateway-ish and broadcast hosts alone as clouds do. */
const FIRST_HOST = 4;
const HOSTS_PER_24 = 250;
const LOOPBACK = ipaddr.parse('127.0.0.0') as ipaddr.IPv4;

export class AddressBlock {
  /** How many instance addresses the block holds. */
  readonly capacity: number;

  private constructor(
    readonly cidr: string,
    private readonly base: number,
    prefix: number,
  ) {
    this.capacity = HOSTS_PER_24 * 2 ** (24 - prefix);
  }

  /**
   * Parses `cidr` (`127.10.0.0/16`); answers the reason it is refused, or the block. Only 127.0.0.0/8 qualifies:
   * Linux routes all of it to the loopback interface, so every address in it can be bound without any set-up.
   */
  static parse(cidr: string): AddressBlock | string {
    let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      parsed = ipaddr.parseCIDR(cidr);
    } catch {
      return `must be an IPv4 block in CIDR notation, such as 127.10.0.0/16 (got ${JSON.stringify(cidr)})`;
    }
    const [addr, prefix] = parsed;
    if (addr.kind() !== 'ipv4' || !(addr as ipaddr.IPv4).match(LOOPBACK, 8)) return `must lie within 127.0.0.0/8 (got ${cidr})`;
    if (prefix < 8 || prefix > 24) return `must be a /8 to /24 block (got /${prefix})`;
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const base = (toInt(addr as ipaddr.IPv4) & mask) >>> 0;
    return new AddressBlock(`${fromInt(base)}/${prefix}`, base, prefix);
  }

  /** A default block of its own for each provider id, 127.16.0.0/16 to 127.239.0.0/16, away from 127.0.0.1 and 127.0.1.1. */
  static defaultFor(providerId: string): AddressBlock {
    return AddressBlock.parse(`127.${16 + (fnv1a(providerId) % 224)}.0.0/16`) as AddressBlock;
  }

  /** The `index`-th instance address of the block (`index` below `capacity`). */
  addressAt(index: number): string {
    const subnet = Math.floor(index / HOSTS_PER_24);
    return fromInt(this.base + subnet * 256 + (index % HOSTS_PER_24) + FIRST_HOST);
  }
}

const toInt = (a: ipaddr.IPv4): number => a.octets.reduce((n, o) => n * 256 + o, 0);
const fromInt = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** FNV-1a: a stable, well-spread hash of a short string, the same on every run and machine. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(text)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h;
}
