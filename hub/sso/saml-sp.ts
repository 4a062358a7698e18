/**
 * The hub as a SAML 2.0 service provider for one IdentityProvider, on @node-saml/node-saml (which verifies
 * the XML signatures, InResponseTo, the validity window and the audience; nothing here touches signatures).
 * SP-initiated: `authorizeUrl()` sends the browser to the IdP (HTTP-Redirect), the IdP posts the response to
 * the ACS (HTTP-POST), and `accept()` runs these steps, stopping at the first refusal:
 *   1. replay     an assertion ID accepted before is refused (looked up before anything else, so a replay
 *                 says so, instead of failing on its spent InResponseTo)
 *   2. validate   node-saml: signed as `signed` asks, InResponseTo one of ours and unused, NotBefore /
 *                 NotOnOrAfter with a small skew, audience = our entity ID
 *   3. addressed  the signed assertion's SubjectConfirmation Recipient (and the response's Destination)
 *                 is our ACS; its Issuer is the IdP's entity ID when the metadata names it
 *   4. subject    a NameID that names the same user next time (a transient one is refused)
 *   5. record     the assertion ID goes into the replay cache until it expires, the IdP session
 *                 (NameID, SessionIndex) is kept for single logout
 * and returns the identity (subject, email, name, groups, mfa from AuthnContextClassRef).
 */
import { SAML, SamlStatusError, ValidateInResponseTo, generateServiceProviderMetadata, type Profile } from '@node-saml/node-saml';
import { XMLParser } from 'fast-xml-parser';
import { FoundryError, errorMessage } from '../../common/errors.js';
import type { SamlSession, SsoRepo } from '../store/sso-repo.js';
import { DbRequestCache, REQUEST_ID_TTL_MS } from './saml-cache.js';
import type { IdpTrust } from './saml-idp-trust.js';

/** Which signature the SP requires: on the whole response, on the assertion, or either (never none). */
export type SamlSigned = 'response' | 'assertion' | 'either';

/** The SP's own addresses for one provider. */
export interface SpUrls {
  /** Entity ID of the SP (also the audience assertions must name): the metadata URL. */
  entityId: string;
  /** Assertion consumer service (HTTP-POST). */
  acsUrl: string;
  /** Where the IdP sends the browser back after single logout (HTTP-Redirect). */
  sloUrl: string;
}

/** What a verified assertion says about the user. */
export interface SamlIdentity {
  subject: string;
  email?: string;
  name?: string;
  groups: string[];
  mfa: boolean;
  /** The AuthnContextClassRef as asserted (for the audit log). */
  authnContext?: string;
}

/** Why a SAML response was refused (the `reason` of the audit entry; the message goes to the user). */
export type SamlRefusalReason = 'replayed' | 'signature' | 'in-response-to' | 'other-browser' | 'expired' | 'audience' | 'recipient' | 'issuer' | 'subject' | 'idp-status' | 'malformed';

/** Clock skew accepted between hub and IdP on NotBefore / NotOnOrAfter. */
export const SAML_CLOCK_SKEW_MS = 30_000;

/**
 * AuthnContextClassRef values that mean multi-factor: REFEDS MFA, Microsoft's (Entra ID, AD FS), and
 * SAML 2.0's two-factor and token classes.
 */
export const MFA_CONTEXTS: ReadonlySet<string> = new Set([
  'https://refeds.org/profile/mfa',
  'http://schemas.microsoft.com/claims/multipleauthn',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI',
]);

const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
const EMAIL_ATTRS = ['mail', 'email', 'emailAddress', 'urn:oid:0.9.2342.19200300.100.1.3', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'];
const NAME_ATTRS = ['displayName', 'cn', 'name', 'urn:oid:2.16.840.1.113730.3.1.241', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'];

/** The SP's entity ID and ACS for `provider` under the hub's public URL. */
export function spUrls(publicUrl: string, provider: string): SpUrls {
  const base = `${publicUrl.replace(/\/+$/, '')}/auth/saml/${encodeURIComponent(provider)}`;
  return { entityId: `${base}/metadata`, acsUrl: `${base}/acs`, sloUrl: `${base}/slo` };
}

/**
 * The SP's SAML metadata for the IdP's admin: entity ID, ACS (HTTP-POST), whether assertions must be
 * signed, no NameID format imposed, the single logout return. Needs nothing of the IdP, so it is served before the IdP is set up.
 */
export function spMetadata(urls: SpUrls, signed: SamlSigned = 'either'): string {
  return generateServiceProviderMetadata({ issuer: urls.entityId, callbackUrl: urls.acsUrl, logoutCallbackUrl: urls.sloUrl, wantAssertionsSigned: signed === 'assertion', identifierFormat: null });
}

const peekParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: true, parseTagValue: false, processEntities: false });
type Node = Record<string, unknown>;
const list = (v: unknown): Node[] => (v === undefined || v === null ? [] : Array.isArray(v) ? (v as Node[]) : [v as Node]);
const first = <T>(v: T[] | T | undefined): T | undefined => (Array.isArray(v) ? v[0] : v);

function refuse(reason: SamlRefusalReason, message: string, cause?: unknown): FoundryError {
  return new FoundryError('AUTH_FORBIDDEN', message, { details: { reason }, cause });
}

/** The refusal reason of one of node-saml's validation errors. */
function reasonOf(err: unknown): SamlRefusalReason {
  if (err instanceof SamlStatusError) return 'idp-status';
  const m = errorMessage(err);
  if (/signature|signed data/i.test(m)) return 'signature';
  if (/InResponseTo/i.test(m)) return 'in-response-to';
  if (/expired|not yet valid|subject confirmation/i.test(m)) return 'expired';
  if (/audience/i.test(m)) return 'audience';
  return 'malformed';
}

/** node-saml's view of the verified assertion (xml2js: elements as arrays, attributes under `$`). */
interface X2J {
  $?: Record<string, string>;
  _?: string;
  [child: string]: unknown;
}
const kids = (n: X2J | undefined, name: string): X2J[] => (n?.[name] as X2J[] | undefined) ?? [];

/** One provider's service provider. */
export class SamlServiceProvider {
  private readonly saml: SAML;
  private readonly requests: DbRequestCache;

  constructor(
    private readonly opts: {
      provider: string;
      trust: IdpTrust;
      urls: SpUrls;
      signed?: SamlSigned;
      groupsAttribute?: string;
      sso: SsoRepo;
      now?: () => Date;
      /** The browser's login binding (its cookie), when sign-ins are bound to the browser (under TLS). */
      binding?: string;
    },
  ) {
    const signed = opts.signed ?? 'either';
    this.requests = new DbRequestCache(opts.sso, opts.provider, opts.now, opts.binding);
    this.saml = new SAML({
      entryPoint: opts.trust.entryPoint,
      idpCert: opts.trust.certs,
      issuer: opts.urls.entityId,
      audience: opts.urls.entityId,
      callbackUrl: opts.urls.acsUrl,
      logoutCallbackUrl: opts.urls.sloUrl,
      // node-saml falls back to the entry point; logoutUrl() below is only used when the IdP has one
      logoutUrl: opts.trust.logoutUrl,
      // 'either': neither is demanded alone, and node-saml then requires a valid signature on one of them
      wantAuthnResponseSigned: signed === 'response',
      wantAssertionsSigned: signed === 'assertion',
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: REQUEST_ID_TTL_MS,
      cacheProvider: this.requests,
      acceptedClockSkewMs: SAML_CLOCK_SKEW_MS,
      // let the IdP pick the NameID format and the authentication; what it asserts decides (mfa)
      identifierFormat: null,
      disableRequestedAuthnContext: true,
    });
  }

  /** The IdP URL that starts a sign-in (a fresh AuthnRequest, its ID kept for InResponseTo). */
  async authorizeUrl(relayState: string): Promise<string> {
    return this.saml.getAuthorizeUrlAsync(relayState, undefined, {});
  }

  /**
   * The IdP URL that ends the user's session there (a LogoutRequest naming its NameID and SessionIndex),
   * or undefined when the IdP's metadata names no single logout endpoint.
   */
  async logoutUrl(session: SamlSession, relayState: string): Promise<string | undefined> {
    if (this.opts.trust.logoutUrl === undefined) return undefined;
    const user: Profile = {
      issuer: this.opts.trust.entityId ?? '',
      nameID: session.nameID,
      nameIDFormat: session.nameIDFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
      ...(session.nameQualifier === null ? {} : { nameQualifier: session.nameQualifier }),
      ...(session.spNameQualifier === null ? {} : { spNameQualifier: session.spNameQualifier }),
      ...(session.sessionIndex === null ? {} : { sessionIndex: session.sessionIndex }),
    };
    return this.saml.getLogoutUrlAsync(user, relayState, {});
  }

  /** Validates what the IdP posted to the ACS; the user's identity, or AUTH_FORBIDDEN with a `reason`. */
  async accept(body: { SAMLResponse?: unknown }): Promise<SamlIdentity> {
    const { provider, urls } = this.opts;
    const now = this.opts.now ?? (() => new Date());
    if (typeof body.SAMLResponse !== 'string' || body.SAMLResponse === '') throw refuse('malformed', 'the IdP posted no SAMLResponse');
    // 1. replay: only IDs of assertions verified earlier are in the cache, so an unverified ID can only refuse
    for (const id of this.peekAssertionIds(body.SAMLResponse)) {
      if (await this.opts.sso.assertionSeen(provider, id)) throw refuse('replayed', `assertion ${id} was already used: a SAML response is accepted once`);
    }
    // 2. validate
    let profile: Profile | null;
    try {
      ({ profile } = await this.saml.validatePostResponseAsync({ SAMLResponse: body.SAMLResponse }));
    } catch (err) {
      if (this.requests.bindingMismatch) throw refuse('other-browser', 'this sign-in was started in another browser (or this browser did not send its sign-in cookie back): start again from the login page', err);
      throw refuse(reasonOf(err), errorMessage(err), err);
    }
    if (profile === null || profile.getAssertion === undefined) throw refuse('malformed', 'the SAML response carries no assertion');
    const assertion = (profile.getAssertion() as { Assertion?: X2J }).Assertion;
    const id = assertion?.$?.ID;
    if (assertion === undefined || id === undefined) throw refuse('malformed', 'the SAML assertion has no ID');
    // 3. addressed to us
    const confirmations = kids(first(kids(assertion, 'Subject')), 'SubjectConfirmation').map((c) => first(kids(c, 'SubjectConfirmationData'))?.$ ?? {});
    if (!confirmations.some((d) => d.Recipient === urls.acsUrl)) throw refuse('recipient', `the assertion is addressed to ${confirmations.map((d) => d.Recipient ?? '(no recipient)').join(', ') || '(no subject confirmation)'}, not to ${urls.acsUrl}`);
    const destination = this.peekDestination(body.SAMLResponse);
    if (destination !== undefined && destination !== urls.acsUrl) throw refuse('recipient', `the response's Destination is ${destination}, not ${urls.acsUrl}`);
    const issuer = first(kids(assertion, 'Issuer'))?._;
    if (this.opts.trust.entityId !== undefined && issuer !== this.opts.trust.entityId) throw refuse('issuer', `the assertion's issuer is ${issuer ?? '(none)'}, not the IdP ${this.opts.trust.entityId}`);
    // 4. subject
    if (profile.nameIDFormat === TRANSIENT) throw refuse('subject', 'the IdP sent a transient NameID, which names the user only once: configure it to send a persistent (or email) NameID for this SP');
    if (typeof profile.nameID !== 'string' || profile.nameID === '') throw refuse('subject', 'the assertion names no subject (NameID)');
    // 5. record, until the latest time it could still be accepted
    const ends = [...confirmations.map((d) => d.NotOnOrAfter), first(kids(assertion, 'Conditions'))?.$?.NotOnOrAfter].filter((t): t is string => t !== undefined).map(Date.parse);
    const expiresAt = new Date(Math.max(now().getTime() + REQUEST_ID_TTL_MS, ...ends) + SAML_CLOCK_SKEW_MS);
    if (!(await this.opts.sso.recordAssertion({ provider, id, subject: profile.nameID, expiresAt: expiresAt.toISOString() }, now().toISOString()))) throw refuse('replayed', `assertion ${id} was already used: a SAML response is accepted once`);
    // kept for single logout: the IdP's session of this sign-in
    await this.opts.sso.rememberSamlSession(provider, { nameID: profile.nameID, nameIDFormat: profile.nameIDFormat ?? null, nameQualifier: profile.nameQualifier ?? null, spNameQualifier: profile.spNameQualifier ?? null, sessionIndex: profile.sessionIndex ?? null }, now().toISOString());
    return this.identityOf(profile, assertion);
  }

  private identityOf(profile: Profile, assertion: X2J): SamlIdentity {
    const values = (name: string): string[] => {
      const v = profile[name];
      return (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]).filter((x): x is string => typeof x === 'string' && x !== '');
    };
    const pick = (names: string[]) => names.map((n) => values(n)[0]).find((v) => v !== undefined);
    const ref = first(kids(first(kids(first(kids(assertion, 'AuthnStatement')), 'AuthnContext')), 'AuthnContextClassRef'));
    const authnContext = typeof ref === 'string' ? ref : ref?._;
    return {
      subject: profile.nameID,
      email: pick(EMAIL_ATTRS),
      name: pick(NAME_ATTRS),
      groups: values(this.opts.groupsAttribute ?? 'groups'),
      mfa: authnContext !== undefined && MFA_CONTEXTS.has(authnContext),
      authnContext,
    };
  }

  private parse(samlResponse: string): Node | undefined {
    try {
      return first(list((peekParser.parse(Buffer.from(samlResponse, 'base64').toString('utf8')) as Node).Response));
    } catch {
      return undefined; // node-saml reports what is wrong with it
    }
  }

  /** IDs of the assertions in an unverified response (for the replay lookup only). */
  private peekAssertionIds(samlResponse: string): string[] {
    return list(this.parse(samlResponse)?.Assertion)
      .map((a) => a['@_ID'])
      .filter((id): id is string => typeof id === 'string');
  }

  private peekDestination(samlResponse: string): string | undefined {
    const d = this.parse(samlResponse)?.['@_Destination'];
    return typeof d === 'string' ? d : undefined;
  }
}
