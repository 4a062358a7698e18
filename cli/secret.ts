/**
 * `foundry secret encrypt|reencrypt|who|recipients`: age-encrypted secrets in a checkout of the infra
 * repo (see secret-files.ts and docs/secrets.md). Works offline on the checkout; `recipients --from-hub`
 * compares the node keys in Git with the ones the hub has from enrollment and hellos.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { FoundryError } from '../common/errors.js';
import { parseIdentityFile } from '../common/secrets/age.js';
import { callHub, withHubOptions, type HubClientOptions } from './hub-client.js';
import { encryptSecret, loadCheckout, reencryptSecret, whoCanDecrypt, type SecretRecipient } from './secret-files.js';
import { EXIT } from './exit-codes.js';

const who = (r: SecretRecipient): string => (r.node !== undefined ? `node ${r.node}` : `admin ${r.admin ?? '?'}`);

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function identitiesFrom(file: string | undefined): Promise<string[]> {
  const path = file ?? process.env.FOUNDRY_AGE_IDENTITY;
  if (path === undefined) throw new FoundryError('CLI_USAGE', 'reencrypt needs a key that can decrypt: --identity FILE (or FOUNDRY_AGE_IDENTITY), e.g. your admin key from age-keygen');
  const ids = parseIdentityFile(await readFile(path, 'utf8'));
  if (ids.length === 0) throw new FoundryError('CLI_USAGE', `${path} holds no age identity (AGE-SECRET-KEY-1...)`);
  return ids;
}

/** Registers the secret sub-commands. */
export function registerSecret(program: Command): void {
  const secret = program.command('secret').description('age-encrypted secrets in the infra repo: only the nodes that run a workload (and the admins) can decrypt them');
  secret
    .command('encrypt <name>')
    .description('encrypt a value (stdin, or --from-file) to the nodes whose workloads use it and the admins in .foundry/admin-recipients; writes secrets/NAME.age and secrets/NAME.yaml')
    .option('--from-file <file>', 'read the value from a file instead of stdin')
    .option('--repo <dir>', 'checkout of the infra repo', '.')
    .action(async (name: string, o: { fromFile?: string; repo: string }) => {
      const value = o.fromFile === undefined ? await readStdin() : await readFile(o.fromFile);
      const r = await encryptSecret(o.repo, name, value);
      process.stdout.write(`encrypted ${name} to ${r.recipients.map(who).join(', ')}; wrote ${r.files.join(' and ')}: commit and push them\n`);
    });
  secret
    .command('reencrypt [name]')
    .description('re-encrypt to whoever needs the secret now (rotation of recipients, a new node, a moved workload); decrypts with your key')
    .option('--all', 'every Secret of the repo')
    .option('--identity <file>', 'age identity file that can decrypt (default $FOUNDRY_AGE_IDENTITY)')
    .option('--repo <dir>', 'checkout of the infra repo', '.')
    .action(async (name: string | undefined, o: { all?: boolean; identity?: string; repo: string }) => {
      if ((name === undefined) === (o.all !== true)) throw new FoundryError('CLI_USAGE', 'name one secret or pass --all');
      const ids = await identitiesFrom(o.identity);
      const names = name !== undefined ? [name] : [...(await loadCheckout(o.repo)).secrets.keys()].sort();
      for (const n of names) {
        const r = await reencryptSecret(o.repo, n, ids);
        process.stdout.write(`re-encrypted ${n} to ${r.recipients.map(who).join(', ')}\n`);
      }
      process.stdout.write('old commits stay decryptable by their old recipients: change the value (foundry secret encrypt) when a node should lose it\n');
    });
  secret
    .command('who <name>')
    .description('who can decrypt a secret (its sidecar), which nodes need it (the repo), and what is missing (exit 1)')
    .option('--repo <dir>', 'checkout of the infra repo', '.')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { repo: string; json?: boolean }) => {
      const r = await whoCanDecrypt(o.repo, name);
      const stale = r.stanzas !== r.recipients.length;
      if (o.json === true) process.stdout.write(`${JSON.stringify({ name, ...r, stale }, null, 2)}\n`);
      else {
        const lines = [`${name} (${r.file}): encrypted to ${r.stanzas} recipient${r.stanzas === 1 ? '' : 's'}`, ...r.recipients.map((x) => `  ${who(x)}  ${x.recipient}`)];
        lines.push(`needed on: ${r.needs.length === 0 ? 'no node (no workload uses it)' : r.needs.join(', ')}`);
        for (const w of r.workloads) lines.push(`  used by ${w}`);
        if (r.missing.length > 0) lines.push(`missing: ${r.missing.join(', ')} cannot decrypt it: run foundry secret reencrypt ${name}`);
        if (r.extra.length > 0) lines.push(`not needed any more on: ${r.extra.join(', ')} (re-encrypt, and change the value: old commits stay readable to them)`);
        if (stale) lines.push(`the file has ${r.stanzas} stanzas but the sidecar lists ${r.recipients.length} recipients: re-encrypt it`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode = r.missing.length > 0 || stale ? EXIT.FAILED : EXIT.OK;
    });
  withHubOptions(secret.command('recipients'))
    .description("the nodes' age public keys: from the Node files of the checkout, and with --from-hub from the hub (enrollment and hellos)")
    .option('--repo <dir>', 'checkout of the infra repo', '.')
    .option('--from-hub', 'also ask the hub and show where Git and the hub disagree')
    .action(async (o: HubClientOptions & { repo: string; fromHub?: boolean }) => {
      const repo = await loadCheckout(o.repo);
      const fromHub = new Map<string, string | null>();
      if (o.fromHub === true) {
        const r = await callHub(o, 'GET', '/api/v1/nodes');
        for (const n of (r.body.nodes ?? []) as { name: string; ageRecipient?: string | null }[]) fromHub.set(n.name, n.ageRecipient ?? null);
      }
      const names = [...new Set([...repo.nodes.keys(), ...fromHub.keys()])].sort();
      let differ = false;
      for (const n of names) {
        const git = repo.nodes.get(n)?.doc.spec.ageRecipient;
        const hub = fromHub.get(n);
        const note = o.fromHub !== true ? '' : hub === undefined ? '  (unknown to the hub)' : hub === null ? '  (the hub has no key yet)' : git === undefined ? `  (only the hub has it: add spec.ageRecipient: ${hub} to nodes/${n}.yaml)` : hub !== git ? `  (the hub has ${hub}: the node has a new key; update nodes/${n}.yaml and re-encrypt)` : '';
        if (note.includes('update') || note.includes('only the hub')) differ = true;
        process.stdout.write(`${n}  ${git ?? '-'}${note}\n`);
      }
      process.exitCode = differ ? EXIT.FAILED : EXIT.OK;
    });
}
