/**
 * Loads an infra repo named on the command line: a local folder as it is, or a git URL (or a local
 * repo with --branch/--revision) fetched through GitSource into a temporary cache.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRemoteUrl } from '../agent/source/credentials.js';
import { FoundryError, isFoundryError } from '../common/errors.js';
import { loadInfraDir } from '../common/infra/load.js';
import type { InfraRepo } from '../common/infra/model.js';

/** Where the repo comes from, as given on the command line. */
export interface TargetOptions {
  path?: string;
  branch?: string;
  revision?: string;
}

/**
 * The Authorization header for a git URL of the hub: `Bearer $FOUNDRY_TOKEN` when the URL lies on the
 * hub (FOUNDRY_HUB_URL, default http://127.0.0.1:8080, as the other hub commands) and carries no
 * credentials of its own. Other hosts never see the hub's token.
 */
export function hubAuthHeader(target: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const token = env.FOUNDRY_TOKEN;
  if (token === undefined || token === '') return undefined;
  let url: URL;
  let hub: URL;
  try {
    url = new URL(target);
    hub = new URL(env.FOUNDRY_HUB_URL ?? 'http://127.0.0.1:8080');
  } catch {
    return undefined;
  }
  if (!/^https?:$/.test(url.protocol) || url.username !== '' || url.password !== '') return undefined;
  const base = hub.pathname.replace(/\/+$/, '');
  return url.origin === hub.origin && (url.pathname === base || url.pathname.startsWith(`${base}/`)) ? `Bearer ${token}` : undefined;
}

/** Loads `target`; fetch failures become non-terminal errors (exit 3), a missing folder a usage error (exit 2). */
export async function loadTarget(target: string, opts: TargetOptions): Promise<InfraRepo> {
  const useGit = isRemoteUrl(target) || opts.branch !== undefined || opts.revision !== undefined;
  if (!useGit) {
    const info = await stat(target).catch(() => undefined);
    if (info === undefined || !info.isDirectory()) throw new FoundryError('CLI_USAGE', `no such folder: ${target} (give a folder or a git URL)`);
    return loadInfraDir(target, { subPath: opts.path });
  }
  const cacheDir = await mkdtemp(join(tmpdir(), 'foundry-cli-git-'));
  try {
    const { GitSource } = await import('../agent/source/git-source.js'); // git fetching only for a git target
    const source = new GitSource({ url: target, branch: opts.branch, revision: opts.revision, path: opts.path, cacheDir, authHeader: hubAuthHeader(target) });
    let fetched;
    try {
      fetched = await source.fetch();
    } catch (err) {
      // The repo wants credentials and none were sent: say how to give them (never in the URL).
      const tokenSet = (process.env.FOUNDRY_TOKEN ?? '') !== '';
      const advice = !tokenSet ? 'set FOUNDRY_TOKEN to send a token as a header' : hubAuthHeader(target) === undefined ? 'FOUNDRY_TOKEN is sent only to the hub: set FOUNDRY_HUB_URL to its URL' : 'the hub refused FOUNDRY_TOKEN';
      const hint = isFoundryError(err) && /could not read Username|Authentication failed/i.test(err.message) ? `; ${advice}` : '';
      if (isFoundryError(err)) throw new FoundryError(err.code, `cannot fetch the infra repo: ${err.message}${hint}`, { resource: err.resource, retry: 'wait', cause: err });
      throw err;
    }
    return await loadInfraDir(fetched.root, { revision: fetched.revision, subPath: opts.path });
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/** One line of counts: "6 nodes, 4 services, 2 templates, 2 tenants, 3 workspaces, 1 price list, 2 identity providers". */
export function describeRepo(repo: InfraRepo): string {
  const n = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  const profiles = [...repo.profiles.values()].filter((p) => p.builtin !== true).length;
  return [
    n(repo.nodes.size, 'node'),
    n(profiles, 'repo profile'),
    n(repo.services.size, 'service'),
    n(repo.templates.size, 'template'),
    n(repo.tenants.size, 'tenant'),
    n(repo.workspaces.size, 'workspace'),
    n(repo.priceLists.size, 'price list'),
    n(repo.identityProviders.size, 'identity provider'),
  ].join(', ');
}
