import { describe, expect, it } from 'vitest';
import { DEFAULT_APPS_URL, parseAppsUrl } from './apps-url.js';

describe('parseAppsUrl', () => {
  it('parses scheme, domain and a non-default port', () => {
    expect(parseAppsUrl('https://apps.example.eu')).toEqual({ domain: 'apps.example.eu', scheme: 'https' });
    expect(parseAppsUrl('https://Apps.Example.EU:8443/')).toEqual({ domain: 'apps.example.eu', scheme: 'https', port: 8443 });
    expect(parseAppsUrl(DEFAULT_APPS_URL)).toEqual({ domain: 'apps.localhost', scheme: 'http', port: 8480 });
  });

  it.each([
    ['not a URL', 'apps.example.eu', /must be a URL/],
    ['ftp', 'ftp://apps.example.eu', /http or https/],
    ['a path', 'https://apps.example.eu/apps', /no path/],
    ['credentials', 'https://u:p@apps.example.eu', /no path, query or credentials/],
    ['one label', 'http://localhost:8480', /two labels/],
    ['an IP address', 'http://127.0.0.1:8480', /two labels|domain name/],
  ])('refuses %s, naming the flag', (_what, value, message) => {
    expect(() => parseAppsUrl(value)).toThrow(message);
    expect(() => parseAppsUrl(value)).toThrow(/--apps-url/);
  });
});
