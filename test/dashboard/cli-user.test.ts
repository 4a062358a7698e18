/** `foundry hub user add|list|reset-2fa` as real processes on a data dir, then a login with what they printed. */
import { afterAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { checkPassword, getUser, recoveryCodesLeft } from '../../hub/auth/users.js';
import { tempDir, startTestHub } from '../hub/support.js';
import { firstLogin } from './support.js';
import { describeIfBuilt } from '../support/requires.js';

const describeBuilt = describeIfBuilt('dist/cli/hub-user.js');
const bin = join(PACKAGE_ROOT, 'bin', 'foundry.js');
const dir = tempDir('foundry-hub-user-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function foundry(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function withStore<T>(fn: (s: HubStore) => Promise<T>): Promise<T> {
  const s = new HubStore(join(dir, 'hub.db'));
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

describeBuilt('foundry hub user (cli)', () => {
  it('adds users with a printed or piped one-time password, lists them, and refuses bad input', async () => {
    const add = await foundry(['hub', 'user', 'add', 'ada', '--role', 'admin', '--data-dir', dir]);
    expect(add.code).toBe(0);
    const password = add.stdout.trim();
    expect(password).toMatch(/^[a-z2-9]{20}$/);
    expect(add.stderr).toContain('user ada (admin) created');
    const piped = await foundry(['hub', 'user', 'add', 'tom', '--role', 'tenant', '--tenant', 'acme', '--password-stdin', '--data-dir', dir], 'a-piped-password-1\n');
    expect(piped).toMatchObject({ code: 0, stdout: '' });
    expect((await foundry(['hub', 'user', 'add', 'eve', '--role', 'tenant', '--data-dir', dir])).stderr).toContain('a tenant user needs --tenant');
    expect((await foundry(['hub', 'user', 'add', 'ada', '--role', 'admin', '--data-dir', dir])).stderr).toContain('user ada already exists');
    expect((await foundry(['hub', 'user', 'add', 'bob', '--role', 'root', '--data-dir', dir])).stderr).toContain('invalid role "root"');
    expect((await foundry(['hub', 'user', 'add', 'bob', '--role', 'admin', '--password-stdin', '--data-dir', dir], 'short\n')).stderr).toContain('at least 12 characters');
    expect((await foundry(['hub', 'user', 'list', '--data-dir', dir])).stdout).toBe('ada\tadmin\t-\tno-2fa\ntom\ttenant\tacme\tno-2fa\n');
    await withStore(async (s) => {
      expect(await checkPassword(s.users, 'ada', password)).toMatchObject({ name: 'ada', role: 'admin', mustChangePassword: true });
      expect(await checkPassword(s.users, 'tom', 'a-piped-password-1')).toMatchObject({ name: 'tom', tenant: 'acme' });
    });
  });

  it('resets a lost second factor: TOTP, recovery codes and sessions are gone, the next login enrols again', async () => {
    // kim enrols TOTP through a running hub; the CLI resets it on that hub's data dir.
    const hub = await startTestHub();
    try {
      const { createUser } = await import('../../hub/auth/users.js');
      await createUser(hub.store.users, { name: 'kim', role: 'admin' }, 'one-time-password-1', new Date());
      const session = await firstLogin(hub.url, 'kim', 'one-time-password-1', 'kims-new-password');
      expect(await recoveryCodesLeft(hub.store.users, 'kim')).toBe(10);
      const reset = await foundry(['hub', 'user', 'reset-2fa', 'kim', '--data-dir', hub.dir]);
      expect(reset.code).toBe(0);
      expect(await getUser(hub.store.users, 'kim')).toMatchObject({ totpEnabled: false, mustChangePassword: false });
      expect(await recoveryCodesLeft(hub.store.users, 'kim')).toBe(0);
      expect((await fetch(`${hub.url}/api/v1/auth/me`, { headers: { cookie: session.cookie } })).status).toBe(401);
      const login = await fetch(`${hub.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'kim', password: 'kims-new-password' }) });
      expect(await login.json()).toMatchObject({ next: 'setup', mustChangePassword: false });
    } finally {
      await hub.close();
    }
    expect((await foundry(['hub', 'user', 'reset-2fa', 'nobody', '--data-dir', dir])).stderr).toContain('no user nobody');
  });
});
