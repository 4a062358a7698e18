/**
 * `--trust-proxy`: the reverse proxies (on this machine, or a load balancer) whose X-Forwarded-For,
 * -Proto and -Host the hub believes. Without it, behind a proxy every request comes from the proxy's
 * address: the login limiter would count all users' failures per user only, and sessions and the audit
 * log would record the proxy. Only listed addresses are believed: a client cannot claim another address.
 */
import { isIP } from 'node:net';
import { FoundryError } from '../common/errors.js';

/** Checks a comma-separated list of IP addresses or CIDRs and returns it normalised for Fastify's trustProxy. */
export function parseTrustProxy(value: string): string {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new FoundryError('CLI_USAGE', '--trust-proxy: expected addresses or CIDRs of the proxies, e.g. 127.0.0.1,::1');
  for (const item of items) {
    const [addr = '', bits, extra] = item.split('/');
    const family = isIP(addr);
    const max = family === 4 ? 32 : 128;
    const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
    if (family === 0 || !okBits || extra !== undefined) {
      throw new FoundryError('CLI_USAGE', `--trust-proxy: ${JSON.stringify(item)} is not an IP address or CIDR (e.g. 127.0.0.1, ::1, 10.0.0.0/8)`);
    }
  }
  return items.join(',');
}
