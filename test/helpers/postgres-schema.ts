/** A throwaway PostgreSQL schema for one test file, chosen through the connection's search_path. */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export interface ScopedDatabase {
  /** A database URL whose connections see only the new schema. */
  url: string;
  drop(): Promise<void>;
}

export async function freshSchema(url: string): Promise<ScopedDatabase> {
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  const schema = `skygate_test_${randomUUID().replaceAll('-', '')}`;
  await admin.query(`create schema ${schema}`);
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: scoped.toString(),
    async drop() {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}
