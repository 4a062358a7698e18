/**
 * `foundry agent enroll`: joins this node to a hub with a join token (from FOUNDRY_JOIN_TOKEN, or --join),
 * checking the hub's certificate against the token's pin first; writes the agent configuration and the
 * credential with mode 0600. install.sh runs it; it also works on its own.
 */
import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../common/atomic-write.js';
import { FoundryError } from '../common/errors.js';
import { decodeJoinToken } from '../common/enroll/token-format.js';
import { collectInventory, nodeNameFromHostname, requestEnrollment } from '../agent/enroll/enroll-client.js';
import { DEFAULT_CONFIG_PATH } from '../agent/config/load-config.js';
import { loadOrCreateNodeIdentity } from '../agent/secrets/node-identity.js';

interface EnrollFlags {
  join?: string;
  hub?: string;
  name?: string;
  config: string;
  credential: string;
  caFile: string;
  stateDir: string;
  cacheDir: string;
  nvidiaSmi: string;
  insecure?: boolean;
  json?: boolean;
}

/** Registers `agent enroll`. */
export function registerAgentEnroll(agent: Command): void {
  agent
    .command('enroll')
    .description('enroll this node with a join token: verify the hub, send the inventory, write config and credential (0600)')
    .option('--join <token>', 'join token (prefer the FOUNDRY_JOIN_TOKEN environment variable: argv is visible to other users)')
    .option('--hub <url>', 'hub URL (default: the one in the token)')
    .option('--name <name>', 'node name (default: the host name as a DNS label)')
    .option('-c, --config <file>', 'agent configuration to write', DEFAULT_CONFIG_PATH)
    .option('--credential <file>', 'node credential file to write', '/etc/foundry/credential')
    .option('--ca-file <file>', "where to save the hub's certificate when it is pinned and self-signed", '/etc/foundry/hub-ca.pem')
    .option('--state-dir <dir>', 'agent state dir written into the config', '/var/lib/foundry/agent')
    .option('--cache-dir <dir>', 'agent cache dir written into the config', '/var/lib/foundry/cache')
    .option('--nvidia-smi <path>', 'nvidia-smi to run for the GPU inventory', 'nvidia-smi')
    .option('--insecure', 'allow plain http to a hub that is not on loopback')
    .option('--json', 'print the result as JSON (never the credential)')
    .action(async (o: EnrollFlags) => {
      const raw = o.join ?? process.env.FOUNDRY_JOIN_TOKEN;
      if (raw === undefined || raw === '') throw new FoundryError('CLI_USAGE', 'no join token: set FOUNDRY_JOIN_TOKEN or pass --join');
      const token = decodeJoinToken(raw);
      const hubUrl = (o.hub ?? token.hubUrl)?.replace(/\/+$/, '');
      if (hubUrl === undefined) throw new FoundryError('CLI_USAGE', 'the join token names no hub: pass --hub URL');
      if (!/^https?:\/\/\S+$/.test(hubUrl)) throw new FoundryError('CLI_USAGE', `invalid --hub ${hubUrl}`);
      if (token.pin !== undefined && !hubUrl.startsWith('https:')) throw new FoundryError('CLI_USAGE', 'the join token pins a TLS certificate but the hub url is not https');
      for (const [flag, path] of [['--config', o.config], ['--credential', o.credential], ['--ca-file', o.caFile], ['--state-dir', o.stateDir], ['--cache-dir', o.cacheDir]] as const) {
        if (!path.startsWith('/')) throw new FoundryError('CLI_USAGE', `${flag} must be an absolute path`);
      }
      const inventory = await collectInventory({ nvidiaSmi: o.nvidiaSmi });
      const node = o.name ?? nodeNameFromHostname(inventory.hostname);
      // The node's age key pair: the private key stays in the state dir (0600), the hub gets the public key.
      const nodeKey = await loadOrCreateNodeIdentity(o.stateDir);
      // A refused enrollment leaves the node as it was: a key made for it goes again.
      const { result, untrustedCertPem } = await requestEnrollment({ url: hubUrl, pin: token.pin, insecure: o.insecure === true }, { token: token.secret, node, hubUrl, inventory, ageRecipient: nodeKey.recipient }).catch(async (err: unknown) => {
        if (nodeKey.created) await rm(nodeKey.file, { force: true });
        throw err;
      });
      await writeFileAtomic(o.credential, `${result.credential}\n`, { mode: 0o600 });
      if (untrustedCertPem !== undefined) await writeFileAtomic(o.caFile, untrustedCertPem, { mode: 0o644 });
      const config = {
        node: result.config.node,
        repo: { url: result.config.repo.url },
        hub: { url: result.config.hub.url, credentialFile: o.credential, ...(untrustedCertPem === undefined ? {} : { caFile: o.caFile }) },
        stateDir: o.stateDir,
        cacheDir: o.cacheDir,
      };
      const header = `# Written by foundry agent enroll on ${new Date().toISOString()}; see docs/enrollment.md.\n`;
      await writeFileAtomic(o.config, `${header}${stringify(config)}`, { mode: 0o600 });
      const summary = { node: result.node, nodeFile: result.nodeFile, config: o.config, credential: o.credential, ageRecipient: nodeKey.recipient, nodeKey: nodeKey.file };
      if (o.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else process.stdout.write(`enrolled as ${result.node}; ${result.nodeFile.path} ${result.nodeFile.status}${result.nodeFile.revision === null ? '' : ` at ${result.nodeFile.revision.slice(0, 12)}`}\n`);
    });
}
