import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCephDf } from './ceph-df.js';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { isFoundryError } from '../../common/errors.js';

/** A real capture from fixtures/ceph/ (see its SOURCES.md). */
function cephCapture(file: string): string {
  return readFileSync(join(PACKAGE_ROOT, 'fixtures', 'ceph', file), 'utf8');
}

describe('parseCephDf on real ceph 16.2.15 output', () => {
  it('reads the cluster totals (raw used) and every pool of `ceph df --format json`', () => {
    expect(parseCephDf(cephCapture('df-pacific-16.2.15.json'))).toEqual({
      totalBytes: 4294967296,
      usedBytes: 325304320,
      availableBytes: 3969662976,
      pools: [
        { name: 'device_health_metrics', storedBytes: 0, maxAvailableBytes: 3754914560 },
        { name: 'rbd', storedBytes: 20971520, maxAvailableBytes: 3754914560 },
      ],
    });
  });

  it('reads `ceph df detail --format json` the same way', () => {
    expect(parseCephDf(cephCapture('df-detail-pacific-16.2.15.json'))).toEqual(parseCephDf(cephCapture('df-pacific-16.2.15.json')));
  });

  it('refuses output without totals or that is no JSON', () => {
    const real = JSON.parse(cephCapture('df-pacific-16.2.15.json')) as Record<string, unknown>;
    expect(() => parseCephDf(JSON.stringify({ ...real, stats: {} }))).toThrow(/no cluster totals/);
    let err: unknown;
    try {
      parseCephDf('not json');
    } catch (e) {
      err = e;
    }
    expect(isFoundryError(err, 'BAD_REQUEST')).toBe(true);
  });
});
