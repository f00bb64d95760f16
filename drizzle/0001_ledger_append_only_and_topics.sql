-- The consent ledger is append-only: history may be added to, never rewritten or removed.
CREATE OR REPLACE FUNCTION consent_events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'consent_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER consent_events_append_only
  BEFORE UPDATE OR DELETE ON consent_events
  FOR EACH ROW EXECUTE FUNCTION consent_events_reject_change();
--> statement-breakpoint
CREATE TRIGGER consent_events_no_truncate
  BEFORE TRUNCATE ON consent_events
  FOR EACH STATEMENT EXECUTE FUNCTION consent_events_reject_change();
--> statement-breakpoint
INSERT INTO topics (slug, name, description, default_on) VALUES
  ('release', 'Book release', 'One email when the book is available.', true),
  ('updates', 'Occasional updates', 'New chapter articles and events, a few times a year.', true)
ON CONFLICT (slug) DO NOTHING;
