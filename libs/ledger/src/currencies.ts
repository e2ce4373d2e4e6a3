/**
 * ISO 4217 alphabetic codes of List One ("current currency & funds"), as published by the
 * ISO 4217 maintenance agency (SIX), editions of 2025, embedded so that validation needs no
 * lookup. Included: national currencies, fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN,
 * UYI, UYW), supranational and special codes (XAF, XCD, XCG, XDR, XOF, XPF, XSU, XUA,
 * the bond-market units XBA..XBD) and precious metals (XAG, XAU, XPD, XPT).
 * Excluded on purpose: XTS (reserved for testing) and XXX (no currency).
 * Codes in a published transition period are kept (ANG beside its successor XCG, BGN after
 * Bulgaria joined the euro) so that in-flight transactions are not dead-lettered; long
 * withdrawn codes (HRK, CUC, SLL, ZWL, VEF, MRO, STD, BYR, LTL, LVL, EEK...) are not.
 * Amending the list is a one-line change here plus a test.
 *
 * Pure: no Node or framework imports.
 */
// prettier-ignore
export const ISO_4217_CODES_LIST = [
  'AED', 'AFN', 'ALL', 'AMD', 'ANG', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN',
  'BAM', 'BBD', 'BDT', 'BGN', 'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BOV', 'BRL', 'BSD', 'BTN',
  'BWP', 'BYN', 'BZD',
  'CAD', 'CDF', 'CHE', 'CHF', 'CHW', 'CLF', 'CLP', 'CNY', 'COP', 'COU', 'CRC', 'CUP', 'CVE',
  'CZK',
  'DJF', 'DKK', 'DOP', 'DZD',
  'EGP', 'ERN', 'ETB', 'EUR',
  'FJD', 'FKP',
  'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD',
  'HKD', 'HNL', 'HTG', 'HUF',
  'IDR', 'ILS', 'INR', 'IQD', 'IRR', 'ISK',
  'JMD', 'JOD', 'JPY',
  'KES', 'KGS', 'KHR', 'KMF', 'KPW', 'KRW', 'KWD', 'KYD', 'KZT',
  'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LYD',
  'MAD', 'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRU', 'MUR', 'MVR', 'MWK', 'MXN', 'MXV',
  'MYR', 'MZN',
  'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD',
  'OMR',
  'PAB', 'PEN', 'PGK', 'PHP', 'PKR', 'PLN', 'PYG',
  'QAR',
  'RON', 'RSD', 'RUB', 'RWF',
  'SAR', 'SBD', 'SCR', 'SDG', 'SEK', 'SGD', 'SHP', 'SLE', 'SOS', 'SRD', 'SSP', 'STN', 'SVC',
  'SYP', 'SZL',
  'THB', 'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS',
  'UAH', 'UGX', 'USD', 'USN', 'UYI', 'UYU', 'UYW', 'UZS',
  'VED', 'VES', 'VND', 'VUV',
  'WST',
  'XAF', 'XAG', 'XAU', 'XBA', 'XBB', 'XBC', 'XBD', 'XCD', 'XCG', 'XDR', 'XOF', 'XPD', 'XPF',
  'XPT', 'XSU', 'XUA',
  'YER',
  'ZAR', 'ZMW', 'ZWG',
] as const;

export type CurrencyCode = (typeof ISO_4217_CODES_LIST)[number];

export const ISO_4217_CODES: ReadonlySet<string> = new Set<string>(ISO_4217_CODES_LIST);

/** True for an active ISO 4217 alpha-3 code, upper case (case-sensitive: "usd" is false). */
export function isCurrencyCode(s: unknown): s is CurrencyCode {
  // The set holds only strings: has() of anything else is false, no typeof needed.
  return (ISO_4217_CODES as ReadonlySet<unknown>).has(s);
}
