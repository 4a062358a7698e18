/**
 * Starts the hub: opens the store in the data dir, prepares the hosted repo (unless an external repo is
 * used), builds the app and listens. `startHub` is what `foundry hub start` and `npm start` call.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from './app.js';
import { HubStore } from './store/hub-store.js';
import { upgradeStore, type StoreUpgrade } from './store/upgrade.js';
import { ensureHostedRepo, seedHostedRepo } from './git/hosted-repo.js';
import { createMetrics } from './metrics.js';
import { checkGuacamoleKeyFile, type GuacamoleOptions } from './desktop/guacamole-links.js';
import { FoundryError } from '../common/errors.js';
import { DEFAULT_APPS_URL, parseAppsUrl } from '../common/ingress/apps-url.js';
import { assertNoUrlCredential, gitAuthEnv } from './gitops/repo-credential.js';
import { ensureSigningKey, tipVerifier, type HubSigningKey } from './gitops/signing-key.js';
import { ensureHubIdentity } from './secrets/hub-identity.js';
import { parseTrustProxy } from './trust-proxy.js';

/** Options of startHub. */
export interface HubOptions {
  /** Data directory: hub.db and the hosted infra.git (default .foundry/hub). */
  dataDir?: string;
  port?: number;
  host?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** External infra repo URL (GitLab); when set the hub hosts none. */
  repoUrl?: string;
  /** Secret for the GitLab push webhook. */
  webhookSecret?: string;
  /** The hub's credential for the external repo (USER:TOKEN for HTTP Basic, else a bearer token); never logged. */
  repoCredential?: string;
  /** How often the hub re-reads the repo's tip (default 2 s); the webhook makes it re-read at once. */
  repoPollMs?: number;
  /** The agents' allowed signers file: the hub then commits only on top of a tip signed by one of them (or itself). */
  allowedSignersFile?: string;
  /** Seeds an empty hosted repo from this folder (npm start). */
  seedFrom?: string;
  /** URL nodes reach the hub at, put into join tokens (default: the listening address); also the base of SSO redirect URIs and SAML entity IDs (default: the request's host). */
  publicUrl?: string;
  /** Where apps are reached, e.g. https://apps.example.eu (default http://apps.localhost:8088); see docs/ingress.md. */
  appsUrl?: string;
  /** How often the hub compares the ingress route table with what it sent (default 250 ms). */
  ingressPollMs?: number;
  logger?: FastifyServerOptions['logger'];
  /** Reverse proxies to believe X-Forwarded-For from: comma-separated addresses or CIDRs (checked by parseTrustProxy). */
  trustProxy?: string;
  /** Apache Guacamole sign-in for desktops (docs/desktops.md); off when absent. */
  guacamole?: GuacamoleOptions;
  /** A PostgreSQL database (postgres://user:password@host:port/db) instead of the embedded SQLite file dataDir/hub.db (docs/hub-postgres.md). */
  databaseUrl?: string;
}

/** A running hub. */
export interface RunningHub {
  url: string;
  port: number;
  app: FastifyInstance;
  store: HubStore;
  /** The hosted repo's clone URL (absent in external-repo mode). */
  repoUrl: string | undefined;
  /** The allowed-signers line of the key the hub signs its commits with (undefined: it could not make one). */
  signingKey: string | undefined;
  /** The hub's age recipient (age1...): repo secrets the hub must re-encrypt are encrypted to it too. */
  ageRecipient: string;
  /** What opening the SQLite store did to its schema: migrations applied now and the pre-upgrade backup, if any (undefined on PostgreSQL). */
  storeUpgrade: StoreUpgrade | undefined;
  /** Graceful stop: no new connections, commit and ack what arrived, close the store. */
  close(): Promise<void>;
}

/** Starts a hub and resolves once it listens. */
export async function startHub(opts: HubOptions = {}): Promise<RunningHub> {
  const dataDir = resolve(opts.dataDir ?? join('.foundry', 'hub'));
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new FoundryError('CLI_USAGE', 'tls needs both --tls-cert and --tls-key');
  if (opts.repoUrl !== undefined) assertNoUrlCredential(opts.repoUrl);
  const trustProxy = opts.trustProxy === undefined ? undefined : parseTrustProxy(opts.trustProxy);
  // A Guacamole key that cannot be read or parsed stops the start, naming the file (never its content).
  if (opts.guacamole !== undefined) checkGuacamoleKeyFile(opts.guacamole.keyFile);
  // An upgrade backs the file up and migrates before the store opens; a downgrade is refused here.
  // PostgreSQL: HubStore.open migrates under an advisory lock (replicas may start together); back it up with its own tools.
  const storeUpgrade = opts.databaseUrl === undefined ? await upgradeStore(join(dataDir, 'hub.db')) : undefined;
  // Bus listener trouble (PostgreSQL restarting) is logged once the app's logger exists; it reconnects by itself.
  const busLog: { warn?: (err: unknown) => void } = {};
  const store = await HubStore.open(opts.databaseUrl ?? join(dataDir, 'hub.db'), { onBusError: (err) => busLog.warn?.(err) });
  const repoDir = opts.repoUrl === undefined ? join(dataDir, 'infra.git') : undefined;
  try {
    if (repoDir !== undefined) {
      await ensureHostedRepo(repoDir);
      if (opts.seedFrom !== undefined) await seedHostedRepo(repoDir, opts.seedFrom);
    }
    const tls = opts.tlsCert !== undefined && opts.tlsKey !== undefined ? { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) } : undefined;
    const externalRepo = opts.repoUrl === undefined ? undefined : { url: opts.repoUrl, gitEnv: gitAuthEnv(opts.repoUrl, opts.repoCredential), workDir: join(dataDir, 'work', 'gitops') };
    // Without ssh-keygen the hub still runs, unsigned (agents verifying signatures then refuse its commits),
    // unless it was asked to check signatures itself.
    let signingKey: HubSigningKey | undefined;
    let signingError: unknown;
    try {
      signingKey = await ensureSigningKey(dataDir);
    } catch (err) {
      if (opts.allowedSignersFile !== undefined) throw err;
      signingError = err;
    }
    const ageIdentity = await ensureHubIdentity(dataDir);
    const verifyBase = opts.allowedSignersFile === undefined || signingKey === undefined ? undefined : tipVerifier(signingKey, resolve(opts.allowedSignersFile), join(dataDir, 'signing', 'effective_allowed_signers'));
    const apps = parseAppsUrl(opts.appsUrl ?? DEFAULT_APPS_URL);
    const host = opts.host ?? '127.0.0.1';
    const listenUrl = (port: number): string => `${tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    // The browser-facing URL is known once the port is; the ingress reads it lazily through this box.
    const hubPublicUrl = { value: opts.publicUrl ?? listenUrl(opts.port ?? 8080) };
    const app = await buildApp({ store, repoDir, ingress: { apps, get hubPublicUrl() { return hubPublicUrl.value; }, intervalMs: opts.ingressPollMs }, externalRepo, signingKey, ageIdentity, verifyBase, repoPollMs: opts.repoPollMs, tls, webhookSecret: opts.webhookSecret, logger: opts.logger, trustProxy, metrics: createMetrics({ defaults: true }), desktop: opts.guacamole === undefined ? undefined : { guacamole: opts.guacamole }, enroll: { dataDir, publicUrl: opts.publicUrl, externalRepoUrl: opts.repoUrl }, dashboard: { sso: { publicUrl: opts.publicUrl } } });
    busLog.warn = (err) => app.log.warn({ event: 'bus-listener', err: err instanceof Error ? err.message : String(err) }, 'replica bus: listener lost its connection (reconnecting; other replicas\' sync-now may be missed meanwhile)');
    if (signingError !== undefined) app.log.warn({ event: 'signing-key-unavailable', err: signingError instanceof Error ? signingError.message : String(signingError) }, 'the hub cannot sign its commits (is ssh-keygen installed?): agents that verify signatures will refuse them');
    await app.listen({ port: opts.port ?? 8080, host });
    // WAL checkpoints from a worker thread, so that no commit on the event loop pays for one.
    const checkpointer = store.startCheckpointer((message) => app.log.warn({ event: 'wal-checkpoint-failed', reason: message }, 'background WAL checkpoint failed (if its worker died, SQLite checkpoints automatically again)'));
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : (opts.port ?? 8080);
    const url = listenUrl(port);
    if (opts.publicUrl === undefined) hubPublicUrl.value = url;
    let closed: Promise<void> | undefined;
    return {
      url,
      port,
      app,
      store,
      repoUrl: repoDir === undefined ? undefined : `${url}/git/infra.git`,
      signingKey: signingKey?.allowedSigner,
      ageRecipient: ageIdentity.recipient,
      storeUpgrade,
      close: () => (closed ??= app.close().then(() => checkpointer.stop()).then(() => store.close())),
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
