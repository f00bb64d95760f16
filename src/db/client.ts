import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { Sql } from 'postgres';
import * as schema from './schema.js';

export type Schema = typeof schema;
/** One type over both drivers: drizzle on postgres.js and drizzle on PGlite both fit it. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type DbOrTx = Db | Tx;

export interface Database {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  /** Resolves when a trivial query round-trips; throws when the database is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** `db.execute()` returns an array on postgres.js and `{ rows }` on PGlite. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export interface PostgresOptions {
  url: string;
  max?: number;
  timeoutMs?: number;
  /** Workers: per-request clients must not fetch type OIDs (extra round trip). */
  fetchTypes?: boolean;
}

export async function connectPostgres(opts: PostgresOptions): Promise<Database & { sql: Sql }> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const timeoutS = Math.max(1, Math.ceil((opts.timeoutMs ?? 5000) / 1000));
  const sql = postgres(opts.url, {
    max: opts.max ?? 10,
    connect_timeout: timeoutS,
    idle_timeout: 30,
    fetch_types: opts.fetchTypes ?? true,
    onnotice: () => {},
    connection: { application_name: 'quire', statement_timeout: opts.timeoutMs ?? 5000 },
  });
  const db = drizzle(sql, { schema }) as unknown as Db;
  return {
    db,
    sql,
    kind: 'postgres',
    async ping() {
      await sql`select 1`;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
