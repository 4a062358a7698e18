/**
 * The only places the ingress login handshake sends a browser: an app of this ingress (`rd` of
 * /ingress/login) and a path on that app (`rd` of the callback). Anything else is refused, so neither
 * route is an open redirect. Pure.
 */
import { parseAppHost, type AppHostParts } from '../../common/ingress/app-host.js';
import type { AppsUrl } from '../../common/ingress/apps-url.js';

/** The longest rd accepted (nginx passes the whole original URL). */
export const MAX_RD = 4096;

/** An app URL the login may return to: the URL, its app and workspace, and the path (with query) to go back to. */
export interface AppTarget extends AppHostParts {
  url: URL;
  host: string;
  path: string;
}

/** The app target of `rd` when it is an absolute URL on this ingress (scheme, port and an app host under the apps domain), else undefined. */
export function appTarget(rd: string | undefined, apps: AppsUrl): AppTarget | undefined {
  if (rd === undefined || rd.length > MAX_RD) return undefined;
  let url: URL;
  try {
    url = new URL(rd);
  } catch {
    return undefined;
  }
  if (url.protocol !== `${apps.scheme}:` || url.username !== '' || url.password !== '') return undefined;
  const defaultPort = apps.scheme === 'https' ? 443 : 80;
  const port = url.port === '' ? defaultPort : Number(url.port);
  if (port !== (apps.port ?? defaultPort)) return undefined;
  const parts = parseAppHost(url.hostname, apps.domain);
  if (parts === undefined) return undefined;
  const path = `${url.pathname}${url.search}`;
  return safePath(path) === undefined ? undefined : { ...parts, url, host: url.hostname, path };
}

/** `path` when it is a path on the same host (`/...`, not `//host` or `/\host`, no control characters), else undefined. */
export function safePath(path: string | undefined): string | undefined {
  if (path === undefined || path.length > MAX_RD || !path.startsWith('/')) return undefined;
  if (path.startsWith('//') || path.startsWith('/\\') || path.includes('\\')) return undefined;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) < 0x20 || path.charCodeAt(i) === 0x7f) return undefined;
  return path;
}
