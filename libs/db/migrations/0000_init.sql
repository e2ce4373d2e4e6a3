CREATE TABLE "accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"currency" char(3) NOT NULL,
	"overdraft_limit" numeric(38, 0) DEFAULT 0 NOT NULL,
	"balance" numeric(38, 0) DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accounts_id_format" CHECK ("accounts"."id" ~ '^[A-Za-z0-9._:-]{1,64}$'),
	CONSTRAINT "accounts_currency_format" CHECK ("accounts"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "accounts_overdraft_limit_non_negative" CHECK ("accounts"."overdraft_limit" >= 0),
	CONSTRAINT "accounts_balance_within_limit" CHECK ("accounts"."balance" >= -"accounts"."overdraft_limit")
);
--> statement-breakpoint
CREATE TABLE "batches" (
	"id" text PRIMARY KEY NOT NULL,
	"topic" text NOT NULL,
	"partition" integer NOT NULL,
	"from_offset" bigint NOT NULL,
	"next_offset" bigint NOT NULL,
	"workflow_id" text NOT NULL,
	"status" text NOT NULL,
	"message_count" integer DEFAULT 0 NOT NULL,
	"settled" integer DEFAULT 0 NOT NULL,
	"rejected" integer DEFAULT 0 NOT NULL,
	"duplicates" integer DEFAULT 0 NOT NULL,
	"dead_lettered" integer DEFAULT 0 NOT NULL,
	"replay_id" text,
	"error" text,
	"closed_at" timestamp with time zone,
	"settled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "batches_offsets_ordered" CHECK ("batches"."next_offset" >= "batches"."from_offset")
);
--> statement-breakpoint
CREATE TABLE "dead_letters" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"topic" text NOT NULL,
	"partition" integer NOT NULL,
	"offset" bigint NOT NULL,
	"key" text,
	"value" text NOT NULL,
	"headers" jsonb,
	"reason" text NOT NULL,
	"field" text,
	"message" text NOT NULL,
	"transaction_id" text,
	"batch_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dead_letters_reason" CHECK ("dead_letters"."reason" in ('MALFORMED_JSON', 'SCHEMA_VIOLATION', 'TOO_LARGE', 'DUPLICATE_CONFLICT'))
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"batch_id" text NOT NULL,
	"topic" text NOT NULL,
	"key" text,
	"payload" text NOT NULL,
	"headers" jsonb,
	"published_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "partition_cursors" (
	"topic" text NOT NULL,
	"partition" integer NOT NULL,
	"next_offset" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "partition_cursors_topic_partition_pk" PRIMARY KEY("topic","partition")
);
--> statement-breakpoint
CREATE TABLE "postings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"transaction_id" text NOT NULL,
	"account_id" text NOT NULL,
	"side" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" char(3) NOT NULL,
	"batch_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "postings_amount_non_zero" CHECK ("postings"."amount" <> 0),
	CONSTRAINT "postings_sign_matches_side" CHECK (("postings"."side" = 'DEBIT' and "postings"."amount" < 0) or ("postings"."side" = 'CREDIT' and "postings"."amount" > 0)),
	CONSTRAINT "postings_currency_format" CHECK ("postings"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "transactions" (
	"id" text PRIMARY KEY NOT NULL,
	"content_hash" char(64) NOT NULL,
	"debit_account" text NOT NULL,
	"credit_account" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" char(3) NOT NULL,
	"occurred_at" text NOT NULL,
	"reference" text,
	"status" text NOT NULL,
	"reason" text,
	"batch_id" text NOT NULL,
	"topic" text NOT NULL,
	"partition" integer NOT NULL,
	"offset" bigint NOT NULL,
	"settled_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "transactions_amount_positive" CHECK ("transactions"."amount" > 0),
	CONSTRAINT "transactions_currency_format" CHECK ("transactions"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "transactions_status" CHECK ("transactions"."status" in ('SETTLED', 'REJECTED')),
	CONSTRAINT "transactions_reason_matches_status" CHECK (("transactions"."status" = 'SETTLED' and "transactions"."reason" is null) or ("transactions"."status" = 'REJECTED' and "transactions"."reason" is not null))
);
--> statement-breakpoint
ALTER TABLE "postings" ADD CONSTRAINT "postings_transaction_id_transactions_id_fk" FOREIGN KEY ("transaction_id") REFERENCES "public"."transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "postings" ADD CONSTRAINT "postings_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "batches_status_idx" ON "batches" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "batches_partition_idx" ON "batches" USING btree ("topic","partition","from_offset");--> statement-breakpoint
CREATE UNIQUE INDEX "dead_letters_source_uq" ON "dead_letters" USING btree ("topic","partition","offset");--> statement-breakpoint
CREATE INDEX "dead_letters_created_idx" ON "dead_letters" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "dead_letters_reason_idx" ON "dead_letters" USING btree ("reason","id");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "outbox" USING btree ("batch_id") WHERE "outbox"."published_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "postings_transaction_side_uq" ON "postings" USING btree ("transaction_id","side");--> statement-breakpoint
CREATE INDEX "postings_account_idx" ON "postings" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "transactions_batch_idx" ON "transactions" USING btree ("batch_id");--> statement-breakpoint
CREATE INDEX "transactions_debit_account_idx" ON "transactions" USING btree ("debit_account","settled_at");