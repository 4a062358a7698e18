/**
 * common/secrets/age-armor.ts against age-encryption's own `armor.decode`, side by side: every valid
 * armored file decodes to the same bytes, every damaged one is refused by both, with the same message
 * (only non-canonical padding words it differently).
 */
import { armor } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { decodeAgeArmor } from '../../common/secrets/age-armor.js';
import { encryptToRecipients, generateAgeKeyPair } from '../../common/secrets/age.js';

function outcome(decode: (s: string) => Uint8Array, text: string): { bytes?: string; error?: string } {
  try {
    return { bytes: Buffer.from(decode(text)).toString('hex') };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function body(lines: string[]): string {
  return ['-----BEGIN AGE ENCRYPTED FILE-----', ...lines, '-----END AGE ENCRYPTED FILE-----', ''].join('\n');
}

describe('age armor decoding', () => {
  it('decodes what age-encryption armors to the same bytes, for plaintexts of many sizes and CRLF', async () => {
    const { recipient } = await generateAgeKeyPair();
    for (const size of [0, 1, 2, 3, 47, 48, 49, 200, 1000]) {
      const armored = await encryptToRecipients('x'.repeat(size), [recipient]);
      for (const text of [armored, armored.replaceAll('\n', '\r\n'), `\n  ${armored}  \n`]) {
        const ours = outcome(decodeAgeArmor, text);
        expect(ours.error).toBeUndefined();
        expect(ours).toEqual(outcome(armor.decode, text));
      }
    }
  });

  it('refuses what age-encryption refuses, with its message', () => {
    const full = 'A'.repeat(64);
    const cases: [string, string][] = [
      ['-----BEGIN AGE FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----', 'invalid header'],
      [body(['QUJD']).replace('-----END AGE ENCRYPTED FILE-----', '-----END-----'), 'invalid footer'],
      [body(['QUJDRA', full]), 'invalid line length'],
      [body([full.slice(2), 'QUJD']), 'invalid line length'],
      [body(['QUJ']), 'invalid line length'],
      [body(['QU*D']), 'invalid base64'],
    ];
    for (const [text, message] of cases) {
      expect(outcome(armor.decode, text).error).toBe(message);
      expect(outcome(decodeAgeArmor, text).error).toBe(message);
    }
  });

  it('treats an empty body like age-encryption (an empty file, refused later as not age)', () => {
    expect(outcome(decodeAgeArmor, body([]))).toEqual(outcome(armor.decode, body([])));
  });

  it('accepts and refuses the same padding as age-encryption (canonical base64 only)', () => {
    for (const last of ['QUJD', 'QUI=', 'QQ==', 'AB8=', 'AB=C', 'A===', 'AB==', 'QUJ=', '====']) {
      const text = body([last]);
      const theirs = outcome(armor.decode, text);
      const ours = outcome(decodeAgeArmor, text);
      expect(ours.bytes).toBe(theirs.bytes);
      expect(ours.error === undefined).toBe(theirs.error === undefined);
    }
  });
});
