/**
 * Issue 10 through the whole agent: `startNodeAgent` (the composition root `foundry agent run` uses) of a
 * node whose repo file names the built-in ceph-node profile reads the profile from its last good desired
 * state, runs `ceph df` (a stand-in on PATH that replays real ceph 16 output from fixtures/ceph/) and sends it with its telemetry over the real link; the hub's
 * overview shows the cluster totals. Podman points at a socket that does not exist, so the Ceph containers
 * are never started (the revision still renders, which is all storage reporting needs).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { startNodeAgent, type NodeAgent } from '../../agent/node-agent.js';
import { resolveConfig } from '../../agent/config/load-config.js';
import { createJoinToken, reserveEnrollment } from '../../hub/enroll/join-tokens.js';
import { git } from '../agent/signing.js';
import { startTestHub, tempDir, waitFor, type TestHub } from './support.js';

// Real `ceph df --format json` of ceph 16.2.15 (fixtures/ceph/SOURCES.md), replayed by a `ceph` on PATH.
const CEPH_DF = join(PACKAGE_ROOT, 'fixtures', 'ceph', 'df-pacific-16.2.15.json');

let hub: TestHub;
let dir: string;
let agent: NodeAgent | undefined;
const savedPath = process.env.PATH;

beforeAll(async () => {
  hub = await startTestHub({ telemetryFlushMs: 50, dashboard: { pollMs: 0 } });
  dir = tempDir('foundry-ceph-agent-');
});
afterAll(async () => {
  await agent?.stop();
  await hub.close();
  process.env.PATH = savedPath;
  rmSync(dir, { recursive: true, force: true });
});

describe('a ceph-node agent', () => {
  it('reports ceph df with its telemetry because its profile says reportsStorage, and the overview shows it', async () => {
    const token = await createJoinToken(hub.store.joinTokens, { ttlMs: 3600_000, uses: 1, profile: 'ceph-node', labels: {}, createdBy: 'test' }, new Date());
    const { credential } = await reserveEnrollment(hub.store.joinTokens, { secret: token.secret, node: 'ceph-01', hostname: 'ceph-01', inventory: { gpus: [] } }, new Date());
    const credentialFile = join(dir, 'credential');
    writeFileSync(credentialFile, `${credential}\n`, { mode: 0o600 });

    const repo = join(dir, 'infra');
    mkdirSync(join(repo, 'nodes'), { recursive: true });
    git(repo, ['init', '-q', '-b', 'main']);
    writeFileSync(join(repo, 'cluster.yaml'), `apiVersion: foundry.cloud/v1\nkind: Cluster\nmetadata:\n  name: test\nspec:\n  hubUrl: ${hub.url}\n  pollInterval: 60s\n`);
    writeFileSync(join(repo, 'nodes', 'ceph-01.yaml'), 'apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: ceph-01\nspec:\n  profile: ceph-node\n');
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'ceph-01']);

    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'ceph'), `#!/bin/sh\n[ "$*" = "df --format json" ] || { echo "unexpected: $*" >&2; exit 2; }\nexec cat "${CEPH_DF}"\n`);
    chmodSync(join(bin, 'ceph'), 0o755);
    process.env.PATH = `${bin}:${savedPath ?? ''}`;

    const config = resolveConfig({
      node: 'ceph-01',
      repo: { url: repo, branch: 'main' },
      cacheDir: join(dir, 'cache'),
      stateDir: join(dir, 'state'),
      podman: { socketPath: join(dir, 'no-podman.sock') },
      hub: { url: hub.url, credentialFile },
    }, join(dir, 'agent.yaml'));
    agent = await startNodeAgent(config, pino({ level: 'silent' }), { nvidiaSmi: join(dir, 'no-nvidia-smi'), telemetryIntervalMs: 200 });

    const admin = (await hub.store.createAdminToken('t'));
    const get = async (path: string) => (await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${admin}` } })).json() as Promise<Record<string, unknown>>;
    const o = await waitFor(async () => { const x = await get('/api/v1/overview'); return (x.storage as { reported: boolean }).reported ? x : undefined; }, 20_000, 'storage on the overview');
    expect(o.storage).toEqual({
      cephNodes: 1, reported: true, source: 'ceph', totalBytes: 4294967296, usedBytes: 325304320, availableBytes: 3969662976,
      pools: [{ name: 'device_health_metrics', storedBytes: 0, maxAvailableBytes: 3754914560 }, { name: 'rbd', storedBytes: 20971520, maxAvailableBytes: 3754914560 }], nodes: ['ceph-01'], errors: [],
    });
  });
});
