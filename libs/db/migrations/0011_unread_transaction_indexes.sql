-- No query reads transactions by batch or by debit account; each index cost every settled
-- transaction an entry (about 5 us of PostgreSQL CPU for these two, docs/benchmarks.md).
DROP INDEX "transactions_batch_idx";--> statement-breakpoint
DROP INDEX "transactions_debit_account_idx";