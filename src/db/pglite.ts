import type { PGlite } from '@electric-sql/pglite';
import type { Database, Db } from './client.js';
import { migrationsFolder } from './migrate.js';
import * as schema from './schema.js';

/** The embedded database (Node only: PGlite does not run in workerd; only src/runtime/node and tests load it). */
export async function openPglite(clientOrDir: PGlite | string): Promise<Database & { client: PGlite }> {
  const { drizzle } = await import('drizzle-orm/pglite');
  let client: PGlite;
  if (typeof clientOrDir === 'string') {
    const { PGlite } = await import('@electric-sql/pglite');
    client = await PGlite.create(clientOrDir);
  } else {
    client = clientOrDir;
  }
  const db = drizzle({ client, schema }) as unknown as Db;
  return {
    db,
    client,
    kind: 'pglite',
    async ping() {
      await client.query('select 1');
    },
    async close() {
      if (!client.closed) await client.close();
    },
  };
}

/** Apply drizzle-kit's generated migrations (one process owns a PGlite directory, so no lock is needed). */
export async function migratePglite(client: PGlite): Promise<void> {
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  await migrate(drizzle({ client }), { migrationsFolder });
}
