import { describe, expect, it } from 'vitest';
import { appTarget, safePath } from './redirects.js';

const apps = { domain: 'apps.example.eu', scheme: 'https' as const };
const local = { domain: 'apps.localhost', scheme: 'http' as const, port: 8480 };

describe('appTarget', () => {
  it('accepts an app URL of this ingress and keeps path and query', () => {
    const t = appTarget('https://flowise--acme-alice.apps.example.eu/chat/1?x=2#frag', apps);
    expect(t).toMatchObject({ app: 'flowise', workspace: 'acme-alice', host: 'flowise--acme-alice.apps.example.eu', path: '/chat/1?x=2' });
    expect(appTarget('http://web--w1.apps.localhost:8480/', local)).toMatchObject({ app: 'web', workspace: 'w1', path: '/' });
    expect(appTarget('https://flowise--acme-alice.apps.example.eu:443/', apps)?.path).toBe('/');
  });

  it.each([
    ['another domain', 'https://evil.example/'],
    ['a look-alike suffix', 'https://flowise--acme.apps.example.eu.evil.example/'],
    ['the apps domain itself', 'https://apps.example.eu/'],
    ['a deeper name', 'https://a.flowise--acme.apps.example.eu/'],
    ['no workspace part', 'https://flowise.apps.example.eu/'],
    ['another scheme', 'http://flowise--acme.apps.example.eu/'],
    ['javascript', 'javascript:alert(1)'],
    ['another port', 'https://flowise--acme.apps.example.eu:8443/'],
    ['credentials', 'https://user:pw@flowise--acme.apps.example.eu/'],
    ['a relative path', '/ui/'],
    ['a scheme-relative URL', '//evil.example/'],
    ['nothing', undefined],
    ['an oversized URL', `https://flowise--acme.apps.example.eu/${'a'.repeat(5000)}`],
  ])('refuses %s', (_what, rd) => {
    expect(appTarget(rd, apps)).toBeUndefined();
  });

  it('refuses the default port when the ingress listens elsewhere', () => {
    expect(appTarget('http://web--w1.apps.localhost/', local)).toBeUndefined();
  });
});

describe('safePath', () => {
  it('accepts a path on the same host', () => {
    expect(safePath('/a/b?c=d')).toBe('/a/b?c=d');
  });
  it.each(['//evil.example/', '/\\evil.example', 'https://evil.example/', 'evil', '/a\nb', '', undefined])('refuses %j', (p) => {
    expect(safePath(p)).toBeUndefined();
  });
});
