-- A batch's staged messages (~1.5 MB of JSON text per 5,000 transactions) and its outbox are
-- written once, read once and dropped: lz4 compresses them about three times faster than the
-- default pglz (16 -> 5 ms of PostgreSQL CPU per staged batch, docs/benchmarks.md). Only new
-- values are affected: nothing is rewritten, the locks are brief. They are taken in the order
-- the apps write the two tables (outbox, then batches), so a migration during settlement
-- queues instead of deadlocking, and gives up after 10 s rather than stall the apps (the
-- migrate job retries). A server built without lz4 keeps pglz: the ledger works either way.
DO $$
DECLARE
  prior_lock_timeout text := current_setting('lock_timeout');
BEGIN
  PERFORM set_config('lock_timeout', '10s', true);
  LOCK TABLE "outbox", "batches" IN ACCESS EXCLUSIVE MODE;
  ALTER TABLE "outbox" ALTER COLUMN "messages" SET COMPRESSION lz4;
  ALTER TABLE "batches" ALTER COLUMN "staged_messages" SET COMPRESSION lz4;
  PERFORM set_config('lock_timeout', prior_lock_timeout, true); -- as before for the next ones
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available in this PostgreSQL build: staged batches stay pglz-compressed';
END
$$;
