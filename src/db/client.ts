import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
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
  /** Named prepared statements (see `preparing`); default: when type OIDs are fetched (long-lived pools). */
  prepare?: boolean;
}

export async function connectPostgres(opts: PostgresOptions): Promise<Database & { sql: Sql }> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const timeoutS = Math.max(1, Math.ceil((opts.timeoutMs ?? 5000) / 1000));
  const sql = postgres(opts.url, {
    max: opts.max ?? 10,
    connect_timeout: timeoutS,
    idle_timeout: 30,
    // postgres.js waits up to 20 s (3^n/100 s, jittered) before reconnecting a connection that a query is
    // already waiting on, so after an outage requests hung far past the timeout; at most 1 s here.
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 1),
    fetch_types: opts.fetchTypes ?? true,
    onnotice: () => {},
    connection: { application_name: 'quire', statement_timeout: opts.timeoutMs ?? 5000 },
  });
  const db = drizzle((opts.prepare ?? opts.fetchTypes !== false) ? preparing(sql) : sql, { schema }) as unknown as Db;
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

/**
 * Named prepared statements for drizzle's queries. drizzle calls postgres.js's `unsafe(…, { prepare:
 * false })` for every query not named with `.prepare(name)`, overriding postgres.js's own `prepare: true`
 * default, and an unnamed statement with parameters costs two round trips where a named one, described
 * once per connection, costs one. Neither library has an option for it, and naming every query would
 * put a name at each call site; so drizzle gets a view of the client, and of every transaction and
 * savepoint client it opens, whose `unsafe` prepares.
 */
function preparing(sql: Sql): Sql {
  type Fn = (...args: unknown[]) => unknown;
  const wrapScope = (args: unknown[]) => {
    const fn = args.pop() as (client: Sql) => unknown;
    return [...args, (client: Sql) => fn(preparing(client))];
  };
  return new Proxy(sql, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (prop === 'unsafe') {
        return (query: string, args?: unknown[], options?: Record<string, unknown>) =>
          (value as Fn)(query, args ?? [], { ...options, prepare: true });
      }
      if (prop === 'begin' || prop === 'savepoint') return (...args: unknown[]) => (value as Fn)(...wrapScope(args));
      return value;
    },
  });
}
