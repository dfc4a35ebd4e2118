/** The store's migrations, listed in code: the same list runs from src (tsx) and from dist, with no directory to find and scan. */
import type { Migration, MigrationProvider } from 'kysely';
import type { Store } from '../../core/store-port.js';
import { initial } from './0001-initial.js';
import { ec2 } from './0002-ec2.js';
import { lbDesiredState } from './0003-lb-desired-state.js';
import { protectionGroups } from './0004-protection-groups.js';

export function migrations(dialect: Store['dialect']): MigrationProvider {
  // Kysely applies them in name order and records each name, so names must never change.
  const all: Record<string, Migration> = {
    '0001-initial': initial(dialect),
    '0002-ec2': ec2(dialect),
    '0003-lb-desired-state': lbDesiredState(dialect),
    '0004-protection-groups': protectionGroups(dialect),
  };
  return { getMigrations: async () => all };
}
