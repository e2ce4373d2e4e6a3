CREATE TABLE "dead_letter_redrives" (
	"id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"filter" jsonb NOT NULL,
	"max_dead_letter_id" bigint NOT NULL,
	"status" text NOT NULL,
	"cursor" bigint DEFAULT 0 NOT NULL,
	"matched" integer NOT NULL,
	"resubmitted" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"requested_by" text NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "dead_letter_redrives_status" CHECK ("dead_letter_redrives"."status" in ('RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED'))
);
--> statement-breakpoint
CREATE TABLE "dead_letter_repairs" (
	"dead_letter_id" bigint PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"corrected_value" text,
	"proposed_by" text,
	"proposed_at" timestamp with time zone,
	"approved_by" text,
	"approved_at" timestamp with time zone,
	"resubmitted_by" text,
	"resubmitted_at" timestamp with time zone,
	"redrive_id" text,
	"discarded_by" text,
	"discarded_at" timestamp with time zone,
	"discard_reason" text,
	"message_topic" text,
	"message_key" text,
	"message_value" text,
	"message_headers" jsonb,
	"transaction_id" text,
	"publish_attempts" integer DEFAULT 0 NOT NULL,
	"claimed_until" timestamp with time zone,
	"published_at" timestamp with time zone,
	"published_partition" integer,
	"published_offset" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dead_letter_repairs_status" CHECK ("dead_letter_repairs"."status" in ('PROPOSED', 'RESUBMITTED', 'DISCARDED')),
	CONSTRAINT "dead_letter_repairs_four_eyes" CHECK ("dead_letter_repairs"."approved_by" is null or "dead_letter_repairs"."approved_by" <> "dead_letter_repairs"."proposed_by"),
	CONSTRAINT "dead_letter_repairs_resubmitted_has_message" CHECK ("dead_letter_repairs"."status" <> 'RESUBMITTED' or ("dead_letter_repairs"."message_value" is not null and "dead_letter_repairs"."message_topic" is not null)),
	CONSTRAINT "dead_letter_repairs_discard_reason" CHECK ("dead_letter_repairs"."status" <> 'DISCARDED' or "dead_letter_repairs"."discard_reason" is not null)
);
--> statement-breakpoint
ALTER TABLE "dead_letter_repairs" ADD CONSTRAINT "dead_letter_repairs_dead_letter_id_dead_letters_id_fk" FOREIGN KEY ("dead_letter_id") REFERENCES "public"."dead_letters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dead_letter_redrives_created_idx" ON "dead_letter_redrives" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "dead_letter_repairs_status_idx" ON "dead_letter_repairs" USING btree ("status","dead_letter_id");--> statement-breakpoint
CREATE INDEX "dead_letter_repairs_unpublished_idx" ON "dead_letter_repairs" USING btree ("resubmitted_at") WHERE "dead_letter_repairs"."status" = 'RESUBMITTED' and "dead_letter_repairs"."published_at" is null;--> statement-breakpoint
CREATE INDEX "dead_letter_repairs_redrive_idx" ON "dead_letter_repairs" USING btree ("redrive_id");--> statement-breakpoint
CREATE INDEX "dead_letter_repairs_transaction_idx" ON "dead_letter_repairs" USING btree ("transaction_id");--> statement-breakpoint
CREATE INDEX "dead_letters_resubmission_idx" ON "dead_letters" USING btree (("headers" ->> 'x-dead-letter-id')) WHERE "dead_letters"."headers" ? 'x-dead-letter-id';