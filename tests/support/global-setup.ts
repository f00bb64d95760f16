import { TEMPLATE_DB, createTemplateDatabase } from './postgres.js';

/**
 * Once per run: when a PostgreSQL server is configured, build a migrated template database that every
 * test harness clones (CREATE DATABASE … TEMPLATE is much faster than migrating each time).
 */
export default async function setup() {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  await createTemplateDatabase(url);
  return async () => {
    const { default: postgres } = await import('postgres');
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql.unsafe(`drop database if exists ${TEMPLATE_DB} with (force)`).catch(() => {});
    await sql.end();
  };
}
