/** Test support for the hub: an in-process hub on port 0 in a temp dir, raw WebSocket clients, polling. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../hub/app.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { ensureHostedRepo } from '../../hub/git/hosted-repo.js';
import { createTestDatabase } from '../support/postgres.js';
import type { StoreBackend } from '../support/store-backends.js';
export { freePort } from '../support/free-port.js';

/** A hub running in this process. */
export interface TestHub {
  url: string;
  app: FastifyInstance;
  store: HubStore;
  dir: string;
  repoDir: string | undefined;
  close(): Promise<void>;
}

/**
 * Starts a hub on 127.0.0.1:0 with its store in a fresh temp dir, or (backend 'postgres') in a fresh
 * database on the test PostgreSQL server (test/support/postgres.ts).
 */
export async function startTestHub(options: Partial<AppDeps> & { repo?: boolean; backend?: StoreBackend } = {}): Promise<TestHub> {
  const dir = mkdtempSync(join(tmpdir(), 'foundry-hub-test-'));
  const database = options.backend === 'postgres' ? await createTestDatabase() : undefined;
  const store = await HubStore.open(database?.url ?? join(dir, 'hub.db'));
  const repoDir = options.repo === true ? join(dir, 'infra.git') : undefined;
  if (repoDir !== undefined) await ensureHostedRepo(repoDir);
  const app = await buildApp({ ...options, store, repoDir });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    store,
    dir,
    repoDir,
    async close() {
      await app.close();
      await store.close();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh temp dir (the caller removes it). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Polls `fn` until it returns a truthy value (or throws after `ms`). */
export async function waitFor<T>(fn: () => T | Promise<T>, ms = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A raw WebSocket client that records every frame it receives. */
export interface RawClient {
  ws: WebSocket;
  frames: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  send(obj: unknown): void;
}

/** Opens a raw agent WebSocket with `credential` (rejects with the HTTP status when refused). */
export function rawClient(url: string, credential: string | undefined): Promise<RawClient> {
  const headers: Record<string, string> = credential === undefined ? {} : { authorization: `Bearer ${credential}` };
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/agent/ws`, { headers });
  const frames: Array<Record<string, unknown>> = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, frames, closed, send: (obj) => ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)) }));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`http ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

/** A valid envelope of `type` for tests. */
export function frame(type: string, body: unknown, seq?: number): Record<string, unknown> {
  const f: Record<string, unknown> = { v: 1, type, id: `t-${Math.random().toString(36).slice(2)}`, ts: new Date().toISOString(), body };
  if (seq !== undefined) f.seq = seq;
  return f;
}
