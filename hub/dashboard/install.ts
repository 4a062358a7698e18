/**
 * Installs the dashboard on the hub app in one call: session and API-token auth with CSRF protection,
 * the login and token routes, single sign-on (hub/sso/), the read-only overview routes with live events,
 * and the static pages.
 */
import type { FastifyInstance } from 'fastify';
import { installDashboardAuth } from '../auth/dashboard-auth.js';
import type { LoginLimits } from '../auth/login-limiter.js';
import { authRoutes } from '../routes/auth.js';
import { overviewRoutes } from '../routes/overview.js';
import { uiRoutes } from '../routes/ui.js';
import { SsoDirectory, repoProviderSource, type ProviderSource } from '../sso/directory.js';
import { installSso, type InstallSsoOptions } from '../sso/install.js';
import type { HubServices } from '../services.js';

/** Dashboard options (tests shorten the poll and tighten the login limits). */
export interface DashboardOptions {
  /** Cookies marked Secure (the hub serves TLS). */
  secure: boolean;
  /** Live-update poll interval (ms; 0: no timer); read by buildApp, which builds the live events. */
  pollMs?: number;
  loginLimits?: LoginLimits;
  now?: () => Date;
  /** Single sign-on: where the identity providers come from (default: the infra repo), OIDC tuning, the public URL. */
  sso?: InstallSsoOptions & { providers?: ProviderSource };
}

/** Adds the dashboard to `app` (after installAuth, before other routes). */
export async function installDashboard(app: FastifyInstance, services: HubServices, opts: DashboardOptions): Promise<void> {
  const now = opts.now ?? (() => new Date());
  const directory = new SsoDirectory(opts.sso?.providers ?? repoProviderSource(services), (msg, err) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, msg));
  const { store } = services;
  await installDashboardAuth(app, store, { now, ssoAccess: (user) => directory.stillMapped(user) });
  authRoutes(app, services, { secure: opts.secure, limits: opts.loginLimits, now });
  installSso(app, { users: store.users, sessions: store.sessions, apiTokens: store.apiTokens, sso: store.sso, audit: (...a) => store.audit(...a), directory, now, secure: opts.secure, log: app.log }, opts.sso);
  overviewRoutes(app, services, { now: () => now().getTime() });
  uiRoutes(app);
}
