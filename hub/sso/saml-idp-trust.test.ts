import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../common/paths.js';
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

  it('names the file and the problem: not XML, not IdP metadata, no signing certificate, a broken one', () => {
    expect(() => loadIdpTrust('acme', { idpMetadataFile: file('a.xml', '<md:EntityDescriptor') })).toThrow(/identity provider acme: idpMetadataFile .*a\.xml: not XML/);
    expect(() => loadIdpTrust('acme', { idpMetadataFile: file('b.xml', '<html><body>login</body></html>') })).toThrow(/b\.xml: no EntityDescriptor with an IDPSSODescriptor/);
    expect(() => loadIdpTrust('acme', { idpMetadataFile: file('c.xml', METADATA.replace(/<md:KeyDescriptor[\s\S]*<\/md:KeyDescriptor>/, '')) })).toThrow(/c\.xml: the IdP metadata has no signing certificate/);
    expect(() => loadIdpTrust('acme', { idpMetadataFile: file('d.xml', METADATA.replace(/MIID[A-Za-z0-9+/]{40}/, 'MIIDbroken')) })).toThrow(/d\.xml: signing certificate 1: not a valid X\.509 certificate/);
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
    expect(() => loadIdpTrust('acme', { entryPoint: 'https://idp.example/sso', idpCertFile: join(dir, 'nope.crt') })).toThrow(/identity provider acme: idpCertFile .*nope\.crt cannot be read \(ENOENT\)/);
    expect(() => loadIdpTrust('acme', { entryPoint: 'https://idp.example/sso', idpCertFile: file('key.pem', '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n') })).toThrow(/key\.pem: no PEM certificate in it/);
    expect(() => loadIdpTrust('acme', { entryPoint: 'https://idp.example/sso', idpCertFile: file('bad.crt', pem.replace(/MIID[A-Za-z0-9+/]{40}/, 'MIIDbroken')) })).toThrow(/bad\.crt: not a valid X\.509 certificate/);
    expect(() => loadIdpTrust('acme', { idpCertFile: file('ok.crt', pem) })).toThrow(/identity provider acme: no entryPoint/);
    expect(() => loadIdpTrust('acme', { entryPoint: 'ftp://idp.example/sso', idpCertFile: file('ok2.crt', pem) })).toThrow(/entryPoint is not an http\(s\) URL/);
  });
});
