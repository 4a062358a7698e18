// `foundry agent gpus` as a process, against the stand-in nvidia-smi (needs `npm run build`).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';

const FAKE = join(PACKAGE_ROOT, 'scripts', 'fake-nvidia-smi');
function foundry(args: string[], scenario: string, faults = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'foundry.js'), 'agent', 'gpus', ...args], {
    encoding: 'utf8', timeout: 30_000, env: { ...process.env, FAKE_NVIDIA_SMI_SCENARIO: scenario, FAKE_NVIDIA_SMI_FAULTS: faults },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('foundry agent gpus', () => {
  it('prints inventory, a sample and attributed processes as JSON', () => {
    const r = foundry(['--json', '--nvidia-smi', FAKE, '--podman-socket', '/nonexistent/podman.sock'], 'h100-load');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.inventory.gpus.map((g: { uuid: string; model: string; driverVersion: string }) => [g.uuid, g.model, g.driverVersion])).toEqual([['GPU-00000000-0000-0000-0000-000000000000', 'NVIDIA H100 80GB HBM3', '590.48.01']]);
    expect(report.sample.gpus[0].powerDrawW).toBe(631.95);
    expect(report.processes.map((p: { pid: number }) => p.pid)).toEqual([11327, 11328, 11345]);
    // The replayed PIDs are not containers on this machine: each is reported, unattributed, never dropped.
    expect(report.processes.every((p: { attribution: { kind: string } }) => p.attribution.kind === 'unattributed')).toBe(true);
    expect(report.attribution).toEqual({ podman: 'unavailable', detail: 'podman unavailable at /nonexistent/podman.sock' });
  });

  it('prints text with MIG devices', () => {
    const r = foundry(['--nvidia-smi', FAKE, '--podman-socket', '/nonexistent/podman.sock'], 'h100-mig');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('mig enabled');
    expect(r.stdout).toContain('MIG 1 2g.20gb MIG-00000001-0000-0000-0000-000000000001');
    expect(r.stdout).toContain('power 433.78 W/700 W');
    expect(r.stdout).toContain('  health healthy\n');
  });

  it('prints each GPU\'s health with its problems', () => {
    const r = foundry(['--nvidia-smi', FAKE, '--podman-socket', '/nonexistent/podman.sock'], 'h100-load', 'remapped_rows.pending=Yes;clocks_event_reasons.sw_thermal_slowdown=Active');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  health unhealthy (row_remap_pending, thermal_throttle)\n');
  });

  it('reports zero GPUs (exit 0) without nvidia-smi, and a typed failure (exit 3) when it crashes', () => {
    const none = foundry(['--json', '--nvidia-smi', '/nonexistent/nvidia-smi'], 'h100-load');
    expect(none.status).toBe(0);
    expect(JSON.parse(none.stdout).inventory).toEqual({ available: false, reason: '/nonexistent/nvidia-smi not found', gpus: [] });
    const crash = foundry(['--nvidia-smi', FAKE], 'crash');
    expect(crash.status).toBe(3);
    expect(crash.stderr).toContain("nvidia-smi exited with 9: nvidia-smi has failed because it couldn't communicate with the nvidia driver");
  });
});
