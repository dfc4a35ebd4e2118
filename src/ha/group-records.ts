/**
 * Typed access to protection groups in the store, and the one way to change a group's status: read, change, write
 * conditionally on the generation read (retried when another writer came first), fenced by the writer's lease.
 */
import { notFound } from '../core/errors.js';
import type { Fence, ProtectionGroupRecord, Store } from '../core/store-port.js';
import type { ProtectionGroup, ProtectionGroupSpec, ProtectionGroupStatus } from './protection-group.js';

export type GroupStore = Pick<Store, 'getProtectionGroup' | 'updateProtectionGroup'>;

export function groupOf(r: ProtectionGroupRecord): ProtectionGroup {
  return {
    id: r.id,
    spec: r.spec as unknown as ProtectionGroupSpec,
    status: r.status as unknown as ProtectionGroupStatus,
    generation: r.generation,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export async function readGroup(store: GroupStore, id: string): Promise<ProtectionGroup> {
  const r = await store.getProtectionGroup(id);
  if (r === undefined) throw notFound('protection group', id);
  return groupOf(r);
}

/** The lease name a group's controller holds. */
export const leaseOf = (groupId: string): string => `protection-group/${groupId}`;

/**
 * Applies `change` to the group's current status and stores it (fenced when `fence` is given). `change` may be called
 * more than once (when another writer changed the group in between), so it must only derive from its argument.
 */
export async function updateStatus(
  store: GroupStore,
  id: string,
  change: (status: ProtectionGroupStatus, group: ProtectionGroup) => ProtectionGroupStatus,
  fence?: Fence,
): Promise<ProtectionGroup> {
  for (let attempt = 0; ; attempt++) {
    const group = await readGroup(store, id);
    const status = change(structuredClone(group.status), group);
    try {
      const written = await store.updateProtectionGroup(
        id,
        { status: status as unknown as Record<string, unknown>, updatedAt: new Date().toISOString() },
        { expectGeneration: group.generation, ...(fence !== undefined && { fence }) },
      );
      return groupOf(written);
    } catch (e) {
      // A generation conflict is another writer's update: read again. A stale fence is final.
      const retry = attempt < 20 && e instanceof Error && /generation/.test(e.message) && !/fencing/.test(e.message);
      if (!retry) throw e;
    }
  }
}
