import { describe, expect, it } from 'vitest';
import { parseDuration, parseQuantity } from './units.js';

describe('units', () => {
  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(() => parseDuration('1d')).toThrow('invalid duration "1d"');
  });
  it('parses quantities', () => {
    expect(parseQuantity('512')).toBe(512);
    expect(parseQuantity('4Gi')).toBe(4 * 1024 ** 3);
    expect(parseQuantity('1Mi')).toBe(1024 ** 2);
    expect(() => parseQuantity('4GB')).toThrow('invalid quantity "4GB"');
  });
});
