/**
 * The hub's side of the ingress (nginx): GET /ingress/authz answers nginx's auth subrequest for every
 * uncached app request; GET /ingress/login carries a dashboard session to an app host with a one-time code;
 * GET /ingress/callback (reached as `/.foundry/callback` on the app host) turns the code into the app-session
 * cookie; GET /ingress/logout (`/.foundry/logout`) ends it. See docs/ingress.md, "Authentication".
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { appOrigin, parseAppHost } from '../../common/ingress/app-host.js';
import type { AppsUrl } from '../../common/ingress/apps-url.js';
import { errorMessage } from '../../common/errors.js';
import { sessionPrincipal } from '../auth/dashboard-auth.js';
import { canAccessTenant } from '../auth/principal.js';
import { APP_COOKIE } from '../ingress/app-sessions.js';
import type { HubServices } from '../services.js';
import { authorize } from '../ingress/authorize.js';
import { appTarget, safePath } from '../ingress/redirects.js';
import { workspaceAppsRoutes } from './workspace-apps.js';

/** Options of the ingress routes. */
export interface IngressRouteOptions {
  apps: AppsUrl;
  /** How long nginx may cache an allow or deny decision (seconds; default 5): revocation takes effect within it. */
  decisionTtlS?: number;
  /** The hub's URL as browsers reach it (read on every use: known only once the hub listens): the login URL of a 401, links of the pages shown. */
  hubUrl?: () => string | undefined;
  now?: () => Date;
}

const text = (reply: FastifyReply, code: number, body: string) => reply.code(code).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(body);

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(reply: FastifyReply, code: number, title: string, lines: string[]): FastifyReply {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${lines.map((l) => `<p>${l}</p>`).join('')}</body></html>`;
  return reply.code(code).header('cache-control', 'no-store').header('content-security-policy', "default-src 'none'; frame-ancestors 'none'").header('referrer-policy', 'no-referrer').type('text/html; charset=utf-8').send(body);
}

/** Registers the ingress routes (needs installDashboard first: cookies and dashboard sessions). */
export function ingressRoutes(app: FastifyInstance, services: HubServices, opts: IngressRouteOptions): void {
  const now = opts.now ?? (() => new Date());
  const ttl = opts.decisionTtlS ?? 5;
  const { store, gitops, appSessions: sessions, appIndex: index } = services;
  const deps = { users: store.users, apiTokens: store.apiTokens, apps: opts.apps, index, sessions, access: app.userAccess, now };
  workspaceAppsRoutes(app, services, { apps: opts.apps });
  const dashboardLink = (): string => {
    const hub = opts.hubUrl?.();
    return hub === undefined ? '' : ` <a href="${escapeHtml(new URL('/ui/', hub).href)}">Open the dashboard</a>.`;
  };
  const loginUrl = (host: string | undefined, uri: string | undefined): string | undefined => {
    const parts = parseAppHost(host, opts.apps.domain);
    const hub = opts.hubUrl?.();
    if (hub === undefined || parts === undefined) return undefined;
    const rd = `${appOrigin(parts.app, parts.workspace, opts.apps)}${safePath(uri) ?? '/'}`;
    return `${hub.replace(/\/+$/, '')}/ingress/login?rd=${encodeURIComponent(rd)}`;
  };
  const prune = setInterval(() => void sessions.prune(now()).catch((err: unknown) => app.log.warn({ err: errorMessage(err) }, 'expired app sessions not pruned; retried in an hour')), 3600_000);
  prune.unref();
  app.addHook('onClose', async () => clearInterval(prune));

  // Hot path: no request log line at info level (it would also be the busiest log of the hub).
  app.get('/ingress/authz', { logLevel: 'warn' }, async (req, reply) => {
    if (gitops === undefined) return reply.code(404).header('cache-control', 'no-store').send();
    const host = header(req.headers['x-foundry-host']);
    const d = await authorize(deps, { host, authorization: req.headers.authorization, appCookie: req.cookies[APP_COOKIE] });
    if (d.status === 204) {
      return reply.code(204).headers({ 'x-foundry-tenant': d.tenant, 'x-foundry-principal': d.principal, 'cache-control': `private, max-age=${ttl}` }).send();
    }
    // Where nginx sends a browser: the login with the way back url-encoded (stock nginx cannot encode).
    const login = d.status === 401 ? loginUrl(host, header(req.headers['x-foundry-uri'])) : undefined;
    if (login !== undefined) void reply.header('x-foundry-login', login);
    // A refused credential is not cached: the next request after a login must not meet it.
    return reply.code(d.status).header('cache-control', d.status === 401 ? 'no-store' : `private, max-age=${ttl}`).send();
  });

  app.get<{ Querystring: { rd?: string } }>('/ingress/login', async (req, reply) => {
    const target = appTarget(req.query.rd, opts.apps);
    if (target === undefined) return text(reply, 400, 'rd must be the address of a workspace app on this ingress\n');
    const ws = gitops === undefined ? undefined : await index.workspace(target.workspace);
    if (ws === undefined || !ws.apps.has(target.app)) return text(reply, 404, 'not found\n');
    const s = req.dashboardSession;
    const p = s === undefined ? undefined : await sessionPrincipal(store.users, s, app.userAccess);
    if (s === undefined || p === undefined) {
      // The dashboard logs the user in (password, TOTP or SSO) and comes back here; SameSite=Strict
      // hides its cookie on this cross-site redirect, so the dashboard also brings a live session back.
      const next = `/ingress/login?rd=${encodeURIComponent(target.url.href)}`;
      return reply.header('cache-control', 'no-store').redirect(`/ui/?next=${encodeURIComponent(next)}`);
    }
    if (!canAccessTenant(p, ws.tenant)) {
      await store.audit(`user:${s.user}`, 'auth.app-login.refused', target.host);
      return page(reply, 403, 'No access to this app', [`You are signed in as ${escapeHtml(s.user)}, who has no access to this workspace.${dashboardLink()}`]);
    }
    const label = `${target.app}--${target.workspace}`;
    const code = await sessions.issueCode(s.id, label, target.path, now());
    const origin = appOrigin(target.app, target.workspace, opts.apps);
    return reply.header('cache-control', 'no-store').redirect(`${origin}/.foundry/callback?code=${code}&rd=${encodeURIComponent(target.path)}`);
  });

  // The code is in the URL (single use, 60 s): keep it out of the info-level request log.
  app.get<{ Querystring: { code?: string; rd?: string } }>('/ingress/callback', { logLevel: 'warn' }, async (req, reply) => {
    const parts = parseAppHost(header(req.headers['x-foundry-host']), opts.apps.domain);
    if (parts === undefined) return text(reply, 400, 'not an app host\n');
    const label = `${parts.app}--${parts.workspace}`;
    const code = req.query.code;
    const opened = typeof code === 'string' && code.length <= 64 ? await sessions.redeem(code, label, now()) : undefined;
    if (opened === undefined) {
      return page(reply, 400, 'This sign-in link has expired', ['Sign-in links work once and for one minute. <a href="/">Open the app again</a> to sign in.']);
    }
    await store.audit(`user:${opened.user}`, 'auth.app-login', label);
    const maxAge = Math.max(1, Math.floor((opened.expiresAt.getTime() - now().getTime()) / 1000));
    void reply.setCookie(APP_COOKIE, opened.token, { path: '/', httpOnly: true, sameSite: 'lax', secure: opts.apps.scheme === 'https', maxAge });
    return reply.header('cache-control', 'no-store').redirect(safePath(opened.rd) ?? '/');
  });

  app.get('/ingress/logout', async (req, reply) => {
    const parts = parseAppHost(header(req.headers['x-foundry-host']), opts.apps.domain);
    if (parts === undefined) return text(reply, 400, 'not an app host\n');
    const token = req.cookies[APP_COOKIE];
    if (token !== undefined && token !== '') await sessions.close(token);
    void reply.clearCookie(APP_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: opts.apps.scheme === 'https' });
    return page(reply, 200, 'Signed out of this app', [`Your dashboard session is still open: log out there to end it everywhere.${dashboardLink()}`]);
  });
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? undefined : v;
}
