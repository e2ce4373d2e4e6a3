import { DEAD_LETTER_ID_HEADER, resubmissionMessage } from './resubmission';

const tx = (amount: string) =>
  JSON.stringify({
    id: 'tx-1',
    debitAccount: 'acc-a',
    creditAccount: 'acc-b',
    amount,
    currency: 'EUR',
    occurredAt: '2026-11-25T10:00:00Z',
  });
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('resubmissionMessage', () => {
  const dl = {
    id: '42',
    topic: 'transactions',
    key: 'acc-a',
    value: b64(tx('12.50')),
    headers: { trace: 't-1', 'dlq-reason': 'SCHEMA_VIOLATION', [DEAD_LETTER_ID_HEADER]: '7' },
  };

  it('resubmits the original bytes and key as is, with the producer headers and its own id', () => {
    expect(resubmissionMessage(dl)).toEqual({
      topic: 'transactions',
      key: 'acc-a',
      value: dl.value,
      headers: [
        ['trace', b64('t-1')],
        [DEAD_LETTER_ID_HEADER, b64('42')],
      ],
      transactionId: null,
    });
  });

  it('keys a correction by its debit account and names its transaction id', () => {
    const corrected = tx('1250').replace('"acc-a"', '"acc-c"');
    expect(resubmissionMessage({ ...dl, key: 'wrong' }, corrected)).toMatchObject({
      key: 'acc-c',
      value: b64(corrected),
      transactionId: 'tx-1',
    });
  });

  it('keeps bytes that are not UTF-8 exactly', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00]);
    const m = resubmissionMessage({ ...dl, key: null, value: b64(bytes), headers: null });
    expect(Buffer.from(m.value, 'base64').equals(bytes)).toBe(true);
    expect(m).toMatchObject({ key: null, transactionId: null });
  });
});
