/**
 * Git smart HTTP for the hosted infra repo at /git/infra.git/..., served by `git http-backend` as a CGI
 * child. Agents read with their node credential; admins read and push with an admin token (HTTP Basic
 * password or Bearer). After a push that moved a branch, `onPush` learns the new revisions.
 */
import { spawn } from 'node:child_process';
import { basename, dirname } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HubStore } from '../store/hub-store.js';
import { tokenFromAuthorization } from '../auth/secrets.js';
import { listRefs } from './hosted-repo.js';

/** URL prefix of the hosted repo. */
export const GIT_PREFIX = '/git/infra.git';

/** A branch that a push moved. */
export interface PushedRef {
  ref: string;
  revision: string;
}

/** Options of the git plugin. */
export interface GitBackendOptions {
  /** The bare repo (its folder name must be infra.git). */
  repoDir: string;
  store: HubStore;
  onPush: (refs: PushedRef[], actor: string) => void;
  /** Told the outcome of every push git ran: accepted when a ref changed, refused when none did (pre-receive refused it). */
  onPushResult?: (result: 'accepted' | 'refused') => void;
}

type Who = { kind: 'admin'; name: string } | { kind: 'node'; name: string };

async function identify(store: HubStore, header: string | undefined): Promise<Who | undefined> {
  const token = tokenFromAuthorization(header);
  if (token === undefined) return undefined;
  const admin = await store.authenticateAdmin(token);
  if (admin !== undefined) return { kind: 'admin', name: admin };
  const node = await store.authenticateNode(token);
  return node.ok ? { kind: 'node', name: node.node } : undefined;
}

function isWrite(req: FastifyRequest, subPath: string): boolean {
  const service = (req.query as Record<string, string | undefined>).service;
  return subPath === '/git-receive-pack' || service === 'git-receive-pack';
}

/** Splits a CGI response head into status and headers. */
export function parseCgiHead(head: string): { status: number; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  let status = 200;
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers };
}

function runBackend(req: FastifyRequest, reply: FastifyReply, repoDir: string, subPath: string, who: Who): Promise<number> {
  const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: dirname(repoDir),
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `/${basename(repoDir)}${subPath}`,
    REQUEST_METHOD: req.method,
    QUERY_STRING: query,
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: `${who.kind}:${who.name}`,
    REMOTE_ADDR: req.ip,
    GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
  };
  if (req.headers['content-length'] !== undefined) env.CONTENT_LENGTH = req.headers['content-length'];
  if (req.headers['content-encoding'] !== undefined) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  if (typeof req.headers['git-protocol'] === 'string') env.GIT_PROTOCOL = req.headers['git-protocol'];
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  reply.hijack();
  const res = reply.raw;
  let head = Buffer.alloc(0);
  let headDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headDone) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headDone = true;
    const { status, headers } = parseCgiHead(head.subarray(0, end).toString('latin1'));
    res.writeHead(status, headers);
    res.write(head.subarray(end + 4));
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (req.method === 'POST') req.raw.pipe(child.stdin);
  else child.stdin.end();
  child.stdin.on('error', () => undefined);
  return new Promise((resolve) => {
    child.on('error', () => resolve(1));
    child.on('close', (code) => {
      if (!headDone) {
        req.log.error({ code, stderr: stderr.slice(0, 500) }, 'git http-backend failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      }
      res.end();
      resolve(code ?? 1);
    });
  });
}

/** The paths a smart-HTTP git client uses, relative to the repo URL. */
const SMART_HTTP_PATHS = new Set(['/info/refs', '/git-upload-pack', '/git-receive-pack']);

/** Registers the git routes (in their own scope: the body is streamed to git, not parsed). */
export async function gitBackendPlugin(app: FastifyInstance, opts: GitBackendOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const subPath = req.url.split('?')[0]!.slice(GIT_PREFIX.length);
    const who = await identify(opts.store, req.headers.authorization);
    // An early answer must still drain the body the client is sending, or the connection is reset.
    const drain = (): void => {
      if (req.method === 'POST') req.raw.resume();
    };
    if (who === undefined) {
      drain();
      await reply.code(401).header('www-authenticate', 'Basic realm="foundry infra repo"').send('authentication required\n');
      return;
    }
    // Only the smart-HTTP endpoints reach git http-backend (no dumb-HTTP file paths, no traversal).
    if (!SMART_HTTP_PATHS.has(subPath)) {
      drain();
      await reply.code(404).send('not a git smart-http path (use /git/infra.git with a git client)\n');
      return;
    }
    const write = isWrite(req, subPath);
    if (write && who.kind !== 'admin') {
      drain();
      await reply.code(403).send('pushing needs an admin token\n');
      return;
    }
    const before = write && req.method === 'POST' ? await listRefs(opts.repoDir) : undefined;
    const code = await runBackend(req, reply, opts.repoDir, subPath, who);
    if (before === undefined || code !== 0) return;
    const after = await listRefs(opts.repoDir);
    // git answers a refused push with 200 and the refusal in its report: what tells is whether any ref changed (deletes included).
    const changed = after.size !== before.size || [...after].some(([ref, rev]) => before.get(ref) !== rev);
    opts.onPushResult?.(changed ? 'accepted' : 'refused');
    const moved = [...after].filter(([ref, rev]) => ref.startsWith('refs/heads/') && before.get(ref) !== rev).map(([ref, revision]) => ({ ref, revision }));
    if (moved.length > 0) opts.onPush(moved, `${who.kind}:${who.name}`);
  };
  app.get(`${GIT_PREFIX}/*`, handler);
  app.post(`${GIT_PREFIX}/*`, handler);
}
