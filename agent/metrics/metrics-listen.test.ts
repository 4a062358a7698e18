import { describe, expect, it } from 'vitest';
import { isFoundryError } from '../../common/errors.js';
import { parseMetricsListen } from './metrics-listen.js';

describe('parseMetricsListen', () => {
  it('reads HOST:PORT, [IPv6]:PORT, and PORT or :PORT alone as the loopback', () => {
    expect(parseMetricsListen('127.0.0.1:9101', '--metrics-listen')).toEqual({ host: '127.0.0.1', port: 9101, loopback: true });
    expect(parseMetricsListen('[::1]:0', '--metrics-listen')).toEqual({ host: '::1', port: 0, loopback: true });
    expect(parseMetricsListen('9101', '--metrics-listen')).toEqual({ host: '127.0.0.1', port: 9101, loopback: true });
    expect(parseMetricsListen(':9101', '--metrics-listen')).toEqual({ host: '127.0.0.1', port: 9101, loopback: true });
    expect(parseMetricsListen('localhost:9101', '--metrics-listen')).toEqual({ host: 'localhost', port: 9101, loopback: true });
  });

  it('binds beyond the loopback only when the address is written out, and says so', () => {
    expect(parseMetricsListen('0.0.0.0:9101', 'x')).toEqual({ host: '0.0.0.0', port: 9101, loopback: false });
    expect(parseMetricsListen('10.0.0.5:9101', 'x')).toEqual({ host: '10.0.0.5', port: 9101, loopback: false });
    expect(parseMetricsListen('[::]:9101', 'x')).toEqual({ host: '::', port: 9101, loopback: false });
  });

  it('refuses bad values with CONFIG_INVALID naming where and what', () => {
    const cases: Array<[string, string]> = [
      ['', 'empty address'],
      ['127.0.0.1', '"127.0.0.1" has no port'],
      ['127.0.0.1:99999', 'port "99999" is not a number from 0 to 65535'],
      ['127.0.0.1:http', 'port "http" is not a number'],
      ['::1:9101', 'write an IPv6 address in brackets'],
      ['[nope]:9101', '"nope" is not an IPv6 address'],
      ['bad host!:9101', '"bad host!" is not an IP address or host name'],
    ];
    for (const [value, why] of cases) {
      let caught: unknown;
      try {
        parseMetricsListen(value, '--metrics-listen');
      } catch (err) {
        caught = err;
      }
      expect(isFoundryError(caught, 'CONFIG_INVALID'), value).toBe(true);
      expect((caught as Error).message, value).toContain(`--metrics-listen: ${why}`);
    }
  });
});
