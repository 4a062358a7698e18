/**
 * `foundry hub user add|reset-2fa|list`: dashboard users, worked on the hub's data dir. `add` prints a
 * one-time password (or reads one from stdin with --password-stdin); the user sets a new password and
 * enrols TOTP at first login. `reset-2fa` removes a lost second factor and ends the user's sessions.
 */
import type { Command } from 'commander';
import { FoundryError } from '../common/errors.js';
import { DEFAULT_DATA_DIR, withHubStore } from './hub-data.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Registers `foundry hub user ...` under `hub`. */
export function registerHubUser(hub: Command): void {
  const user = hub.command('user').description('dashboard users (password + TOTP, roles admin and tenant)');
  user
    .command('add <name>')
    .description('create a user and print a one-time password (changed at first login, where TOTP is enrolled)')
    .requiredOption('--role <role>', 'admin (everything) or tenant (only its own workspaces and billing)')
    .option('--tenant <tenant>', 'the tenant of a tenant user')
    .option('--password-stdin', 'read the one-time password from stdin instead of generating one')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .action(async (name: string, o: { role: string; tenant?: string; passwordStdin?: boolean; dataDir: string }) => {
      if (o.role !== 'admin' && o.role !== 'tenant') throw new FoundryError('CLI_USAGE', `invalid role ${JSON.stringify(o.role)}: admin or tenant`);
      if (o.role === 'tenant' && o.tenant === undefined) throw new FoundryError('CLI_USAGE', 'a tenant user needs --tenant');
      if (o.role === 'admin' && o.tenant !== undefined) throw new FoundryError('CLI_USAGE', 'an admin has no --tenant');
      const [{ createUser }, { passwordProblem, randomPassword }] = await Promise.all([import('../hub/auth/users.js'), import('../hub/auth/passwords.js')]);
      const password = o.passwordStdin === true ? await readStdin() : randomPassword();
      const problem = passwordProblem(password);
      if (problem !== undefined) throw new FoundryError('CLI_USAGE', problem);
      await withHubStore(o.dataDir, async (store) => {
        await createUser(store.users, { name, role: o.role as 'admin' | 'tenant', tenant: o.tenant }, password, new Date());
        await store.audit('cli', 'user.create', name, { role: o.role, tenant: o.tenant });
      });
      if (o.passwordStdin !== true) process.stdout.write(`${password}\n`);
      process.stderr.write(`user ${name} (${o.role}${o.tenant === undefined ? '' : ` of ${o.tenant}`}) created: log in with this one-time password, then set a new one and enrol TOTP\n`);
    });
  user
    .command('reset-2fa <name>')
    .description('remove a user\'s TOTP and recovery codes and end its sessions (it enrols again at next login)')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .action(async (name: string, o: { dataDir: string }) => {
      const { resetSecondFactor } = await import('../hub/auth/users.js');
      await withHubStore(o.dataDir, async (store) => {
        if (!(await resetSecondFactor(store.users, name))) throw new FoundryError('NOT_FOUND', `no user ${name}`, { resource: name });
        await store.audit('cli', 'user.reset-2fa', name);
      });
      process.stderr.write(`user ${name}: second factor removed; it enrols a new one at next login\n`);
    });
  user
    .command('list')
    .description('list users (name, role, tenant, 2fa)')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .action(async (o: { dataDir: string }) => {
      const { listUsers } = await import('../hub/auth/users.js');
      const users = await withHubStore(o.dataDir, (store) => listUsers(store.users));
      for (const u of users) process.stdout.write(`${u.name}\t${u.role}\t${u.tenant ?? '-'}\t${u.totpEnabled ? '2fa' : 'no-2fa'}\n`);
    });
}
