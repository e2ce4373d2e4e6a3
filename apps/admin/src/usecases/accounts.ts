import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import {
  findAccount,
  insertAccountIfAbsent,
  type Account,
  type DatabaseHandle,
} from '@settlement/db';
import { IDENTIFIER_PATTERN, isCurrencyCode, parseOverdraftLimit } from '@settlement/ledger';
import { DATABASE } from '@settlement/platform';
import { recordAudit } from '../audit';
import { conflict, notFound } from '../http/errors';
import type { Caller } from './context';

export const openAccountSchema = z.object({
  id: z
    .string({ message: 'id must be a string' })
    .regex(IDENTIFIER_PATTERN, 'id must be 1 to 64 chars of [A-Za-z0-9._:-]'),
  currency: z
    .string({ message: 'currency must be a string' })
    .refine(isCurrencyCode, 'currency must be an ISO 4217 alpha-3 code, upper case'),
  overdraftLimit: z
    .string({ message: 'overdraftLimit must be a decimal string (minor units)' })
    .refine((s) => {
      try {
        parseOverdraftLimit(s);
        return true;
      } catch {
        return false;
      }
    }, 'overdraftLimit must be a decimal string >= 0 without leading zeros, at most 38 digits')
    .optional(),
});
export type OpenAccountCommand = z.infer<typeof openAccountSchema>;

export interface AccountView {
  id: string;
  currency: string;
  balance: string;
  overdraftLimit: string;
}

const view = (r: Account): AccountView => ({
  id: r.id,
  currency: r.currency,
  balance: r.balance.toString(),
  overdraftLimit: r.overdraftLimit.toString(),
});

@Injectable()
export class AccountsUseCases {
  constructor(@Inject(DATABASE) private readonly database: DatabaseHandle) {}

  /**
   * Opens an account with balance 0. Idempotent: the same id with the same settings answers
   * the existing account; other settings are a 409 and change nothing.
   */
  async open(
    cmd: OpenAccountCommand,
    caller: Caller,
  ): Promise<{ account: AccountView; created: boolean }> {
    const limit = parseOverdraftLimit(cmd.overdraftLimit ?? '0');
    return this.database.db.transaction(async (tx) => {
      let account = await insertAccountIfAbsent(tx, {
        id: cmd.id,
        currency: cmd.currency,
        overdraftLimit: limit,
      });
      const created = account !== undefined;
      if (!account) {
        // No row lock: currency and limit never change once opened, and the admin's role may
        // not lock accounts (FOR SHARE needs UPDATE, which only the worker has).
        account = (await findAccount(tx, cmd.id))!;
        if (account.currency !== cmd.currency || account.overdraftLimit !== limit) {
          throw conflict(
            `account ${cmd.id} exists with other settings (currency ${account.currency}, overdraftLimit ${account.overdraftLimit.toString()})`,
          );
        }
      }
      await recordAudit(tx, {
        principal: caller.principal,
        action: caller.action,
        target: cmd.id,
        details: { currency: cmd.currency, overdraftLimit: limit.toString(), created },
        outcome: 'SUCCESS',
        statusCode: 201,
      });
      return { account: view(account), created };
    });
  }

  async get(id: string): Promise<AccountView> {
    const account = await findAccount(this.database.db, id);
    if (!account) throw notFound(`account ${id} not found`);
    return view(account);
  }
}
