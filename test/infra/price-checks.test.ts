/** Price-list checks at validate and push time: each test breaks one thing in a valid repo and asserts the exact issues (file:line:column). */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { doc, repoIssues } from './temp-repo.js';

const issuesOf = repoIssues();

const H100 = '"NVIDIA H100 80GB HBM3"';
const list = (name: string, lines: string[]): string => doc('PriceList', name, ['  currency: EUR', ...lines]);
const gpu02 = doc('Node', 'gpu-02', ['  profile: gpu-node', '  gpus:', '    - { uuid: GPU-bbbbbbbb-0000-0000-0000-000000000001, model: NVIDIA L40S }']);

describe('price-list checks', () => {
  it('wants a price for every GPU model a node declares, in every period of a price list a tenant uses', async () => {
    expect(await issuesOf({
      'nodes/gpu-02.yaml': gpu02,
      'pricing.yaml': list('default', ['  periods:', '    - effectiveFrom: 2026-01-01T00:00:00Z', `      gpuHour: { ${H100}: "2.49", "NVIDIA L40S": "1.10" }`, '    - effectiveFrom: 2026-07-01T00:00:00Z', `      gpuHour: { ${H100}: "2.29" }`]),
    })).toEqual([
      'pricing.yaml:11:16: spec.periods[1].gpuHour: no price for GPU model "NVIDIA L40S" (declared by node gpu-02 at nodes/gpu-02.yaml:8:64) in a price list used by tenant acme: expected a price for every declared GPU model in every period',
    ]);
  });

  it('checks only the form of a price list no tenant uses (a draft)', async () => {
    expect(await issuesOf({
      'nodes/gpu-02.yaml': gpu02,
      'pricing.yaml': list('default', ['  periods:', '    - effectiveFrom: 2026-01-01T00:00:00Z', `      gpuHour: { ${H100}: "2.49", "NVIDIA L40S": "1.10" }`]),
      'pricing-2027.yaml': list('draft-2027', ['  increment: 1500ms', '  periods:', '    - effectiveFrom: 2027-01-01T00:00:00Z', `      gpuHour: { ${H100}: "2.00" }`]),
    })).toEqual([
      'pricing-2027.yaml:7:14: spec.increment: increment "1500ms" is not whole seconds: expected e.g. 1s or 1m',
    ]);
  });

  it('refuses two periods that start at the same instant, however it is written, and a start inside a second', async () => {
    expect(await issuesOf({
      'pricing.yaml': list('default', ['  minimumCharge: 0s', '  increment: 0s', '  periods:',
        '    - effectiveFrom: 2026-01-01T00:00:00Z', `      gpuHour: { ${H100}: "2.49" }`,
        '    - effectiveFrom: 2026-01-01T01:00:00+01:00', `      gpuHour: { ${H100}: "2.29" }`,
        '    - effectiveFrom: 2026-02-01T00:00:00.500Z', `      gpuHour: { ${H100}: "2.19" }`]),
    })).toEqual([
      'pricing.yaml:8:14: spec.increment: increment "0s" is below 1s: expected at least 1s',
      'pricing.yaml:12:22: spec.periods[1].effectiveFrom: a second period starts at 2026-01-01T00:00:00.000Z: spec.periods[0] starts at the same instant (pricing.yaml:10:22); expected each period to start at its own instant',
      'pricing.yaml:14:22: spec.periods[2].effectiveFrom: effectiveFrom 2026-02-01T00:00:00.500Z is not at a whole second: expected e.g. 2026-01-01T00:00:00Z',
    ]);
  });

  it('refuses prices that are not whole micro-units: floats, negative, too many decimals, out of range', async () => {
    const issues = await issuesOf({
      'pricing.yaml': list('default', ['  periods:', '    - effectiveFrom: 2026-01-01T00:00:00Z',
        `      gpuHour: { ${H100}: 2.49 }`, '      vcpuHour: "-0.01"', '      memoryGiBHour: "0.0000001"', '      storageGiBMonth: "1000000000"']),
    });
    const why = 'expected a price as a decimal string in the currency\'s units with at most 6 decimals, e.g. "2.49" (a string, so no floating point ever touches money)';
    expect(issues).toEqual([
      'pricing.yaml:9:43: spec.periods[0].gpuHour["NVIDIA H100 80GB HBM3"]: expected a string, got a number 2.49',
      `pricing.yaml:10:17: spec.periods[0].vcpuHour: invalid value "-0.01": ${why}`,
      `pricing.yaml:11:22: spec.periods[0].memoryGiBHour: invalid value "0.0000001": ${why}`,
      `pricing.yaml:12:24: spec.periods[0].storageGiBMonth: invalid value "1000000000": ${why}`,
    ]);
  });
});

describe('foundry validate (a process) with a price list missing a declared model', () => {
  it('exits 1 naming the price list\'s file:line:column and the node that declares the model', async () => {
    await issuesOf({ 'nodes/gpu-02.yaml': gpu02 });
    const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'foundry.js'), 'validate', issuesOf.dir()], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toBe('pricing.yaml:9:16: spec.periods[0].gpuHour: no price for GPU model "NVIDIA L40S" (declared by node gpu-02 at nodes/gpu-02.yaml:8:64) in a price list used by tenant acme: expected a price for every declared GPU model in every period');
    expect(r.status).toBe(1);
  });
});
