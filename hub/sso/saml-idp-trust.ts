/**
 * What the hub trusts of a SAML IdP: its signing certificates and SSO endpoint, read from the files an
 * IdentityProvider names on the hub (`idpCertFile`, a PEM certificate, or `idpMetadataFile`, the IdP's SAML
 * metadata). Every problem is a CONFIG_INVALID error naming the provider, the field and what is wrong
 * (shown on the public login page), with the file's path as its `resource` (for the log only); the
 * certificates are parsed here, so a broken one is found when the provider is loaded, not at a sign-in.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { FoundryError, errorMessage } from '../../common/errors.js';

/** The saml block of an IdentityProvider, as far as trust goes. */
export interface SamlTrustSpec {
  entryPoint?: string;
  idpCertFile?: string;
  idpMetadataFile?: string;
}

/** The IdP as the SP sees it. */
export interface IdpTrust {
  /** Signing certificates (PEM), one or more (several during a key rollover). */
  certs: string[];
  /** Where the SP sends the AuthnRequest (HTTP-Redirect binding). */
  entryPoint: string;
  /** The IdP's entity ID, when its metadata says; assertions must then carry it as Issuer. */
  entityId?: string;
  /** The IdP's single logout endpoint (HTTP-Redirect), when its metadata names one. */
  logoutUrl?: string;
}

const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: true, parseTagValue: false, parseAttributeValue: false, trimValues: true });

type Node = Record<string, unknown>;
const list = (v: unknown): Node[] => (v === undefined ? [] : Array.isArray(v) ? (v as Node[]) : [v as Node]);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : v !== null && typeof v === 'object' && '#text' in v ? String((v as Node)['#text']) : undefined);

/** A PEM certificate from base64 DER (as metadata carries it), checked to parse as X.509. */
function toPem(base64: string, where: string, file: string | undefined): string {
  const body = base64.replace(/\s+/g, '');
  const pem = `-----BEGIN CERTIFICATE-----\n${body.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  checkCert(pem, where, file);
  return pem;
}

function checkCert(pem: string, where: string, file: string | undefined): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new FoundryError('CONFIG_INVALID', `${where}: not a valid X.509 certificate (${errorMessage(err)})`, { resource: file, cause: err });
  }
}

/** Parses IdP metadata XML (from `file`): signing certificates, the HTTP-Redirect SSO and logout endpoints, the entity ID. */
export function parseIdpMetadata(xml: string, where: string, file?: string): IdpTrust {
  let doc: Node;
  try {
    doc = parser.parse(xml, true) as Node;
  } catch (err) {
    throw new FoundryError('CONFIG_INVALID', `${where}: not XML (${errorMessage(err)})`, { resource: file, cause: err });
  }
  const entity = list(doc.EntityDescriptor)[0] ?? list(list(doc.EntitiesDescriptor)[0]?.EntityDescriptor)[0];
  const idp = list(entity?.IDPSSODescriptor)[0];
  if (entity === undefined || idp === undefined) throw new FoundryError('CONFIG_INVALID', `${where}: no EntityDescriptor with an IDPSSODescriptor (is this the IdP's SAML metadata?)`, { resource: file });
  const certs = list(idp.KeyDescriptor)
    .filter((k) => k['@_use'] === undefined || k['@_use'] === 'signing')
    .flatMap((k) => list(list(k.KeyInfo)[0]?.X509Data).flatMap((d) => list(d.X509Certificate).map(text)))
    .filter((c): c is string => c !== undefined && c !== '')
    .map((c, i) => toPem(c, `${where}: signing certificate ${i + 1}`, file));
  if (certs.length === 0) throw new FoundryError('CONFIG_INVALID', `${where}: the IdP metadata has no signing certificate`, { resource: file });
  const sso = list(idp.SingleSignOnService).find((s) => s['@_Binding'] === REDIRECT_BINDING);
  const entryPoint = typeof sso?.['@_Location'] === 'string' ? sso['@_Location'] : '';
  const entityId = typeof entity['@_entityID'] === 'string' ? entity['@_entityID'] : undefined;
  const slo = list(idp.SingleLogoutService).find((s) => s['@_Binding'] === REDIRECT_BINDING);
  const logoutUrl = typeof slo?.['@_Location'] === 'string' ? slo['@_Location'] : undefined;
  return { certs, entryPoint, entityId, ...(logoutUrl === undefined ? {} : { logoutUrl }) };
}

function readText(file: string, what: string, provider: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FoundryError('CONFIG_INVALID', `identity provider ${provider}: ${what} cannot be read (${code ?? errorMessage(err)})`, { resource: file, cause: err });
  }
}

/**
 * Reads what `spec` names for provider `provider`: the certificate file or the metadata file (the spec's
 * entryPoint wins over the metadata's). Throws CONFIG_INVALID with the file and the reason.
 */
export function loadIdpTrust(provider: string, spec: SamlTrustSpec): IdpTrust {
  let trust: IdpTrust;
  if (spec.idpMetadataFile !== undefined) {
    trust = parseIdpMetadata(readText(spec.idpMetadataFile, 'idpMetadataFile', provider), `identity provider ${provider}: idpMetadataFile`, spec.idpMetadataFile);
  } else if (spec.idpCertFile !== undefined) {
    const where = `identity provider ${provider}: idpCertFile`;
    const pems = readText(spec.idpCertFile, 'idpCertFile', provider).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (pems.length === 0) throw new FoundryError('CONFIG_INVALID', `${where}: no PEM certificate in it`, { resource: spec.idpCertFile });
    pems.forEach((p, i) => checkCert(p, pems.length === 1 ? where : `${where} (certificate ${i + 1})`, spec.idpCertFile));
    trust = { certs: pems.map((p) => `${p}\n`), entryPoint: '' };
  } else {
    throw new FoundryError('CONFIG_INVALID', `identity provider ${provider}: saml needs idpCertFile or idpMetadataFile`, { resource: provider });
  }
  const entryPoint = spec.entryPoint ?? trust.entryPoint;
  if (entryPoint === '') throw new FoundryError('CONFIG_INVALID', `identity provider ${provider}: no entryPoint (and the IdP metadata names no HTTP-Redirect SingleSignOnService)`, { resource: provider });
  try {
    const u = new URL(entryPoint);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`scheme ${u.protocol}`);
  } catch (err) {
    throw new FoundryError('CONFIG_INVALID', `identity provider ${provider}: entryPoint is not an http(s) URL (${errorMessage(err)})`, { resource: provider });
  }
  return { ...trust, entryPoint };
}
