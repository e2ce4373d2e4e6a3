-- A batch's staged messages (~1.5 MB of JSON text per 5,000 transactions) and its outbox are
-- written once, read once and dropped: lz4 compresses them about three times faster than the
-- default pglz (16 -> 5 ms of PostgreSQL CPU per staged batch, docs/benchmarks.md). Only new
-- values are affected. A server built without lz4 keeps pglz: the ledger works either way.
DO $$
BEGIN
  ALTER TABLE "batches" ALTER COLUMN "staged_messages" SET COMPRESSION lz4;
  ALTER TABLE "outbox" ALTER COLUMN "messages" SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available in this PostgreSQL build: staged batches stay pglz-compressed';
END
$$;
