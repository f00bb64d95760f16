import postgres from 'postgres';
import { inject } from 'vitest';
import { migratePostgres } from '../../src/db/migrate.js';

const withDatabase = (url: string, name: string) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

async function admin<T>(url: string, run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await run(sql);
  } finally {
    await sql.end();
  }
}

export const dropDatabase = (url: string, name: string) =>
  admin(url, (sql) => sql.unsafe(`drop database if exists ${name} with (force)`));

export async function createTemplateDatabase(url: string, name: string): Promise<void> {
  await admin(url, async (sql) => {
    await sql.unsafe(`drop database if exists ${name} with (force)`);
    await sql.unsafe(`create database ${name}`);
  });
  await migratePostgres(withDatabase(url, name));
}

let counter = 0;

/** A fresh, migrated database for one harness, dropped again by the returned function. */
export async function createTestDatabase(
  url: string,
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `quire_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  await admin(url, (sql) => sql.unsafe(`create database ${name} template ${inject('templateDatabase')}`));
  return { url: withDatabase(url, name), name, drop: () => dropDatabase(url, name).then(() => {}) };
}
