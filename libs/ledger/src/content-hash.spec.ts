import { createHash } from 'node:crypto';
import { CANONICAL_VERSION, canonicalTransaction } from './canonical';
import { contentHash } from './content-hash';
import type { Transaction } from './transaction';
import { parseTransactionMessage } from './validation';

const tx: Transaction = {
  id: 'tx-1',
  debitAccount: 'A',
  creditAccount: 'B',
  amount: 1050n,
  currency: 'EUR',
  occurredAt: '2026-11-25T17:10:10Z',
  reference: 'invoice 42',
};

function parse(s: string): Transaction {
  const r = parseTransactionMessage(s);
  if (!r.ok) throw new Error(r.message);
  return r.tx;
}

describe('contentHash', () => {
  it('is sha256 hex of the canonical form', () => {
    const h = contentHash(tx);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).toBe(createHash('sha256').update(canonicalTransaction(tx)).digest('hex'));
  });

  it('is pinned (changing the canonical form would turn redeliveries into conflicts)', () => {
    expect(canonicalTransaction(tx)).toBe(
      `${CANONICAL_VERSION}\n4:tx-1\n1:A\n1:B\n4:1050\n3:EUR\n20:2026-11-25T17:10:10Z\n10:invoice 42`,
    );
    expect(contentHash(tx)).toBe(
      '252eea532e1af5b0d8b9c64ff8f742bb6bcb35a266a9089f4aaba06fe5254d76',
    );
  });

  it('ignores whitespace, key order, extra fields and duplicate-key history', () => {
    const a = parse(
      '{"id":"tx-1","debitAccount":"A","creditAccount":"B","amount":"1050","currency":"EUR","occurredAt":"2026-11-25T17:10:10Z","reference":"invoice 42"}',
    );
    const b = parse(`{
      "reference" : "invoice 42", "occurredAt":"2026-11-25T17:10:10Z", "extra": [1,2,3],
      "currency":"EUR","amount":"7","amount":"1050","creditAccount":"B","debitAccount":"A",
      "id":"tx-1" }`);
    expect(contentHash(a)).toBe(contentHash(b));
    expect(contentHash(a)).toBe(contentHash(tx));
  });

  it('treats an absent, null and empty reference alike', () => {
    const { reference: _r, ...noRef } = tx;
    expect(contentHash(noRef)).toBe(contentHash({ ...tx, reference: '' }));
  });

  it.each<[string, Partial<Transaction>]>([
    ['id', { id: 'tx-2' }],
    ['debitAccount', { debitAccount: 'C' }],
    ['creditAccount', { creditAccount: 'C' }],
    ['amount', { amount: 1051n }],
    ['currency', { currency: 'USD' }],
    ['occurredAt', { occurredAt: '2026-11-25T17:10:11Z' }],
    ['occurredAt spelling of the same instant', { occurredAt: '2026-11-25T18:10:10+01:00' }],
    ['reference', { reference: 'invoice 43' }],
    ['reference removed', { reference: undefined }],
  ])('changes when %s changes', (_n, change) => {
    expect(contentHash({ ...tx, ...change })).not.toBe(contentHash(tx));
  });

  it('is unambiguous across field boundaries', () => {
    const x = { ...tx, debitAccount: 'AB', creditAccount: 'C' };
    const y = { ...tx, debitAccount: 'A', creditAccount: 'BC' };
    expect(contentHash(x)).not.toBe(contentHash(y));
    const p = { ...tx, reference: 'a\n1:b' };
    const q = { ...tx, reference: 'a' };
    expect(canonicalTransaction(p)).not.toBe(canonicalTransaction(q));
  });

  it('handles maximal amounts and non-ASCII references', () => {
    const big = { ...tx, amount: 9223372036854775807n, reference: '😀é' };
    expect(canonicalTransaction(big)).toContain('\n19:9223372036854775807\n');
    expect(canonicalTransaction(big).endsWith('\n3:😀é')).toBe(true);
    expect(contentHash(big)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('contentHash without the one-shot crypto.hash (Node before 20.12)', () => {
  it('falls back to a Hash object and gives the same pinned hash', () => {
    let hashOf: typeof contentHash = () => '';
    jest.isolateModules(() => {
      jest.doMock('node:crypto', () => ({ ...jest.requireActual('node:crypto'), hash: undefined }));
      ({ contentHash: hashOf } =
        jest.requireActual<typeof import('./content-hash')>('./content-hash'));
    });
    jest.dontMock('node:crypto');
    expect(hashOf(tx)).toBe('252eea532e1af5b0d8b9c64ff8f742bb6bcb35a266a9089f4aaba06fe5254d76');
    const big = { ...tx, amount: 9223372036854775807n, reference: '😀é' };
    expect(hashOf(big)).toBe(contentHash(big));
  });
});
