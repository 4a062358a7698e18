import { describe, expect, it } from 'vitest';
import { MFA_CONTEXTS, spMetadata, spUrls } from './saml-sp.js';

describe('SP addresses and metadata', () => {
  it('derives entity ID, ACS and logout return from the public URL and the provider name', () => {
    expect(spUrls('https://hub.example/', 'acme-adfs')).toEqual({ entityId: 'https://hub.example/auth/saml/acme-adfs/metadata', acsUrl: 'https://hub.example/auth/saml/acme-adfs/acs', sloUrl: 'https://hub.example/auth/saml/acme-adfs/slo' });
  });

  it('says in its metadata whether the assertion itself must be signed', () => {
    const urls = spUrls('https://hub.example', 'acme');
    const assertion = spMetadata(urls, 'assertion');
    expect(assertion).toContain('entityID="https://hub.example/auth/saml/acme/metadata"');
    expect(assertion).toContain('WantAssertionsSigned="true"');
    expect(assertion).toContain('Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://hub.example/auth/saml/acme/acs"');
    expect(assertion).not.toContain('NameIDFormat');
    expect(assertion).toContain('SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://hub.example/auth/saml/acme/slo"');
    expect(spMetadata(urls, 'response')).not.toContain('WantAssertionsSigned="true"');
    expect(spMetadata(urls)).not.toContain('WantAssertionsSigned="true"');
  });

  it('counts REFEDS MFA and Microsoft multipleauthn as multi-factor, a password as not', () => {
    expect(MFA_CONTEXTS.has('https://refeds.org/profile/mfa')).toBe(true);
    expect(MFA_CONTEXTS.has('http://schemas.microsoft.com/claims/multipleauthn')).toBe(true);
    expect(MFA_CONTEXTS.has('urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport')).toBe(false);
  });
});
