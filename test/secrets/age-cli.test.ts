/**
 * age CLI interop, both ways, with Debian's `age` and `age-keygen`: what `foundry secret` writes the CLI
 * decrypts, and what the CLI writes (armored or binary) the agent decrypts; a wrong key, a truncated and
 * a damaged file give clear errors.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { decryptWithIdentities, encryptToRecipients, generateAgeKeyPair, parseIdentityFile, SecretFileError } from '../../common/secrets/age.js';
import { readAgeHeader } from '../../common/secrets/age-header.js';
import { describeIf, onPath } from '../support/requires.js';

const dir = mkdtempSync(join(tmpdir(), 'foundry-age-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeIf(onPath('age', 'age-keygen'), 'the age CLI', 'apt-get install -y age')('age CLI interop', () => {
  it('the age CLI decrypts what foundry encrypts (armored, two recipients)', async () => {
    const keyFile = join(dir, 'cli-key.txt');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'pipe' });
    const cliRecipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
    const other = await generateAgeKeyPair();
    const armored = await encryptToRecipients('s3cr3t-Ωvalue\n', [cliRecipient, other.recipient]);
    expect(armored.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')).toBe(true);
    expect(readAgeHeader(armored).stanzas.map((s) => s.type)).toEqual(['X25519', 'X25519']);
    const file = join(dir, 'from-foundry.age');
    writeFileSync(file, armored);
    expect(execFileSync('age', ['-d', '-i', keyFile, file], { encoding: 'utf8' })).toBe('s3cr3t-Ωvalue\n');
  });

  it('foundry decrypts what the age CLI encrypts, armored and binary, with a key from age-keygen', async () => {
    const keyFile = join(dir, 'node-key.txt');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'pipe' });
    const identities = parseIdentityFile(readFileSync(keyFile, 'utf8'));
    expect(identities).toHaveLength(1);
    const recipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
    const armored = execFileSync('age', ['-e', '-a', '-r', recipient], { input: 'from-the-cli' });
    const binary = execFileSync('age', ['-e', '-r', recipient], { input: 'binary-too' });
    expect(Buffer.from(await decryptWithIdentities(armored, identities)).toString()).toBe('from-the-cli');
    expect(Buffer.from(await decryptWithIdentities(binary, identities)).toString()).toBe('binary-too');
  });

  it('a wrong key, a truncated file and a damaged file are told apart', async () => {
    const mine = await generateAgeKeyPair();
    const theirs = await generateAgeKeyPair();
    const armored = await encryptToRecipients('value', [theirs.recipient]);
    const problem = async (file: string | Uint8Array): Promise<string> => {
      try {
        await decryptWithIdentities(file, [mine.identity]);
        return 'decrypted';
      } catch (err) {
        return err instanceof SecretFileError ? `${err.problem}: ${err.message}` : `other: ${String(err)}`;
      }
    };
    expect(await problem(armored)).toMatch(/^wrong-key: no key of this node can decrypt it: it is encrypted to 1 recipient/);
    expect(await problem(armored.slice(0, armored.length - 40))).toMatch(/^truncated: /);
    expect(await problem('hello, not age')).toMatch(/^not-age: /);
    const binary = execFileSync('age', ['-e', '-r', mine.recipient], { input: 'x'.repeat(100) });
    const flipped = Buffer.from(binary);
    flipped[flipped.length - 5]! ^= 0xff;
    expect(await problem(flipped)).toMatch(/^damaged: /);
    expect(await problem(binary.subarray(0, binary.length - 20))).toMatch(/^damaged: /);
  });
});
