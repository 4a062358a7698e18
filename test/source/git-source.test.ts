/** GitSource against real git repos in temp dirs: branches, sub-paths, pinned revisions, force-pushes, bad revisions, credentials. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitSource } from '../../agent/source/git-source.js';
import { FoundryError } from '../../common/errors.js';
import { commit, git, initRepo, startGitHttp } from './git-fixtures.js';

let tmp: string;
let origin: string;
let first: string;
let second: string;
let staging: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'foundry-git-'));
  origin = join(tmp, 'origin');
  initRepo(origin);
  first = commit(origin, { 'infra/cluster.yaml': 'v: 1\n', 'README.md': 'infra\n' }, 'first');
  second = commit(origin, { 'infra/cluster.yaml': 'v: 2\n' }, 'second');
  git(origin, 'checkout', '-q', '-b', 'staging');
  staging = commit(origin, { 'infra/cluster.yaml': 'v: staging\n' }, 'staging');
  git(origin, 'checkout', '-q', 'main');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function caught(p: Promise<unknown>): Promise<FoundryError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FoundryError);
  return err as FoundryError;
}

const cache = () => mkdtemp(join(tmp, 'cache-'));

describe('GitSource', () => {
  it('fetches the default branch tip shallowly and checks it out, sub-path included', async () => {
    const src = new GitSource({ url: origin, path: 'infra', cacheDir: await cache() });
    const got = await src.fetch();
    expect(got.revision).toBe(second);
    expect(got.dir).toBe(join(got.root, 'infra'));
    expect(await readFile(join(got.dir, 'cluster.yaml'), 'utf8')).toBe('v: 2\n');
    expect(git(got.root, 'rev-parse', '--is-shallow-repository')).toBe('true');
  });

  it('follows a named branch', async () => {
    const got = await new GitSource({ url: `file://${origin}`, branch: 'staging', cacheDir: await cache() }).fetch();
    expect(got.revision).toBe(staging);
    expect(await readFile(join(got.dir, 'infra', 'cluster.yaml'), 'utf8')).toBe('v: staging\n');
  });

  it('checks out a pinned older revision, deepening only as needed, and back to the tip', async () => {
    const dir = await cache();
    const pinned = await new GitSource({ url: `file://${origin}`, revision: first, cacheDir: dir }).fetch();
    expect(pinned.revision).toBe(first);
    expect(await readFile(join(pinned.dir, 'infra', 'cluster.yaml'), 'utf8')).toBe('v: 1\n');
    const short = await new GitSource({ url: `file://${origin}`, revision: second.slice(0, 10), cacheDir: dir }).fetch();
    expect(short.revision).toBe(second);
    const relative = await new GitSource({ url: origin, revision: 'HEAD~1', cacheDir: dir }).fetch();
    expect(relative.revision).toBe(first);
    const byBranch = await new GitSource({ url: origin, revision: 'staging', cacheDir: dir }).fetch();
    expect(byBranch.revision).toBe(staging);
    const tip = await new GitSource({ url: `file://${origin}`, cacheDir: dir }).fetch();
    expect(tip.revision).toBe(second);
    expect(await readFile(join(tip.dir, 'infra', 'cluster.yaml'), 'utf8')).toBe('v: 2\n');
  });

  it('follows a force-push that rewrote history', async () => {
    const repo = join(tmp, 'rewritten');
    initRepo(repo);
    commit(repo, { 'a.yaml': 'a: 1\n' }, 'one');
    const before = commit(repo, { 'a.yaml': 'a: 2\n', 'old.yaml': 'x: 1\n' }, 'two');
    const src = new GitSource({ url: repo, branch: 'main', cacheDir: await cache() });
    expect((await src.fetch()).revision).toBe(before);
    git(repo, 'reset', '-q', '--hard', 'HEAD~1');
    const after = commit(repo, { 'a.yaml': 'a: rewritten\n' }, 'two, rewritten');
    const got = await src.fetch();
    expect(got.revision).toBe(after);
    expect(await readFile(join(got.dir, 'a.yaml'), 'utf8')).toBe('a: rewritten\n');
    expect((await readdir(got.dir)).sort()).toEqual(['.git', 'a.yaml']);
  });

  it('runs overlapping fetches of one clone one after the other', async () => {
    const dir = await cache();
    const results = await Promise.all([
      new GitSource({ url: origin, cacheDir: dir }).fetch(),
      new GitSource({ url: origin, revision: first, cacheDir: dir }).fetch(),
      new GitSource({ url: origin, branch: 'staging', cacheDir: dir }).fetch(),
    ]);
    expect(results.map((r) => r.revision)).toEqual([second, first, staging]);
    expect(await readFile(join(results[2].dir, 'infra', 'cluster.yaml'), 'utf8')).toBe('v: staging\n');
  });

  it('reports a pinned revision, branch or path that does not exist as GIT_REVISION', async () => {
    const missing = 'deadbeef'.repeat(5);
    const err = await caught(new GitSource({ url: origin, revision: missing, cacheDir: await cache() }).fetch());
    expect([err.code, err.retry, err.message]).toEqual(['GIT_REVISION', 'terminal', `revision ${missing} does not exist in ${origin}`]);
    const branch = await caught(new GitSource({ url: origin, branch: 'nope', cacheDir: await cache() }).fetch());
    expect([branch.code, branch.message]).toEqual(['GIT_REVISION', `branch nope does not exist in ${origin}`]);
    const path = await caught(new GitSource({ url: origin, path: 'missing', cacheDir: await cache() }).fetch());
    expect([path.code, path.message]).toEqual(['GIT_REVISION', `path missing is not a folder of ${origin} at ${second.slice(0, 12)}`]);
    expect(() => new GitSource({ url: origin, branch: '--upload-pack=evil', cacheDir: tmp })).toThrow(/invalid branch/);
  });

  it('sends URL credentials as a header, never stores them, and redacts them from errors', async () => {
    const projects = join(tmp, 'served');
    initRepo(join(projects, 'infra.git'));
    const head = commit(join(projects, 'infra.git'), { 'c.yaml': 'c: 1\n' }, 'served');
    const token = 'glpat-S3cretT0ken';
    const server = await startGitHttp(projects, `Basic ${Buffer.from(`oauth2:${token}`).toString('base64')}`);
    try {
      const dir = await cache();
      const got = await new GitSource({ url: `${server.url.replace('http://', `http://oauth2:${token}@`)}/infra.git`, cacheDir: dir }).fetch();
      expect(got.revision).toBe(head);
      expect(await readFile(join(got.root, '.git', 'config'), 'utf8')).not.toContain(token);
      const bearer = await new GitSource({ url: `${server.url}/infra.git`, authHeader: `Basic ${Buffer.from(`oauth2:${token}`).toString('base64')}`, cacheDir: await cache() }).fetch();
      expect(bearer.revision).toBe(head);
      const wrong = await caught(new GitSource({ url: `${server.url.replace('http://', 'http://oauth2:wrong-token-123@')}/infra.git`, cacheDir: await cache() }).fetch());
      expect(wrong.code).toBe('GIT_FETCH');
      expect(wrong.message).toMatch(/^fetching http:\/\/127\.0\.0\.1:\d+\/infra\.git failed: /);
      expect(JSON.stringify(wrong.toJSON()) + String((wrong.cause as Error).message)).not.toMatch(/wrong-token-123|S3cret/);
    } finally {
      server.server.close();
    }
  });

  it('gives up after the timeout with GIT_FETCH, credentials redacted', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const port = (silent.address() as AddressInfo).port;
    try {
      const err = await caught(new GitSource({ url: `http://user:hunter2-secret@127.0.0.1:${port}/x.git`, timeoutMs: 1500, cacheDir: await cache() }).fetch());
      expect([err.code, err.retry, err.message]).toEqual(['GIT_FETCH', 'transient', `fetching http://127.0.0.1:${port}/x.git failed: timed out after 1500 ms`]);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
