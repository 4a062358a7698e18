/**
 * The hub side of usage-agent.mjs's simulated fleet, so its records pass the hub's usage admission: the
 * node enrolled before the simulated clock starts, and a hosted infra repo whose first commit (dated
 * before it too) places alice and carol (acme) and bob (globex) on gpu-01 with the GPUs the agent reports.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { HubStore } from '../../hub/store/hub-store.js';
import { ensureHostedRepo } from '../../hub/git/hosted-repo.js';

/** Enrollment and placement time: a day before the scenarios' simulated clock (2026-11-30T22:00Z). */
export const FLEET_SINCE = '2026-11-29T22:00:00Z';

const ws = (name: string, tenant: string, uuids: string[]): string =>
  `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: ${name}\nspec:\n  tenant: ${tenant}\n  template: chaos\n  node: gpu-01\n  gpus:\n    count: ${uuids.length}\n    uuids: [${uuids.join(', ')}]\n`;

/** Files of the placement commit: path → YAML. */
export const FLEET_FILES: Record<string, string> = {
  'templates/chaos.yaml': 'apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata:\n  name: chaos\nspec:\n  containers:\n    - name: main\n      image: localhost/foundry-test:1\n',
  'workspaces/acme/alice.yaml': ws('alice', 'acme', ['GPU-0', 'GPU-1']),
  'workspaces/acme/carol.yaml': ws('carol', 'acme', ['GPU-2']),
  'workspaces/globex/bob.yaml': ws('bob', 'globex', ['GPU-3']),
};

function git(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): string {
  const r = spawnSync('git', args, { encoding: 'utf8', input, env: { ...process.env, GIT_AUTHOR_NAME: 'admin', GIT_AUTHOR_EMAIL: 'admin@example.invalid', GIT_COMMITTER_NAME: 'admin', GIT_COMMITTER_EMAIL: 'admin@example.invalid', GIT_AUTHOR_DATE: FLEET_SINCE, GIT_COMMITTER_DATE: FLEET_SINCE, ...env } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Prepares a `foundry hub start --data-dir hubDir`: enrolls gpu-01 at FLEET_SINCE and commits the placements; returns its credential. */
export async function prepareChaosHub(hubDir: string): Promise<string> {
  const store = new HubStore(join(hubDir, 'hub.db'), { now: () => new Date(FLEET_SINCE) });
  const credential = (await store.issueNodeCredential('gpu-01'));
  store.close();
  const repo = join(hubDir, 'infra.git');
  await ensureHostedRepo(repo);
  const env = { GIT_INDEX_FILE: join(hubDir, 'seed-index') };
  for (const [path, content] of Object.entries(FLEET_FILES)) {
    const blob = git(['--git-dir', repo, 'hash-object', '-w', '--stdin'], env, content);
    git(['--git-dir', repo, 'update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], env);
  }
  const tree = git(['--git-dir', repo, 'write-tree'], env);
  git(['--git-dir', repo, 'update-ref', 'refs/heads/main', git(['--git-dir', repo, 'commit-tree', tree, '-m', 'chaos fleet'], env)]);
  return credential;
}
