/** Commit-signature verification with real keys (ssh-keygen, gpg) and real signed commits (git commit -S). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signatureKind, verifyCommitSignature } from '../../agent/source/verify-signature.js';
import { git, makeKeys, sshSignArgs, type TestKeys } from './signing.js';

describe('verifyCommitSignature (real git, ssh-keygen, gpg)', () => {
  let dir: string;
  let repo: string;
  let keys: TestKeys;
  const revs: Record<string, string> = {};

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-sig-'));
    keys = makeKeys(join(dir, 'keys'));
    repo = join(dir, 'repo');
    git(dir, ['init', '-q', repo]);
    git(repo, ['commit', '-q', '--allow-empty', '-m', 'unsigned']);
    revs.unsigned = git(repo, ['rev-parse', 'HEAD']);
    git(repo, [...sshSignArgs(keys.aliceSsh), '-q', '--allow-empty', '-m', 'alice ssh']);
    revs.aliceSsh = git(repo, ['rev-parse', 'HEAD']);
    git(repo, [...sshSignArgs(keys.mallorySsh), '-q', '--allow-empty', '-m', 'mallory ssh']);
    revs.mallorySsh = git(repo, ['rev-parse', 'HEAD']);
    git(repo, ['-c', 'gpg.format=openpgp', '-c', 'user.signingkey=alice@example.com', 'commit', '-S', '-q', '--allow-empty', '-m', 'alice gpg'], { GNUPGHOME: keys.gnupgHome });
    revs.aliceGpg = git(repo, ['rev-parse', 'HEAD']);
  });
  afterAll(() => {
    for (const home of [keys.gnupgHome, join(dir, 'other', 'gnupg')]) spawnSync('gpgconf', ['--homedir', home, '--kill', 'all']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the kind of signature from the commit', async () => {
    expect(await Promise.all([revs.unsigned, revs.aliceSsh, revs.aliceGpg].map((r) => signatureKind(repo, r!)))).toEqual([undefined, 'ssh', 'gpg']);
  });

  it('accepts a commit signed by an allowed ssh key and names the signer', async () => {
    const v = await verifyCommitSignature(repo, revs.aliceSsh!, { mode: 'ssh', allowedSignersFile: keys.allowedSigners });
    expect(v.signer).toBe('alice@example.com');
    expect(v.key).toMatch(/^SHA256:/);
  });

  it('refuses an unsigned commit, a key not in the allowed signers, and a gpg signature in ssh mode', async () => {
    const policy = { mode: 'ssh' as const, allowedSignersFile: keys.allowedSigners };
    await expect(verifyCommitSignature(repo, revs.unsigned!, policy)).rejects.toMatchObject({ code: 'GIT_SIGNATURE', message: `commit ${revs.unsigned!.slice(0, 12)} is not signed; signature verification (ssh) is on` });
    await expect(verifyCommitSignature(repo, revs.mallorySsh!, policy)).rejects.toMatchObject({ code: 'GIT_SIGNATURE', message: expect.stringMatching(/^commit [0-9a-f]{12} has an untrusted or bad ssh signature: its key SHA256:\S+ is not in the allowed signers file /) });
    await expect(verifyCommitSignature(repo, revs.aliceGpg!, policy)).rejects.toMatchObject({ code: 'GIT_SIGNATURE', message: `commit ${revs.aliceGpg!.slice(0, 12)} carries a gpg signature; only ssh signatures are accepted` });
  });

  it('accepts a gpg signature by a key of the keyring, refuses it when the keyring lacks the key', async () => {
    const v = await verifyCommitSignature(repo, revs.aliceGpg!, { mode: 'gpg', keyring: keys.aliceGpgPublic });
    expect(v.signer).toBe('Alice <alice@example.com>');
    const other = makeKeys(join(dir, 'other'));
    await expect(verifyCommitSignature(repo, revs.aliceGpg!, { mode: 'gpg', keyring: other.aliceGpgPublic })).rejects.toMatchObject({
      code: 'GIT_SIGNATURE',
      message: `commit ${revs.aliceGpg!.slice(0, 12)} has an untrusted or bad gpg signature: it is signed by a key that is not in ${other.aliceGpgPublic}`,
    });
  });
});
