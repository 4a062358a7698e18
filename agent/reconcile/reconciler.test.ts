import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FoundryError } from '../../common/errors.js';
import { writeRepo, type RepoSpec } from '../../test/agent/infra-fixture.js';
import { DirSource } from '../source/dir-source.js';
import { FakeDriver } from '../../test/support/fake-driver.js';
import { Reconciler } from './reconciler.js';
import type { AgentStatus } from './status.js';

const NODE = 'n1';
const IMG = 'localhost/foundry-test:1';
const spec = (ws: Record<string, string[]>, over: Partial<RepoSpec> = {}): RepoSpec => ({
  node: NODE,
  templates: Object.fromEntries(Object.entries(ws).map(([w, names]) => [`t-${w}`, names.map((n) => ({ name: n, image: IMG }))])),
  workspaces: Object.fromEntries(Object.keys(ws).map((w) => [w, { template: `t-${w}` }])),
  ...over,
});

describe('Reconciler (fake driver, plain folder source)', () => {
  let dir: string;
  let repo: string;
  let driver: FakeDriver;
  let now: number;
  let reconciler: Reconciler;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-rec-'));
    repo = join(dir, 'repo');
    driver = new FakeDriver();
    now = Date.parse('2026-11-27T12:00:00Z');
    reconciler = new Reconciler({ node: NODE, source: new DirSource(repo), drivers: [driver], stateDir: join(dir, 'state'), verify: undefined, logger: pino({ level: 'silent' }), backoff: { baseDelayMs: 10_000, maxDelayMs: 60_000 }, now: () => now });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('converges, then reports nothing to do; status.json holds conditions and revisions', async () => {
    writeRepo(repo, spec({ 'ws-a': ['x', 'y'] }));
    const r = await reconciler.trigger('test');
    expect(r.converged).toBe(true);
    expect(driver.applied).toEqual(['create ws.ws-a.net', 'create ws.ws-a.x', 'create ws.ws-a.y']);
    const onDisk = JSON.parse(readFileSync(join(dir, 'state', 'status.json'), 'utf8')) as AgentStatus;
    expect(onDisk.observedRevision).toMatch(/^worktree-[0-9a-f]{12}$/);
    expect(onDisk.lastAppliedRevision).toBe(onDisk.observedRevision);
    expect(onDisk.conditions.map((c) => `${c.type}=${c.status} ${c.reason}`)).toEqual(['Ready=True ReconciliationSucceeded', 'Reconciling=False Idle', 'Stalled=False NotStalled']);
    const again = await reconciler.trigger('test');
    expect(again.status.lastReconcile.counts).toMatchObject({ create: 0, noop: 3 });
  });

  it('one failing resource does not block the others, backs off, and is retried after the delay', async () => {
    writeRepo(repo, spec({ 'ws-a': ['x', 'y', 'z'] }));
    driver.failures.set('ws.ws-a.y', new FoundryError('IMAGE_MISSING', `image ${IMG} is not present on the node and pullPolicy is Never`, { resource: 'ws.ws-a.y' }));
    const r1 = await reconciler.trigger('test');
    expect(r1.converged).toBe(false);
    expect(driver.applied).toEqual(['create ws.ws-a.net', 'create ws.ws-a.x', 'create ws.ws-a.z']);
    expect(r1.status.resources.find((s) => s.id === 'ws.ws-a.y')).toEqual({
      id: 'ws.ws-a.y',
      kind: 'container',
      name: 'fc-ws-ws-a-y',
      workspace: 'ws-a',
      phase: 'Stalled',
      reason: 'ImageMissing',
      message: `create failed: image ${IMG} is not present on the node and pullPolicy is Never`,
      action: 'create',
      failures: 1,
      nextRetryAt: expect.stringMatching(/^2026-11-27T12:00:(09|1[01])/),
    });
    expect(r1.status.conditions[0]).toMatchObject({ status: 'False', reason: 'ProgressingWithRetry' });
    // Within the delay: not retried.
    now += 5_000;
    const r2 = await reconciler.trigger('poll');
    expect(driver.applied).toHaveLength(3);
    expect(r2.status.resources.find((s) => s.id === 'ws.ws-a.y')?.message).toMatch(/\(backing off: retry 2 at /);
    // After it, and with the image back: created.
    driver.failures.clear();
    now += 10_000;
    const r3 = await reconciler.trigger('poll');
    expect(r3.converged).toBe(true);
    expect(driver.applied.at(-1)).toBe('create ws.ws-a.y');
  });

  it('a manual sync retries at once, ignoring the back-off', async () => {
    writeRepo(repo, spec({ 'ws-a': ['x'] }));
    driver.failures.set('ws.ws-a.x', new FoundryError('RUNTIME_ACTION', 'create container fc-ws-ws-a-x: boom', { resource: 'ws.ws-a.x' }));
    expect((await reconciler.trigger('test')).status.resources.find((s) => s.id === 'ws.ws-a.x')).toMatchObject({ phase: 'Reconciling', reason: 'ActionFailed' });
    driver.failures.clear();
    expect((await reconciler.trigger('sync', { ignoreBackoff: true })).converged).toBe(true);
  });

  it('runs one reconcile at a time: triggers during a run collapse into exactly one more run', async () => {
    writeRepo(repo, spec({ 'ws-a': ['x', 'y'] }));
    driver.applyDelayMs = 30;
    const first = reconciler.trigger('a');
    expect(reconciler.busy).toBe(true);
    const second = reconciler.trigger('b');
    const third = reconciler.trigger('c');
    expect(third).toBe(second);
    const [r1, r2] = await Promise.all([first, second, third]);
    expect(r1!.status.lastReconcile.trigger).toBe('a');
    expect(r2!.status.lastReconcile.trigger).toBe('b,c');
    expect(driver.applied).toEqual(['create ws.ws-a.net', 'create ws.ws-a.x', 'create ws.ws-a.y']);
    expect(reconciler.busy).toBe(false);
  });

  it('stops at observe when the runtime is down, and says so in status', async () => {
    writeRepo(repo, spec({ 'ws-a': ['x'] }));
    driver.down = true;
    const r = await reconciler.trigger('test');
    expect(r.converged).toBe(false);
    expect(r.status.errors).toEqual([{ step: 'observe', code: 'RUNTIME_UNAVAILABLE', message: 'list: the container engine is not reachable (ECONNREFUSED)', resource: 'node/n1' }]);
    expect(r.status.conditions.map((c) => `${c.type}=${c.status} ${c.reason}`)).toEqual(['Ready=False RuntimeUnavailable', 'Reconciling=True ProgressingWithRetry', 'Stalled=False NotStalled']);
    expect(driver.applied).toEqual([]);
  });

  it('with no good revision yet, an invalid one changes nothing and stops', async () => {
    writeRepo(repo, spec({ 'ws-a': ['x'] }, { extraFiles: { 'bad.yaml': 'kind: Nonsense\n' } }));
    const r = await reconciler.trigger('test');
    expect(r.converged).toBe(false);
    expect(r.status.errors[0]).toMatchObject({ step: 'load', code: expect.stringMatching(/^INFRA_/), message: expect.stringMatching(/ is invalid: bad\.yaml:1:/) });
    expect(r.status.issues.length).toBeGreaterThan(0);
    expect(r.status.desiredRevision).toBeUndefined();
    expect(driver.applied).toEqual([]);
  });

  it('a node the repo does not declare is refused at render', async () => {
    writeRepo(repo, { ...spec({ 'ws-a': ['x'] }), node: 'other' });
    const r = await reconciler.trigger('test');
    expect(r.status.errors).toEqual([{ step: 'render', code: 'NODE_UNKNOWN', message: 'node n1 is not declared in the infra repo (add nodes/n1.yaml)', resource: 'node/n1' }]);
    expect(r.status.conditions[0]).toMatchObject({ reason: 'NodeUnknown' });
  });

  it('rebuilds what it manages from the runtime alone: a new reconciler over the same runtime has nothing to create', async () => {
    writeRepo(repo, spec({ 'ws-a': ['x'], 'ws-b': ['y'] }));
    await reconciler.trigger('test');
    const fresh = new Reconciler({ node: NODE, source: new DirSource(repo), drivers: [driver], stateDir: join(dir, 'state2'), verify: undefined, logger: pino({ level: 'silent' }), backoff: { baseDelayMs: 1, maxDelayMs: 1 } });
    const r = await fresh.trigger('restart');
    expect(r.converged).toBe(true);
    expect(r.status.lastReconcile.counts).toMatchObject({ create: 0, recreate: 0, remove: 0 });
  });
});
