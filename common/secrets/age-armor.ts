/**
 * Decodes age's ASCII armor (a strict subset of PEM) with Node's own base64, by the rules of
 * age-encryption's `armor.decode`: the same accepted inputs and the same error messages (test/secrets/
 * age-armor.test.ts runs both side by side). Text parsing only, no cryptography: it exists so that
 * `foundry validate` can count the recipients of an armored secret without loading age-encryption and its
 * curve and post-quantum code (about 12 MB of peak RSS, bench/startup.bench.mjs). Encryption, decryption
 * and encoding stay in age-encryption (common/secrets/age.ts).
 */

const BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const END = '-----END AGE ENCRYPTED FILE-----';

/** The raw age file inside an armored one; throws "invalid header|footer|line length|base64" like age-encryption. */
export function decodeAgeArmor(file: string): Uint8Array {
  const lines = file.trim().replaceAll('\r\n', '\n').split('\n');
  if (lines.shift() !== BEGIN) throw new Error('invalid header');
  if (lines.pop() !== END) throw new Error('invalid footer');
  const lengthOk = (l: string, i: number): boolean => (i === lines.length - 1 ? l.length > 0 && l.length <= 64 && l.length % 4 === 0 : l.length === 64);
  if (!lines.every(lengthOk)) throw new Error('invalid line length');
  if (!lines.every((l) => /^[A-Za-z0-9+/=]+$/.test(l))) throw new Error('invalid base64');
  const text = lines.join('');
  const bytes = Buffer.from(text, 'base64');
  // Strict like @scure/base: padding only at the end, no excess padding, zero trailing bits (canonical form).
  if (bytes.toString('base64') !== text) throw new Error('invalid base64 padding');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
