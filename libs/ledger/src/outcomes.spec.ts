import {
  DEAD_LETTER_REASONS,
  OUTCOME_STATUSES,
  REJECT_REASONS,
  TRANSACTION_STATUSES,
  buildOutcomeEvent,
  buildSettlementEvent,
  isDeadLetterReason,
  isOutcomeStatus,
  isRejectReason,
  serializeSettlementEvent,
  type RejectReason,
  type SettlementEventInput,
} from './outcomes';
import { VALIDATION_FAILURE_REASONS } from './transaction';

describe('outcome vocabulary', () => {
  it('matches the contract', () => {
    expect(OUTCOME_STATUSES).toEqual(['SETTLED', 'REJECTED', 'DUPLICATE', 'DEAD_LETTERED']);
    expect(TRANSACTION_STATUSES).toEqual(['PENDING', 'SETTLED', 'REJECTED']);
    expect(REJECT_REASONS).toEqual(['INSUFFICIENT_FUNDS', 'UNKNOWN_ACCOUNT', 'CURRENCY_MISMATCH']);
    expect(DEAD_LETTER_REASONS).toEqual([
      'MALFORMED_JSON',
      'SCHEMA_VIOLATION',
      'TOO_LARGE',
      'DUPLICATE_CONFLICT',
    ]);
    for (const r of VALIDATION_FAILURE_REASONS) expect(isDeadLetterReason(r)).toBe(true);
  });
  it('guards', () => {
    expect(isOutcomeStatus('DUPLICATE')).toBe(true);
    expect(isOutcomeStatus('PENDING')).toBe(false);
    expect(isRejectReason('UNKNOWN_ACCOUNT')).toBe(true);
    expect(isRejectReason('TOO_LARGE')).toBe(false);
    expect(isDeadLetterReason('DUPLICATE_CONFLICT')).toBe(true);
    expect(isDeadLetterReason(undefined)).toBe(false);
  });
});

describe('buildSettlementEvent', () => {
  const at = new Date(Date.UTC(2026, 10, 25, 17, 10, 10, 123));
  it('builds a SETTLED event without reason, in contract key order', () => {
    const e = buildSettlementEvent({ id: 't1', status: 'SETTLED', batchId: 'b1', settledAt: at });
    expect(e).toEqual({
      id: 't1',
      status: 'SETTLED',
      batchId: 'b1',
      settledAt: '2026-11-25T17:10:10.123Z',
    });
    expect('reason' in e).toBe(false);
    expect(serializeSettlementEvent(e)).toBe(
      '{"id":"t1","status":"SETTLED","batchId":"b1","settledAt":"2026-11-25T17:10:10.123Z"}',
    );
  });
  it('builds a REJECTED event with its reason', () => {
    const e = buildOutcomeEvent({
      id: 't2',
      status: 'REJECTED',
      reason: 'INSUFFICIENT_FUNDS',
      batchId: 'b1',
      settledAt: '2026-11-25T17:10:10Z',
    });
    expect(serializeSettlementEvent(e)).toBe(
      '{"id":"t2","status":"REJECTED","reason":"INSUFFICIENT_FUNDS","batchId":"b1","settledAt":"2026-11-25T17:10:10Z"}',
    );
  });
  // A caller bug, never data: the message says which rule the caller broke.
  it.each<[string, Partial<SettlementEventInput>, string]>([
    [
      'SETTLED with a reason',
      { status: 'SETTLED', reason: 'UNKNOWN_ACCOUNT' },
      'a SETTLED event has no reason',
    ],
    ['REJECTED without a reason', { status: 'REJECTED' }, 'a REJECTED event needs a reject reason'],
    [
      'REJECTED with a dead-letter reason',
      { status: 'REJECTED', reason: 'TOO_LARGE' as RejectReason },
      'a REJECTED event needs a reject reason',
    ],
    [
      'a status that is not published, even with a reject reason',
      { status: 'DUPLICATE' as 'REJECTED', reason: 'INSUFFICIENT_FUNDS' },
      'not a settlement status: DUPLICATE',
    ],
    ['no status', { status: undefined }, 'not a settlement status: undefined'],
  ])('refuses %s', (_case, change, message) => {
    const input = { id: 't', status: 'SETTLED', batchId: 'b', settledAt: '2026-11-25T17:10:10Z' };
    expect(() => buildSettlementEvent({ ...input, ...change } as SettlementEventInput)).toThrow(
      new Error(message),
    );
  });

  it('refuses inconsistent status and reason', () => {
    expect(() =>
      buildSettlementEvent({
        id: 't',
        status: 'SETTLED',
        reason: 'UNKNOWN_ACCOUNT',
        batchId: 'b',
        settledAt: at,
      }),
    ).toThrow();
    expect(() =>
      buildSettlementEvent({ id: 't', status: 'REJECTED', batchId: 'b', settledAt: at }),
    ).toThrow();
    expect(() =>
      buildSettlementEvent({
        id: 't',
        status: 'REJECTED',
        reason: 'TOO_LARGE' as RejectReason,
        batchId: 'b',
        settledAt: at,
      }),
    ).toThrow();
    expect(() =>
      buildSettlementEvent({
        id: 't',
        status: 'DUPLICATE' as 'SETTLED',
        batchId: 'b',
        settledAt: at,
      }),
    ).toThrow();
  });
});
