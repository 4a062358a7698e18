import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { isFoundryError } from '../../common/errors.js';
import { loadIdpTrust, parseIdpMetadata } from './saml-idp-trust.js';

// Metadata as SimpleSAMLphp 1.19 served it (captured from test/support/saml-idp.ts; a throwaway test certificate).
const METADATA = readFileSync(join(PACKAGE_ROOT, 'fixtures', 'saml', 'simplesamlphp-idp-metadata.xml'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'foundry-saml-trust-'));
const file = (name: string, content: string) => {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('IdP metadata', () => {
  it('yields the signing certificate, the HTTP-Redirect SSO and logout endpoints and the entity ID', () => {
    const t = parseIdpMetadata(METADATA, 'm');
    expect(t.entityId).toBe('http://127.0.0.1:44939/simplesaml/saml2/idp/metadata.php');
    expect(t.entryPoint).toBe('http://127.0.0.1:44939/simplesaml/saml2/idp/SSOService.php');
    expect(t.logoutUrl).toBe('http://127.0.0.1:44939/simplesaml/saml2/idp/SingleLogoutService.php');
    expect(t.certs).toHaveLength(1); // the encryption key is not a signing key
    expect(new X509Certificate(t.certs[0] ?? '').subject).toBe('CN=foundry-test-idp');
  });

  it('names the field and the problem (not XML, not IdP metadata, no signing certificate, a broken one); the path only as resource', () => {
    const fails = (content: string, name: string, message: RegExp) => {
      const f = file(name, content);
      const err = (() => {
        try {
          loadIdpTrust('acme', { idpMetadataFile: f });
        } catch (e) {
          return e;
        }
        throw new Error('loaded');
      })();
      expect(isFoundryError(err, 'CONFIG_INVALID') && err.resource).toBe(f);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain(dir); // the login page is public
    };
    fails('<md:EntityDescriptor', 'a.xml', /^identity provider acme: idpMetadataFile: not XML/);
    fails('<html><body>login</body></html>', 'b.xml', /^identity provider acme: idpMetadataFile: no EntityDescriptor with an IDPSSODescriptor/);
    fails(METADATA.replace(/<md:KeyDescriptor[\s\S]*<\/md:KeyDescriptor>/, ''), 'c.xml', /^identity provider acme: idpMetadataFile: the IdP metadata has no signing certificate$/);
    fails(METADATA.replace(/MIID[A-Za-z0-9+/]{40}/, 'MIIDbroken'), 'd.xml', /^identity provider acme: idpMetadataFile: signing certificate 1: not a valid X\.509 certificate/);
  });

  it('takes the spec entryPoint over the metadata one', () => {
    expect(loadIdpTrust('acme', { entryPoint: 'https://idp.example/sso', idpMetadataFile: file('m.xml', METADATA) }).entryPoint).toBe('https://idp.example/sso');
  });
});

describe('IdP certificate file', () => {
  const pem = parseIdpMetadata(METADATA, 'm').certs[0] ?? '';

  it('reads one or more PEM certificates', () => {
    expect(loadIdpTrust('acme', { entryPoint: 'https://idp.example/sso', idpCertFile: file('one.crt', pem) }).certs).toHaveLength(1);
    expect(loadIdpTrust('acme', { entryPoint: 'https://idp.example/sso', idpCertFile: file('two.crt', `${pem}${pem}`) }).certs).toHaveLength(2);
  });

  it('refuses a missing file, a file without a certificate, a broken certificate, a missing entryPoint', () => {
    expect(() => loadIdpTrust('acme', { entryPoint: 'https://idp.example/sso', idpCertFile: join(dir, 'nope.crt') })).toThrow(/^identity provider acme: idpCertFile cannot be read \(ENOENT\)$/);
    expect(() => loadIdpTrust('acme', { entryPoint: 'https://idp.example/sso', idpCertFile: file('key.pem', '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n') })).toThrow(/^identity provider acme: idpCertFile: no PEM certificate in it$/);
    expect(() => loadIdpTrust('acme', { entryPoint: 'https://idp.example/sso', idpCertFile: file('bad.crt', pem.replace(/MIID[A-Za-z0-9+/]{40}/, 'MIIDbroken')) })).toThrow(/^identity provider acme: idpCertFile: not a valid X\.509 certificate/);
    expect(() => loadIdpTrust('acme', { idpCertFile: file('ok.crt', pem) })).toThrow(/identity provider acme: no entryPoint/);
    expect(() => loadIdpTrust('acme', { entryPoint: 'ftp://idp.example/sso', idpCertFile: file('ok2.crt', pem) })).toThrow(/entryPoint is not an http\(s\) URL/);
  });
});
