-- Postings keep one index: their natural key, (transaction_id, side), which replay and the
-- ledger check read. The surrogate `id` key and `(account_id, id)` were read by nothing and
-- cost every settled transaction four index entries, about 8 us of PostgreSQL CPU
-- (docs/benchmarks.md). The existing unique index becomes the key without a rebuild; `id`
-- stays as the append order.
ALTER TABLE "postings" DROP CONSTRAINT "postings_pkey";--> statement-breakpoint
ALTER TABLE "postings" ADD CONSTRAINT "postings_pkey" PRIMARY KEY USING INDEX "postings_transaction_side_uq";--> statement-breakpoint
DROP INDEX "postings_account_idx";
