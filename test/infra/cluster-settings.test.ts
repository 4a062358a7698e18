/** The Cluster's settings are read, or refused with file:line: telemetryInterval (at most the 10s usage slot), hubUrl (optional), no usageResolution. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadInfraDir } from '../../common/infra/load.js';
import { formatIssue } from '../../common/infra/model.js';
import { nodeFactsOf } from '../../agent/reconcile/last-good.js';
import { hubUrlMismatch } from '../../agent/node-agent.js';
import { BASE, doc, tempRepo, type TempRepo } from './temp-repo.js';

let repo: TempRepo;
beforeEach(async () => {
  repo = await tempRepo();
  for (const [rel, text] of Object.entries(BASE)) await repo.put(rel, text);
});
afterEach(async () => {
  await repo.remove();
});

async function load(clusterLines: string[]) {
  await repo.put('cluster.yaml', doc('Cluster', 'main', clusterLines));
  return loadInfraDir(repo.dir);
}

describe('Cluster settings', () => {
  it('reads pollInterval, telemetryInterval and hubUrl into the facts the agent keeps with its last good revision', async () => {
    const loaded = await load(['  hubUrl: https://hub.example.eu', '  pollInterval: 30s', '  telemetryInterval: 2s']);
    expect(loaded.issues.map(formatIssue)).toEqual([]);
    expect(nodeFactsOf(loaded, 'gpu-01')).toEqual({
      gpuModels: { 'GPU-aaaaaaaa-0000-0000-0000-000000000001': 'NVIDIA H100 80GB HBM3', 'GPU-aaaaaaaa-0000-0000-0000-000000000002': 'NVIDIA H100 80GB HBM3' },
      reportsStorage: false,
      pollIntervalMs: 30_000,
      telemetryIntervalMs: 2_000,
      hubUrl: 'https://hub.example.eu',
    });
  });

  it('accepts a cluster without hubUrl', async () => {
    const loaded = await load(['  pollInterval: 30s']);
    expect(loaded.issues.map(formatIssue)).toEqual([]);
    expect(nodeFactsOf(loaded, 'gpu-01').hubUrl).toBeUndefined();
  });

  it('refuses a telemetryInterval longer than the 10s usage slot, naming file, line and field', async () => {
    const loaded = await load(['  hubUrl: https://hub.example.eu', '  telemetryInterval: 30s']);
    expect(loaded.issues.map(formatIssue)).toEqual(['cluster.yaml:7:22: spec.telemetryInterval: telemetryInterval 30s is longer than the 10s usage slot: expected at most 10s (a slot without a telemetry tick is never billed)']);
    expect((await load(['  telemetryInterval: 10s'])).issues).toEqual([]);
  });

  it('refuses a usageResolution other than 10s: billing slots are fixed', async () => {
    const loaded = await load(['  hubUrl: https://hub.example.eu', '  usageResolution: 30s']);
    expect(loaded.issues.map(formatIssue)).toEqual([expect.stringMatching(/^cluster\.yaml:7:\d+: spec\.usageResolution: .*10s/)]);
    expect((await load(['  usageResolution: 10s'])).issues).toEqual([]);
  });

  it('tells when the cluster hubUrl and the agent configuration disagree', () => {
    expect(hubUrlMismatch('https://hub.example.eu', 'https://hub.example.eu/')).toBeUndefined();
    expect(hubUrlMismatch(undefined, 'https://hub.example.eu')).toBeUndefined();
    expect(hubUrlMismatch('https://hub.example.eu', undefined)).toBeUndefined();
    expect(hubUrlMismatch('https://hub.example.eu', 'https://old-hub.example.eu:8443')).toBe('cluster.yaml spec.hubUrl is https://hub.example.eu but this agent dials https://old-hub.example.eu:8443 (hub.url in its configuration): one of them is stale');
  });
});
