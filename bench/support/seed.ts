import postgres from 'postgres';

/**
 * A list of `n` subscribers the way a real one looks, made by generate_series in a few set-based
 * statements: 90% active, 5% pending, 3% unsubscribed, 2% bounced (with their suppressions); everyone
 * on `release`, every other one also on `updates`; one a second over the last n seconds, names on two
 * thirds. Ends with ANALYZE, as autovacuum would after a load.
 */
export async function seedList(url: string, n: number): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`
      insert into subscribers (email, email_hash, name, status, confirmed_at, created_at, status_changed_at, source)
      select 'reader' || g || '@example.com', md5('reader' || g),
             case when g % 3 = 0 then null else 'Reader ' || g end,
             case when g % 100 < 90 then 'active' when g % 100 < 95 then 'pending' when g % 100 < 98 then 'unsubscribed' else 'bounced' end,
             case when g % 100 < 90 or g % 100 >= 95 then now() - (g || ' seconds')::interval end,
             now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval, 'seed'
        from generate_series(1, ${n}) g`);
    await sql.unsafe(`
      insert into subscriptions (subscriber_id, topic, subscribed)
      select id, 'release', status <> 'unsubscribed' from subscribers
      union all
      select id, 'updates', status <> 'unsubscribed' from subscribers where hashtext(id::text) % 2 = 0`);
    await sql.unsafe(`
      insert into suppressions (email_hash, reason)
      select email_hash, case status when 'bounced' then 'hard_bounce' else 'unsubscribed' end
        from subscribers where status in ('bounced', 'unsubscribed')`);
    await sql.unsafe('analyze');
  } finally {
    await sql.end();
  }
}
