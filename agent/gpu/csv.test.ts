import { describe, expect, it } from 'vitest';
import { parseQueryCsv, splitCsvLine } from './csv.js';
import { isFoundryError } from '../../common/errors.js';

const opts = { fields: ['pid', 'gpu_uuid', 'used_gpu_memory', 'process_name'], freeText: 'process_name', resource: 'test' };

describe('nvidia-smi csv', () => {
  it('splits unquoted and quoted cells', () => {
    expect(splitCsvLine('1, a, b')).toEqual(['1', ' a', ' b']);
    expect(splitCsvLine('1, "a, b", c')).toEqual(['1', 'a, b', ' c']);
    expect(splitCsvLine('"say ""hi""",x')).toEqual(['say "hi"', 'x']);
    expect(splitCsvLine('a,')).toEqual(['a', '']);
  });

  it('folds a process name with commas back together when it is the last field', () => {
    const rows = parseQueryCsv('42, GPU-1, 100, python -c import a, b, c\n', opts);
    expect(rows).toEqual([{ pid: '42', gpu_uuid: 'GPU-1', used_gpu_memory: '100', process_name: 'python -c import a, b, c' }]);
  });

  it('folds a name with commas in the middle of a header-ordered capture', () => {
    const text = 'pid, process_name, gpu_uuid, used_gpu_memory [MiB]\n7, my, odd, name, GPU-2, 5 MiB\n';
    expect(parseQueryCsv(text, opts)).toEqual([{ pid: '7', process_name: 'my, odd, name', gpu_uuid: 'GPU-2', used_gpu_memory: '5 MiB' }]);
  });

  it('accepts a quoted name (should a driver ever quote)', () => {
    expect(parseQueryCsv('9, GPU-3, 1, "a, b"\r\n', opts)[0]?.process_name).toBe('a, b');
  });

  it('rejects truncated rows with a typed error', () => {
    try {
      parseQueryCsv('9, GPU-3\n', opts);
      expect.unreachable();
    } catch (err) {
      expect(isFoundryError(err, 'NVIDIA_SMI_PARSE')).toBe(true);
    }
  });

  it('returns no rows for empty output and for a header alone', () => {
    expect(parseQueryCsv('', opts)).toEqual([]);
    expect(parseQueryCsv('pid, gpu_uuid, used_gpu_memory [MiB], process_name\n', opts)).toEqual([]);
  });
});
