import { Param } from 'drizzle-orm';
import { pgArray } from './sql-fragments';

/** The array literal pgArray binds. */
const literal = (values: (string | number | null)[]) => (pgArray(values) as Param).value;

describe('pgArray', () => {
  it('quotes every element, so ids PostgreSQL would read as NULL or split stay text', () => {
    expect(literal(['acct-1', 'NULL', 'a,b', '{x}', ' y '])).toBe(
      '{"acct-1","NULL","a,b","{x}"," y "}',
    );
  });

  it('escapes quotes and backslashes and binds null as NULL', () => {
    expect(literal(['plain', 'say "hi"', 'back\\slash', null])).toBe(
      '{"plain","say \\"hi\\"","back\\\\slash",NULL}',
    );
  });

  it('binds numbers as decimal text, and empty arrays and strings as such', () => {
    expect(literal([1, 25, 0])).toBe('{"1","25","0"}');
    expect(literal([])).toBe('{}');
    expect(literal([''])).toBe('{""}');
  });
});
