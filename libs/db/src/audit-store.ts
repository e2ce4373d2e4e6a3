import type { Database } from './client';
import { auditLog } from './schema';

export type NewAuditRow = Omit<typeof auditLog.$inferInsert, 'id' | 'createdAt'>;

/** Appends one audit row; pass the change's own `tx` so the change and its row commit together. */
export async function insertAuditRow(
  db: Pick<Database, 'insert'>,
  row: NewAuditRow,
): Promise<void> {
  await db.insert(auditLog).values(row);
}
