/* eslint-disable @typescript-eslint/no-explicit-any -- responses are JSON checked by value */
/**
 * Test support: an in-process hub (port 0) over a hosted infra repo seeded with a small fleet, agents as
 * real HubLinks (so nodes are online), an admin token, and tenant principals from an `x-test-tenant` header.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from '../../hub/app.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { HubLink, type HubLinkOptions } from '../../agent/link/hub-link.js';
import { ensureHubIdentity, type HubAgeIdentity } from '../../hub/secrets/hub-identity.js';
import { hostedRepo, type RepoFiles } from './git-fixture.js';

/** A hub with its repo and agents. */
export interface WsHub {
  url: string;
  app: FastifyInstance;
  store: HubStore;
  dir: string;
  repoDir: string;
  admin: string;
  links: Map<string, HubLink>;
  /** Connects an agent for `node` (online from now on); `extra` adds link options (e.g. a secrets handler). */
  connect(node: string, extra?: Partial<HubLinkOptions>): Promise<HubLink>;
  /** In-process request as admin, as a tenant, or anonymously. */
  call(method: string, url: string, opts?: { tenant?: string; anonymous?: boolean; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; json: any; text: string; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

async function until(fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Extra options of startWsHub: tenant secrets (the hub's age identity in its dir), a logger. */
export interface WsHubOptions {
  /** true: the hub's age identity in the hub's dir; an identity: that one (its recipient can go into the seeded repo). */
  secrets?: boolean | HubAgeIdentity;
  logger?: FastifyServerOptions['logger'];
  repoPollMs?: number;
  /** How often buffered telemetry is written (default 5 s). */
  telemetryFlushMs?: number;
}

/** Starts the hub over a repo seeded with `files`; connects agents for `online` nodes. */
export async function startWsHub(files: RepoFiles, online: string[] = [], options: WsHubOptions = {}): Promise<WsHub> {
  const dir = mkdtempSync(join(tmpdir(), 'foundry-ws-hub-'));
  const repoDir = await hostedRepo(dir, files);
  const store = new HubStore(join(dir, 'hub.db'));
  const ageIdentity = options.secrets === true ? await ensureHubIdentity(dir) : options.secrets === false ? undefined : options.secrets;
  const app = await buildApp({ store, repoDir, ageIdentity, logger: options.logger, repoPollMs: options.repoPollMs, telemetryFlushMs: options.telemetryFlushMs });
  app.authenticators.push((req) => {
    const t = req.headers['x-test-tenant'];
    return typeof t === 'string' ? { role: 'tenant', subject: `user-of-${t}`, tenant: t, via: 'api-token' } : undefined;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  const admin = (await store.createAdminToken('test-admin'));
  const links = new Map<string, HubLink>();
  const hub: WsHub = {
    url, app, store, dir, repoDir, admin, links,
    async connect(node, extra = {}) {
      const credential = (await store.issueNodeCredential(node));
      const link = new HubLink({ hubUrl: url, node, credential, stateDir: join(dir, 'agents', node), hello: () => ({ appliedRevision: null, inventory: { gpus: [], resources: [] } }), ...extra }).start();
      links.set(node, link);
      await until(() => link.connected && app.hub.gateway.connectedNodes().includes(node));
      return link;
    },
    async call(method, u, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.tenant !== undefined) headers['x-test-tenant'] = opts.tenant;
      else if (opts.anonymous !== true) headers.authorization = `Bearer ${admin}`;
      const res = await app.inject({ method: method as 'GET', url: u, headers, ...(opts.body === undefined ? {} : { payload: opts.body as object }) });
      let json: unknown;
      try {
        json = JSON.parse(res.body);
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, json, text: res.body, headers: res.headers };
    },
    async close() {
      for (const l of links.values()) await l.close();
      await app.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const n of online) await hub.connect(n);
  return hub;
}
