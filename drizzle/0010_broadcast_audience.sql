-- Freezing a broadcast's audience wrote one outbox row per recipient, and half the time went into the
-- foreign-key checks of deliveries.broadcast_id and deliveries.subscriber_id (each took a lock on, and so
-- wrote, every subscriber row). The audience is now written as chunks of subscriber ids into
-- broadcast_audience and becomes outbox rows a claim at a time; the two constraints go (subscribers and
-- broadcasts are never deleted, and the code that writes these columns reads them from those rows). The
-- message-id indexes become partial: a row queued for later has neither id yet.
CREATE TABLE "broadcast_audience" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "broadcast_audience_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"broadcast_id" uuid NOT NULL,
	"subscriber_ids" uuid[] NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_broadcast_id_broadcasts_id_fk";
--> statement-breakpoint
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_subscriber_id_subscribers_id_fk";
--> statement-breakpoint
DROP INDEX "deliveries_message_id_idx";--> statement-breakpoint
DROP INDEX "deliveries_provider_message_id_idx";--> statement-breakpoint
ALTER TABLE "broadcasts" ADD COLUMN "audience_slices" smallint;--> statement-breakpoint
ALTER TABLE "broadcasts" ADD COLUMN "audience_slices_done" smallint;--> statement-breakpoint
CREATE INDEX "broadcast_audience_broadcast_idx" ON "broadcast_audience" USING btree ("broadcast_id","id");--> statement-breakpoint
CREATE INDEX "deliveries_message_id_idx" ON "deliveries" USING btree ("message_id") WHERE "deliveries"."message_id" is not null;--> statement-breakpoint
CREATE INDEX "deliveries_provider_message_id_idx" ON "deliveries" USING btree ("provider_message_id") WHERE "deliveries"."provider_message_id" is not null;