/**
 * EC2-shaped ids for skygate resources, both ways: `i-` + 17 hex digits derived from the skygate id by
 * hash (so the same resource always gets the same id, on any replica), persisted as an alias in the
 * store when first shown so that the reverse lookup works.
 */
import { createHash } from 'node:crypto';
import type { IdAliasStore } from '../../core/services/index.js';
import type { Ec2ResourceKind } from './ec2-errors.js';

export type Ec2IdKind = Ec2ResourceKind;

const PREFIX: Record<Ec2IdKind, string> = {
  instance: 'i',
  image: 'ami',
  snapshot: 'snap',
  volume: 'vol',
  vpc: 'vpc',
  subnet: 'subnet',
  'security-group': 'sg',
};

const NAMESPACE = 'ec2';
/** Derived ids kept in memory; beyond this the memo starts over (a miss only costs a hash). */
const MEMO_LIMIT = 200_000;

/** The shapes EC2 accepts: the old 8-digit and the current 17-digit form. */
export function isEc2Id(kind: Ec2IdKind, id: string): boolean {
  const prefix = `${PREFIX[kind]}-`;
  if (!id.startsWith(prefix)) return false;
  const hex = id.slice(prefix.length);
  return (hex.length === 8 || hex.length === 17) && /^[0-9a-f]+$/.test(hex);
}

/** A deterministic EC2-shaped id for anything (reservations, launch ids) that needs no reverse lookup. */
export function derivedId(prefix: string, from: string): string {
  return `${prefix}-${createHash('sha256').update(from).digest('hex').slice(0, 17)}`;
}

const reservationMemo = new Map<string, string>();

/** The reservation id of a launch; memoised, since every page of instances shows them again. */
export function reservationId(launch: string): string {
  let id = reservationMemo.get(launch);
  if (id === undefined) {
    if (reservationMemo.size >= MEMO_LIMIT) reservationMemo.clear();
    id = derivedId('r', launch);
    reservationMemo.set(launch, id);
  }
  return id;
}

export class IdMap {
  /** Per kind, skygate id -> EC2 id: listing pages look the same ids up again and again. */
  private readonly memo = new Map<Ec2IdKind, Map<string, string>>();
  /** Aliases known to be in the store, and the reverse lookups seen: both only grow until the limit. */
  private readonly stored = new Map<string, string>();
  private pending = new Map<string, { kind: Ec2IdKind; target: string }>();

  constructor(private readonly store: IdAliasStore) {}

  /** The EC2 id of a skygate resource, without recording it (for filters scanning many resources). */
  peek(kind: Ec2IdKind, skygateId: string): string {
    let ofKind = this.memo.get(kind);
    if (!ofKind) {
      ofKind = new Map();
      this.memo.set(kind, ofKind);
    }
    let id = ofKind.get(skygateId);
    if (id === undefined) {
      if (ofKind.size >= MEMO_LIMIT) ofKind.clear();
      id = derivedId(PREFIX[kind], `${kind}\u0000${skygateId}`);
      ofKind.set(skygateId, id);
    }
    return id;
  }

  /** The EC2 id of a skygate resource, queued to be recorded; call `flush` before answering. */
  toEc2(kind: Ec2IdKind, skygateId: string): string {
    const id = this.peek(kind, skygateId);
    if (!this.stored.has(id)) this.pending.set(id, { kind, target: skygateId });
    return id;
  }

  /** Records every id shown since the last flush, so a client can send it back. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    await this.store.putIdAliases([...batch].map(([alias, { kind, target }]) => ({ namespace: NAMESPACE, alias, kind, target })));
    if (this.stored.size >= MEMO_LIMIT) this.stored.clear();
    for (const [alias, { target }] of batch) this.stored.set(alias, target);
  }

  /** The skygate ids behind EC2 ids of `kind`; unknown ones (and those of another kind) are left out. */
  async resolve(kind: Ec2IdKind, ec2Ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unknown: string[] = [];
    for (const id of ec2Ids) {
      const target = this.stored.get(id) ?? this.pending.get(id)?.target;
      if (target !== undefined && this.peek(kind, target) === id) out.set(id, target);
      else unknown.push(id);
    }
    if (unknown.length > 0) {
      for (const alias of await this.store.getIdAliases(NAMESPACE, unknown)) {
        if (alias.kind !== kind) continue;
        out.set(alias.alias, alias.target);
        this.stored.set(alias.alias, alias.target);
      }
    }
    return out;
  }
}
