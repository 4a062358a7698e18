/** The reconciler's metrics (foundry_agent_reconcile_*, actions, drift) through the real prom-client registry, with the fake driver. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FoundryError } from '../../common/errors.js';
import { writeRepo, type RepoSpec } from '../../test/agent/infra-fixture.js';
import { FakeDriver } from '../../test/support/fake-driver.js';
import { sampleValue, samples } from '../../test/support/prom-text.js';
import { PromAgentMetrics } from '../metrics/prom-metrics.js';
import { DirSource } from '../source/dir-source.js';
import { Reconciler } from './reconciler.js';

const NODE = 'n1';
const IMG = 'localhost/foundry-test:1';
const spec = (containers: string[]): RepoSpec => ({
  node: NODE,
  templates: { t: containers.map((name) => ({ name, image: IMG })) },
  workspaces: { 'ws-a': { template: 't' } },
});

describe('reconcile metrics', () => {
  let dir: string;
  let repo: string;
  let driver: FakeDriver;
  let metrics: PromAgentMetrics;
  let now: number;
  let reconciler: Reconciler;
  const text = (): Promise<string> => metrics.registry.metrics();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-rec-metrics-'));
    repo = join(dir, 'repo');
    driver = new FakeDriver();
    now = Date.parse('2026-12-08T00:00:00Z');
    metrics = new PromAgentMetrics({ version: '1.2.3', now: () => now });
    reconciler = new Reconciler({ node: NODE, source: new DirSource(repo), drivers: [driver], stateDir: join(dir, 'state'), verify: undefined, logger: pino({ level: 'silent' }), backoff: { baseDelayMs: 10_000, maxDelayMs: 60_000 }, now: () => now, metrics });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('counts passes by result, times each step group, names the applied revision and counts actions by reason code', async () => {
    expect(sampleValue(await text(), 'foundry_agent_last_reconcile_success_timestamp_seconds')).toBe(0);
    expect(sampleValue(await text(), 'foundry_agent_build_info', { version: '1.2.3' })).toBe(1);
    writeRepo(repo, spec(['x', 'y']));
    const r1 = await reconciler.trigger('test');
    expect(r1.converged).toBe(true);
    let t = await text();
    expect(sampleValue(t, 'foundry_agent_reconcile_total', { result: 'applied' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_reconcile_total', { result: 'unchanged' })).toBe(0);
    expect(sampleValue(t, 'foundry_agent_reconcile_total', { result: 'failed' })).toBe(0);
    expect(sampleValue(t, 'foundry_agent_actions_total', { kind: 'container', action: 'create', reason: 'Missing', result: 'ok' })).toBe(2);
    expect(sampleValue(t, 'foundry_agent_actions_total', { kind: 'network', action: 'create', reason: 'Missing', result: 'ok' })).toBe(1);
    for (const step of ['fetch', 'load', 'render', 'observe', 'plan', 'apply', 'total']) {
      expect(sampleValue(t, 'foundry_agent_reconcile_duration_seconds_count', { step, result: 'ok' }), step).toBe(1);
    }
    expect(samples(t, 'foundry_agent_applied_revision_info').map((s) => [s.labels.revision, s.value])).toEqual([[r1.status.lastAppliedRevision, 1]]);
    expect(sampleValue(t, 'foundry_agent_last_reconcile_success_timestamp_seconds')).toBe(now / 1000);
    // nothing was drift: the node had never converged to this revision
    expect(samples(t, 'foundry_agent_drift_repaired_total')).toEqual([]);

    now += 60_000;
    await reconciler.trigger('test');
    t = await text();
    expect(sampleValue(t, 'foundry_agent_reconcile_total', { result: 'unchanged' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_last_reconcile_success_timestamp_seconds')).toBe(now / 1000);

    // a new revision: one container more; only the new revision keeps an info series
    writeRepo(repo, spec(['x', 'y', 'z']));
    const r3 = await reconciler.trigger('test');
    t = await text();
    expect(r3.status.lastAppliedRevision).not.toBe(r1.status.lastAppliedRevision);
    expect(samples(t, 'foundry_agent_applied_revision_info').map((s) => s.labels.revision)).toEqual([r3.status.lastAppliedRevision]);
    expect(samples(t, 'foundry_agent_drift_repaired_total')).toEqual([]);
  });

  it('counts drift repaired (a container stopped or removed behind the agent, same revision) and failed passes and actions', async () => {
    writeRepo(repo, spec(['x', 'y']));
    await reconciler.trigger('test');
    driver.setState(driver.runtimeIdOf('ws.ws-a.x')!, 'stopped');
    driver.objects.delete(driver.runtimeIdOf('ws.ws-a.y')!);
    await reconciler.trigger('test');
    let t = await text();
    expect(sampleValue(t, 'foundry_agent_actions_total', { kind: 'container', action: 'start', reason: 'NotRunning', result: 'ok' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_actions_total', { kind: 'container', action: 'create', reason: 'Missing', result: 'ok' })).toBe(3);
    expect(sampleValue(t, 'foundry_agent_drift_repaired_total', { kind: 'container' })).toBe(2);

    driver.objects.delete(driver.runtimeIdOf('ws.ws-a.x')!);
    driver.failures.set('ws.ws-a.x', new FoundryError('IMAGE_MISSING', 'image missing', { resource: 'ws.ws-a.x' }));
    const before = sampleValue(t, 'foundry_agent_last_reconcile_success_timestamp_seconds');
    now += 60_000;
    const r = await reconciler.trigger('test');
    expect(r.converged).toBe(false);
    t = await text();
    expect(sampleValue(t, 'foundry_agent_reconcile_total', { result: 'failed' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_actions_total', { kind: 'container', action: 'create', reason: 'Missing', result: 'failed' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_reconcile_duration_seconds_count', { step: 'total', result: 'failed' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_last_reconcile_success_timestamp_seconds')).toBe(before);
    expect(sampleValue(t, 'foundry_agent_drift_repaired_total', { kind: 'container' })).toBe(2);
  });

  it('a runtime that cannot be listed fails the observe step', async () => {
    writeRepo(repo, spec(['x']));
    driver.down = true;
    await reconciler.trigger('test');
    const t = await text();
    expect(sampleValue(t, 'foundry_agent_reconcile_duration_seconds_count', { step: 'observe', result: 'failed' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_reconcile_duration_seconds_count', { step: 'fetch', result: 'ok' })).toBe(1);
    expect(samples(t, 'foundry_agent_reconcile_duration_seconds_count', { step: 'apply' })).toEqual([]);
    expect(sampleValue(t, 'foundry_agent_reconcile_total', { result: 'failed' })).toBe(1);
  });
});
