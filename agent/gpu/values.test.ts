import { describe, expect, it } from 'vitest';
import { cleanValue, normalizePciBusId, parseEnabled, parseInteger, parseNumber } from './values.js';

describe('nvidia-smi values', () => {
  it.each(['[N/A]', 'N/A', '[Not Supported]', '[Requested functionality has been deprecated]', '[Unknown Error]', '[GPU is lost]', '', '   '])('"%s" is null', (v) => {
    expect(cleanValue(v)).toBeNull();
    expect(parseNumber(v)).toBeNull();
    expect(parseInteger(v)).toBeNull();
    expect(parseEnabled(v)).toBeNull();
  });

  it('reads numbers with and without units', () => {
    expect(parseNumber('631.95 W')).toBe(631.95);
    expect(parseNumber('81559 MiB')).toBe(81559);
    expect(parseNumber('100 %')).toBe(100);
    expect(parseNumber('27 C')).toBe(27);
    expect(parseNumber(' 1980 ')).toBe(1980);
    expect(parseNumber('4000 KB/s')).toBe(4000);
  });

  it('never yields NaN for text', () => {
    expect(parseNumber('Not Active')).toBeNull();
    expect(parseNumber('0x233010DE')).toBeNull();
    expect(parseNumber('12abc')).toBeNull();
    expect(parseInteger('1.5')).toBeNull();
  });

  it('reads MIG mode and PCI ids', () => {
    expect(parseEnabled('Enabled')).toBe(true);
    expect(parseEnabled('Disabled')).toBe(false);
    expect(normalizePciBusId('00000000:1E:00.0')).toBe('0000:1e:00.0');
    expect(normalizePciBusId('0000:84:00.0')).toBe('0000:84:00.0');
    expect(normalizePciBusId('garbage')).toBeNull();
  });
});
