import { afterEach, describe, expect, it } from 'vitest';
import { parseTrustProxy } from '../../hub/trust-proxy.js';
import { startTestHub, type TestHub } from './support.js';

describe('parseTrustProxy', () => {
  it('accepts addresses and CIDRs of both families, refuses anything else naming it', () => {
    expect(parseTrustProxy('127.0.0.1, ::1,10.0.0.0/8,fd00::/64')).toBe('127.0.0.1,::1,10.0.0.0/8,fd00::/64');
    expect(() => parseTrustProxy(' , ')).toThrow('--trust-proxy: expected addresses or CIDRs of the proxies, e.g. 127.0.0.1,::1');
    for (const bad of ['localhost', '10.0.0.0/33', '::1/129', '1.2.3.4/8/9', 'true']) {
      expect(() => parseTrustProxy(`127.0.0.1,${bad}`)).toThrow(`--trust-proxy: ${JSON.stringify(bad)} is not an IP address or CIDR`);
    }
  });
});

describe('a hub behind a proxy', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  const login = async (h: TestHub, forwardedFor: string): Promise<number> =>
    (await fetch(`${h.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor }, body: JSON.stringify({ user: 'ada', password: 'wrong' }) })).status;

  it('with the proxy trusted, the login limiter counts per client address: one client locked out does not lock out another', async () => {
    hub = await startTestHub({ trustProxy: parseTrustProxy('127.0.0.1,::1') });
    for (let i = 0; i < 5; i++) expect(await login(hub, '203.0.113.7')).toBe(401);
    expect(await login(hub, '203.0.113.7')).toBe(429);
    expect(await login(hub, '198.51.100.9')).toBe(401);
  });

  it('without it, X-Forwarded-For is ignored: every request counts as the proxy address (the check above can fail)', async () => {
    hub = await startTestHub();
    for (let i = 0; i < 5; i++) expect(await login(hub, '203.0.113.7')).toBe(401);
    expect(await login(hub, '198.51.100.9')).toBe(429);
  });
});
