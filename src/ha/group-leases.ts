/**
 * This controller's hold on protection groups: each group's lease, taken or renewed on demand, answers the fencing
 * token every write of a move carries. Another controller holding the lease makes `hold` fail; the token then tells
 * the store to refuse anything this controller still tries.
 */
import { conflict } from '../core/errors.js';
import type { Fence, Store } from '../core/store-port.js';
import { leaseOf } from './group-records.js';

export type LeaseStore = Pick<Store, 'acquireLease' | 'releaseLease' | 'getLease'>;

export class GroupLeases {
  constructor(
    private readonly store: LeaseStore,
    readonly holder: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The fence for acting on `groupId` now, or undefined when another controller holds the group. */
  async tryHold(groupId: string): Promise<Fence | undefined> {
    const lease = await this.store.acquireLease(leaseOf(groupId), this.holder, this.ttlMs, this.now());
    return lease && { lease: lease.name, token: lease.token };
  }

  /** As `tryHold`, but another holder is an error (`conflict`) naming it. */
  async hold(groupId: string): Promise<Fence> {
    const fence = await this.tryHold(groupId);
    if (fence !== undefined) return fence;
    const other = await this.store.getLease(leaseOf(groupId));
    throw conflict(
      `protection group ${groupId} is controlled by ${other?.holder ?? 'another controller'} until ${other?.expiresAt ?? 'its lease ends'}`,
    );
  }

  release(groupId: string): Promise<void> {
    return this.store.releaseLease(leaseOf(groupId), this.holder);
  }
}
