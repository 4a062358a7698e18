import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FoundryError } from '../../common/errors.js';
import { writeRepo, type RepoSpec } from '../../test/agent/infra-fixture.js';
import { DirSource } from '../source/dir-source.js';
import { FakeDriver } from '../../test/support/fake-driver.js';
import { lastGoodPath, loadLastGood } from './last-good.js';
import { Reconciler } from './reconciler.js';
import type { FetchedRevision, RevisionSource } from '../source/revision-source.js';

const NODE = 'n1';
const IMG = 'localhost/foundry-test:1';
const spec = (names: string[]): RepoSpec => ({ node: NODE, templates: { t: names.map((n) => ({ name: n, image: IMG, env: { TAG: 'v1' } })) }, workspaces: { w1: { template: 't' } } });
const BROKEN = { 'workspaces/broken.yaml': 'apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: broken\nspec:\n  tenant: acme\n  template: t\n  state: sleeping\n' };

/** A source that can be switched to "Git unreachable". */
class SwitchableSource implements RevisionSource {
  unreachable = false;
  constructor(private readonly inner: DirSource) {}
  fetch(): Promise<FetchedRevision> {
    if (this.unreachable) return Promise.reject(new FoundryError('GIT_FETCH', 'git fetch failed: could not resolve host git.example.eu', { resource: 'https://git.example.eu/infra.git' }));
    return this.inner.fetch();
  }
}

describe('the last good revision across restarts (fake driver)', () => {
  let dir: string;
  let repo: string;
  let stateDir: string;
  let driver: FakeDriver;
  let source: SwitchableSource;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-lastgood-'));
    repo = join(dir, 'repo');
    stateDir = join(dir, 'state');
    driver = new FakeDriver();
    source = new SwitchableSource(new DirSource(repo));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh agent process over the same state dir and runtime. */
  const restart = (): Reconciler => new Reconciler({ node: NODE, source, drivers: [driver], stateDir, verify: undefined, logger: pino({ level: 'silent' }), backoff: { baseDelayMs: 10_000, maxDelayMs: 60_000 } });

  it('persists the revision and what it rendered for this node, atomically and readable by the agent only', async () => {
    writeRepo(repo, spec(['a', 'b']));
    const r = await restart().trigger('test');
    expect(r.converged).toBe(true);
    const file = lastGoodPath(stateDir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { version: number; node: string; revision: string; desired: { resources: { id: string }[] }; facts: unknown };
    expect(saved).toMatchObject({ version: 1, node: NODE, revision: r.status.desiredRevision, facts: { gpuModels: {}, reportsStorage: false, pollIntervalMs: 60_000, hubUrl: 'http://127.0.0.1:9' } });
    expect(saved.desired.resources.map((x) => x.id)).toEqual(['ws.w1.a', 'ws.w1.b', 'ws.w1.net']);
  });

  it('after a restart with an invalid revision at the tip, repairs drift from the persisted good revision and says so', async () => {
    writeRepo(repo, spec(['a', 'b']));
    const good = (await restart().trigger('test')).status.desiredRevision!;
    writeRepo(repo, { ...spec(['a']), extraFiles: BROKEN });
    driver.objects.delete(driver.runtimeIdOf('ws.w1.b')!); // removed by hand while the agent was down
    driver.applied.length = 0;
    const r = await restart().trigger('start');
    expect(driver.applied).toEqual(['create ws.w1.b']);
    expect(r.status.desiredRevision).toBe(good);
    expect(r.status.errors[0]).toMatchObject({ step: 'load', code: 'INFRA_SCHEMA', resource: 'workspaces/broken.yaml:8' });
    expect(r.status.runningFromLastGood).toEqual({ revision: good, restored: true, reason: r.status.errors[0]!.message });
    expect(r.status.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'ValidationFailed' });
    expect(r.status.conditions[0]!.message).toMatch(new RegExp(`; running from the last good revision ${good.slice(0, 12)} \\(restored from the state dir after a restart\\)$`));
  });

  it('after a restart with Git unreachable, repairs drift from the persisted good revision', async () => {
    writeRepo(repo, spec(['a', 'b']));
    const good = (await restart().trigger('test')).status.desiredRevision!;
    source.unreachable = true;
    driver.setState(driver.runtimeIdOf('ws.w1.a')!, 'stopped');
    driver.applied.length = 0;
    const r = await restart().trigger('start');
    expect(driver.applied).toEqual(['start ws.w1.a']);
    expect(r.status.errors).toEqual([{ step: 'fetch', code: 'GIT_FETCH', message: 'git fetch failed: could not resolve host git.example.eu', resource: 'https://git.example.eu/infra.git' }]);
    expect(r.status.runningFromLastGood).toMatchObject({ revision: good, restored: true });
    // Git back: the persisted revision is replaced by the next good one.
    source.unreachable = false;
    writeRepo(repo, spec(['a', 'b', 'c']));
    const next = await restart().trigger('poll');
    expect(next.converged).toBe(true);
    expect(next.status.runningFromLastGood).toBeUndefined();
    expect((await loadLastGood(stateDir, NODE)) as unknown).toMatchObject({ good: { revision: next.status.desiredRevision } });
  });

  it('ignores a persisted file of another node, or one that is corrupt, and changes nothing without a good revision', async () => {
    writeRepo(repo, spec(['a']));
    await restart().trigger('test');
    const text = readFileSync(lastGoodPath(stateDir), 'utf8');
    expect(await loadLastGood(stateDir, 'other')).toEqual({ problem: `${lastGoodPath(stateDir)} belongs to node n1, not other` });
    writeFileSync(lastGoodPath(stateDir), text.slice(0, 40));
    expect(await loadLastGood(stateDir, NODE)).toEqual({ problem: `${lastGoodPath(stateDir)} is not valid JSON` });
    source.unreachable = true;
    driver.applied.length = 0;
    driver.objects.clear();
    const r = await restart().trigger('start');
    expect(driver.applied).toEqual([]);
    expect(r.converged).toBe(false);
    expect(r.status.runningFromLastGood).toBeUndefined();
  });
});
