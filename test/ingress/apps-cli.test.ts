/** `foundry workspace apps NAME [--json]` against a real hub: the same apps, URLs and curl examples as the API, to the tenant only. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { createApiToken } from '../../hub/auth/api-tokens.js';
import { describeIfBuilt } from '../support/requires.js';
import { startAuthHub, type AuthHub } from './auth-fixture.js';

const describeBuilt = describeIfBuilt('dist/cli/workspace.js');

let hub: AuthHub;
let acme: string;
beforeAll(async () => {
  hub = await startAuthHub();
  acme = (await createApiToken(hub.store.apiTokens, { label: 'acme-cli', role: 'tenant', tenant: 'acme', createdBy: 'test' }, new Date())).token;
}, 60_000);
afterAll(async () => hub?.close());

function foundry(args: string[], token: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin', 'foundry.js'), ...args], { env: { PATH: process.env.PATH, FOUNDRY_HUB_URL: hub.url, FOUNDRY_TOKEN: token } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describeBuilt('foundry workspace apps', () => {
  it('prints each app with URL, protocol, API flag and state, then the curl examples with the key placeholder', async () => {
    const r = await foundry(['workspace', 'apps', 'acme-one'], acme);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe([
      'APP\tURL\tPROTOCOL\tAPI\tSTATE',
      'llm\thttp://llm--acme-one.apps.localhost:8480/\thttp\tyes\tunroutable (the workspace is not running yet)',
      'web\thttp://web--acme-one.apps.localhost:8480/\thttp\tno\tunroutable (the workspace is not running yet)',
      '',
      'API apps, with an API token of scope apps in $FOUNDRY_APPS_KEY:',
      '  curl -H "Authorization: Bearer $FOUNDRY_APPS_KEY" http://llm--acme-one.apps.localhost:8480/',
      '',
    ].join('\n'));
    expect(r.stdout).not.toContain(acme);
  });

  it('prints the API\'s answer with --json, and refuses another tenant\'s workspace as not found', async () => {
    const j = await foundry(['workspace', 'apps', 'acme-one', '--json'], acme);
    const api = await (await fetch(`${hub.url}/api/v1/workspaces/acme-one/apps`, { headers: { authorization: `Bearer ${acme}` } })).json();
    expect(JSON.parse(j.stdout)).toEqual(api);
    const other = await foundry(['workspace', 'apps', 'globex-one'], acme);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('no workspace globex-one');
  });
});
