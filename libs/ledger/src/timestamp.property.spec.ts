import fc from 'fast-check';
import { daysInMonth, isRfc3339Timestamp } from './timestamp';

/**
 * The scanner against the rules written as a regular expression (how the function was
 * written before it scanned by position). Strings are built from the format's own pieces,
 * each sometimes replaced by a near miss (a letter for a digit, a missing or doubled
 * character, a lower-case separator), so both sides see valid and almost valid input.
 */
const RFC3339 =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))$/;

function reference(s: string): boolean {
  const m = RFC3339.exec(s);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (hour > 23 || minute > 59 || second > 60) return false;
  let offset = 0;
  if (m[8] === undefined) {
    const [offHour, offMinute] = [Number(m[10]), Number(m[11])];
    if (offHour > 23 || offMinute > 59) return false;
    offset = (m[9] === '-' ? -1 : 1) * (offHour * 60 + offMinute);
  }
  return second !== 60 || (((hour * 60 + minute - offset) % 1440) + 1440) % 1440 === 1439;
}

const digits = (n: number, max: number) =>
  fc.integer({ min: 0, max }).map((v) => String(v).padStart(n, '0'));
/** A piece of the format, or now and then something close to it. */
const piece = (good: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 12, arbitrary: good },
    { weight: 1, arbitrary: fc.constantFrom('', 'x', '0', '00', '٣', ' ', ':', '-', '.') },
    { weight: 1, arbitrary: good.map((g) => g + g.slice(-1)) },
  );

const timestampLike = fc
  .tuple(
    piece(digits(4, 9999)),
    piece(fc.constant('-')),
    piece(digits(2, 13)),
    piece(fc.constant('-')),
    piece(digits(2, 32)),
    piece(fc.constantFrom('T', 't')),
    piece(digits(2, 24)),
    piece(fc.constant(':')),
    piece(digits(2, 60)),
    piece(fc.constant(':')),
    piece(digits(2, 61)),
    fc.oneof(fc.constant(''), piece(fc.stringMatching(/^\.[0-9]{1,9}$/))),
    piece(
      fc.oneof(
        fc.constantFrom('Z', 'z'),
        fc.tuple(fc.constantFrom('+', '-'), digits(2, 24), digits(2, 60)).map(
          ([sign, h, m]) => `${sign}${h}:${m}`,
        ),
      ),
    ),
  )
  .map((parts) => parts.join(''));

describe('isRfc3339Timestamp against the regular-expression rules', () => {
  it('agrees on valid and almost valid timestamps', () => {
    fc.assert(
      fc.property(timestampLike, (s) => {
        expect(isRfc3339Timestamp(s)).toBe(reference(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        expect(isRfc3339Timestamp(s)).toBe(reference(s));
      }),
      { numRuns: 5_000 },
    );
  });

  it('generates enough valid timestamps to compare', () => {
    const sample = fc.sample(timestampLike, { numRuns: 2_000, seed: 1 });
    const valid = sample.filter(reference).length;
    expect(valid).toBeGreaterThan(100);
    expect(valid).toBeLessThan(1_900);
  });
});
