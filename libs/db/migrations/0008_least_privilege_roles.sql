-- Least privilege: one NOLOGIN group role per app. Deployments create a LOGIN role per app and
-- grant it the group (GRANT settlement_admin TO admin_login); the migration owner keeps DDL,
-- TRIGGER, TRUNCATE and ownership to itself. Roles are cluster-wide, so they are created only
-- if missing. A new table gets its GRANT lines in the migration that creates it (pattern in
-- docs/security.md); a test fails for a table any app role cannot read.
DO $$
DECLARE
  app_role text;
BEGIN
  FOREACH app_role IN ARRAY ARRAY['settlement_ingest', 'settlement_worker', 'settlement_admin'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', app_role);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- another database's migration created it at the same moment
      END;
    END IF;
  END LOOP;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO settlement_ingest, settlement_worker, settlement_admin;
--> statement-breakpoint
GRANT SELECT ON ALL TABLES IN SCHEMA public TO settlement_ingest, settlement_worker, settlement_admin;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO settlement_ingest, settlement_worker, settlement_admin;
--> statement-breakpoint
-- Ingest: stages batches, moves partition cursors, records dead letters; never the ledger.
GRANT INSERT, UPDATE, DELETE ON batches, partition_cursors, dead_letters, outbox TO settlement_ingest;
--> statement-breakpoint
-- Worker: settles (postings and transactions are append-only: INSERT only), balances, batches,
-- replays, cycles and the outbox.
GRANT INSERT ON postings, transactions TO settlement_worker;
--> statement-breakpoint
GRANT UPDATE ON accounts TO settlement_worker;
--> statement-breakpoint
GRANT INSERT, UPDATE, DELETE ON batches, partition_cursors, dead_letters, outbox, replays,
  settlement_cycles, cycle_positions, dead_letter_repairs, dead_letter_redrives TO settlement_worker;
--> statement-breakpoint
-- Admin: opens accounts, audits, pauses, starts replays, cycles and dead-letter repairs; never
-- writes the ledger (postings, transactions, balances).
GRANT INSERT ON accounts, audit_log TO settlement_admin;
--> statement-breakpoint
GRANT INSERT, UPDATE ON consumer_controls, replays, settlement_cycles, dead_letter_repairs,
  dead_letter_redrives, dead_letters TO settlement_admin;
