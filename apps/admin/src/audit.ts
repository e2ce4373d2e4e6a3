import { insertAuditRow, type Database, type NewAuditRow } from '@settlement/db';
import type { Principal } from './auth/tokens';

type Executor = Pick<Database, 'insert'>;

/** An audit row as a request states it: the principal in place of its name and role. */
export type AuditEntry = Omit<NewAuditRow, 'actor' | 'role'> & { principal: Principal };

/**
 * One row per changing request: who (the principal named in `name:token`, and role), what (action, target,
 * details), when (created_at), outcome. Successful changes write it with `tx`, inside the
 * change's own database transaction, so a change without its audit row cannot exist.
 */
export async function recordAudit(db: Executor, entry: AuditEntry): Promise<void> {
  await insertAuditRow(db, {
    actor: entry.principal.name,
    role: entry.principal.role,
    action: entry.action,
    target: entry.target ?? null,
    details: entry.details ?? null,
    outcome: entry.outcome,
    statusCode: entry.statusCode,
    error: entry.error ?? null,
  });
}
