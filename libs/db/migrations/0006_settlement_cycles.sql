CREATE TABLE "cycle_positions" (
	"cycle_id" text NOT NULL,
	"account_id" text NOT NULL,
	"currency" char(3) NOT NULL,
	"debits" numeric(38, 0) NOT NULL,
	"credits" numeric(38, 0) NOT NULL,
	"net" numeric(38, 0) NOT NULL,
	"closing_balance" numeric(38, 0) NOT NULL,
	CONSTRAINT "cycle_positions_cycle_id_account_id_currency_pk" PRIMARY KEY("cycle_id","account_id","currency"),
	CONSTRAINT "cycle_positions_sides" CHECK ("cycle_positions"."debits" >= 0 and "cycle_positions"."credits" >= 0),
	CONSTRAINT "cycle_positions_net" CHECK ("cycle_positions"."net" = "cycle_positions"."credits" - "cycle_positions"."debits")
);
--> statement-breakpoint
CREATE TABLE "settlement_cycles" (
	"id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"cutoff" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"partition_targets" jsonb NOT NULL,
	"grace_deadline" timestamp with time zone NOT NULL,
	"sealed_at" timestamp with time zone,
	"transactions" bigint,
	"rejected" bigint,
	"totals" jsonb,
	"requested_by" text NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "settlement_cycles_window" CHECK ("settlement_cycles"."window_start" < "settlement_cycles"."cutoff"),
	CONSTRAINT "settlement_cycles_status" CHECK ("settlement_cycles"."status" in ('CLOSED', 'COMPUTED', 'VERIFIED', 'COMPLETED', 'FAILED'))
);
--> statement-breakpoint
ALTER TABLE "cycle_positions" ADD CONSTRAINT "cycle_positions_cycle_id_settlement_cycles_id_fk" FOREIGN KEY ("cycle_id") REFERENCES "public"."settlement_cycles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cycle_positions_account_idx" ON "cycle_positions" USING btree ("account_id","currency","cycle_id");--> statement-breakpoint
CREATE UNIQUE INDEX "settlement_cycles_cutoff_uq" ON "settlement_cycles" USING btree ("cutoff");--> statement-breakpoint
CREATE INDEX "transactions_settled_at_idx" ON "transactions" USING btree ("settled_at");--> statement-breakpoint
-- Two cycles never cover the same settlement time.
ALTER TABLE "settlement_cycles" ADD CONSTRAINT "settlement_cycles_windows_disjoint"
  EXCLUDE USING gist (tstzrange("window_start", "cutoff", '(]') WITH &&);
--> statement-breakpoint
-- At most one cycle in progress: cycles run one after the other, in cut-off order.
CREATE UNIQUE INDEX "settlement_cycles_one_in_progress" ON "settlement_cycles" ((true))
  WHERE "status" NOT IN ('COMPLETED', 'FAILED');
--> statement-breakpoint
-- Once a cycle has sealed its window, nothing may settle into it any more: a writer whose
-- settlement time was taken before the cut-off but who commits after the seal is refused,
-- retries with a fresh settlement time and lands in the next cycle. One check per INSERT
-- statement (a batch), not per row.
CREATE FUNCTION transactions_outside_sealed_cycles() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sealed timestamptz;
  late record;
BEGIN
  SELECT max("cutoff") INTO sealed FROM settlement_cycles WHERE sealed_at IS NOT NULL;
  IF sealed IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT n.id, n.settled_at INTO late FROM new_transactions n WHERE n.settled_at <= sealed LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'transaction % settled at % falls in a sealed settlement cycle (cut-off %): retry with a new settlement time',
      late.id, late.settled_at, sealed USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER transactions_outside_sealed_cycles AFTER INSERT ON transactions
  REFERENCING NEW TABLE AS new_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION transactions_outside_sealed_cycles();
