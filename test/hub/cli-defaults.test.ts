/**
 * The CLI next to `npm start`: `foundry hub invoice` with its default (relative) data dir, and
 * `foundry validate <the hub's repo URL>` with FOUNDRY_TOKEN sent as a Bearer header, never prompting.
 * Both as real processes against a real hub and its hosted repo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLE_INFRA_DIR, PACKAGE_ROOT } from '../../common/paths.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { hubAuthHeader } from '../../cli/load-target.js';
import { tempDir } from './support.js';

const bin = join(PACKAGE_ROOT, 'bin', 'foundry.js');
const dir = tempDir('foundry-cli-defaults-');
const cwd = join(dir, 'project');
let hub: RunningHub;
let token: string;

function foundry(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { ...process.env };
  delete base.FOUNDRY_TOKEN;
  delete base.FOUNDRY_HUB_URL;
  return new Promise((resolve) =>
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr }),
    ),
  );
}

beforeAll(async () => {
  mkdirSync(cwd, { recursive: true });
  // Where `npm start` puts the hub: .foundry/hub relative to the project folder.
  hub = await startHub({ dataDir: join(cwd, '.foundry', 'hub'), port: 0, seedFrom: EXAMPLE_INFRA_DIR, logger: false });
  token = (await hub.store.createAdminToken('cli-defaults', 'test'));
}, 60_000);
afterAll(async () => {
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('foundry hub invoice next to npm start', () => {
  it('works with no flag but --tenant and --month (the relative default data dir)', async () => {
    const r = await foundry(['hub', 'invoice', '--tenant', 'acme', '--month', '2026-11']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tenant: 'acme', month: '2026-11', lines: [] });
  }, 60_000);
});

describe('foundry validate <the hub repo URL>', () => {
  it('sends FOUNDRY_TOKEN as a Bearer header to the hub and validates', async () => {
    const r = await foundry(['validate', `${hub.url}/git/infra.git`], { FOUNDRY_TOKEN: token, FOUNDRY_HUB_URL: hub.url });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^valid: 6 nodes, 0 repo profiles, 6 services, 2 templates, 2 tenants, 3 workspaces, 1 price list, 3 identity providers \(revision [0-9a-f]{40}\)\n$/);
    expect(r.code).toBe(0);
  }, 60_000);

  it('without a token fails at once with git\'s meaningful line, never asking for a user name', async () => {
    const r = await foundry(['validate', `${hub.url}/git/infra.git`], { FOUNDRY_HUB_URL: hub.url });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^foundry: cannot fetch the infra repo: fetching http:\/\/127\.0\.0\.1:\d+\/git\/infra\.git failed: could not read Username for 'http:\/\/127\.0\.0\.1:\d+': terminal prompts disabled; set FOUNDRY_TOKEN to send a token as a header\n/);
  }, 60_000);

  it('says when the hub refused the token, or the token was not sent to that URL, without showing the token', async () => {
    const wrong = 'fat_wrongwrongwrongwrongwrongwrongwrongwrongwr';
    const refused = await foundry(['validate', `${hub.url}/git/infra.git`], { FOUNDRY_TOKEN: wrong, FOUNDRY_HUB_URL: hub.url });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/; the hub refused FOUNDRY_TOKEN\n$/);
    expect(refused.stderr).not.toContain(wrong);
    const elsewhere = await foundry(['validate', `${hub.url}/git/infra.git`], { FOUNDRY_TOKEN: token, FOUNDRY_HUB_URL: 'http://127.0.0.1:1' });
    expect(elsewhere.code).toBe(3);
    expect(elsewhere.stderr).toMatch(/; FOUNDRY_TOKEN is sent only to the hub: set FOUNDRY_HUB_URL to its URL\n$/);
  }, 60_000);

  it('sends the token only to the hub, never to another host or inside a URL with credentials', () => {
    const env = { FOUNDRY_TOKEN: 'fat_x', FOUNDRY_HUB_URL: 'https://hub.example:8443' };
    expect(hubAuthHeader('https://hub.example:8443/git/infra.git', env)).toBe('Bearer fat_x');
    expect(hubAuthHeader('https://gitlab.example/infra.git', env)).toBeUndefined();
    expect(hubAuthHeader('https://hub.example/git/infra.git', env)).toBeUndefined();
    expect(hubAuthHeader('https://u:p@hub.example:8443/git/infra.git', env)).toBeUndefined();
    expect(hubAuthHeader('http://127.0.0.1:8080/git/infra.git', { FOUNDRY_TOKEN: 'fat_y' })).toBe('Bearer fat_y');
    expect(hubAuthHeader('http://127.0.0.1:8080/git/infra.git', {})).toBeUndefined();
  });
});
