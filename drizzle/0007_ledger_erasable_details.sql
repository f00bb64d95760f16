ALTER TABLE "consent_events" ADD COLUMN "details_salt" text;--> statement-breakpoint
ALTER TABLE "consent_events" ADD COLUMN "details_digest" text;--> statement-breakpoint
ALTER TABLE "consent_events" ADD COLUMN "canonical_form" smallint DEFAULT 2 NOT NULL;