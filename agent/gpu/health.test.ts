// The health classifier: its rules, and every real query-gpu capture in fixtures/nvidia-smi/.
import { describe, expect, it } from 'vitest';
import { capture, captureSection } from '../../test/gpu/captures.js';
import { classifyHealth, emptyHealthReading, splitLostGpus, type GpuHealthReading } from './health.js';
import { parseQueryCsv } from './csv.js';
import { STATS_FIELDS, healthReadingOf, parseStatsOutput } from './query-gpu.js';

const FULL = 'h100-80gb-hbm3_full-capture_driver-590.48.01_all-formats.txt';
const FULL_MIG = 'h100-80gb-hbm3_mig-4-instances_full-capture_driver-590.48.01_all-formats.txt';
const reading = (over: Partial<GpuHealthReading>): GpuHealthReading => ({ ...emptyHealthReading(), ...over });
const readingOf = (csv: string): GpuHealthReading => healthReadingOf(parseQueryCsv(csv, { fields: STATS_FIELDS, freeText: 'name', resource: 'test' })[0] ?? {});

describe('classifyHealth rules', () => {
  it.each([
    [{}, 'healthy', []],
    [{ eccUncorrectedVolatile: 0, eccUncorrectedAggregate: 0, eccCorrectedVolatile: 12, retiredPagesPending: false, remappedRowsPending: false, remappedRowsFailure: false, recoveryAction: 'None' }, 'healthy', []],
    [{ eccUncorrectedAggregate: 3 }, 'healthy', []], // history only: a remapped or retired row already answered it
    [{ eccUncorrectedVolatile: 1 }, 'unhealthy', ['ecc_uncorrected']],
    [{ retiredPagesPending: true }, 'unhealthy', ['retired_pages_pending']],
    [{ remappedRowsPending: true }, 'unhealthy', ['row_remap_pending']],
    [{ remappedRowsFailure: true }, 'unhealthy', ['row_remap_failed']],
    [{ lost: true }, 'unhealthy', ['fallen_off_bus']],
    [{ requiresReset: true }, 'unhealthy', ['reset_required']],
    [{ recoveryAction: 'Drain and Reset' }, 'unhealthy', ['reset_required']],
    [{ hwThermalSlowdown: true, hwSlowdown: true }, 'degraded', ['thermal_throttle']],
    [{ swThermalSlowdown: true }, 'degraded', ['thermal_throttle']],
    [{ hwPowerBrakeSlowdown: true, hwSlowdown: true }, 'degraded', ['power_brake']],
    [{ hwSlowdown: true }, 'degraded', ['hw_slowdown']],
    [{ hwThermalSlowdown: true, remappedRowsPending: true, eccUncorrectedVolatile: 2 }, 'unhealthy', ['ecc_uncorrected', 'row_remap_pending', 'thermal_throttle']],
  ] as Array<[Partial<GpuHealthReading>, string, string[]]>)('%j → %s %j', (over, state, problems) => {
    expect(classifyHealth(reading(over))).toEqual({ state, problems });
  });

  it('an all-null reading ([N/A] / [Not Supported] everywhere) is healthy', () => {
    expect(classifyHealth(emptyHealthReading())).toEqual({ state: 'healthy', problems: [] });
  });
});

describe('health of the real captures', () => {
  it('H100 under load: every health field read, all zero or "No", healthy', () => {
    expect(readingOf(capture('h100-80gb-hbm3_load_query-gpu-all-fields.csv'))).toEqual({
      lost: false, requiresReset: false, eccUncorrectedVolatile: 0, eccUncorrectedAggregate: 0, eccCorrectedVolatile: 0,
      retiredPagesPending: null, remappedRowsPending: false, remappedRowsFailure: false, // retired pages are [N/A] on HBM3 (rows are remapped instead)
      hwSlowdown: false, hwThermalSlowdown: false, swThermalSlowdown: false, hwPowerBrakeSlowdown: false, recoveryAction: 'None',
    });
  });

  it('H100 with MIG: remapped_rows are [N/A] (null), still healthy', () => {
    const r = readingOf(capture('h100-80gb-hbm3_mig-enabled_load_query-gpu-all-fields.csv'));
    expect([r.remappedRowsPending, r.remappedRowsFailure, r.eccUncorrectedVolatile]).toEqual([null, null, 0]);
    expect(classifyHealth(r)).toEqual({ state: 'healthy', problems: [] });
  });

  it('Tesla P100 capture without health columns: all null, healthy', () => {
    const r = readingOf(capture('tesla-p100_query-gpu_csv-with-NA.csv'));
    expect(r).toEqual(emptyHealthReading());
    expect(classifyHealth(r).state).toBe('healthy');
  });

  it.each([
    ['h100-80gb-hbm3_idle_query-gpu-all-fields.csv', undefined],
    ['h100-80gb-hbm3_load_query-gpu-all-fields.csv', undefined],
    ['h100-80gb-hbm3_mig-enabled_load_query-gpu-all-fields.csv', undefined],
    ['tesla-p100_query-gpu_csv-with-NA.csv', undefined],
    [FULL, 'idle :: query-gpu'], [FULL, 'load :: query-gpu'], [FULL_MIG, 'idle :: query-gpu'], [FULL_MIG, 'load :: query-gpu'],
  ] as Array<[string, string | undefined]>)('%s %s: healthy (gpu_idle is not a problem)', (file, section) => {
    const out = parseStatsOutput(section === undefined ? capture(file) : captureSection(file, section));
    expect(out.lost).toEqual([]);
    expect(out.gpus.map((g) => g.health)).toEqual([{ state: 'healthy', problems: [] }]);
  });

  it('the H100 capture with faults written into it: ECC, pending remap, thermal slowdown', () => {
    const [header = '', row = ''] = capture('h100-80gb-hbm3_load_query-gpu-all-fields.csv').split('\n');
    const cols = header.split(', ');
    const cells = row.split(', ');
    const set = (name: string, v: string): void => { cells[cols.indexOf(name)] = v; };
    set('ecc.errors.uncorrected.volatile.total', '4');
    set('remapped_rows.pending', 'Yes');
    set('clocks_event_reasons.hw_thermal_slowdown', 'Active');
    expect(parseStatsOutput(`${header}\n${cells.join(', ')}\n`).gpus[0]?.health).toEqual({ state: 'unhealthy', problems: ['ecc_uncorrected', 'row_remap_pending', 'thermal_throttle'] });
  });
});

describe('GPUs nvidia-smi cannot reach', () => {
  it('device-handle lines (spellings from issue threads) become lost GPUs by PCI bus id', () => {
    const text = [
      'Unable to determine the device handle for GPU0000:00:09.0: Unknown Error',
      'Unable to determine the device handle for GPU 0000:0B:00.0: GPU is lost.  Reboot the system to recover this GPU',
      '1, GPU-1, 00000000:3B:00.0',
    ].join('\n');
    expect(splitLostGpus(text)).toEqual({
      rest: '1, GPU-1, 00000000:3B:00.0',
      lost: [{ pciBusId: '0000:00:09.0', reason: 'Unknown Error' }, { pciBusId: '0000:0b:00.0', reason: 'GPU is lost.  Reboot the system to recover this GPU' }],
    });
  });

  it('a row whose values read [GPU is lost] is a lost GPU; one that reads [GPU requires reset] is unhealthy', () => {
    const lostRow = `0, [GPU is lost], 00000000:3B:00.0, ${Array(STATS_FIELDS.length - 4).fill('[GPU is lost]').join(', ')}, [GPU is lost]`;
    const resetRow = `1, GPU-2, 00000000:5E:00.0, ${Array(STATS_FIELDS.length - 4).fill('[GPU requires reset]').join(', ')}, NVIDIA H100`;
    const out = parseStatsOutput(`${lostRow}\n${resetRow}\n`);
    expect(out.lost).toEqual([{ pciBusId: '0000:3b:00.0', reason: 'GPU is lost' }]);
    expect(out.gpus.map((g) => [g.uuid, g.health])).toEqual([['GPU-2', { state: 'unhealthy', problems: ['reset_required'] }]]);
  });
});
