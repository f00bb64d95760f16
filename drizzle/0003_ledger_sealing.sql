-- Consent events are written unsealed, in the transaction of the change they record, and sealed into the
-- hash chain moments later by one sealer at a time (src/core/consent.ts): no signup waits for another's commit.
ALTER TABLE "consent_events" ALTER COLUMN "prev_hash" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "consent_events" ALTER COLUMN "hash" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "consent_events" ADD COLUMN "chain_seq" bigint;--> statement-breakpoint
-- Events so far were chained in seq order (each was inserted under the ledger lock): their place is their seq.
ALTER TABLE "consent_events" DISABLE TRIGGER "consent_events_append_only";--> statement-breakpoint
UPDATE "consent_events" SET "chain_seq" = "seq";--> statement-breakpoint
ALTER TABLE "consent_events" ENABLE TRIGGER "consent_events_append_only";--> statement-breakpoint
CREATE INDEX "consent_events_unsealed_idx" ON "consent_events" USING btree ("seq") WHERE "consent_events"."chain_seq" is null;--> statement-breakpoint
ALTER TABLE "consent_events" ADD CONSTRAINT "consent_events_chain_seq_unique" UNIQUE("chain_seq");--> statement-breakpoint
ALTER TABLE "consent_events" ADD CONSTRAINT "consent_events_sealed_whole" CHECK (("consent_events"."chain_seq" is null) = ("consent_events"."hash" is null) and ("consent_events"."hash" is null) = ("consent_events"."prev_hash" is null));--> statement-breakpoint
-- Still append-only: the one change allowed is sealing an unsealed event — its place, its link and its
-- hash, once — with nothing else about it changed.
CREATE OR REPLACE FUNCTION consent_events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
       AND (NEW.seq, NEW.subscriber_id, NEW.email_hash, NEW.kind, NEW.consent_text_version, NEW.topics, NEW.source, NEW.ip_hash, NEW.user_agent, NEW.occurred_at)
           IS NOT DISTINCT FROM
           (OLD.seq, OLD.subscriber_id, OLD.email_hash, OLD.kind, OLD.consent_text_version, OLD.topics, OLD.source, OLD.ip_hash, OLD.user_agent, OLD.occurred_at)
    THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'consent_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
