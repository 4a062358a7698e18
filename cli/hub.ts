/** `foundry hub ...`: run the hub and administer its credentials. */
import type { Command } from 'commander';
import { FoundryError } from '../common/errors.js';
import { registerHubToken } from './hub-token.js';
import { registerHubUser } from './hub-user.js';
import { registerHubInvoice } from './hub-invoice.js';
import { registerHubSchema } from './hub-schema.js';
import { registerHubMigrate } from './hub-migrate.js';
import { DEFAULT_DATA_DIR, withHubStore } from './hub-data.js';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Registers the hub sub-commands. */
export function registerHub(program: Command): void {
  const hub = program.command('hub').description('run and administer the hub (gateway, billing, placement, dashboard)');

  hub
    .command('start')
    .description('start the hub: API, agents\' WebSocket, hosted infra repo and metrics on one port')
    .option('--data-dir <dir>', 'where hub.db and the hosted infra.git live', DEFAULT_DATA_DIR)
    .option('--port <port>', 'port to listen on (0: any free port)', '8080')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--tls-cert <file>', 'PEM certificate (serve https and wss)')
    .option('--tls-key <file>', 'PEM private key of the certificate')
    .option('--repo-url <url>', 'use an external infra repo (GitLab) instead of hosting one; enable its webhook with FOUNDRY_HUB_WEBHOOK_SECRET')
    .option('--repo-credential-file <file>', 'the hub\'s credential for --repo-url: USER:TOKEN (HTTP Basic) or a bearer token on the first line (or FOUNDRY_HUB_REPO_CREDENTIAL)')
    .option('--allowed-signers <file>', 'the agents\' allowed signers file: the hub commits only on top of a branch tip signed by one of them (or by itself)')
    .option('--repo-poll <seconds>', 'how often the hub re-reads the infra repo\'s branch tip (the webhook makes it re-read at once)', '2')
    .option('--log-level <level>', 'log level (fatal, error, warn, info, debug)', 'info')
    .option('--public-url <url>', 'URL nodes and browsers reach the hub at: join tokens, SSO redirect URIs, SAML entity IDs (default: the listening address; for SSO the request host)')
    .option('--guacamole-url <url>', 'Apache Guacamole\'s public URL: desktops get "Open in Guacamole" (needs --guacamole-key-file)')
    .option('--guacamole-key-file <file>', 'file with the 128-bit key (32 hex digits) Guacamole\'s json-secret-key holds')
    .option('--guacamole-relay-host <address>', 'address the one-time console relay ports for guacd listen on (default 127.0.0.1)')
    .option('--trust-proxy <addresses>', 'reverse proxies whose X-Forwarded-For/-Proto/-Host the hub believes: comma-separated addresses or CIDRs, e.g. 127.0.0.1,::1 (docs/hub-install.md)')
    .option('--apps-url <url>', 'where workspace apps are reached: <app>--<workspace>.<domain> through the ingress (docs/ingress.md)', 'http://apps.localhost:8088')
    .option('--database-url-file <file>', 'file holding a postgres:// URL: the hub stores its data in that PostgreSQL database instead of <data-dir>/hub.db (also FOUNDRY_HUB_DATABASE_URL; docs/hub-postgres.md)')
    .action(async (o: { databaseUrlFile?: string; dataDir: string; port: string; host: string; tlsCert?: string; tlsKey?: string; repoUrl?: string; repoCredentialFile?: string; repoPoll: string; allowedSigners?: string; logLevel: string; publicUrl?: string; guacamoleUrl?: string; guacamoleKeyFile?: string; guacamoleRelayHost?: string; appsUrl: string; trustProxy?: string }) => {
      const port = Number.parseInt(o.port, 10);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FoundryError('CLI_USAGE', `invalid port ${o.port}`);
      const poll = Number(o.repoPoll);
      if (!Number.isFinite(poll) || poll <= 0 || poll > 3600) throw new FoundryError('CLI_USAGE', `--repo-poll ${o.repoPoll}: expected seconds, more than 0 and at most 3600`);
      if ((o.guacamoleUrl === undefined) !== (o.guacamoleKeyFile === undefined)) throw new FoundryError('CLI_USAGE', 'guacamole needs both --guacamole-url and --guacamole-key-file');
      if (o.repoCredentialFile !== undefined && o.repoUrl === undefined) throw new FoundryError('CLI_USAGE', '--repo-credential-file needs --repo-url (the hosted repo needs no credential)');
      // Imported here, not at the top: the agent's commands share this binary and must not load the hub.
      const { startHub } = await import('../hub/server.js');
      const { readRepoCredential } = await import('../hub/gitops/repo-credential.js');
      const repoCredential = o.repoUrl === undefined ? undefined : readRepoCredential(o.repoCredentialFile);
      const { readDatabaseUrl } = await import('../hub/store/database-url.js');
      const databaseUrl = readDatabaseUrl(o.databaseUrlFile, process.env.FOUNDRY_HUB_DATABASE_URL);
      const running = await startHub({
        databaseUrl,
        dataDir: o.dataDir,
        port,
        host: o.host,
        tlsCert: o.tlsCert,
        tlsKey: o.tlsKey,
        repoUrl: o.repoUrl,
        repoCredential,
        repoPollMs: Math.round(poll * 1000),
        allowedSignersFile: o.allowedSigners,
        publicUrl: o.publicUrl,
        guacamole: o.guacamoleUrl === undefined || o.guacamoleKeyFile === undefined ? undefined : { url: o.guacamoleUrl, keyFile: o.guacamoleKeyFile, relayHost: o.guacamoleRelayHost },
        appsUrl: o.appsUrl,
        trustProxy: o.trustProxy,
        webhookSecret: process.env.FOUNDRY_HUB_WEBHOOK_SECRET || undefined,
        logger: { level: o.logLevel, stream: process.stderr },
      });
      const up = running.storeUpgrade;
      if (up === undefined) process.stdout.write(`hub database: ${running.store.location}\n`);
      else if (up.applied.length > 0) process.stdout.write(`hub database upgraded from schema version ${up.from} to ${up.to}${up.backup === undefined ? '' : ` (backup of the previous file: ${up.backup})`}\n`);
      process.stdout.write(`foundry hub listening on ${running.url}\n`);
      if (running.repoUrl !== undefined) process.stdout.write(`infra repo: ${running.repoUrl}\n`);
      if (running.signingKey !== undefined) process.stdout.write(`hub signing key (add this line to the agents' allowed signers file): ${running.signingKey}\n`);
      process.stdout.write(`hub age recipient (add it to the infra repo's .foundry/admin-recipients so the hub can re-encrypt repo secrets): ${running.ageRecipient}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void running.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });

  const node = hub.command('node').description('node credentials (until enrollment with join tokens lands)');
  node
    .command('add <name>')
    .description('create a node (or rotate its credential) and print the credential once')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .action(async (name: string, o: { dataDir: string }) => {
      if (!NAME.test(name) || name.length > 63) throw new FoundryError('CLI_USAGE', `invalid node name ${JSON.stringify(name)}: use a dns label`);
      await withHubStore(o.dataDir, async (store) => {
        process.stdout.write(`${await store.issueNodeCredential(name)}\n`);
        process.stderr.write(`node ${name}: credential printed once above; the hub keeps only its hash\n`);
      });
    });
  node
    .command('revoke <name>')
    .description('revoke a node credential (a running hub also drops the connection via POST /api/v1/nodes/NAME/revoke)')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .action(async (name: string, o: { dataDir: string }) => {
      await withHubStore(o.dataDir, async (store) => {
        if (!(await store.revokeNode(name))) throw new FoundryError('NOT_FOUND', `no node named ${name}`, { resource: name });
      });
    });

  hub
    .command('signing-key')
    .description('print the allowed-signers line of the ssh key the hub signs its commits with (generated at first start)')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .action(async (o: { dataDir: string }) => {
      const { ensureSigningKey } = await import('../hub/gitops/signing-key.js');
      process.stdout.write(`${(await ensureSigningKey(o.dataDir)).allowedSigner}\n`);
    });

  hub
    .command('age-recipient')
    .description('print the hub\'s age recipient (age1...; generated at first start): repo secrets encrypted to it can be re-encrypted by the hub when it moves a workspace')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .action(async (o: { dataDir: string }) => {
      const { ensureHubIdentity } = await import('../hub/secrets/hub-identity.js');
      process.stdout.write(`${(await ensureHubIdentity(o.dataDir)).recipient}\n`);
    });

  registerHubToken(hub);
  registerHubUser(hub);
  registerHubInvoice(hub);
  registerHubSchema(hub);
  registerHubMigrate(hub);

  hub
    .command('admin-token')
    .description('admin tokens (push to the hosted repo, admin API)')
    .command('create')
    .description('create an admin token and print it once')
    .option('--label <label>', 'what the token is for', 'admin')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .action(async (o: { label: string; dataDir: string }) => {
      await withHubStore(o.dataDir, async (store) => process.stdout.write(`${await store.createAdminToken(o.label)}\n`));
    });
}
