import fc from 'fast-check';
import { codePointLength, isWellFormedUnicode, utf8ByteLength } from './validation';

/**
 * The hand-written UTF-16 walks of validation.ts against the platform's own answers, on
 * strings built around every encoding boundary: the last 1-, 2- and 3-byte code units, both
 * ends of each surrogate range, pairs, and lone halves at the start, middle and end.
 */
const BOUNDARIES = [
  '\u0000',
  '\u007f',
  '\u0080',
  '\u07ff',
  '\u0800',
  '\ud7ff',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\ue000',
  '\uffff',
  '\ud83d\ude00',
];
const text = fc
  .array(fc.oneof(fc.constantFrom(...BOUNDARIES), fc.string({ unit: 'binary', maxLength: 3 })), {
    maxLength: 12,
  })
  .map((parts) => parts.join(''));

// ES2024 string methods: Node 20 has them, the project's TypeScript lib predates them.
const es2024 = (s: string) => s as unknown as { isWellFormed(): boolean; toWellFormed(): string };

describe('UTF-8 and UTF-16 helpers against the platform', () => {
  it('utf8ByteLength is the byte length of the UTF-8 encoding (a lone surrogate as U+FFFD)', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(utf8ByteLength(s)).toBe(Buffer.byteLength(es2024(s).toWellFormed(), 'utf8'));
      }),
    );
  });

  it('isWellFormedUnicode agrees with String.prototype.isWellFormed', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(isWellFormedUnicode(s)).toBe(es2024(s).isWellFormed());
      }),
    );
  });

  it('codePointLength counts code points as string iteration does', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(codePointLength(s)).toBe([...s].length);
      }),
    );
  });

  it.each([
    ['\u007f', 1],
    ['\u0080', 2],
    ['\u07ff', 2],
    ['\u0800', 3],
    ['\uffff', 3],
    ['\ud83d\ude00', 4],
    ['\ud83d', 3],
    ['\ude00', 3],
    ['\ud83d\u0041', 4],
    ['\ud7ff', 3],
    ['\ue000', 3],
    ['\ud800\udc00', 4],
    ['\udbff\udfff', 4],
    ['\ud800\udbff', 6],
    ['\udbff\ue000', 6],
    ['\udfff\udc00', 6],
    // A unit that is no high surrogate, then a low one: two units of 3 bytes, never a pair.
    ['\u0800\udc00', 6],
    ['\ud7ff\udc00', 6],
    ['\ue000\udc00', 6],
    // A high surrogate, then no low one.
    ['\ud800\u0800', 6],
    ['\ud800\ud800', 6],
    ['\ud800a', 4],
  ])('utf8ByteLength(%j) is %i at the boundary', (s, n) => {
    expect(utf8ByteLength(s)).toBe(n);
  });

  it.each([
    ['\ud800\udc00', true, 1],
    ['\udbff\udfff', true, 1],
    ['\ud7ff\ue000', true, 2],
    ['\ud800', false, 1],
    ['\udbff', false, 1],
    ['\udc00', false, 1],
    ['\udfff', false, 1],
    ['\ud800\ud800', false, 2],
    ['\udbff\ue000', false, 2],
    ['a\udbff', false, 2],
    ['\ud7ff\udc00', false, 2],
    ['\ud800\u0800', false, 2],
  ])('%j: well-formed %s, %i code point(s)', (s, wellFormed, codePoints) => {
    expect(isWellFormedUnicode(s)).toBe(wellFormed);
    expect(codePointLength(s)).toBe(codePoints);
  });
});
