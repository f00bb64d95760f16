import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import { BENCH_SERVER } from './postgres.js';

const PACKAGES = [
  'hono',
  '@hono/node-server',
  'drizzle-orm',
  'postgres',
  '@electric-sql/pglite',
  'react',
  '@react-email/render',
  'nodemailer',
  'smtp-server',
  'autocannon',
  'wrangler',
];

/** Node, PostgreSQL, pgbench and the installed versions of the packages the figures depend on. */
export async function versions(): Promise<Record<string, string>> {
  const out: Record<string, string> = { Node: process.version };
  try {
    const sql = postgres(BENCH_SERVER, { max: 1, onnotice: () => {} });
    out.PostgreSQL = String((await sql`show server_version`)[0]!.server_version).split(' ')[0]!;
    await sql.end();
  } catch {
    out.PostgreSQL = 'unreachable';
  }
  try {
    out.pgbench =
      /\d+\.\d+/.exec(execFileSync('/usr/bin/pgbench', ['--version'], { encoding: 'utf8' }))?.[0] ?? 'unknown';
  } catch {
    out.pgbench = 'missing';
  }
  for (const name of PACKAGES) {
    out[name] = await readFile(`node_modules/${name}/package.json`, 'utf8').then(
      (t) => (JSON.parse(t) as { version: string }).version,
      () => 'missing',
    );
  }
  return out;
}
