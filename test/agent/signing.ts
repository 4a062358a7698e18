/** Real signing keys and signed commits for tests: ssh-keygen ed25519 keys and a gpg ed25519 key, in a temp dir. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Keys made for one test file. */
export interface TestKeys {
  dir: string;
  /** Allowed signers file listing alice's ssh key only. */
  allowedSigners: string;
  aliceSsh: string;
  mallorySsh: string;
  /** GNUPGHOME holding alice's secret gpg key, and alice's exported public key. */
  gnupgHome: string;
  aliceGpgPublic: string;
}

/** Creates alice's and mallory's ssh keys and alice's gpg key under `dir`. */
export function makeKeys(dir: string): TestKeys {
  mkdirSync(dir, { recursive: true });
  const aliceSsh = join(dir, 'alice');
  const mallorySsh = join(dir, 'mallory');
  for (const key of [aliceSsh, mallorySsh]) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', key]);
  const allowedSigners = join(dir, 'allowed_signers');
  const pub = readFileSync(`${aliceSsh}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(allowedSigners, `alice@example.com ${pub}\n`);
  const gnupgHome = join(dir, 'gnupg');
  mkdirSync(gnupgHome, { mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: gnupgHome };
  execFileSync('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Alice <alice@example.com>', 'ed25519', 'sign', 'never'], { env, stdio: 'ignore' });
  const aliceGpgPublic = join(dir, 'alice.asc');
  writeFileSync(aliceGpgPublic, execFileSync('gpg', ['--armor', '--export', 'alice@example.com'], { env }));
  return { dir, allowedSigners, aliceSsh, mallorySsh, gnupgHome, aliceGpgPublic };
}

/** Git args that sign a commit with an ssh key. */
export function sshSignArgs(key: string): string[] {
  return ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key}.pub`, 'commit', '-S'];
}

/** Runs git in `repo` as a test author, with no global config; returns stdout. */
export function git(repo: string, args: string[], extraEnv: Record<string, string> = {}): string {
  return execFileSync('git', ['-C', repo, '-c', 'user.name=Test', '-c', 'user.email=alice@example.com', '-c', 'commit.gpgsign=false', ...args], {
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', ...extraEnv },
    encoding: 'utf8',
  }).trim();
}
