-- Erasable details, and sealing inside the database (src/core/consent.ts says why; the README's "Consent
-- ledger" says what holds against whom).
--
-- An event's details (source, ip_hash, user_agent) are what a person typed or sent. From canonical form 2
-- the chain covers a digest of them under a random salt rather than their text, so erasure can remove the
-- text and the salt together (leaving a digest nobody can test guesses against) and every link still
-- verifies. Events sealed before were hashed over the text (form 1) and stay so: rehashing them would be
-- the very rewrite the chain exists to expose.
CREATE OR REPLACE FUNCTION consent_events_details_digest(salt text, source text, ip_hash text, user_agent text)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(
    salt || E'\n[' || coalesce(to_json(source)::text, 'null') || ',' || coalesce(to_json(ip_hash)::text, 'null')
      || ',' || coalesce(to_json(user_agent)::text, 'null') || ']',
    'UTF8')), 'hex')
$$;
--> statement-breakpoint
ALTER TABLE "consent_events" DISABLE TRIGGER "consent_events_append_only";--> statement-breakpoint
UPDATE "consent_events" SET "canonical_form" = 1 WHERE "chain_seq" IS NOT NULL;--> statement-breakpoint
-- Events still pending are not in the chain yet: they take form 2.
UPDATE "consent_events" SET "details_salt" = replace(gen_random_uuid()::text, '-', '') WHERE "chain_seq" IS NULL;--> statement-breakpoint
UPDATE "consent_events"
   SET "details_digest" = consent_events_details_digest("details_salt", "source", "ip_hash", "user_agent")
 WHERE "chain_seq" IS NULL;--> statement-breakpoint
ALTER TABLE "consent_events" ENABLE TRIGGER "consent_events_append_only";--> statement-breakpoint
-- Whoever writes an event, it arrives unsealed, in form 2, with its salt and digest made here.
CREATE OR REPLACE FUNCTION consent_events_prepare() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.chain_seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL THEN
    RAISE EXCEPTION 'consent_events: an event is written unsealed; consent_events_seal() links it'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  NEW.canonical_form := 2;
  NEW.details_salt := coalesce(NEW.details_salt, replace(gen_random_uuid()::text, '-', ''));
  NEW.details_digest := consent_events_details_digest(NEW.details_salt, NEW.source, NEW.ip_hash, NEW.user_agent);
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER consent_events_prepare BEFORE INSERT ON consent_events
  FOR EACH ROW EXECUTE FUNCTION consent_events_prepare();
--> statement-breakpoint
-- Still append-only. Two changes are allowed, each once: sealing an unsealed event (its place, link and
-- hash, nothing else), and erasing a form-2 event's details (text and salt to NULL together, nothing else).
CREATE OR REPLACE FUNCTION consent_events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
       AND (NEW.seq, NEW.subscriber_id, NEW.email_hash, NEW.kind, NEW.consent_text_version, NEW.topics, NEW.source,
            NEW.ip_hash, NEW.user_agent, NEW.details_salt, NEW.details_digest, NEW.canonical_form, NEW.occurred_at)
           IS NOT DISTINCT FROM
           (OLD.seq, OLD.subscriber_id, OLD.email_hash, OLD.kind, OLD.consent_text_version, OLD.topics, OLD.source,
            OLD.ip_hash, OLD.user_agent, OLD.details_salt, OLD.details_digest, OLD.canonical_form, OLD.occurred_at)
    THEN
      RETURN NEW;
    END IF;
    IF OLD.canonical_form = 2 AND OLD.details_salt IS NOT NULL
       AND NEW.source IS NULL AND NEW.ip_hash IS NULL AND NEW.user_agent IS NULL AND NEW.details_salt IS NULL
       AND (NEW.seq, NEW.subscriber_id, NEW.email_hash, NEW.kind, NEW.consent_text_version, NEW.topics,
            NEW.details_digest, NEW.canonical_form, NEW.occurred_at, NEW.chain_seq, NEW.prev_hash, NEW.hash)
           IS NOT DISTINCT FROM
           (OLD.seq, OLD.subscriber_id, OLD.email_hash, OLD.kind, OLD.consent_text_version, OLD.topics,
            OLD.details_digest, OLD.canonical_form, OLD.occurred_at, OLD.chain_seq, OLD.prev_hash, OLD.hash)
    THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'consent_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
-- Sealing, as src/core/consent-sealer.ts did it in the application: under the ledger's advisory lock
-- (waiting for it, or giving up at once: NULL), link up to batch_size pending events after the head, in
-- seq order. Each statement here reads a fresh snapshot, so events the last sealer linked are seen.
-- SECURITY DEFINER: the runtime role may call it but may not UPDATE the table (migration 0009). The
-- canonical form 2 it hashes is written out in src/core/consent-canonical.ts; a test holds them equal.
CREATE OR REPLACE FUNCTION consent_events_seal(wait boolean, batch_size integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  head_position bigint;
  head_hash text;
  e record;
  h text;
  seqs bigint[] := '{}';
  positions bigint[] := '{}';
  prevs text[] := '{}';
  hashes text[] := '{}';
BEGIN
  IF wait THEN
    PERFORM pg_advisory_xact_lock(1818584167);
  ELSIF NOT pg_try_advisory_xact_lock(1818584167) THEN
    RETURN NULL;
  END IF;
  SELECT c.chain_seq, c.hash INTO head_position, head_hash
    FROM consent_events c WHERE c.chain_seq IS NOT NULL ORDER BY c.chain_seq DESC LIMIT 1;
  head_position := coalesce(head_position, 0);
  head_hash := coalesce(head_hash, repeat('0', 64));
  FOR e IN
    SELECT c.seq, c.subscriber_id, c.email_hash, c.kind, c.consent_text_version, c.topics, c.details_digest, c.occurred_at
      FROM consent_events c WHERE c.chain_seq IS NULL ORDER BY c.seq LIMIT greatest(batch_size, 1)
  LOOP
    h := encode(sha256(convert_to(
      head_hash || E'\n[2,' || to_json(e.subscriber_id::text)::text || ',' || to_json(e.email_hash)::text
        || ',' || to_json(e.kind)::text || ',' || coalesce(e.consent_text_version::text, 'null')
        || ',' || coalesce((SELECT '[' || string_agg(to_json(t)::text, ',' ORDER BY convert_to(t, 'UTF8')) || ']'
                              FROM jsonb_array_elements_text(e.topics) AS t), '[]')
        || ',' || coalesce(to_json(e.details_digest)::text, 'null')
        || ',' || to_json(to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text || ']',
      'UTF8')), 'hex');
    head_position := head_position + 1;
    seqs := seqs || e.seq;
    positions := positions || head_position;
    prevs := prevs || head_hash;
    hashes := hashes || h;
    head_hash := h;
  END LOOP;
  IF cardinality(seqs) = 0 THEN
    RETURN 0;
  END IF;
  UPDATE consent_events c SET chain_seq = v.position, prev_hash = v.prev, hash = v.hash
    FROM unnest(seqs, positions, prevs, hashes) AS v(seq, position, prev, hash)
   WHERE c.seq = v.seq;
  RETURN cardinality(seqs);
END;
$$;
--> statement-breakpoint
-- Erasure of one subscriber's details (form 2 only: a form-1 hash covers the text, which must stay).
CREATE OR REPLACE FUNCTION consent_events_erase_details(subscriber uuid) RETURNS integer
LANGUAGE sql SECURITY DEFINER AS $$
  WITH erased AS (
    UPDATE consent_events SET source = NULL, ip_hash = NULL, user_agent = NULL, details_salt = NULL
     WHERE subscriber_id = $1 AND canonical_form = 2 AND details_salt IS NOT NULL
    RETURNING 1)
  SELECT count(*)::integer FROM erased
$$;
--> statement-breakpoint
-- A SECURITY DEFINER function resolves names with its caller's search_path unless given its own: pin it
-- to the schema the tables are in, with pg_temp last so no caller's temporary table can stand in.
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION consent_events_seal(boolean, integer) SET search_path = pg_catalog, %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION consent_events_erase_details(uuid) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END;
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION consent_events_seal(boolean, integer) FROM PUBLIC;--> statement-breakpoint
REVOKE ALL ON FUNCTION consent_events_erase_details(uuid) FROM PUBLIC;--> statement-breakpoint
-- A test send belongs to no subscriber, so erasing one would never find the address typed for it: the
-- address (and a relay's reply quoting it) goes as soon as the row is settled. Until then the outbox
-- needs it: any worker, on any machine, may be the one that sends.
CREATE OR REPLACE FUNCTION deliveries_forget_test_address() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.kind = 'test' AND NEW."to" IS NOT NULL AND NEW.status IN ('sent', 'failed', 'bounced', 'skipped') THEN
    IF strpos(lower(coalesce(NEW.last_error, '')), lower(NEW."to")) > 0 THEN
      NEW.last_error := regexp_replace(NEW.last_error, regexp_replace(NEW."to", '([^[:alnum:]])', '\\\1', 'g'),
                                       '<test recipient>', 'gi');
    END IF;
    NEW."to" := NULL;
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER deliveries_forget_test_address BEFORE UPDATE OF status ON deliveries
  FOR EACH ROW EXECUTE FUNCTION deliveries_forget_test_address();
--> statement-breakpoint
UPDATE "deliveries" SET "to" = NULL, "last_error" = NULL
 WHERE "kind" = 'test' AND "status" IN ('sent', 'failed', 'bounced', 'skipped') AND "to" IS NOT NULL;
