import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRepoShortcut } from './local-shortcut.js';
import type { FetchedRevision, RevisionSource } from './revision-source.js';

const git = (repo: string, args: string[]): string =>
  execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } }).trim();

describe('LocalRepoShortcut (real git)', () => {
  let repo: string;
  let fetches: number;
  let source: LocalRepoShortcut;
  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'fc-short-'));
    git(repo, ['init', '-q', '-b', 'main']);
    writeFileSync(join(repo, 'a.yaml'), 'a: 1\n');
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'one']);
    fetches = 0;
    const inner: RevisionSource = { fetch: async (): Promise<FetchedRevision> => ({ revision: (fetches++, git(repo, ['rev-parse', 'main'])), dir: repo }) };
    source = new LocalRepoShortcut(inner, repo, 'main');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('fetches once while the branch stays put, and again when it moves', async () => {
    const first = await source.fetch();
    expect(await source.fetch()).toBe(first);
    expect(fetches).toBe(1);
    git(repo, ['commit', '-q', '--allow-empty', '-m', 'two']);
    const second = await source.fetch();
    expect(second.revision).not.toBe(first.revision);
    expect(fetches).toBe(2);
  });
});
