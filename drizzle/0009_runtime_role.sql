-- The application need not own its tables (README "A role that does not own the tables"): the owner
-- migrates (MIGRATION_DATABASE_URL), and the application connects as a login role the operator makes a
-- member of quire_runtime (DATABASE_URL), which holds only what the application needs. A role that owns
-- consent_events can disable its trigger; quire_runtime cannot, and may only add to the ledger.
--
-- Creating a role needs CREATEROLE. An owner without it still migrates: the grants are skipped, and the
-- operator creates quire_runtime and runs `npm run migrate` once more, or keeps the single-role set-up.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'quire_runtime') THEN
    BEGIN
      CREATE ROLE quire_runtime NOLOGIN;
    EXCEPTION
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'quire_runtime was not created (% may not create roles); no grants made', current_user;
      WHEN duplicate_object OR unique_violation THEN
        NULL; -- another instance migrating another database of this server made it meanwhile
    END;
  END IF;
END;
$$;
--> statement-breakpoint
DO $$
DECLARE
  s text := current_schema();
  t text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'quire_runtime') THEN
    RETURN;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO quire_runtime', s);
  -- Working state: read and changed freely.
  FOREACH t IN ARRAY ARRAY['subscribers', 'topics', 'subscriptions', 'confirm_tokens', 'suppressions', 'broadcasts',
                           'bounce_events', 'deliveries', 'rate_limits', 'provider_events'] LOOP
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %I.%I TO quire_runtime', s, t);
  END LOOP;
  -- The record: added to, never changed. Sealing and erasure go through the two functions of 0008, which
  -- run as the owner and can do only what they say.
  EXECUTE format('GRANT SELECT, INSERT ON TABLE %I.consent_texts, %I.consent_events TO quire_runtime', s, s);
  EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO quire_runtime', s);
  GRANT EXECUTE ON FUNCTION consent_events_seal(boolean, integer) TO quire_runtime;
  GRANT EXECUTE ON FUNCTION consent_events_erase_details(uuid) TO quire_runtime;
  -- Tables later migrations create are working state unless their migration says otherwise.
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO quire_runtime', s);
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE ON SEQUENCES TO quire_runtime', s);
END;
$$;
