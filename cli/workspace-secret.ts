/**
 * `foundry workspace secret set|list|rm`: a workspace's tenant secrets through the hub API. The value
 * comes from stdin or a file, never from a flag or an argument (those show in the process list and shell
 * history), and is never printed.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FoundryError } from '../common/errors.js';
import { callHub, withHubOptions, type HubClientOptions } from './hub-client.js';

/** Reads the whole of stdin (refusing a terminal: nobody should type a secret where it echoes). */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY === true) throw new FoundryError('CLI_USAGE', 'pipe the value into stdin (e.g. `foundry workspace secret set W NAME < key.txt`) or pass --from-file');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString('utf8');
}

/** The value: the file's or stdin's content, one trailing newline removed (what `echo` and editors add). */
export function secretValue(raw: string): string {
  const value = raw.endsWith('\r\n') ? raw.slice(0, -2) : raw.endsWith('\n') ? raw.slice(0, -1) : raw;
  if (value === '') throw new FoundryError('CLI_USAGE', 'the secret value is empty');
  return value;
}

const path = (workspace: string, name?: string): string => `/api/v1/workspaces/${encodeURIComponent(workspace)}/secrets${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

/** Registers `workspace secret` under the workspace command. */
export function registerWorkspaceSecret(ws: Command): void {
  const secret = ws.command('secret').description('tenant secrets of a workspace: write-only, encrypted on the hub, delivered only to the node that runs it');

  withHubOptions(secret.command('set <workspace> <name>'))
    .description('set or replace a secret; the value is read from stdin or --from-file (never from a flag)')
    .option('--from-file <file>', 'read the value from this file')
    .action(async (workspace: string, name: string, o: HubClientOptions & { fromFile?: string }) => {
      const raw = o.fromFile === undefined ? await readStdin() : readFileSync(o.fromFile, 'utf8');
      const r = await callHub(o, 'PUT', path(workspace, name), { value: secretValue(raw) });
      process.stdout.write(`secret ${name} of workspace ${workspace}: ${r.status === 201 ? 'created' : 'replaced'} (version ${String(r.body.version)})\n`);
    });

  withHubOptions(secret.command('list <workspace>'))
    .description('list the secrets of a workspace: names, versions and times (never values)')
    .option('--json', 'print JSON')
    .action(async (workspace: string, o: HubClientOptions & { json?: boolean }) => {
      const items = ((await callHub(o, 'GET', path(workspace))).body.secrets ?? []) as Array<Record<string, unknown>>;
      if (o.json === true) process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
      else process.stdout.write(['NAME\tVERSION\tUPDATED\tBY', ...items.map((s) => [s.name, s.version, s.updatedAt, s.updatedBy].join('\t'))].join('\n') + '\n');
    });

  withHubOptions(secret.command('rm <workspace> <name>'))
    .description('delete a secret (the node drops it; containers that use it are recreated without it)')
    .action(async (workspace: string, name: string, o: HubClientOptions) => {
      await callHub(o, 'DELETE', path(workspace, name));
      process.stdout.write(`secret ${name} of workspace ${workspace}: deleted\n`);
    });
}
