/**
 * Thin wrappers over the age implementation of npm's `age-encryption` (typage, by age's author): X25519
 * identities, encryption to recipients and decryption with identities. Files are ASCII-armored
 * (`-----BEGIN AGE ENCRYPTED FILE-----`), so Debian's `age -d -i KEY` reads what `foundry secret`
 * writes and `age -e -a -r age1...` writes what the agent reads. No cryptography of our own here.
 */
import { Decrypter, Encrypter, armor, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { readAgeHeader, SecretFileError } from './age-header.js';

export { SecretFileError } from './age-header.js';

/** An age X25519 recipient (public key). */
export const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
/** An age X25519 identity (private key), as age-keygen writes it. */
export const AGE_IDENTITY = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

/** A new X25519 key pair: the identity (keep private) and its recipient (share). */
export async function generateAgeKeyPair(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** The recipient (public key) of an identity. */
export function recipientOf(identity: string): Promise<string> {
  return identityToRecipient(identity);
}

/** The identities of an age identity file (age-keygen's format: `#` comments, one AGE-SECRET-KEY-1... per line). */
export function parseIdentityFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .filter((l) => AGE_IDENTITY.test(l));
}

/** The recipients of a recipients file (`age -R` format: `#` comments, one age1... per line, a trailing `# comment` names it). */
export function parseRecipientsFile(text: string): { recipient: string; label: string | undefined; line: number }[] {
  const out: { recipient: string; label: string | undefined; line: number }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const [value = '', ...comment] = raw.split('#');
    const recipient = value.trim();
    if (recipient === '') return;
    const label = comment.join('#').trim();
    out.push({ recipient, label: label === '' ? undefined : label, line: i + 1 });
  });
  return out;
}

/** Encrypts `plaintext` to every recipient (at least one); returns the ASCII-armored age file. */
export async function encryptToRecipients(plaintext: Uint8Array | string, recipients: readonly string[]): Promise<string> {
  if (recipients.length === 0) throw new Error('no recipients: nobody could decrypt the file');
  const e = new Encrypter();
  for (const r of new Set(recipients)) {
    if (!AGE_RECIPIENT.test(r)) throw new Error(`not an age X25519 recipient: ${r.slice(0, 12)}...`);
    e.addRecipient(r);
  }
  return armor.encode(await e.encrypt(plaintext));
}

/**
 * Decrypts an age file (armored or binary) with `identities`. Throws a SecretFileError whose message says
 * what is wrong (not an age file, truncated, no identity matches, damaged) and never contains the plaintext.
 */
export async function decryptWithIdentities(file: Uint8Array | string, identities: readonly string[]): Promise<Uint8Array> {
  const { binary, stanzas } = readAgeHeader(file);
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  try {
    return await d.decrypt(binary);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/no identity matched/i.test(msg)) {
      throw new SecretFileError('wrong-key', `no key of this node can decrypt it: it is encrypted to ${stanzas.length} recipient${stanzas.length === 1 ? '' : 's'}, not to this node (re-encrypt with foundry secret reencrypt)`);
    }
    throw new SecretFileError('damaged', `the file is damaged or truncated (${msg.toLowerCase().slice(0, 120)})`);
  }
}
