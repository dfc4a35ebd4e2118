/** What the protection group API asks of the HA controller: moves that run as operations. */
import type { CallerContext } from '../core/index.js';
import type { Operation } from '../core/model.js';
import type { SiteHealthSnapshot } from './site-health.js';

export interface GroupHealth {
  controller: { holder: string | null; token?: number; heldHere: boolean };
  sites: Record<string, SiteHealthSnapshot>;
}

export interface HaActions {
  /** Fails the group over now (to `to`, or the best healthy standby); answers the running operation. */
  failover(groupId: string, req: { to?: string; reason?: string }, caller: CallerContext): Promise<Operation>;
  /** Planned move to `to`: drains first, so no request fails. Failback is a switchover back. */
  switchover(groupId: string, req: { to: string }, caller: CallerContext): Promise<Operation>;
  /** The health checks of the group's sites as this controller sees them, with their bounded history. */
  health(groupId: string): Promise<GroupHealth>;
  /** Replicates every member to every standby now, outside the schedule. */
  replicate(groupId: string, caller: CallerContext): Promise<Operation>;
}
