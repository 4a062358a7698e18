import { it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfraRepoWriter } from '../../hub/gitops/repo-writer.js';
import { FoundryError } from '../../common/errors.js';
import { fleetFiles, gitSync, hostedRepo, showAtTip } from './git-fixture.js';
import { describeIfBuilt } from '../support/requires.js';

// The pre-receive hook runs the built validator (dist/): `npm test` builds first.
const describeBuilt = describeIfBuilt('dist/hub/git/pre-receive-hook.js');

let dir: string;
let repoDir: string;
let pushed: string[];
let writer: InfraRepoWriter;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foundry-writer-'));
  repoDir = await hostedRepo(dir, fleetFiles());
  pushed = [];
  writer = new InfraRepoWriter({ repoDir, workDir: join(dir, 'work'), onPushed: (r) => pushed.push(r), random: () => 0.5 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const tip = (): string => gitSync(['--git-dir', repoDir, 'rev-parse', 'refs/heads/main'], dir).stdout.trim();
const note = (path: string, text: string) => async () => ({ changes: [{ path, content: text }], message: `add ${path}` });

describeBuilt('InfraRepoWriter', () => {
  it('commits as foundry-hub, pushes and reports the revision', async () => {
    const before = tip();
    const r = await writer.commit(async (d, rev) => {
      expect(rev).toBe(before);
      expect(readFileSync(join(d, 'tenants', 'acme.yaml'), 'utf8')).toContain('kind: Tenant');
      return { changes: [{ path: 'notes/a.md', content: 'a\n' }], message: 'add a note\n\nbecause tests' };
    });
    expect(r).toEqual({ revision: tip() });
    expect(pushed).toEqual([tip()]);
    expect(showAtTip(repoDir, 'notes/a.md')).toBe('a\n');
    expect(gitSync(['--git-dir', repoDir, 'log', '-1', '--format=%an <%ae>|%cn|%s|%b', 'main'], dir).stdout.trim()).toBe('foundry-hub <hub@foundry.invalid>|foundry-hub|add a note|because tests');
  });

  it('re-reads, re-builds and retries when an admin pushed meanwhile: both changes land', async () => {
    const admin = join(dir, 'admin');
    gitSync(['clone', '--quiet', repoDir, admin], dir);
    let calls = 0;
    const seen: string[] = [];
    const r = await writer.commit(async (d, rev) => {
      calls++;
      seen.push(rev);
      if (calls === 1) {
        // the admin wins the race between our fetch and our push
        writeFileSync(join(admin, 'admin.md'), 'admin\n');
        gitSync(['add', '-A'], admin);
        gitSync(['commit', '--quiet', '-m', 'admin change'], admin);
        gitSync(['push', '--quiet', 'origin', 'HEAD:main'], admin);
      } else {
        expect(readFileSync(join(d, 'admin.md'), 'utf8')).toBe('admin\n');
      }
      return { changes: [{ path: 'hub.md', content: 'hub\n' }], message: 'hub change' };
    });
    expect(calls).toBe(2);
    expect(seen[1]).not.toBe(seen[0]);
    expect(r?.revision).toBe(tip());
    expect(showAtTip(repoDir, 'admin.md')).toBe('admin\n');
    expect(showAtTip(repoDir, 'hub.md')).toBe('hub\n');
    expect(gitSync(['--git-dir', repoDir, 'log', '--format=%s', 'main'], dir).stdout.trim().split('\n')).toEqual(['hub change', 'admin change', 'seed infra repo']);
  });

  it('turns a pre-receive refusal into GIT_PUSH_REJECTED with the hook messages, and the repo keeps its tip', async () => {
    const before = tip();
    const bad = fleetFiles()['nodes/gpu-01.yaml']!.replace('  profile: gpu-node\n', '  profile: gpu-node\n  drain: maybe\n');
    const err = await writer.commit(async () => ({ changes: [{ path: 'nodes/gpu-01.yaml', content: bad }], message: 'bad drain' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FoundryError);
    const fe = err as FoundryError;
    expect(fe.code).toBe('GIT_PUSH_REJECTED');
    expect(fe.message).toContain('nodes/gpu-01.yaml:7:10: spec.drain: expected true or false, got a string "maybe"');
    expect((fe.details?.messages as string[])[0]).toMatch(/^foundry: push refused: refs\/heads\/main at [0-9a-f]{12} fails validation \(1 issue\):$/);
    expect(tip()).toBe(before);
    expect(pushed).toEqual([]);
    // the writer recovers: the next commit starts from the real tip, not from the refused commit
    await writer.commit(note('ok.md', 'ok\n'));
    expect(gitSync(['--git-dir', repoDir, 'log', '--format=%s', 'main'], dir).stdout.trim().split('\n')).toEqual(['add ok.md', 'seed infra repo']);
  });

  it('serializes concurrent commits: each lands once, history stays linear', async () => {
    await Promise.all(Array.from({ length: 5 }, (_, i) => writer.commit(note(`n/${i}.md`, `${i}\n`))));
    for (let i = 0; i < 5; i++) expect(showAtTip(repoDir, `n/${i}.md`)).toBe(`${i}\n`);
    expect(gitSync(['--git-dir', repoDir, 'rev-list', '--count', 'main'], dir).stdout.trim()).toBe('6');
    expect(pushed).toHaveLength(5);
  });

  it('deletes files, skips empty builds and no-op changes without committing', async () => {
    const before = tip();
    expect(await writer.commit(async () => undefined)).toBeUndefined();
    expect(await writer.commit(async (d) => ({ changes: [{ path: 'tenants/acme.yaml', content: readFileSync(join(d, 'tenants/acme.yaml'), 'utf8') }], message: 'same' }))).toEqual({ revision: before });
    await writer.commit(async () => ({ changes: [{ path: 'tenants/globex.yaml', content: null }], message: 'remove globex' }));
    expect(showAtTip(repoDir, 'tenants/globex.yaml')).toBeUndefined();
    expect(pushed).toHaveLength(1);
    await expect(writer.commit(async () => ({ changes: [{ path: '../escape.md', content: 'x' }], message: 'x' }))).rejects.toThrow('refusing to write outside the infra repo');
  });

  it('starts an empty repo with a root commit', async () => {
    const empty = join(dir, 'empty.git');
    gitSync(['init', '--quiet', '--bare', '--initial-branch=main', empty], dir);
    const w = new InfraRepoWriter({ repoDir: empty, workDir: join(dir, 'work2') });
    const r = await w.commit(async (_d, rev) => {
      expect(rev).toBe('');
      return { changes: [{ path: 'README.md', content: 'x\n' }], message: 'first' };
    });
    expect(r?.revision).toBe(gitSync(['--git-dir', empty, 'rev-parse', 'main'], dir).stdout.trim());
    expect(await w.tip()).toBe(r?.revision);
  });
});
