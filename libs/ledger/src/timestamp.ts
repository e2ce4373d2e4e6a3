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

const RFC3339 =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))$/;

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

/** True when `s` is a valid RFC 3339 date-time (see the file comment for the exact rules). */
export function isRfc3339Timestamp(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const m = RFC3339.exec(s);
  if (m === null) return false;
  // Small integers of at most 4 ASCII digits: Number() is safe here (never used on money).
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12) return false;
  if (day < 1 || day > daysInMonth(year, month)) return false;
  if (hour > 23 || minute > 59 || second > 60) return false;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offHour = Number(m[10]);
    const offMinute = Number(m[11]);
    if (offHour > 23 || offMinute > 59) return false;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offHour * 60 + offMinute);
  }
  if (second === 60) {
    const utcMinuteOfDay = (((hour * 60 + minute - offsetMinutes) % 1440) + 1440) % 1440;
    if (utcMinuteOfDay !== 23 * 60 + 59) return false;
  }
  return true;
}
