/**
 * An in-process agent for integration tests: a Reconciler over a real GitSource (a local git repo in a
 * temp dir) and the real Podman driver on a private Podman, with its JSON logs captured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Docker from 'dockerode';
import { pino } from 'pino';
import { PodmanDriver } from '../../agent/drivers/podman/podman-driver.js';
import { Reconciler } from '../../agent/reconcile/reconciler.js';
import { buildSecretSources } from '../../agent/reconcile/agent.js';
import { GitSource } from '../../agent/source/git-source.js';
import type { SignaturePolicy } from '../../agent/source/verify-signature.js';
import type { PrivatePodman } from '../support/podman.js';

/** A test agent and what it wrote. */
export interface TestAgent {
  reconciler: Reconciler;
  dir: string;
  stateDir: string;
  /** Every log line, parsed. */
  logs: Record<string, unknown>[];
  cleanup(): void;
}

/** Builds an agent for `node` reading the git repo at `repoDir` and talking to `pm`; `restartOf` reuses an earlier agent's state and cache (a restarted process). */
export function testAgent(pm: PrivatePodman, repoDir: string, node: string, verify?: SignaturePolicy, restartOf?: TestAgent): TestAgent {
  const dir = restartOf?.dir ?? mkdtempSync(join(tmpdir(), 'fc-agent-'));
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level: 'debug', base: { node } }, sink);
  const stateDir = join(dir, 'state');
  const reconciler = new Reconciler({
    node,
    source: new GitSource({ url: repoDir, branch: 'main', cacheDir: join(dir, 'cache') }),
    drivers: [new PodmanDriver({ socketPath: pm.socketPath, stopTimeoutS: 0 })],
    stateDir,
    verify,
    logger,
    backoff: { baseDelayMs: 60_000, maxDelayMs: 120_000 },
    // Repo secrets with the node key in the state dir (created only when a container uses a secret).
    secrets: buildSecretSources(stateDir),
  });
  return { reconciler, dir, stateDir, logs, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Containers carrying our labels for `node`, as "name state" lines sorted, plus their ids by name. */
export async function managedContainers(pm: PrivatePodman, node: string): Promise<{ lines: string[]; ids: Record<string, string> }> {
  const docker = new Docker({ socketPath: pm.socketPath });
  const list = await docker.listContainers({ all: true, filters: { label: ['foundry.cloud/managed-by=foundry-agent', `foundry.cloud/node=${node}`] } });
  const ids: Record<string, string> = {};
  for (const c of list) ids[(c.Names[0] ?? '').replace(/^\//, '')] = c.Id;
  return { lines: list.map((c) => `${(c.Names[0] ?? '').replace(/^\//, '')} ${c.State}`).sort(), ids };
}

/** Names of all volumes and of all networks on the private Podman (ours or not). */
export async function volumesAndNetworks(pm: PrivatePodman): Promise<{ volumes: string[]; networks: string[] }> {
  const docker = new Docker({ socketPath: pm.socketPath });
  const vols = (await docker.listVolumes()).Volumes ?? [];
  const nets = await docker.listNetworks();
  return { volumes: vols.map((v) => v.Name).sort(), networks: nets.map((n) => n.Name).filter((n) => n !== 'podman' && n !== 'bridge').sort() };
}
