/** `foundry workspace secret set|list|rm` against a real hub: the value from stdin or a file, never printed; other tenants' tokens get "no workspace". */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { fleetFiles } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';
import { describeIfBuilt } from '../support/requires.js';

const describeBuilt = describeIfBuilt('dist/cli/workspace-secret.js');
const VALUE = 'cli-secret-9a8b7c-marker';
let hub: WsHub;

beforeAll(async () => {
  hub = await startWsHub(fleetFiles({ nodes: 1, gpus: 2 }), ['gpu-01'], { secrets: true });
  expect((await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: 'acme-cli' } })).status).toBe(201);
}, 60_000);
afterAll(async () => hub?.close());

function foundry(args: string[], input?: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin', 'foundry.js'), ...args], { env: { PATH: process.env.PATH, FOUNDRY_HUB_URL: hub.url, FOUNDRY_TOKEN: hub.admin, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

describeBuilt('foundry workspace secret', () => {
  it('sets from stdin and from a file, lists names and versions, removes; never prints the value', async () => {
    const a = await foundry(['workspace', 'secret', 'set', 'acme-cli', 'api-key'], `${VALUE}\n`);
    expect([a.code, a.stdout, a.stderr]).toEqual([0, 'secret api-key of workspace acme-cli: created (version 1)\n', '']);
    const file = join(hub.dir, 'value.txt');
    writeFileSync(file, `${VALUE}-file\n`, { mode: 0o600 });
    const b = await foundry(['workspace', 'secret', 'set', 'acme-cli', 'api-key', '--from-file', file]);
    expect(b.stdout).toBe('secret api-key of workspace acme-cli: replaced (version 2)\n');
    const l = await foundry(['workspace', 'secret', 'list', 'acme-cli']);
    expect(l.stdout).toMatch(/^NAME\tVERSION\tUPDATED\tBY\napi-key\t2\t\S+\tadmin:test-admin\n$/);
    // the hub stored exactly the value without the trailing newline
    const opened = await hub.app.hub.secrets!.store.open('acme-cli', 'acme');
    expect(opened.map((s) => ('value' in s ? Buffer.from(s.value).toString() : s.error))).toEqual([`${VALUE}-file`]);
    const empty = await foundry(['workspace', 'secret', 'set', 'acme-cli', 'empty'], '');
    expect([empty.code, empty.stderr]).toEqual([2, 'foundry: the secret value is empty\n']);
    const flag = await foundry(['workspace', 'secret', 'set', 'acme-cli', 'x', '--value', VALUE]);
    expect(flag.code).not.toBe(0);
    const r = await foundry(['workspace', 'secret', 'rm', 'acme-cli', 'api-key']);
    expect(r.stdout).toBe('secret api-key of workspace acme-cli: deleted\n');
    const again = await foundry(['workspace', 'secret', 'rm', 'acme-cli', 'api-key']);
    expect([again.code, again.stderr]).toEqual([1, 'foundry: workspace acme-cli has no secret api-key\n']);
    for (const x of [a, b, l, empty, flag, r, again]) expect(x.stdout + x.stderr).not.toContain(VALUE);
  }, 120_000);
});

describeBuilt('foundry hub age-recipient', () => {
  it('prints the same recipient every time and keeps the key 0600', async () => {
    const data = join(hub.dir, 'hub-data');
    const a = await foundry(['hub', 'age-recipient', '--data-dir', data]);
    const b = await foundry(['hub', 'age-recipient', '--data-dir', data]);
    expect(a.stdout).toMatch(/^age1[02-9ac-hj-np-z]{58}\n$/);
    expect(b.stdout).toBe(a.stdout);
    expect(statSync(join(data, 'secrets', 'hub.agekey')).mode & 0o777).toBe(0o600);
    expect(a.stdout + a.stderr).not.toContain('AGE-SECRET-KEY');
  });
});
