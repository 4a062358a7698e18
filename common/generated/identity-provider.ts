// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * SAML 2.0 settings (SP-initiated, HTTP-POST binding back to the hub).
 */
export type Saml = {
  /**
   * The IdP's single sign-on URL (HTTP-Redirect binding).
   */
  entryPoint: string;
  /**
   * File on the hub holding the IdP's signing certificate (PEM).
   */
  idpCertFile?: string;
  /**
   * File on the hub holding the IdP's metadata XML (its signing certificates are taken from it).
   */
  idpMetadataFile?: string;
  /**
   * Attribute of the assertion that lists the user's groups (default groups).
   */
  groupsAttribute?: string;
  /**
   * What must be signed: the whole response, the assertion, or either (default). Unsigned is always refused.
   */
  signed?: "response" | "assertion" | "either";
} & Saml1;
export type Saml1 = {
  [k: string]: unknown;
};

/**
 * A single sign-on identity provider (OpenID Connect or SAML 2.0), for the whole platform or for one tenant, with the mappings from its groups to a tenant and a role. Secrets are never written here: only the path of a file on the hub that holds them.
 */
export interface IdentityProvider {
  /**
   * Schema version of the document. Always foundry.cloud/v1.
   */
  apiVersion: "foundry.cloud/v1";
  /**
   * Kind of document.
   */
  kind: "IdentityProvider";
  metadata: Metadata;
  /**
   * Provider settings: exactly one of oidc or saml, and the group mappings.
   */
  spec: {
    [k: string]: unknown;
  } & {
    /**
     * Label of the provider's button on the login page, e.g. 'Acme (Entra ID)'.
     */
    displayName: string;
    /**
     * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
     */
    tenant?: string;
    /**
     * Accept a login only when the provider asserts multi-factor authentication (OIDC amr/acr, SAML AuthnContextClassRef); otherwise the user must pass a local TOTP step-up. Default false.
     */
    mfaRequired?: boolean;
    oidc?: Oidc;
    saml?: Saml;
    /**
     * Group to tenant and role, in order: the first entry whose group the user has wins. A user matching no entry is refused, and told why.
     *
     * @minItems 1
     */
    mappings: [Mapping, ...Mapping[]];
  };
}
/**
 * Identity of the document.
 */
export interface Metadata {
  /**
   * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
   */
  name: string;
  labels?: Labels;
  /**
   * Free-form notes for people and tools; never interpreted by FoundryCloud.
   */
  annotations?: {
    [k: string]: string;
  };
}
/**
 * Key/value labels used by selectors. Keys: an optional DNS prefix and '/', then letters, digits, '-', '_', '.'. Values: at most 63 characters.
 */
export interface Labels {
  [k: string]: string;
}
/**
 * OpenID Connect settings (authorization code flow with PKCE).
 */
export interface Oidc {
  /**
   * Issuer URL; its /.well-known/openid-configuration is read at login (discovery).
   */
  issuer: string;
  /**
   * Client id registered at the provider.
   */
  clientId: string;
  /**
   * File on the hub holding the client secret (client_secret_basic). Omitted: a public client (PKCE only).
   */
  clientSecretFile?: string;
  /**
   * Scopes asked for (default openid, email, profile). openid is always asked.
   */
  scopes?: string[];
  /**
   * Claim of the ID token (or userinfo) that lists the user's groups (default groups).
   */
  groupsClaim?: string;
  /**
   * acr values that count as multi-factor, besides an amr that lists mfa (RFC 8176).
   */
  mfaAcrValues?: string[];
}
/**
 * One mapping: users in `group` get `role`, in `tenant` for tenant roles.
 */
export interface Mapping {
  /**
   * Group name exactly as the provider sends it.
   */
  group: string;
  /**
   * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
   */
  tenant?: string;
  /**
   * platform-admin (every tenant, the whole platform), tenant-admin (its tenant, including its users and API tokens) or tenant-member (its tenant's workspaces).
   */
  role: "platform-admin" | "tenant-admin" | "tenant-member";
}
