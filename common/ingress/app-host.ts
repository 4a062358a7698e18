/**
 * The stable address of a workspace app: `<app>--<workspace>.<apps domain>`. The ingress routes by it,
 * the hub authorises by it, the dashboard and CLI print it. Pure; both sides import it.
 */

/** An app name: a DNS label of its own, without `--` (which separates app and workspace in the host). */
export const APP_NAME = /^[a-z0-9](?:[a-z0-9]|-(?!-)){0,29}[a-z0-9]$|^[a-z0-9]$/;

/** The parts of an app host. */
export interface AppHostParts {
  app: string;
  workspace: string;
}

/** The host name of an app (lower case, no port). */
export function appHost(app: string, workspace: string, appsDomain: string): string {
  return `${app}--${workspace}.${appsDomain}`.toLowerCase();
}

/** The origin of an app: scheme, host and a port when it is not the scheme's default. */
export function appOrigin(app: string, workspace: string, apps: { domain: string; scheme: 'http' | 'https'; port?: number }): string {
  const defaultPort = apps.scheme === 'https' ? 443 : 80;
  const port = apps.port === undefined || apps.port === defaultPort ? '' : `:${apps.port}`;
  return `${apps.scheme}://${appHost(app, workspace, apps.domain)}${port}`;
}

/**
 * Splits a Host header value into app and workspace, or undefined when it is not exactly one label
 * `<app>--<workspace>` directly under the apps domain (a port is ignored; case-insensitive).
 */
export function parseAppHost(host: string | undefined, appsDomain: string): AppHostParts | undefined {
  if (host === undefined || host.length > 253) return undefined;
  const name = host.replace(/:\d{1,5}$/, '').replace(/\.$/, '').toLowerCase();
  const suffix = `.${appsDomain.toLowerCase()}`;
  if (!name.endsWith(suffix)) return undefined;
  const label = name.slice(0, -suffix.length);
  if (label.includes('.')) return undefined;
  const cut = label.indexOf('--');
  if (cut <= 0) return undefined;
  const app = label.slice(0, cut);
  const workspace = label.slice(cut + 2);
  if (!APP_NAME.test(app) || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(workspace)) return undefined;
  return { app, workspace };
}
