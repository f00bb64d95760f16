ALTER TABLE "deliveries" ADD COLUMN "provider_message_id" text;--> statement-breakpoint
CREATE INDEX "deliveries_provider_message_id_idx" ON "deliveries" USING btree ("provider_message_id");