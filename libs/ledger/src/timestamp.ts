/**
 * RFC 3339 timestamps (section 5.6 "date-time"), validated strictly. Pure: no imports.
 *
 *   date-time = full-date "T" full-time      ; "T" and "Z" may be lower case (RFC 3339 5.6 note)
 *   full-date = 4DIGIT "-" 2DIGIT "-" 2DIGIT ; month 01-12, day 01-28/29/30/31 by month and year
 *   full-time = 2DIGIT ":" 2DIGIT ":" 2DIGIT ["." 1*DIGIT] ("Z" / ("+" / "-") 2DIGIT ":" 2DIGIT)
 *
 * Decisions: hour 00-23, minute 00-59, second 00-59, or 60 (a leap second) only when the time
 * converted to UTC is 23:59 (where leap seconds are inserted); offset hour 00-23, minute
 * 00-59; fraction of any length >= 1 digit; year 0000-9999. A space instead of "T", a
 * missing offset, a missing seconds field, "+0100" or "+01" offsets are rejected (they are
 * ISO 8601 or SQL forms, not RFC 3339).
 */

/** The `n` ASCII digits of `s` from `i` as a number; -1 when one of them is not a digit. */
function digitsAt(s: string, i: number, n: number): number {
  let value = 0;
  for (let k = i; k < i + n; k++) {
    const d = s.charCodeAt(k) - 48; // NaN past the end: not a digit either
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  switch (month) {
    case 2:
      return isLeapYear(year) ? 29 : 28;
    case 4:
    case 6:
    case 9:
    case 11:
      return 30;
    default:
      return 31;
  }
}

/**
 * True when `s` is a valid RFC 3339 date-time (see the file comment for the exact rules).
 * Scanned by position rather than by a regular expression with captures: it runs twice per
 * message (ingest and settlement) and a match allocated a dozen strings each time.
 */
export function isRfc3339Timestamp(s: unknown): s is string {
  // The shortest form, "2026-11-25T17:10:10Z", has 20 characters.
  if (typeof s !== 'string' || s.length < 20) return false;
  if (s[4] !== '-' || s[7] !== '-' || s[13] !== ':' || s[16] !== ':') return false;
  if (s[10] !== 'T' && s[10] !== 't') return false;
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const day = digitsAt(s, 8, 2);
  const hour = digitsAt(s, 11, 2);
  const minute = digitsAt(s, 14, 2);
  const second = digitsAt(s, 17, 2);
  if (year < 0 || month < 1 || month > 12) return false;
  if (day < 1 || day > daysInMonth(year, month)) return false;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return false;
  let i = 19;
  if (s[i] === '.') {
    const fractionStart = ++i;
    while (digitsAt(s, i, 1) >= 0) i++;
    if (i === fractionStart) return false;
  }
  let offsetMinutes = 0;
  const zone = s[i];
  if (zone === 'Z' || zone === 'z') {
    if (i + 1 !== s.length) return false;
  } else if (zone === '+' || zone === '-') {
    if (s[i + 3] !== ':' || i + 6 !== s.length) return false;
    const offHour = digitsAt(s, i + 1, 2);
    const offMinute = digitsAt(s, i + 4, 2);
    if (offHour < 0 || offHour > 23 || offMinute < 0 || offMinute > 59) return false;
    offsetMinutes = (zone === '-' ? -1 : 1) * (offHour * 60 + offMinute);
  } else return false;
  if (second === 60) {
    const utcMinuteOfDay = (((hour * 60 + minute - offsetMinutes) % 1440) + 1440) % 1440;
    if (utcMinuteOfDay !== 23 * 60 + 59) return false;
  }
  return true;
}
