/**
 * Money without floating point. Prices are parsed from the price list's decimal strings into BigInt
 * micro-units (1e-6 of the currency); amounts are exact rationals until the one rounding step per
 * invoice line, which rounds half up to the currency's minor unit (cents for EUR).
 */
import { FoundryError } from '../../common/errors.js';

/** Micro-units per currency unit: prices carry at most 6 decimals (price-list schema). */
export const MICROS_PER_UNIT = 1_000_000n;

/** Minor-unit digits of the currencies we expect; anything else defaults to 2 (ISO 4217's common case). */
const MINOR_DIGITS: Record<string, number> = { EUR: 2, USD: 2, GBP: 2, CHF: 2, SEK: 2, NOK: 2, DKK: 2, PLN: 2, CZK: 2, JPY: 0, HUF: 2 };

/** Digits of the currency's minor unit: EUR → 2 (cents), JPY → 0. */
export function minorDigits(currency: string): number {
  return MINOR_DIGITS[currency] ?? 2;
}

/** "2.49" → 2490000n micro-units. Accepts what the schema's price pattern allows: digits, at most 6 decimals. */
export function parseMicros(text: string, resource?: string): bigint {
  const m = /^([0-9]+)(?:\.([0-9]{1,6}))?$/.exec(text);
  if (m === null) {
    throw new FoundryError('BILLING', `invalid price "${text}": expected a decimal string with at most 6 decimals, e.g. "2.49"`, { resource });
  }
  const whole = BigInt(m[1] as string);
  const frac = BigInt((m[2] ?? '').padEnd(6, '0'));
  return whole * MICROS_PER_UNIT + frac;
}

/**
 * Divides num by den (both ≥ 0, den > 0) rounding half up: the exact quotient q + r/den becomes q + 1
 * when r/den ≥ 1/2. This is the only rounding billing ever does.
 */
export function divRoundHalfUp(num: bigint, den: bigint): bigint {
  if (den <= 0n || num < 0n) throw new FoundryError('BILLING', `divRoundHalfUp needs num ≥ 0 and den > 0 (got ${num}/${den})`);
  const q = num / den;
  const r = num % den;
  return 2n * r >= den ? q + 1n : q;
}

/**
 * The amount, in minor units, of `quantity` seconds at `microsPerHour` (price per hour in micro-units):
 * the exact value quantity × price / 3600 rounded half up, once, to the currency's minor unit.
 */
export function amountMinor(quantitySeconds: bigint, microsPerHour: bigint, currency: string): bigint {
  const microsPerMinor = 10n ** BigInt(6 - minorDigits(currency));
  return divRoundHalfUp(quantitySeconds * microsPerHour, 3600n * microsPerMinor);
}

/** Formats an integer count of 10^-digits units as a decimal string: (1234n, 2) → "12.34", (-5n, 2) → "-0.05". */
export function formatFixed(value: bigint, digits: number): string {
  const neg = value < 0n;
  const abs = neg ? -value : value;
  if (digits === 0) return `${neg ? '-' : ''}${abs}`;
  const s = abs.toString().padStart(digits + 1, '0');
  return `${neg ? '-' : ''}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/** Formats minor units for the currency: (1234n, 'EUR') → "12.34". */
export function formatMinor(minor: bigint, currency: string): string {
  return formatFixed(minor, minorDigits(currency));
}

/** Formats micro-units with trailing zeros trimmed to at least the minor digits: 2490000n → "2.49", 2495000n → "2.495". */
export function formatMicros(micros: bigint, currency: string): string {
  const full = formatFixed(micros, 6);
  const keep = minorDigits(currency);
  const [whole, frac = ''] = full.split('.');
  let f = frac;
  while (f.length > keep && f.endsWith('0')) f = f.slice(0, -1);
  return f.length === 0 ? (whole as string) : `${whole}.${f}`;
}

/** seconds / 3600 as a decimal string with 6 decimals, rounded half up (display only; `seconds` is the exact quantity). */
export function hoursFromSeconds(seconds: bigint): string {
  return formatFixed(divRoundHalfUp(seconds * 1_000_000n, 3600n), 6);
}

/**
 * The amount, in minor units, of `units` (e.g. milli-vCPU-seconds, byte-seconds) at `microsPerPriceUnit`,
 * where `unitsPerPriceUnit` units make one priced unit (e.g. 1000 × 3600 for a vCPU-hour): the exact value
 * units × price / unitsPerPriceUnit rounded half up, once, to the currency's minor unit.
 */
export function amountMinorOf(units: bigint, microsPerPriceUnit: bigint, unitsPerPriceUnit: bigint, currency: string): bigint {
  const microsPerMinor = 10n ** BigInt(6 - minorDigits(currency));
  return divRoundHalfUp(units * microsPerPriceUnit, unitsPerPriceUnit * microsPerMinor);
}

/** units / unitsPerPriceUnit as a decimal string with 6 decimals, rounded half up (display only). */
export function quantityOf(units: bigint, unitsPerPriceUnit: bigint): string {
  return formatFixed(divRoundHalfUp(units * 1_000_000n, unitsPerPriceUnit), 6);
}
