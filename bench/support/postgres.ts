import postgres from 'postgres';
import { migratePostgres } from '../../src/db/migrate.js';

export const BENCH_SERVER =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh, migrated database for one benchmark, dropped by the returned function. */
export async function benchDatabase(tag: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `quire_bench_${tag}_${process.pid}`;
  const admin = postgres(BENCH_SERVER, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const u = new URL(BENCH_SERVER);
  u.pathname = `/${name}`;
  await migratePostgres(u.toString());
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(BENCH_SERVER, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** `n` active subscribers on `topic`, made by generate_series in two statements. */
export async function seedSubscribers(url: string, n: number, topic = 'release'): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql.unsafe(`
    insert into subscribers (email, email_hash, name, status, confirmed_at, created_at)
    select 'reader' || g || '@example.com', md5('reader' || g), case when g % 3 = 0 then null else 'Reader ' || g end,
           'active', now(), now() - (g || ' seconds')::interval
      from generate_series(1, ${n}) g`);
  await sql.unsafe(
    `insert into subscriptions (subscriber_id, topic, subscribed) select id, '${topic}', true from subscribers`,
  );
  await sql.unsafe('analyze');
  await sql.end();
}
