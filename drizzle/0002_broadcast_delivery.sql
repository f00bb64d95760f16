CREATE TABLE "bounce_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email_hash" text NOT NULL,
	"delivery_id" uuid,
	"type" text NOT NULL,
	"source" text NOT NULL,
	"diagnostic" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "deliveries_due_idx";--> statement-breakpoint
ALTER TABLE "broadcasts" ADD COLUMN "status_reason" text;--> statement-breakpoint
ALTER TABLE "broadcasts" ADD COLUMN "completed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "bounce_events" ADD CONSTRAINT "bounce_events_delivery_id_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."deliveries"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bounce_events_email_hash_idx" ON "bounce_events" USING btree ("email_hash","at");--> statement-breakpoint
CREATE INDEX "deliveries_transactional_due_idx" ON "deliveries" USING btree ("next_attempt_at") WHERE "deliveries"."kind" <> 'broadcast' and "deliveries"."status" in ('queued', 'sending');--> statement-breakpoint
CREATE INDEX "deliveries_broadcast_due_idx" ON "deliveries" USING btree ("broadcast_id","next_attempt_at") WHERE "deliveries"."kind" = 'broadcast' and "deliveries"."status" in ('queued', 'sending');--> statement-breakpoint
CREATE INDEX "deliveries_broadcast_status_idx" ON "deliveries" USING btree ("broadcast_id","status");--> statement-breakpoint
CREATE INDEX "deliveries_message_id_idx" ON "deliveries" USING btree ("message_id");