import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { Harness } from './harness.js';

const run = promisify(execFile);

/**
 * Everything the database holds, as text: `pg_dump` of the harness's database on PostgreSQL, and on
 * PGlite (which pg_dump cannot reach) every row of every table outside the system schemas, as JSON.
 */
export async function dumpDatabase(h: Harness): Promise<string> {
  if (h.kind === 'postgres') {
    const [{ db }] = (await h.query<{ db: string }>('select current_database() as db')) as [{ db: string }];
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${db}`;
    const { stdout } = await run('/usr/bin/pg_dump', ['--no-owner', '--no-privileges', url.toString()], {
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(stdout).toContain('COPY public.subscribers');
    return stdout;
  }
  const tables = await h.query<{ schema: string; name: string }>(
    `select table_schema as schema, table_name as name from information_schema.tables
      where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`,
  );
  expect(tables.map((t) => `${t.schema}.${t.name}`)).toContain('public.subscribers');
  const parts: string[] = [];
  for (const t of tables) {
    const rows = await h.query<{ row: string }>(`select row_to_json(x)::text as row from "${t.schema}"."${t.name}" x`);
    parts.push(`-- ${t.schema}.${t.name}`, ...rows.map((r) => r.row));
  }
  return parts.join('\n');
}
