import { describe, expect, it } from 'vitest';
import { isFoundryError } from '../../common/errors.js';
import { amountMinor, divRoundHalfUp, formatFixed, formatMicros, formatMinor, hoursFromSeconds, minorDigits, parseMicros } from './money.js';

describe('parseMicros', () => {
  it('parses decimal strings exactly into micro-units', () => {
    expect(parseMicros('2.49')).toBe(2_490_000n);
    expect(parseMicros('3')).toBe(3_000_000n);
    expect(parseMicros('0.000001')).toBe(1n);
    expect(parseMicros('1234567.123456')).toBe(1_234_567_123_456n);
  });
  it('rejects what the schema rejects, with a BILLING error', () => {
    for (const bad of ['2.4900001', '-1', '1e3', '.5', '2.', '', ' 2.49']) {
      expect(() => parseMicros(bad, 'default')).toThrow(/invalid price/);
      try {
        parseMicros(bad, 'default');
      } catch (err) {
        expect(isFoundryError(err, 'BILLING')).toBe(true);
      }
    }
  });
});

describe('rounding: half up, once', () => {
  it('rounds exact halves up (not to even)', () => {
    expect(divRoundHalfUp(4n, 10n)).toBe(0n);
    expect(divRoundHalfUp(5n, 10n)).toBe(1n);
    expect(divRoundHalfUp(15n, 10n)).toBe(2n);
    expect(divRoundHalfUp(25n, 10n)).toBe(3n);
    expect(divRoundHalfUp(0n, 7n)).toBe(0n);
  });
  it('prices seconds at an hourly rate to the cent', () => {
    expect(amountMinor(3600n, parseMicros('2.49'), 'EUR')).toBe(249n);
    expect(amountMinor(1n, parseMicros('2.49'), 'EUR')).toBe(0n); // 0.069 cent
    expect(amountMinor(1800n, parseMicros('0.01'), 'EUR')).toBe(1n); // exactly half a cent → up
    expect(amountMinor(1799n, parseMicros('0.01'), 'EUR')).toBe(0n); // 0.4997 cent → down
    expect(amountMinor(31n * 86400n, parseMicros('2.49'), 'EUR')).toBe(185256n); // 744 h × 2.49
    expect(amountMinor(3600n, parseMicros('100'), 'JPY')).toBe(100n);
  });
  it('rounds the line once, not each second', () => {
    // 100 separate seconds at 2.49/h would be 0 cents each; the line of 100 s is 6.9 cents → 7.
    expect(amountMinor(100n, parseMicros('2.49'), 'EUR')).toBe(7n);
  });
});

describe('formatting', () => {
  it('formats fixed-point values', () => {
    expect(formatFixed(1234n, 2)).toBe('12.34');
    expect(formatFixed(5n, 2)).toBe('0.05');
    expect(formatFixed(-5n, 2)).toBe('-0.05');
    expect(formatFixed(42n, 0)).toBe('42');
    expect(formatMinor(185256n, 'EUR')).toBe('1852.56');
    expect(minorDigits('JPY')).toBe(0);
  });
  it('formats unit prices with at least the minor digits', () => {
    expect(formatMicros(2_490_000n, 'EUR')).toBe('2.49');
    expect(formatMicros(2_495_000n, 'EUR')).toBe('2.495');
    expect(formatMicros(3_000_000n, 'EUR')).toBe('3.00');
    expect(formatMicros(1n, 'EUR')).toBe('0.000001');
  });
  it('shows GPU-hours with 6 decimals', () => {
    expect(hoursFromSeconds(5400n)).toBe('1.500000');
    expect(hoursFromSeconds(1n)).toBe('0.000278');
    expect(hoursFromSeconds(0n)).toBe('0.000000');
  });
});
