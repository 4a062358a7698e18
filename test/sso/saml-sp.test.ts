/**
 * The hub's SAML service provider against a real IdP (SimpleSAMLphp under apache2, test/support/saml-idp.ts):
 * a signed response from the IdP's login form is accepted and yields the user's identity; what must be
 * refused is refused for its own reason, each on a fresh sign-in so only that one thing is wrong.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HubStore } from '../../hub/store/hub-store.js';
import { SamlServiceProvider, spUrls, type SamlSigned } from '../../hub/sso/saml-sp.js';
import { loadIdpTrust } from '../../hub/sso/saml-idp-trust.js';
import { isFoundryError } from '../../common/errors.js';
import { describeIf } from '../support/requires.js';
import { AC, SAML_IDP_HOW, loginAtIdp, samlIdpAvailable, startSamlIdp, type SamlIdp, type SamlIdpSp, type SamlIdpUser } from '../support/saml-idp.js';

const HUB = 'http://127.0.0.1:9'; // the SP never listens here: these tests hand the IdP's answer to it directly
const ALICE: SamlIdpUser = 
{ username: 'alice', password: 'alice-pw-1', attributes: { uid: ['alice-0001'], mail: ['alice@acme.test'], displayName: ['Alice A'], groups: ['acme-users', 'staff'] }, authnContext: AC.mfa };
const BOB: SamlIdpUser = { username: 'bob', password: 'bob-pw-1', attributes: { uid: ['bob-0002'], groups: ['acme-admins'] } };
const USERS = [ALICE, BOB];

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
const encode = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

describeIf(samlIdpAvailable, 'a SAML IdP (SimpleSAMLphp, apache2)', SAML_IDP_HOW)('SAML service provider against SimpleSAMLphp', () => {
  let dir: string;
  let idp: SamlIdp;
  let store: HubStore;
  const acme = spUrls(HUB, 'acme');
  const baseSp: SamlIdpSp = { entityId: acme.entityId, acsUrl: acme.acsUrl };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-saml-sp-'));
    idp = await startSamlIdp(USERS, [baseSp]);
    store = new HubStore(join(dir, 'hub.db'));
  });
  afterAll(async () => {
    await idp?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sp = (signed?: SamlSigned, s: HubStore = store) => {
    const certFile = join(dir, 'idp.crt');
    writeFileSync(certFile, idp.certPem);
    return new SamlServiceProvider({ provider: 'acme', trust: loadIdpTrust('acme', { entryPoint: idp.ssoUrl, idpCertFile: certFile }), urls: acme, signed, sso: s.sso });
  };
  const signIn = async (p: SamlServiceProvider, user = ALICE) => loginAtIdp(await p.authorizeUrl('/ui/'), user.username, user.password);
  const refusal = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      if (isFoundryError(err, 'AUTH_FORBIDDEN')) return { reason: err.details?.reason, message: err.message };
      throw err;
    }
    throw new Error('accepted, expected a refusal');
  };

  it('accepts a signed response from the login form: subject, attributes, groups and MFA from AuthnContextClassRef', async () => {
    const p = sp();
    const post = await signIn(p);
    expect(post.action).toBe(acme.acsUrl);
    expect(post.RelayState).toBe('/ui/');
    expect(await p.accept(post)).toEqual({ subject: 'alice-0001', email: 'alice@acme.test', name: 'Alice A', groups: ['acme-users', 'staff'], mfa: true, authnContext: AC.mfa });
    const bob = await p.accept(await signIn(p, BOB));
    expect(bob).toMatchObject({ subject: 'bob-0002', groups: ['acme-admins'], mfa: false, authnContext: AC.password });
  });

  it('refuses the same response posted twice (replay cache), also after a restart of the hub', async () => {
    const p = sp();
    const post = await signIn(p);
    await p.accept(post);
    expect(await refusal(p.accept(post))).toMatchObject({ reason: 'replayed' });
    store.close();
    store = new HubStore(join(dir, 'hub.db'));
    expect(await refusal(sp().accept(post))).toMatchObject({ reason: 'replayed' });
  });

  it('keeps issued request IDs across a restart: a sign-in started before it completes after it', async () => {
    const post = await signIn(sp());
    store.close();
    store = new HubStore(join(dir, 'hub.db'));
    expect(await sp().accept(post)).toMatchObject({ subject: 'alice-0001' });
  });

  it('refuses an unsigned response and assertion (the IdP configured not to sign)', async () => {
    idp.setSps([{ ...baseSp, signAssertion: false, signResponse: false }]);
    try {
      const p = sp();
      const post = await signIn(p);
      expect(decode(post.SAMLResponse)).not.toContain('Signature');
      expect(await refusal(p.accept(post))).toMatchObject({ reason: 'signature' });
    } finally {
      idp.setSps([baseSp]);
    }
  });

  it('requires the signature that `signed` names: response-only signing is refused when the assertion must be signed', async () => {
    idp.setSps([{ ...baseSp, signAssertion: false, signResponse: true }]);
    try {
      let p = sp('assertion');
      expect(await refusal(p.accept(await signIn(p)))).toMatchObject({ reason: 'signature' });
      p = sp('response');
      expect(await p.accept(await signIn(p))).toMatchObject({ subject: 'alice-0001' });
      p = sp('either');
      expect(await p.accept(await signIn(p))).toMatchObject({ subject: 'alice-0001' });
    } finally {
      idp.setSps([baseSp]);
    }
  });

  it('requires the signature that `signed` names: assertion-only signing is refused when the response must be signed', async () => {
    idp.setSps([{ ...baseSp, signAssertion: true, signResponse: false }]);
    try {
      let p = sp('response');
      expect(await refusal(p.accept(await signIn(p)))).toMatchObject({ reason: 'signature' });
      p = sp('assertion');
      expect(await p.accept(await signIn(p))).toMatchObject({ subject: 'alice-0001' });
    } finally {
      idp.setSps([baseSp]);
    }
  });

  it('refuses a response with its signature stripped', async () => {
    const p = sp();
    const post = await signIn(p);
    const stripped = decode(post.SAMLResponse).replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/g, '');
    expect(stripped).not.toContain('Signature');
    expect(await refusal(p.accept({ SAMLResponse: encode(stripped) }))).toMatchObject({ reason: 'signature' });
  });

  it('refuses XML signature wrapping: a forged assertion beside or around the real signed one', async () => {
    idp.setSps([{ ...baseSp, signAssertion: true, signResponse: false }]);
    try {
      const p = sp();
      // (a) the signed assertion moved into the response's Extensions, a forged copy (other user, other
      // groups, the same ID) in its place
      const xml = decode((await signIn(p)).SAMLResponse);
      const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)?.[0] ?? '';
      expect(signed).toContain('ds:Signature');
      const forged = signed
        .replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/, '')
        .replace('alice-0001', 'mallory-0666')
        .replace(/>acme-users</, '>platform-ops<');
      const wrapped = xml.replace(signed, `${forged}`).replace(/(<samlp:Status>)/, `<samlp:Extensions>${signed}</samlp:Extensions>$1`);
      expect(await refusal(p.accept({ SAMLResponse: encode(wrapped) }))).toMatchObject({ reason: 'signature' });
      // (b) the forged assertion carries the real one inside it (in its Subject), signature and all
      const xml2 = decode((await signIn(p)).SAMLResponse);
      const signed2 = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml2)?.[0] ?? '';
      const forged2 = signed2
        .replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/, '')
        .replace('alice-0001', 'mallory-0666')
        .replace(/(<saml:Subject>)/, `$1${signed2}`);
      expect(await refusal(p.accept({ SAMLResponse: encode(xml2.replace(signed2, forged2)) }))).toMatchObject({ reason: 'signature' });
    } finally {
      idp.setSps([baseSp]);
    }
  });

  it('refuses an assertion for another audience', async () => {
    // The IdP knows this SP under another entity ID: what it issues is meant for that one.
    const other = spUrls(HUB, 'other');
    idp.setSps([baseSp, { entityId: other.entityId, acsUrl: acme.acsUrl }]);
    try {
      const otherSp = new SamlServiceProvider({ provider: 'acme', trust: loadIdpTrust('acme', { entryPoint: idp.ssoUrl, idpCertFile: join(dir, 'idp.crt') }), urls: { ...acme, entityId: other.entityId }, sso: store.sso });
      const post = await signIn(otherSp);
      expect(decode(post.SAMLResponse)).toContain(`<saml:Audience>${other.entityId}</saml:Audience>`);
      // the request ID was issued by this hub for provider acme, so only the audience is wrong
      expect(await refusal(sp().accept(post))).toMatchObject({ reason: 'audience' });
    } finally {
      idp.setSps([baseSp]);
    }
  });

  it('refuses an expired assertion (the IdP issues it past its NotOnOrAfter)', async () => {
    idp.setSps([{ ...baseSp, assertionLifetimeS: -120 }]);
    try {
      const p = sp();
      expect(await refusal(p.accept(await signIn(p)))).toMatchObject({ reason: 'expired' });
    } finally {
      idp.setSps([baseSp]);
    }
  });

  it('follows an IdP key rotation once the certificate file on the hub names the new certificate (read at each sign-in)', async () => {
    const oldCert = idp.certPem;
    const certFile = join(dir, 'idp.crt');
    const fromFile = () => new SamlServiceProvider({ provider: 'acme', trust: loadIdpTrust('acme', { entryPoint: idp.ssoUrl, idpCertFile: certFile }), urls: acme, sso: store.sso });
    writeFileSync(certFile, oldCert);
    const newCert = idp.rotateKey();
    expect(newCert).not.toBe(oldCert);
    // the hub still trusts only the old certificate: refused
    let p = fromFile();
    expect(await refusal(p.accept(await signIn(p)))).toMatchObject({ reason: 'signature' });
    // both in the file (the rollover): accepted, nothing restarted
    writeFileSync(certFile, `${oldCert}${newCert}`);
    p = fromFile();
    expect(await p.accept(await signIn(p))).toMatchObject({ subject: 'alice-0001' });
  });

  it('refuses a response that answers no request of ours (IdP-initiated, or a request ID unknown here)', async () => {
    const p = sp();
    const post = await loginAtIdp(`${idp.ssoUrl}?spentityid=${encodeURIComponent(acme.entityId)}`, 'alice', 'alice-pw-1');
    expect(await refusal(p.accept(post))).toMatchObject({ reason: 'in-response-to' });
  });

  it('refuses an assertion addressed to another ACS', async () => {
    const elsewhere = `${HUB}/auth/saml/elsewhere/acs`;
    idp.setSps([{ ...baseSp, acsUrl: elsewhere }]);
    try {
      const p = sp();
      const post = await signIn(p);
      expect(post.action).toBe(elsewhere);
      expect(await refusal(p.accept(post))).toMatchObject({ reason: 'recipient' });
    } finally {
      idp.setSps([baseSp]);
    }
  });
});
