import { describe, expect, it } from 'vitest';
import { appHost, appOrigin, parseAppHost } from './app-host.js';

describe('app hosts', () => {
  it('builds and parses <app>--<workspace>.<domain>', () => {
    expect(appHost('flowise', 'acme-alice', 'apps.example.eu')).toBe('flowise--acme-alice.apps.example.eu');
    expect(parseAppHost('Flowise--acme-alice.apps.example.eu:8443', 'apps.example.eu')).toEqual({ app: 'flowise', workspace: 'acme-alice' });
    expect(appOrigin('ollama-api', 'w1', { domain: 'apps.localhost', scheme: 'http', port: 8088 })).toBe('http://ollama-api--w1.apps.localhost:8088');
    expect(appOrigin('ollama-api', 'w1', { domain: 'apps.example.eu', scheme: 'https', port: 443 })).toBe('https://ollama-api--w1.apps.example.eu');
  });

  it('refuses anything that is not exactly one app label under the domain', () => {
    for (const host of [undefined, 'apps.example.eu', 'x.apps.example.eu', 'a--b.c.apps.example.eu', 'a--b.apps.example.eu.evil.com', '--b.apps.example.eu', 'a--.apps.example.eu', 'a--b-.apps.example.eu', 'a_b--c.apps.example.eu', 'a---b--c.apps.example.eu']) {
      expect(parseAppHost(host, 'apps.example.eu'), String(host)).toBeUndefined();
    }
  });
});
