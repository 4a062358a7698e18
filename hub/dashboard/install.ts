/**
 * Installs the dashboard on the hub app in one call: session and API-token auth with CSRF protection,
 * the login and token routes, the read-only overview routes with live events, and the static pages.
 */
import type { FastifyInstance } from 'fastify';
import { installDashboardAuth } from '../auth/dashboard-auth.js';
import type { LoginLimits } from '../auth/login-limiter.js';
import { authRoutes } from '../routes/auth.js';
import { overviewRoutes } from '../routes/overview.js';
import { uiRoutes } from '../routes/ui.js';

/** Dashboard options (tests shorten the poll and tighten the login limits). */
export interface DashboardOptions {
  /** Cookies marked Secure (the hub serves TLS). */
  secure: boolean;
  /** Live-update poll interval (ms; 0: no timer). */
  pollMs?: number;
  loginLimits?: LoginLimits;
  now?: () => Date;
}

/** Adds the dashboard to `app` (after installAuth, before other routes). */
export async function installDashboard(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const now = opts.now ?? (() => new Date());
  await installDashboardAuth(app, { now });
  authRoutes(app, { secure: opts.secure, limits: opts.loginLimits, now });
  overviewRoutes(app, { pollMs: opts.pollMs, now: () => now().getTime() });
  uiRoutes(app);
}
