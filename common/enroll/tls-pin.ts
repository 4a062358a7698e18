/** Certificate pins: base64url SHA-256 of a certificate's SubjectPublicKeyInfo (DER), as in join tokens. */
import { createHash, X509Certificate } from 'node:crypto';
import { FoundryError } from '../errors.js';

/** The pin of the first (leaf) certificate in a PEM bundle. */
export function pinOfPem(pem: string | Buffer): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new FoundryError('BAD_REQUEST', 'cannot read the hub certificate (expected PEM)', { cause: err });
  }
  return pinOfSpki(cert.publicKey.export({ type: 'spki', format: 'der' }));
}

/** The pin of a DER certificate (Node's `getPeerCertificate().raw`; its `pubkey` is not SPKI for EC keys). */
export function pinOfDer(certDer: Buffer): string {
  return pinOfSpki(new X509Certificate(certDer).publicKey.export({ type: 'spki', format: 'der' }));
}

/** The pin of a DER SubjectPublicKeyInfo. */
export function pinOfSpki(spkiDer: Buffer): string {
  return createHash('sha256').update(spkiDer).digest('base64url');
}
