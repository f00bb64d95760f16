ALTER TABLE "deliveries" ADD COLUMN "send_key" uuid;--> statement-breakpoint
CREATE INDEX "deliveries_send_key_idx" ON "deliveries" USING btree ("send_key") WHERE "deliveries"."send_key" is not null;