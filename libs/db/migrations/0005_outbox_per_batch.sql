-- One outbox row per batch and topic instead of one per event. Existing rows are folded
-- into the new shape (unpublished ones stay unpublished), then the per-event columns go.
DROP INDEX "outbox_unpublished_idx";--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "messages" text;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "message_count" integer;--> statement-breakpoint
ALTER TABLE "outbox" ALTER COLUMN "payload" DROP NOT NULL;--> statement-breakpoint
INSERT INTO "outbox" ("batch_id", "topic", "messages", "message_count", "published_at", "created_at")
  SELECT "batch_id", "topic",
    json_agg(json_build_object('key', "key", 'value', "payload", 'headers', "headers") ORDER BY "id")::text,
    count(*),
    CASE WHEN bool_and("published_at" IS NOT NULL) THEN max("published_at") END,
    min("created_at")
  FROM "outbox" WHERE "messages" IS NULL GROUP BY "batch_id", "topic";--> statement-breakpoint
DELETE FROM "outbox" WHERE "messages" IS NULL;--> statement-breakpoint
ALTER TABLE "outbox" ALTER COLUMN "messages" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ALTER COLUMN "message_count" SET NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_batch_topic_uq" ON "outbox" USING btree ("batch_id","topic");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "outbox" USING btree ("created_at") WHERE "outbox"."published_at" is null;--> statement-breakpoint
ALTER TABLE "outbox" DROP COLUMN "key";--> statement-breakpoint
ALTER TABLE "outbox" DROP COLUMN "payload";--> statement-breakpoint
ALTER TABLE "outbox" DROP COLUMN "headers";
