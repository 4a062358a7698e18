import { describe, expect, it } from 'vitest';
import { parseAppsUrl, DEFAULT_APPS_URL } from './apps-url.js';
import { appOrigin } from './app-host.js';

describe('parseAppsUrl', () => {
  it('reads domain, scheme and a non-default port', () => {
    expect(parseAppsUrl(DEFAULT_APPS_URL)).toEqual({ domain: 'apps.localhost', scheme: 'http', port: 8088 });
    expect(parseAppsUrl('https://Apps.Example.EU/')).toEqual({ domain: 'apps.example.eu', scheme: 'https' });
    expect(appOrigin('flowise', 'acme-alice', parseAppsUrl(DEFAULT_APPS_URL))).toBe('http://flowise--acme-alice.apps.localhost:8088');
  });

  it('refuses what is not just a scheme, a domain and a port', () => {
    expect(() => parseAppsUrl('apps.example.eu')).toThrow(/not a URL/);
    expect(() => parseAppsUrl('ftp://apps.example.eu')).toThrow(/http or https/);
    expect(() => parseAppsUrl('https://u:p@apps.example.eu')).toThrow(/no credentials/);
    expect(() => parseAppsUrl('https://apps.example.eu/x')).toThrow(/no credentials, path/);
  });
});
