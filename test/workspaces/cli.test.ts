import { it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { fleetFiles, gpuUuid, showAtTip } from './git-fixture.js';
import { startWsHub, type WsHub } from './hub-fixture.js';
import { describeIfBuilt } from '../support/requires.js';

// Spawns the built CLI (npm test builds first).
const describeBuilt = describeIfBuilt('dist/cli/workspace.js');

let hub: WsHub;
beforeAll(async () => {
  hub = await startWsHub(fleetFiles({ nodes: 1, gpus: 2 }), ['gpu-01']);
}, 60_000);
afterAll(async () => hub?.close());

function foundry(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin', 'foundry.js'), ...args], { env: { PATH: process.env.PATH, FOUNDRY_HUB_URL: hub.url, FOUNDRY_TOKEN: hub.admin, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describeBuilt('foundry workspace / node / hub invoice', () => {
  it('creates, lists, stops, starts and deletes a workspace through the hub, never printing the token', async () => {
    const c = await foundry(['workspace', 'create', '--tenant', 'acme', '--template', 'tiny', '--gpus', '1', '--name', 'acme-cli', '--label', 'owner=alice']);
    expect(c.stderr).toBe('');
    expect(c.stdout).toMatch(new RegExp(`^workspace acme-cli placed on gpu-01 with ${gpuUuid('gpu-01', 0)} \\(revision [0-9a-f]{12}\\)\\n$`));
    const l = await foundry(['workspace', 'list', '--tenant', 'acme']);
    expect(l.stdout).toBe('NAME\tTENANT\tNODE\tGPUS\tSTATE\tPHASE\tREASON\nacme-cli\tacme\tgpu-01\t1\trunning\tPlaced\tAwaitingAgent\n');
    expect((await foundry(['workspace', 'stop', 'acme-cli'])).stdout).toBe('workspace acme-cli: stopped\n');
    expect((await foundry(['workspace', 'stop', 'acme-cli'])).stdout).toBe('workspace acme-cli: already stopped\n');
    expect((await foundry(['workspace', 'start', 'acme-cli'])).stdout).toBe('workspace acme-cli: started\n');
    const none = await foundry(['workspace', 'create', '--tenant', 'acme', '--template', 'tiny', '--gpus', '2', '--name', 'acme-big']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('foundry: no placement for acme-big: 1 node: not enough free GPUs (need 2)\n');
    expect((await foundry(['workspace', 'delete', 'acme-cli'])).stdout).toBe('workspace acme-cli: deleted\n');
    expect(showAtTip(hub.repoDir, 'workspaces/acme/acme-cli.yaml')).toBeUndefined();
    const bad = await foundry(['workspace', 'list'], { FOUNDRY_TOKEN: 'fca_wrong-secret-123' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('foundry: the hub refused the token: a credential is required (admin token, API token or session)\n');
    for (const r of [c, l, none, bad]) expect(r.stdout + r.stderr).not.toContain(hub.admin);
    const missing = await foundry(['workspace', 'list'], { FOUNDRY_TOKEN: '' });
    expect(missing.code).toBe(2);
  }, 120_000);

  it('drains and undrains a node', async () => {
    expect((await foundry(['node', 'drain', 'gpu-01'])).stdout).toBe('node gpu-01: drained\n');
    expect(showAtTip(hub.repoDir, 'nodes/gpu-01.yaml')).toContain('drain: true');
    expect((await foundry(['node', 'drain', 'gpu-01'])).stdout).toBe('node gpu-01: already draining\n');
    expect((await foundry(['node', 'undrain', 'gpu-01'])).stdout).toBe('node gpu-01: undrained\n');
    const nope = await foundry(['node', 'drain', 'gpu-99']);
    expect(nope.code).toBe(1);
    expect(nope.stderr).toBe('foundry: no node gpu-99 in the infra repo\n');
  }, 60_000);

  it('prints an invoice from the data dir (JSON and CSV)', async () => {
    await hub.store.ingest([{ node: 'gpu-01', seq: 1, kind: 'usage', payload: { workspace: 'acme-cli', tenant: 'acme', gpuUuid: gpuUuid('gpu-01', 0), gpuModel: 'NVIDIA H100 80GB HBM3', from: Date.parse('2026-03-01T00:00:00Z'), to: Date.parse('2026-03-01T02:00:00Z') } }]);
    const j = await foundry(['hub', 'invoice', '--tenant', 'acme', '--month', '2026-03', '--data-dir', hub.dir]);
    expect(j.stderr).toBe('');
    expect(JSON.parse(j.stdout)).toMatchObject({ tenant: 'acme', month: '2026-03', currency: 'EUR', totals: { seconds: 7200, amount: '4.98' }, frozen: false });
    const c = await foundry(['hub', 'invoice', '--tenant', 'acme', '--month', '2026-03', '--csv', '--data-dir', hub.dir]);
    expect(c.stdout.split('\r\n')[1]).toBe('acme,2026-03,acme-cli,NVIDIA H100 80GB HBM3,2026-01-01T00:00:00Z,false,7200,2.000000,2.49,4.98,EUR,,gpu,2.000000,GPU-hour,');
    expect((await foundry(['hub', 'invoice', '--tenant', 'acme', '--month', '2026-3', '--data-dir', hub.dir])).code).toBe(2);
  }, 60_000);
});
