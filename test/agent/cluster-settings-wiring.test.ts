/**
 * Issue 16.10: the Cluster's telemetryInterval and hubUrl are read by the running node agent, not only
 * validated. `startNodeAgent` (as `foundry agent run` starts it, real git) applies a revision whose
 * cluster.yaml sets telemetryInterval 2s and a hubUrl other than the one the agent dials: its telemetry
 * loop runs at 2 s (not the 5 s default) and it warns that one of the two URLs is stale.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startNodeAgent, type NodeAgent } from '../../agent/node-agent.js';
import { resolveConfig } from '../../agent/config/load-config.js';
import { waitFor } from '../hub/support.js';
import { git } from './signing.js';

const dir = mkdtempSync(join(tmpdir(), 'foundry-cluster-wiring-'));
let agent: NodeAgent | undefined;
afterAll(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Cluster settings in the running node agent', () => {
  it('sets its telemetry interval from the Cluster telemetryInterval and warns when the Cluster hubUrl is not the hub it dials', async () => {
    const repo = join(dir, 'infra');
    mkdirSync(join(repo, 'nodes'), { recursive: true });
    git(repo, ['init', '-q', '-b', 'main']);
    writeFileSync(join(repo, 'cluster.yaml'), 'apiVersion: foundry.cloud/v1\nkind: Cluster\nmetadata:\n  name: test\nspec:\n  hubUrl: https://hub.example.eu\n  pollInterval: 60s\n  telemetryInterval: 2s\n');
    writeFileSync(join(repo, 'nodes', 'n1.yaml'), 'apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  profile: ceph-node\n');
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'n1']);
    const credentialFile = join(dir, 'credential');
    writeFileSync(credentialFile, 'fnc_not-used\n', { mode: 0o600 });
    const config = resolveConfig({
      node: 'n1',
      repo: { url: repo, branch: 'main' },
      cacheDir: join(dir, 'cache'),
      stateDir: join(dir, 'state'),
      podman: { socketPath: join(dir, 'no-podman.sock') },
      // Nothing listens there: the link keeps retrying, which this test does not need.
      hub: { url: 'http://127.0.0.1:9', credentialFile },
    }, join(dir, 'agent.yaml'));
    const warnings: Array<{ event?: string; msg?: string }> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as { event?: string; msg?: string }) });
    agent = await startNodeAgent(config, logger, { nvidiaSmi: join(dir, 'no-nvidia-smi') });

    await waitFor(() => agent!.agent.reconciler.lastGood() !== undefined, 30_000, 'a last good revision');
    expect(agent.telemetry.currentIntervalMs()).toBe(2_000);
    await waitFor(() => warnings.some((w) => w.event === 'hub-url-mismatch'), 10_000, 'the hub URL warning');
    expect(warnings.find((w) => w.event === 'hub-url-mismatch')?.msg).toBe('cluster.yaml spec.hubUrl is https://hub.example.eu but this agent dials http://127.0.0.1:9 (hub.url in its configuration): one of them is stale');
  });
});
