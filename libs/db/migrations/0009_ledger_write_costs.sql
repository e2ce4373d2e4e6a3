ALTER TABLE "accounts" DROP CONSTRAINT "accounts_id_format";--> statement-breakpoint
ALTER TABLE "accounts" DROP CONSTRAINT "accounts_currency_format";--> statement-breakpoint
-- The two format checks, now only where the columns are written: a CHECK constraint is
-- evaluated on every UPDATE of the row, and settlement updates thousands of balances per
-- batch. Same names and SQLSTATE (check_violation) as the constraints they replace.
CREATE FUNCTION accounts_check_format() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id IS NULL OR NEW.id !~ '^[A-Za-z0-9._:-]{1,64}$' THEN
    RAISE EXCEPTION 'new row for relation "accounts" violates check constraint "accounts_id_format"'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'accounts_id_format', TABLE = 'accounts';
  END IF;
  IF NEW.currency IS NULL OR NEW.currency !~ '^[A-Z]{3}$' THEN
    RAISE EXCEPTION 'new row for relation "accounts" violates check constraint "accounts_currency_format"'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'accounts_currency_format', TABLE = 'accounts';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER accounts_format BEFORE INSERT OR UPDATE OF id, currency ON accounts
  FOR EACH ROW EXECUTE FUNCTION accounts_check_format();
--> statement-breakpoint
-- Room in every page for the next version of a row: balance updates stay HOT (no new index
-- entry, pruned in place) instead of moving each updated account to another page.
ALTER TABLE accounts SET (fillfactor = 50);
--> statement-breakpoint
-- The reference check of a batch's postings probes each transaction and each account once,
-- not once per posting (a batch names every transaction twice and busy accounts many times).
CREATE OR REPLACE FUNCTION postings_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  orphan record;
BEGIN
  SELECT n.transaction_id, n.account_id INTO orphan
  FROM (SELECT DISTINCT ON (transaction_id, currency) transaction_id, account_id, currency FROM new_postings) n
  LEFT JOIN transactions t ON t.id = n.transaction_id
  WHERE t.id IS NULL OR t.currency <> n.currency
  LIMIT 1;
  IF NOT FOUND THEN
    SELECT n.transaction_id, n.account_id INTO orphan
    FROM (SELECT DISTINCT ON (account_id, currency) transaction_id, account_id, currency FROM new_postings) n
    LEFT JOIN accounts a ON a.id = n.account_id
    WHERE a.id IS NULL OR a.currency <> n.currency
    LIMIT 1;
  END IF;
  IF FOUND THEN
    RAISE EXCEPTION 'posting for transaction % on account % has no matching transaction or account in its currency',
      orphan.transaction_id, orphan.account_id USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END;
$$;
