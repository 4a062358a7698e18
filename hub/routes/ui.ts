/**
 * Serves the dashboard: plain HTML, CSS and JS modules from hub/dashboard/ui (no build step) and uPlot
 * and noVNC from their npm packages under /ui/vendor/. Files are read once at start; every answer carries a strict
 * Content-Security-Policy (scripts only from this origin, no framing) and asks browsers to revalidate.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PACKAGE_ROOT } from '../../common/paths.js';

/** Folder of the dashboard's static files. */
export const UI_DIR = join(PACKAGE_ROOT, 'hub', 'dashboard', 'ui');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Security headers of every dashboard answer. */
export const UI_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface Asset { body: Buffer; type: string; etag: string }

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
}

function asset(body: Buffer, file: string): Asset {
  return { body, type: TYPES[extname(file)] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
}

/** Loads the dashboard's files: path under /ui/ → asset. */
export function loadAssets(dir = UI_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const file of walk(dir)) assets.set(relative(dir, file).split(sep).join('/'), asset(readFileSync(file), file));
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot'));
  for (const f of ['uPlot.esm.js', 'uPlot.min.css']) assets.set(`vendor/${f}`, asset(readFileSync(join(uplot, f)), f));
  // noVNC's ES modules as its npm package ships them (core/ imports ../vendor/pako/), for the desktop page.
  const novnc = dirname(dirname(createRequire(import.meta.url).resolve('@novnc/novnc')));
  for (const sub of ['core', 'vendor']) {
    for (const file of walk(join(novnc, sub)).filter((f) => f.endsWith('.js'))) assets.set(`vendor/novnc/${relative(novnc, file).split(sep).join('/')}`, asset(readFileSync(file), file));
  }
  return assets;
}

/** Registers GET / (redirect), /ui/ and /ui/* (the single page is index.html). */
export function uiRoutes(app: FastifyInstance, dir = UI_DIR): void {
  const assets = loadAssets(dir);
  const send = (reply: FastifyReply, a: Asset, ifNoneMatch: string | undefined): FastifyReply => {
    void reply.headers(UI_HEADERS).header('cache-control', 'no-cache').header('etag', a.etag);
    if (ifNoneMatch === a.etag) return reply.code(304).send();
    return reply.type(a.type).send(a.body);
  };
  app.get('/', async (_req, reply) => reply.redirect('/ui/'));
  app.get('/ui', async (_req, reply) => reply.redirect('/ui/'));
  app.get<{ Params: { '*': string } }>('/ui/*', async (req, reply) => {
    const path = req.params['*'];
    const a = assets.get(path === '' ? 'index.html' : path);
    if (a === undefined) return reply.code(404).headers(UI_HEADERS).type('text/plain; charset=utf-8').send('not found');
    return send(reply, a, req.headers['if-none-match']);
  });
}
