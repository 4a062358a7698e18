/**
 * OpenID Connect with openid-client v6: discovery, the authorization code flow with PKCE, state and
 * nonce, ID token signature checked against the provider's JWKS (non-repudiation checks on, so a token
 * signed by anyone else is refused even over TLS), audience, expiry with clock tolerance, and MFA from
 * amr/acr. Discovery and the JWKS are read for each login, so a key rotation at the IdP is picked up by
 * the next login; the library also refetches the JWKS on an unknown kid. No JWT is parsed here.
 */
import { readFile } from 'node:fs/promises';
import * as oidc from 'openid-client';
import type { IdentityProvider } from '../../common/infra/model.js';
import type { Oidc } from '../../common/generated/identity-provider.js';

/** Tuning of the OIDC client. */
export interface OidcOptions {
  /** Allow http:// issuers (tests on loopback only; never in production). */
  allowInsecureHttp?: boolean;
  /** Timeout of each request to the IdP, seconds (default 10). */
  timeoutS?: number;
  /** Clock tolerance for exp/iat/nbf, seconds (default 60). */
  clockToleranceS?: number;
}

/** An OIDC failure with a message fit for the login page and the log (never a secret); `logDetail` is for the log only. */
export class OidcError extends Error {
  readonly logDetail: string | undefined;
  constructor(message: string, options?: { cause?: unknown; logDetail?: string }) {
    super(message, options);
    this.name = 'OidcError';
    this.logDetail = options?.logDetail;
  }
}

/** The provider's oidc block, or an error when it is a SAML provider. */
export function oidcSpec(p: IdentityProvider): Oidc {
  if (p.spec.oidc === undefined) throw new OidcError(`identity provider ${p.metadata.name} is not an OpenID Connect provider`);
  return p.spec.oidc;
}

/** Reads the client secret file (trimmed); the message of a failure names the file, never its content. */
async function clientSecret(name: string, file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    // The login page is public: the file's path goes to the log only.
    throw new OidcError(`identity provider ${name}: its client secret file cannot be read (${code})`, { logDetail: `file ${file}` });
  }
  const secret = text.trim();
  if (secret === '') throw new OidcError(`identity provider ${name}: its client secret file is empty`, { logDetail: `file ${file}` });
  return secret;
}

/** Discovers the provider and returns a client configuration (secret read from its file). */
export async function oidcConfig(p: IdentityProvider, opts: OidcOptions = {}): Promise<oidc.Configuration> {
  const o = oidcSpec(p);
  const name = p.metadata.name;
  const auth = o.clientSecretFile === undefined ? oidc.None() : oidc.ClientSecretBasic(await clientSecret(name, o.clientSecretFile));
  const execute = [oidc.enableNonRepudiationChecks, ...(opts.allowInsecureHttp === true ? [oidc.allowInsecureRequests] : [])];
  try {
    return await oidc.discovery(new URL(o.issuer), o.clientId, { [oidc.clockTolerance]: opts.clockToleranceS ?? 60 }, auth, { execute, timeout: opts.timeoutS ?? 10 });
  } catch (err) {
    throw new OidcError(`identity provider ${name}: discovery at ${o.issuer} failed: ${describe(err)}`, { cause: err });
  }
}

/** What the hub keeps of a started login until its callback. */
export interface StartedLogin {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** Builds the authorization URL of a new login (fresh state, nonce and PKCE verifier). */
export async function startOidcLogin(config: oidc.Configuration, p: IdentityProvider, redirectUri: string): Promise<StartedLogin> {
  const o = oidcSpec(p);
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const scopes = new Set(['openid', ...(o.scopes ?? ['email', 'profile'])]);
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: [...scopes].join(' '),
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url, state, nonce, codeVerifier };
}

/** The verified identity of a callback: subject, e-mail, name, groups and whether MFA was asserted. */
export interface OidcIdentity {
  subject: string;
  email?: string;
  name?: string;
  groups: string[];
  mfa: boolean;
}

/**
 * Finishes a login: exchanges the code (PKCE), verifies the ID token (signature by the JWKS, issuer,
 * audience, expiry, nonce) and reads the groups claim (from userinfo when the ID token lacks it).
 */
export async function finishOidcLogin(config: oidc.Configuration, p: IdentityProvider, callbackUrl: URL, expected: { state: string; nonce: string; codeVerifier: string }): Promise<OidcIdentity> {
  const o = oidcSpec(p);
  const name = p.metadata.name;
  let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
  try {
    tokens = await oidc.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: expected.codeVerifier, expectedState: expected.state, expectedNonce: expected.nonce, idTokenExpected: true });
  } catch (err) {
    throw new OidcError(`identity provider ${name}: the login could not be verified: ${describe(err)}`, { cause: err });
  }
  const claims = tokens.claims();
  if (claims === undefined) throw new OidcError(`identity provider ${name}: no ID token in the token response`);
  const groupsClaim = o.groupsClaim ?? 'groups';
  let source: Record<string, unknown> = claims;
  if (claims[groupsClaim] === undefined && config.serverMetadata().userinfo_endpoint !== undefined) {
    try {
      source = { ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims };
    } catch (err) {
      throw new OidcError(`identity provider ${name}: userinfo could not be read: ${describe(err)}`, { cause: err });
    }
  }
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((v): v is string => typeof v === 'string') : [];
  const acr = typeof claims.acr === 'string' ? claims.acr : undefined;
  return {
    subject: claims.sub,
    email: stringClaim(source.email),
    name: stringClaim(source.preferred_username) ?? stringClaim(source.name),
    groups: groupList(source[groupsClaim]),
    mfa: amr.includes('mfa') || (acr !== undefined && (o.mfaAcrValues ?? []).includes(acr)),
  };
}

/** The IdP's end-session URL for RP-initiated logout, when its discovery lists one. */
export function endSessionUrl(config: oidc.Configuration, postLogoutRedirectUri: string): URL | undefined {
  if (config.serverMetadata().end_session_endpoint === undefined) return undefined;
  return oidc.buildEndSessionUrl(config, { client_id: config.clientMetadata().client_id, post_logout_redirect_uri: postLogoutRedirectUri });
}

function stringClaim(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v.slice(0, 256) : undefined;
}

/** Groups as a list of strings: an array claim, or one string; anything else is no groups. */
function groupList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) return [];
  return v.filter((g): g is string => typeof g === 'string').slice(0, 1000);
}

/** A library error in words: its message, the cause's message when it says more, and the code (ECONNREFUSED, OAUTH_...). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string; cause?: { code?: string } } | undefined;
  const more = typeof cause?.message === 'string' && cause.message !== '' && cause.message !== err.message ? `: ${cause.message}` : '';
  const code = (err as { code?: string }).code ?? cause?.code ?? cause?.cause?.code;
  // An OAuth error answer (invalid_grant...) carries its own error and description.
  const oauth = err as { error?: unknown; error_description?: unknown };
  const answer = typeof oauth.error === 'string' ? `: ${oauth.error}${typeof oauth.error_description === 'string' ? ` (${oauth.error_description.slice(0, 300)})` : ''}` : '';
  const coded = code === undefined || more.includes(code) ? '' : ` (${code})`;
  return `${err.message}${more}${answer}${coded}`;
}
