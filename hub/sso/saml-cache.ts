/**
 * SAML's AuthnRequest IDs in the hub store (SsoRepo), so they survive a hub restart and hold across
 * replicas: node-saml's CacheProvider, where InResponseTo must name an ID the hub issued, not yet used and
 * not expired, and under TLS bound to the browser that started the sign-in. The replay cache of accepted
 * assertions and the IdP sessions for single logout are SsoRepo's too (used by saml-sp.ts and saml-routes.ts).
 */
import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import type { SsoRepo } from '../store/sso-repo.js';
import { hashSecret } from '../auth/secrets.js';

export type { SamlSession } from '../store/sso-repo.js';

/** How long an AuthnRequest ID stays valid: the time a user has to sign in at the IdP. */
export const REQUEST_ID_TTL_MS = 10 * 60_000;

/**
 * node-saml's CacheProvider for one provider's AuthnRequest IDs, backed by the saml_requests table.
 * Entries older than `ttlMs` read as absent and are removed by the next save. With a `binding` (a random
 * value in a cookie of the browser that started the sign-in), saved IDs are bound to it, and an ID bound
 * to another browser reads as absent (`bindingMismatch` then says why): a response obtained by someone
 * else cannot be pushed into a victim's browser (login CSRF).
 */
export class DbRequestCache implements CacheProvider {
  /** Set when a lookup found the ID but bound to another browser (or to none sent). */
  bindingMismatch = false;

  constructor(
    private readonly sso: SsoRepo,
    private readonly provider: string,
    private readonly now: () => Date = () => new Date(),
    private readonly binding?: string,
    private readonly ttlMs = REQUEST_ID_TTL_MS,
  ) {}

  /** Records an issued request ID; `value` is node-saml's issue instant. */
  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    const at = this.now();
    const saved = await this.sso.saveSamlRequest(this.provider, key, this.binding === undefined ? null : hashSecret(this.binding), at.toISOString(), new Date(at.getTime() - this.ttlMs).toISOString());
    return saved ? { value, createdAt: at.getTime() } : null;
  }

  /** The request's issue instant when it is known, not expired and (if bound) bound to this browser, else null. */
  async getAsync(key: string): Promise<string | null> {
    const r = await this.sso.samlRequest(this.provider, key);
    if (r === undefined || this.now().getTime() - Date.parse(r.createdAt) >= this.ttlMs) return null;
    if (r.bindingHash !== null && (this.binding === undefined || hashSecret(this.binding) !== r.bindingHash)) {
      this.bindingMismatch = true;
      return null;
    }
    return r.createdAt;
  }

  /** Forgets a request ID (node-saml calls this once a response naming it was handled, accepted or not). */
  async removeAsync(key: string | null): Promise<string | null> {
    if (key === null) return null;
    return (await this.sso.takeSamlRequest(this.provider, key)) ?? null;
  }
}
