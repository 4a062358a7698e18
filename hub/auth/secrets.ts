/**
 * Node credentials and admin tokens: 32 random bytes, shown once, stored as a SHA-256 hash. A fast hash is
 * enough here (unlike passwords): with 256 bits of entropy there is nothing to brute-force, and a lookup
 * by hash keeps authentication of thousands of reconnecting agents cheap.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix of node credentials (so a leaked one is recognisable in scanners). */
export const NODE_CREDENTIAL_PREFIX = 'fnc';
/** Prefix of admin tokens. */
export const ADMIN_TOKEN_PREFIX = 'fat';

/** A new random secret: `<prefix>_<43 base64url chars>`. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** The hex SHA-256 of a secret, as stored. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares two secrets in constant time (hashing first so lengths never leak). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** The token of an `Authorization: Bearer x` or `Basic base64(user:x)` header (the password part), or undefined. */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (value === undefined || scheme === undefined) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}
