/**
 * The hub's `--apps-url`: where apps are reached, e.g. https://apps.example.eu (wildcard DNS
 * *.apps.example.eu to the ingress) or http://apps.localhost:8088 on one machine. Pure.
 */
import { FoundryError } from '../errors.js';

/** The apps domain with the scheme and port browsers use (appOrigin's input). */
export interface AppsUrl {
  domain: string;
  scheme: 'http' | 'https';
  /** Absent for the scheme's default port. */
  port?: number;
}

/** Default with `npm start`: Chromium and curl resolve *.localhost to the loopback address. */
export const DEFAULT_APPS_URL = 'http://apps.localhost:8088';

const DOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Parses an apps URL (scheme, host, optional port; nothing else). Throws CLI_USAGE naming what is wrong. */
export function parseAppsUrl(text: string): AppsUrl {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new FoundryError('CLI_USAGE', `--apps-url ${JSON.stringify(text)} is not a URL: expected e.g. https://apps.example.eu`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FoundryError('CLI_USAGE', `--apps-url must be http or https, got ${u.protocol}`);
  if (u.username !== '' || u.password !== '' || (u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '') {
    throw new FoundryError('CLI_USAGE', '--apps-url is a scheme, a domain and optionally a port: no credentials, path, query or fragment');
  }
  const domain = u.hostname.toLowerCase();
  if (!DOMAIN.test(domain) || !domain.includes('.') && domain !== 'localhost') throw new FoundryError('CLI_USAGE', `--apps-url host ${domain} is not a DNS domain apps can live under`);
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  return u.port === '' ? { domain, scheme } : { domain, scheme, port: Number(u.port) };
}
