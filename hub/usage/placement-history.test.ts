import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PlacementHistory, parseCatFileBatch, parseRawLog } from './placement-history.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function sh(args: string[], cwd: string, env: Record<string, string> = {}): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', ...env } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const ws = (name: string, spec: string): string => `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: ${name}\nspec:\n  tenant: acme\n  template: tiny\n${spec}`;
const TEMPLATE = 'apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata:\n  name: tiny\nspec:\n  containers:\n    - name: main\n      image: x\n      resources: { cpus: 1.5, memory: 2Gi }\n  vm:\n    driver: libvirt\n    memory: 1Gi\n    disk: { baseImage: /b.qcow2, size: 10Gi }\n';
const NODE = 'apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: gpu-01\nspec:\n  profile: gpu-node\n  gpus:\n    - uuid: GPU-a\n      model: NVIDIA H100 80GB HBM3\n';

/** A bare repo and a clone to commit from; `commit` writes files (null deletes) at epoch second `t` and pushes. */
function repo(): { bare: string; commit(t: number, files: Record<string, string | null>, force?: boolean): string; work: string } {
  const root = mkdtempSync(join(tmpdir(), 'placement-history-'));
  dirs.push(root);
  const bare = join(root, 'infra.git');
  const work = join(root, 'work');
  sh(['init', '-q', '--bare', '--initial-branch=main', bare], root);
  sh(['init', '-q', '--initial-branch=main', work], root);
  sh(['remote', 'add', 'origin', bare], work);
  return {
    bare,
    work,
    commit(t, files, force = false) {
      for (const [p, c] of Object.entries(files)) {
        if (c === null) rmSync(join(work, p));
        else {
          mkdirSync(dirname(join(work, p)), { recursive: true });
          writeFileSync(join(work, p), c);
        }
      }
      sh(['add', '-A'], work);
      sh(['commit', '-q', '--allow-empty', '-m', `at ${t}`], work, { GIT_COMMITTER_DATE: `@${t} +0000`, GIT_AUTHOR_DATE: `@${t} +0000` });
      sh(['push', '-q', ...(force ? ['--force'] : []), 'origin', 'HEAD:main'], work);
      return sh(['rev-parse', 'HEAD'], work).trim();
    },
  };
}

const view = (h: PlacementHistory, name: string) => h.spans(name).map((s) => [s.node ?? null, s.gpuUuids.join(','), s.running, s.from / 1000, s.to === null ? null : s.to / 1000]);

describe('PlacementHistory (real git)', () => {
  it('turns commits into spans per workspace, incrementally, and starts over after a force push', async () => {
    const r = repo();
    const h = new PlacementHistory({ gitDir: r.bare, minRefreshMs: 0 });
    await h.refresh();
    expect(h.spans('alice')).toEqual([]); // an empty repo places nothing
    r.commit(1000, { 'templates/tiny.yaml': TEMPLATE, 'nodes/gpu-01.yaml': NODE, 'workspaces/acme/alice.yaml': ws('alice', '') });
    r.commit(2000, { 'workspaces/acme/alice.yaml': ws('alice', '  node: gpu-01\n  gpus:\n    count: 1\n    uuids: [GPU-a]\n'), 'README.md': 'not yaml' });
    await h.refresh();
    expect(view(h, 'alice')).toEqual([[null, '', true, 1000, 2000], ['gpu-01', 'GPU-a', true, 2000, null]]);
    expect(h.spans('alice')[1]?.limits).toEqual({ milliVcpus: 3500, memoryBytes: 3 * 2 ** 30, storageBytes: 10 * 2 ** 30 });
    expect([...h.gpuModels('gpu-01')]).toEqual([['GPU-a', 'NVIDIA H100 80GB HBM3']]);

    // new commits are read on the next refresh: a commit that changes nothing billable leaves the span open
    r.commit(3000, { 'workspaces/acme/alice.yaml': ws('alice', '  node: gpu-01\n  gpus:\n    count: 1\n    uuids: [GPU-a]\n  env: { A: "1" }\n') });
    r.commit(4000, { 'workspaces/acme/alice.yaml': ws('alice', '  node: gpu-01\n  state: stopped\n  gpus:\n    count: 1\n    uuids: [GPU-a]\n') });
    r.commit(3500, { 'workspaces/acme/alice.yaml': null }); // an admin's clock behind: time never runs backwards
    await h.refresh();
    expect(view(h, 'alice')).toEqual([[null, '', true, 1000, 2000], ['gpu-01', 'GPU-a', true, 2000, 4000], ['gpu-01', 'GPU-a', false, 4000, 4000]]);

    // a rewritten branch is read again from scratch
    sh(['reset', '-q', '--hard', 'HEAD~3'], r.work);
    r.commit(5000, { 'workspaces/acme/alice.yaml': ws('alice', '  node: gpu-02\n') }, true);
    await h.refresh();
    expect(view(h, 'alice')).toEqual([[null, '', true, 1000, 2000], ['gpu-01', 'GPU-a', true, 2000, 5000], ['gpu-02', '', true, 5000, null]]);
  });

  it('starts new spans for the workspaces of a template whose limits change, and only for them', async () => {
    const r = repo();
    const other = TEMPLATE.replace('name: tiny', 'name: other');
    r.commit(1000, { 'templates/tiny.yaml': TEMPLATE, 'templates/other.yaml': other, 'a.yaml': ws('a', '  node: gpu-01\n'), 'b.yaml': ws('b', '  node: gpu-01\n').replace('template: tiny', 'template: other') });
    r.commit(2000, { 'templates/tiny.yaml': TEMPLATE.replace('cpus: 1.5', 'cpus: 4') });
    r.commit(3000, { 'templates/tiny.yaml': TEMPLATE.replace('cpus: 1.5', 'cpus: 4').replace('image: x', 'image: y') }); // nothing billable changed
    const h = new PlacementHistory({ gitDir: r.bare, minRefreshMs: 0 });
    await h.refresh();
    expect(h.spans('a').map((s) => [s.limits.milliVcpus, s.from / 1000, s.to === null ? null : s.to / 1000])).toEqual([[3500, 1000, 2000], [6000, 2000, null]]);
    expect(h.spans('b').map((s) => [s.limits.milliVcpus, s.from / 1000, s.to])).toEqual([[3500, 1000, null]]);
  });

  it('single-flights refreshes and throttles them', async () => {
    const r = repo();
    r.commit(1000, { 'w.yaml': ws('bob', '  node: gpu-01\n') });
    let t = 0;
    const h = new PlacementHistory({ gitDir: r.bare, minRefreshMs: 50, now: () => t });
    await Promise.all([h.freshSince(0), h.freshSince(0), h.freshSince(0)]);
    expect(h.startedAt).toBe(0);
    t = 10;
    await h.freshSince(5); // a refresh must start after 5: waits out the throttle, then reads
    expect(h.startedAt).toBe(10);
    expect(view(h, 'bob')).toEqual([['gpu-01', '', true, 1000, null]]);
  });

  it('parses raw log and cat-file output', () => {
    const log = '@@abc 1700000000\n\n:000000 100644 0000000000000000000000000000000000000000 1111111111111111111111111111111111111111 A\tnodes/a b.yaml\n:100644 000000 2222222222222222222222222222222222222222 0000000000000000000000000000000000000000 D\told.yaml\n@@def 1700000001\n';
    expect(parseRawLog(log)).toEqual([
      { sha: 'abc', time: 1_700_000_000_000, changes: [{ path: 'nodes/a b.yaml', blob: '1111111111111111111111111111111111111111' }, { path: 'old.yaml', blob: null }] },
      { sha: 'def', time: 1_700_000_001_000, changes: [] },
    ]);
    const body = Buffer.from('kind: Node # é\n');
    const out = Buffer.concat([Buffer.from(`aaa blob ${body.length}\n`), body, Buffer.from('\nbbb missing\n')]);
    expect([...parseCatFileBatch(out)]).toEqual([['aaa', 'kind: Node # é\n']]);
  });

  it('reads a clone\'s remote-tracking ref after fetching it (external repo mode): one fetch per refresh, throttled, a failed fetch fails the refresh', async () => {
    const r = repo();
    r.commit(1000, { 'templates/tiny.yaml': TEMPLATE, 'workspaces/acme/alice.yaml': ws('alice', '  node: gpu-01\n') });
    // the work clone stands for the hub's clone: it reads refs/remotes/origin/main, which only a fetch moves
    let fetches = 0;
    let fail = false;
    let t = 10_000;
    const h = new PlacementHistory({
      gitDir: join(r.work, '.git'), ref: 'refs/remotes/origin/main', now: () => t, minRefreshMs: 1000,
      beforeRead: async () => {
        fetches += 1;
        if (fail) throw new Error('cannot fetch the infra repo');
        sh(['fetch', '-q', 'origin', '+refs/heads/main:refs/remotes/origin/main'], r.work);
      },
    });
    await h.refresh();
    expect([fetches, view(h, 'alice')]).toEqual([1, [['gpu-01', '', true, 1000, null]]]);
    // pushed from elsewhere: the branch moves on the remote, not in the clone
    const other = join(r.work, '..', 'other');
    sh(['clone', '-q', r.bare, other], join(r.work, '..'));
    writeFileSync(join(other, 'bob.yaml'), ws('bob', '  node: gpu-01\n'));
    sh(['add', '-A'], other);
    sh(['commit', '-q', '-m', 'bob'], other, { GIT_COMMITTER_DATE: '@3000 +0000', GIT_AUTHOR_DATE: '@3000 +0000' });
    sh(['push', '-q', 'origin', 'HEAD:main'], other);
    // two callers within the throttle share one refresh, hence one fetch
    t = 10_500;
    await Promise.all([h.freshSince(10_500), h.freshSince(10_500)]);
    expect([fetches, view(h, 'bob')]).toEqual([2, [['gpu-01', '', true, 3000, null]]]);
    fail = true;
    t = 12_000;
    await expect(h.refresh()).rejects.toThrow('cannot fetch the infra repo');
    expect(fetches).toBe(3);
  });
});
