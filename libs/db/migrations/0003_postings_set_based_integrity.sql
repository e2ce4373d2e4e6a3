ALTER TABLE "postings" DROP CONSTRAINT "postings_transaction_id_transactions_id_fk";
--> statement-breakpoint
ALTER TABLE "postings" DROP CONSTRAINT "postings_account_id_accounts_id_fk";
--> statement-breakpoint
-- One set-based check per INSERT statement replaces the two row-level foreign keys: every
-- posting must name an existing transaction and an existing account in its currency.
CREATE FUNCTION postings_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  orphan record;
BEGIN
  SELECT n.transaction_id, n.account_id INTO orphan
  FROM new_postings n
  LEFT JOIN transactions t ON t.id = n.transaction_id
  LEFT JOIN accounts a ON a.id = n.account_id
  WHERE t.id IS NULL OR a.id IS NULL OR a.currency <> n.currency OR t.currency <> n.currency
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'posting for transaction % on account % has no matching transaction or account in its currency',
      orphan.transaction_id, orphan.account_id USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER postings_references AFTER INSERT ON postings
  REFERENCING NEW TABLE AS new_postings
  FOR EACH STATEMENT EXECUTE FUNCTION postings_check_references();
--> statement-breakpoint
-- What postings point at never disappears: transactions are final, accounts are closed, not deleted.
CREATE FUNCTION ledger_rows_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are final (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER transactions_final BEFORE UPDATE OR DELETE ON transactions
  FOR EACH ROW EXECUTE FUNCTION ledger_rows_are_final();
--> statement-breakpoint
CREATE TRIGGER accounts_not_deleted BEFORE DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION ledger_rows_are_final();
