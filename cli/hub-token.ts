/**
 * `foundry hub token create|list|revoke`: join tokens, worked on the hub's data dir (like `hub node add`).
 * The hub URL and certificate pin embedded in a token come from what the running hub last saved
 * (`hub start` records them), or from --hub-url / --tls-cert.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FoundryError } from '../common/errors.js';
import { parseDuration } from '../common/units.js';
import { TOKEN_DEFAULTS, encodeJoinToken } from '../common/enroll/token-format.js';
import { DEFAULT_DATA_DIR, withHubStore } from './hub-data.js';

/** The hub's enrollment modules, loaded when a token command runs (see hub-data.ts). */
async function enrollModules() {
  return Promise.all([import('../hub/enroll/join-tokens.js'), import('../common/enroll/tls-pin.js'), import('../common/enroll/token-format.js')]);
}
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Parses `k=v,k2=v2` into labels; throws CLI_USAGE naming the bad pair. */
export function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of (text ?? '').split(',').filter((p) => p.trim() !== '')) {
    const i = pair.indexOf('=');
    const [k, v] = i < 0 ? [pair, ''] : [pair.slice(0, i).trim(), pair.slice(i + 1).trim()];
    if (i < 0 || !LABEL_KEY.test(k) || v.length > 63) throw new FoundryError('CLI_USAGE', `invalid label ${JSON.stringify(pair)}: expected key=value`);
    labels[k] = v;
  }
  return labels;
}

interface CreateFlags {
  dataDir: string;
  ttl: string;
  uses: string;
  profile: string;
  node?: string;
  labels?: string;
  hubUrl?: string;
  tlsCert?: string;
  json?: boolean;
}

/** Registers `hub token ...` under the hub command. */
export function registerHubToken(hub: Command): void {
  const token = hub.command('token').description('join tokens: one command enrolls a node (curl HUB/install.sh | sh -s -- --join TOKEN)');
  token
    .command('create')
    .description('create a join token and print it once with the install command')
    .option('--ttl <duration>', 'how long it is valid (e.g. 30m, 1h, at most 168h)', TOKEN_DEFAULTS.ttl)
    .option('--uses <n>', 'how many nodes may enroll with it', String(TOKEN_DEFAULTS.uses))
    .option('--profile <name>', 'node profile of the nodes it enrolls', TOKEN_DEFAULTS.profile)
    .option('--node <name>', 'the one node name it may enroll (needed for a node the infra repo already declares)')
    .option('--labels <k=v,...>', 'labels written into each enrolled node file')
    .option('--hub-url <url>', 'hub URL nodes use (default: the one the hub saved when it started)')
    .option('--tls-cert <file>', "the hub's PEM certificate, to pin (default: the pin the hub saved)")
    .option('--json', 'print JSON')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .action(async (o: CreateFlags) => {
      let ttlMs: number;
      try {
        ttlMs = parseDuration(o.ttl);
      } catch {
        throw new FoundryError('CLI_USAGE', `invalid --ttl ${o.ttl}: use e.g. 30m or 1h`);
      }
      if (ttlMs <= 0 || ttlMs > TOKEN_DEFAULTS.maxTtlMs) throw new FoundryError('CLI_USAGE', '--ttl must be more than 0 and at most 168h');
      const uses = Number(o.uses);
      if (!Number.isInteger(uses) || uses < 1 || uses > 1000) throw new FoundryError('CLI_USAGE', `invalid --uses ${o.uses}: a whole number from 1 to 1000`);
      if (!NAME.test(o.profile)) throw new FoundryError('CLI_USAGE', `invalid --profile ${o.profile}`);
      if (o.node !== undefined && !NAME.test(o.node)) throw new FoundryError('CLI_USAGE', `invalid --node ${o.node}`);
      if (o.hubUrl !== undefined && !/^https?:\/\/\S+$/.test(o.hubUrl)) throw new FoundryError('CLI_USAGE', `invalid --hub-url ${o.hubUrl}`);
      const labels = parseLabels(o.labels);
      const [{ createJoinToken, hubIdentity }, { pinOfPem }, { installCommand }] = await enrollModules();
      await withHubStore(o.dataDir, async (store) => {
        const identity = await hubIdentity(store.joinTokens);
        const pin = o.tlsCert !== undefined ? pinOfPem(readFileSync(o.tlsCert)) : identity.pin;
        const hubUrl = o.hubUrl?.replace(/\/+$/, '') ?? identity.url;
        const created = await createJoinToken(store.joinTokens, { ttlMs, uses, profile: o.profile, ...(o.node === undefined ? {} : { node: o.node }), labels, createdBy: 'cli' }, new Date());
        await store.audit('cli', 'join-token.create', created.id, { profile: o.profile, node: o.node ?? null, uses, expiresAt: created.expiresAt });
        const text = encodeJoinToken({ secret: created.secret, pin, hubUrl });
        const command = installCommand(hubUrl, text, pin);
        if (o.json === true) process.stdout.write(`${JSON.stringify({ id: created.id, token: text, expiresAt: created.expiresAt, maxUses: uses, profile: o.profile, node: o.node ?? null, labels, hubUrl: hubUrl ?? null, pin: pin ?? null, installCommand: command })}\n`);
        else process.stdout.write(`${text}\n`);
        process.stderr.write(`join token ${created.id}: ${uses} use(s), profile ${o.profile}${o.node === undefined ? '' : `, node ${o.node}`}, expires ${created.expiresAt}${pin === undefined ? ', no TLS pin' : ''}\non the node, as root:\n  ${command}\n`);
      });
    });
  token
    .command('list')
    .description('list join tokens with their uses and state (never the secrets)')
    .option('--json', 'print JSON')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .action(async (o: { dataDir: string; json?: boolean }) => {
      const [{ listJoinTokens }] = await enrollModules();
      await withHubStore(o.dataDir, async (store) => {
        const rows = await listJoinTokens(store.joinTokens, new Date());
        if (o.json === true) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else {
          process.stdout.write('ID            STATE     USES  PROFILE       EXPIRES                   NODES\n');
          for (const r of rows) process.stdout.write(`${r.id.padEnd(14)}${r.state.padEnd(10)}${`${r.uses}/${r.maxUses}`.padEnd(6)}${r.profile.padEnd(14)}${r.expiresAt.padEnd(26)}${r.nodes.join(',')}\n`);
        }
      });
    });
  token
    .command('revoke <id>')
    .description('revoke a join token: no node can enroll with it any more')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .action(async (id: string, o: { dataDir: string }) => {
      const [{ revokeJoinToken }] = await enrollModules();
      await withHubStore(o.dataDir, async (store) => {
        if (!(await revokeJoinToken(store.joinTokens, id))) throw new FoundryError('NOT_FOUND', `no join token ${id}`, { resource: id });
        await store.audit('cli', 'join-token.revoke', id);
      });
    });
}
