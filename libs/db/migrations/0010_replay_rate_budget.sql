CREATE TABLE "replay_rate_budget" (
	"id" smallint PRIMARY KEY NOT NULL,
	"next_free_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "replay_rate_budget_one_row" CHECK ("replay_rate_budget"."id" = 1)
);
--> statement-breakpoint
INSERT INTO "replay_rate_budget" ("id") VALUES (1) ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- Least privilege (0008): every app reads it; only the worker (replay activities) moves it.
GRANT SELECT ON replay_rate_budget TO settlement_ingest, settlement_worker, settlement_admin;
--> statement-breakpoint
GRANT UPDATE ON replay_rate_budget TO settlement_worker;
