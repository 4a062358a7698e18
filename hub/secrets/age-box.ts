/**
 * The few age operations the hub needs, over npm `age-encryption` (no cryptography of our own):
 * encrypt to recipients as an ASCII-armored age file (what `age -d` reads), decrypt with an identity.
 */
import { armor, Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';

/** A new X25519 identity (`AGE-SECRET-KEY-1...`) and its recipient (`age1...`). */
export async function newAgeIdentity(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** The recipient of an identity; throws for a malformed identity. */
export function ageRecipientOf(identity: string): Promise<string> {
  return identityToRecipient(identity);
}

/** Encrypts `plaintext` to every recipient; returns the armored age file. */
export async function ageEncrypt(recipients: readonly string[], plaintext: Uint8Array | string): Promise<string> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return armor.encode(await e.encrypt(plaintext));
}

/** Decrypts an armored (or binary) age file with `identity`; throws when it is not for that identity or is damaged. */
export async function ageDecrypt(identity: string, file: string | Uint8Array): Promise<Uint8Array> {
  const d = new Decrypter();
  d.addIdentity(identity);
  const bytes = typeof file === 'string' ? armor.decode(file) : isArmored(file) ? armor.decode(Buffer.from(file).toString('utf8')) : file;
  return d.decrypt(bytes);
}

function isArmored(file: Uint8Array): boolean {
  return Buffer.from(file.subarray(0, 34)).toString('latin1').startsWith('-----BEGIN AGE ENCRYPTED FILE-----');
}
