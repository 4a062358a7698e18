/**
 * `foundry agent status` as a process: reads status.json of the state dir, prints each condition with its
 * reason and message (a runtime condition such as PodmanCapabilities included), exits 1 when one says
 * something is wrong, 0 when all is well, 3 when there is no status yet; `--json` prints the file.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { statusPath, writeStatus, type AgentStatus } from '../../agent/reconcile/status.js';
import { tempDir } from '../hub/support.js';
import { describeIfBuilt } from '../support/requires.js';

const bin = join(PACKAGE_ROOT, 'bin', 'foundry.js');
const run = (args: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [bin, 'agent', 'status', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

const pause = "the pause binary catatonit is not in podman's helper dirs (/usr/lib/podman) nor on PATH: podman cannot create pods; install it (apt-get install --no-install-recommends catatonit)";
const status = (caps: AgentStatus['conditions'][number]): AgentStatus => ({
  node: 'gpu-01',
  observedRevision: 'a'.repeat(40),
  lastAppliedRevision: 'a'.repeat(40),
  desiredRevision: 'a'.repeat(40),
  conditions: [
    { type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: `applied revision ${'a'.repeat(40)}` },
    { type: 'Reconciling', status: 'False', reason: 'Idle', message: '' },
    { type: 'Stalled', status: 'False', reason: 'NotStalled', message: '' },
    caps,
  ],
  resources: [{ id: 'ws.acme-a.net', kind: 'network', name: 'acme-a', phase: 'Ready', reason: 'UpToDate', message: '', action: 'noop' }],
  errors: [],
  issues: [],
  lastReconcile: { trigger: 'poll', startedAt: '2026-12-07T10:00:00.000Z', finishedAt: '2026-12-07T10:00:00.120Z', durationMs: 120, converged: true, counts: undefined },
});

describeIfBuilt('dist/cli/agent-status.js')('foundry agent status (cli)', () => {
  let dir: string;
  beforeAll(() => (dir = tempDir('fc-agent-status-')));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a failing PodmanCapabilities condition with what to install and exits 1', async () => {
    const stateDir = join(dir, 'bad');
    await writeStatus(stateDir, status({ type: 'PodmanCapabilities', status: 'False', reason: 'NoPauseBinary', message: pause }));
    const r = run(['--state-dir', stateDir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      [
        'node gpu-01',
        'revisions: observed aaaaaaaaaaaa, desired aaaaaaaaaaaa, applied aaaaaaaaaaaa',
        'last reconcile: 2026-12-07T10:00:00.120Z (poll, 120 ms), converged',
        '',
        'conditions:',
        `  Ready               True   ReconciliationSucceeded: applied revision ${'a'.repeat(40)}`,
        '  Reconciling         False  Idle',
        '  Stalled             False  NotStalled',
        `! PodmanCapabilities  False  NoPauseBinary: ${pause}`,
        '',
        'resources: 1, 1 ready',
        '',
      ].join('\n'),
    );
    const json = run(['--state-dir', stateDir, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(readFileSync(statusPath(stateDir), 'utf8')));
  });

  it('exits 0 when every condition is fine, 3 when the agent has not written a status yet', async () => {
    const stateDir = join(dir, 'good');
    await writeStatus(stateDir, status({ type: 'PodmanCapabilities', status: 'True', reason: 'CapabilitiesPresent', message: 'network backend netavark' }));
    expect(run(['--state-dir', stateDir]).code).toBe(0);
    const none = run(['--state-dir', join(dir, 'none')]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain(`no readable status at ${join(dir, 'none', 'status.json')}: the agent has not run yet (foundry agent run)`);
  });
});
