CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"actor" text NOT NULL,
	"role" text NOT NULL,
	"action" text NOT NULL,
	"target" text,
	"details" jsonb,
	"outcome" text NOT NULL,
	"status_code" integer NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_log_outcome" CHECK ("audit_log"."outcome" in ('SUCCESS', 'FAILURE'))
);
--> statement-breakpoint
CREATE TABLE "consumer_controls" (
	"group_id" text PRIMARY KEY NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "replays" (
	"id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"topic" text NOT NULL,
	"mode" text NOT NULL,
	"ranges" jsonb NOT NULL,
	"request" jsonb NOT NULL,
	"status" text NOT NULL,
	"read" bigint DEFAULT 0 NOT NULL,
	"already_settled" bigint DEFAULT 0 NOT NULL,
	"settled" bigint DEFAULT 0 NOT NULL,
	"rejected" bigint DEFAULT 0 NOT NULL,
	"dead_lettered" bigint DEFAULT 0 NOT NULL,
	"differences" bigint DEFAULT 0 NOT NULL,
	"difference_samples" jsonb,
	"progress" jsonb,
	"requested_by" text NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "replays_status" CHECK ("replays"."status" in ('RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED')),
	CONSTRAINT "replays_mode" CHECK ("replays"."mode" in ('settle', 'verify'))
);
--> statement-breakpoint
CREATE INDEX "audit_log_created_idx" ON "audit_log" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "replays_created_idx" ON "replays" USING btree ("created_at","id");