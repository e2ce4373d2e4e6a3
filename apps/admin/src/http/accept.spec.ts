import { prefersCsv } from './accept';

describe('prefersCsv', () => {
  it.each([
    ['text/csv', true],
    ['text/csv; charset=utf-8', true],
    ['application/json, text/csv;q=0.5', false],
    ['text/csv, application/json;q=0.9', true],
    ['application/json', false],
    ['*/*', false],
    [undefined, false],
    ['text/csv;q=0', false],
  ])('%s -> %s', (accept, csv) => {
    expect(prefersCsv(accept)).toBe(csv);
  });
});
