/**
 * Where the ingress serves apps, given as one URL (`--apps-url https://apps.example.eu`): scheme, the apps
 * domain (every app is `<app>--<workspace>.<domain>`) and a port when it is not the scheme's default. Pure.
 */
import { FoundryError } from '../errors.js';

/** The apps' base: what appOrigin needs. */
export interface AppsBase {
  domain: string;
  scheme: 'http' | 'https';
  port?: number;
}

/** The default on one machine (`npm start`): Chromium and curl resolve `*.localhost` to 127.0.0.1. */
export const DEFAULT_APPS_URL = 'http://apps.localhost:8480';

/** Parses an apps URL (scheme, host, optional port; nothing else) or throws a FoundryError that names the flag. */
export function parseAppsUrl(value: string, what = '--apps-url'): AppsBase {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new FoundryError('CLI_USAGE', `${what} must be a URL such as https://apps.example.eu, got ${JSON.stringify(value)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FoundryError('CLI_USAGE', `${what} must use http or https, got ${u.protocol.slice(0, -1)}`);
  if (u.username !== '' || u.password !== '' || (u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '') {
    throw new FoundryError('CLI_USAGE', `${what} is a scheme, a domain and an optional port only (no path, query or credentials)`);
  }
  if (/^[\d.]+$|^\[/.test(u.hostname)) throw new FoundryError('CLI_USAGE', `${what} needs a domain name, not an IP address (apps are told apart by host name), got ${u.hostname}`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(u.hostname)) {
    throw new FoundryError('CLI_USAGE', `${what} needs a domain name with at least two labels (apps get one label each under it), got ${u.hostname}`);
  }
  const base: AppsBase = { domain: u.hostname, scheme: u.protocol === 'https:' ? 'https' : 'http' };
  if (u.port !== '') base.port = Number(u.port);
  return base;
}
