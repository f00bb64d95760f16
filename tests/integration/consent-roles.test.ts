import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyConsentChain } from '../../src/core/consent.js';
import { admin, draftBroadcast } from '../support/broadcasts.js';
import { activeSubscriber } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

/**
 * The application as a role that does not own the tables (migration 0009): a login role the operator
 * made a member of quire_runtime. It runs every flow, seals through consent_events_seal and erases
 * through consent_events_erase_details, and cannot change the ledger or switch its trigger off.
 * PostgreSQL only: PGlite has one user, who owns everything.
 */
describe.runIf(databaseKinds.includes('postgres'))(
  'the app as a role that does not own the tables, on postgres',
  () => {
    const role = `quire_rt_${process.pid}_${Date.now().toString(36)}`;
    const password = 'runtime-role-test';
    let h: Harness;
    let runtime: postgres.Sql;

    const asCluster = async (statement: string) => {
      const sql = postgres(process.env.TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(statement);
      } finally {
        await sql.end();
      }
    };

    beforeAll(async () => {
      // The README's two lines, as the operator runs them.
      await asCluster(`create role ${role} login password '${password}'`);
      await asCluster(`grant quire_runtime to ${role}`);
      h = await createHarness('postgres', {}, { connectAs: { user: role, password } });
      const url = new URL(h.databaseUrl!);
      url.username = role;
      url.password = password;
      runtime = postgres(url.toString(), { max: 1, onnotice: () => {} });
    });
    afterAll(async () => {
      await runtime?.end();
      await h?.close();
      await asCluster(`drop role if exists ${role}`);
    });

    it('runs signup, confirmation, preferences, a broadcast, sealing, checkpoints and erasure', async () => {
      expect(await h.query<{ me: string }>('select current_user as me')).toEqual([{ me: role }]);
      const [{ owner }] = (await h.query<{ owner: string }>(
        `select pg_get_userbyid(relowner) as owner from pg_class where relname = 'consent_events'`,
      )) as [{ owner: string }];
      expect(owner).not.toBe(role);

      const reader = await activeSubscriber(h, { name: 'Runtime Reader', source: 'book-site' });
      const put = await h.request(`/v1/preferences/${reader.preferencesToken}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ topics: ['release', 'updates'] }),
      });
      expect(put.status).toBe(200);
      const draft = await draftBroadcast(h, { topic: 'updates' });
      expect((await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' })).status).toBe(202);
      await h.deliver();
      expect(h.smtp.to(reader.email).length).toBeGreaterThanOrEqual(3);

      expect(await h.seal()).toBeGreaterThanOrEqual(0);
      const checkpoint = await admin(h, '/admin/v1/consent/checkpoints', { method: 'POST' });
      expect(checkpoint.status).toBe(201);
      expect((await admin(h, `/admin/v1/subscribers/${reader.id}`, { method: 'DELETE' })).status).toBe(200);
      await h.seal();
      const details = await h.query<{ source: string | null }>(
        `select source from consent_events where subscriber_id = $1 and kind <> 'erased'`,
        [reader.id],
      );
      expect(details.every((d) => d.source === null)).toBe(true);
      expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true, pending: 0 });
      const verified = await admin(h, '/admin/v1/consent/verify', {
        method: 'POST',
        body: JSON.stringify({ checkpoints: [await checkpoint.json()] }),
      });
      expect(await verified.json()).toMatchObject({ ok: true, checkpoints: { checked: 1 } });
    });

    it('cannot UPDATE, DELETE or TRUNCATE the ledger, nor switch its trigger off, drop it or replace its functions', async () => {
      const refused: [string, RegExp][] = [
        [`update consent_events set kind = 'confirmed'`, /permission denied for table consent_events/],
        [
          `update consent_events set source = null, ip_hash = null, user_agent = null, details_salt = null`,
          /permission denied/,
        ],
        ['delete from consent_events', /permission denied for table consent_events/],
        ['truncate consent_events', /permission denied for table consent_events/],
        [
          'alter table consent_events disable trigger consent_events_append_only',
          /must be owner of table consent_events/,
        ],
        ['alter table consent_events disable trigger all', /must be owner of table consent_events/],
        [
          'drop trigger consent_events_append_only on consent_events',
          /must be owner of (table|relation) consent_events/,
        ],
        ['drop table consent_events', /must be owner of table consent_events/],
        [
          'create or replace function consent_events_reject_change() returns trigger language plpgsql as $$ begin return new; end $$',
          /must be owner of function consent_events_reject_change|permission denied for schema/,
        ],
        [
          'alter function consent_events_seal(boolean, integer) security invoker',
          /must be owner of function consent_events_seal/,
        ],
        ['update consent_texts set text = $$forged$$', /permission denied for table consent_texts/],
        ['delete from consent_texts', /permission denied for table consent_texts/],
        ['set session_replication_role = replica', /permission denied to set parameter/],
      ];
      for (const [statement, error] of refused)
        await expect(runtime.unsafe(statement), statement).rejects.toThrow(error);
      // What it may do with the ledger: add to it, read it, and seal it through the owner's function.
      const [event] = await runtime`
      insert into consent_events (subscriber_id, email_hash, kind, occurred_at)
      values (gen_random_uuid(), 'runtime', 'requested', now()) returning seq`;
      expect(event).toBeDefined();
      const [sealed] = await runtime`select consent_events_seal(true, 10) as n`;
      expect(Number(sealed!.n)).toBeGreaterThanOrEqual(1);
      expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true });
    });
  },
);
