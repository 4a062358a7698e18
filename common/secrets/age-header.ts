/**
 * Reads the header of an age file without decrypting it: the format (armored or binary) and the
 * recipient stanzas (type and arguments). An X25519 stanza does not reveal whose key it is for, so this
 * tells how many recipients a file has, not who they are (the Secret document lists them). Parsing
 * only (armor by common/secrets/age-armor.ts); the cryptography stays in `age-encryption`.
 */
import { decodeAgeArmor } from './age-armor.js';

/** Why an age file cannot be used: not-age, truncated, wrong-key, damaged. */
export type SecretFileProblem = 'not-age' | 'truncated' | 'wrong-key' | 'damaged';

/** An age file that cannot be read or decrypted; the message never contains plaintext. */
export class SecretFileError extends Error {
  constructor(
    readonly problem: SecretFileProblem,
    message: string,
  ) {
    super(message);
    this.name = 'SecretFileError';
  }
}

/** One recipient stanza of the header: `-> X25519 <ephemeral share>` has type X25519. */
export interface AgeStanza {
  type: string;
  args: string[];
}

const INTRO = 'age-encryption.org/v1\n';
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';

/** The binary file and its stanzas; throws SecretFileError (not-age, truncated) for anything else. */
export function readAgeHeader(file: Uint8Array | string): { armored: boolean; binary: Uint8Array; stanzas: AgeStanza[] } {
  const text = typeof file === 'string' ? file : Buffer.from(file).toString('latin1');
  const armored = text.trimStart().startsWith(ARMOR_BEGIN);
  let binary: Uint8Array;
  if (armored) {
    if (!text.includes('-----END AGE ENCRYPTED FILE-----')) throw new SecretFileError('truncated', 'the armored age file has no END line: it is truncated');
    try {
      binary = decodeAgeArmor(text.trim());
    } catch (err) {
      throw new SecretFileError('damaged', `the armored age file is damaged (${(err instanceof Error ? err.message : String(err)).toLowerCase().slice(0, 120)})`);
    }
  } else {
    binary = typeof file === 'string' ? Buffer.from(file, 'latin1') : file;
  }
  const head = Buffer.from(binary).toString('latin1');
  if (!head.startsWith(INTRO)) throw new SecretFileError('not-age', 'not an age file: expected "age-encryption.org/v1" or an armored "-----BEGIN AGE ENCRYPTED FILE-----"');
  const end = head.indexOf('\n---', INTRO.length - 1);
  if (end < 0) throw new SecretFileError('truncated', 'the age header has no MAC line: the file is truncated');
  const stanzas: AgeStanza[] = [];
  for (const line of head.slice(INTRO.length, end + 1).split('\n')) {
    if (!line.startsWith('-> ')) continue;
    const [type = '', ...args] = line.slice(3).split(' ');
    stanzas.push({ type, args });
  }
  if (stanzas.length === 0) throw new SecretFileError('damaged', 'the age header has no recipient stanza');
  return { armored, binary, stanzas };
}
