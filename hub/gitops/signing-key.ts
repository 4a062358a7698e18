/**
 * The hub's own SSH signing key: agents that verify commit signatures apply only commits signed by allowed
 * keys, so the hub signs its placement, drain and enrollment commits (git's SSH signing, gpg.format ssh).
 * Generated at first start into the data dir (ed25519, private key 0600 in a 0700 folder); admins add
 * the public key to the agents' allowed signers file (`foundry hub signing-key` prints the line).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FoundryError } from '../../common/errors.js';
import { runGit } from '../../common/git-run.js';
import { runCommand } from '../../common/run-command.js';

/** The principal the hub signs as in allowed-signers lines. */
export const HUB_SIGNER = 'foundry-hub';

/** The hub's signing key: where the private key is, and its allowed-signers line. */
export interface HubSigningKey {
  /** Path of the private key (what git's user.signingkey names). */
  privateKeyFile: string;
  /** The public key, `ssh-ed25519 AAAA...`. */
  publicKey: string;
  /** The line for an allowed signers file: `foundry-hub namespaces="git" ssh-ed25519 AAAA...`. */
  allowedSigner: string;
}

/** Path of the private key in a hub data dir. */
export function signingKeyPath(dataDir: string): string {
  return join(dataDir, 'signing', 'hub_ed25519');
}

/** Returns the hub's key in `dataDir`, generating it (ssh-keygen, ed25519, no passphrase) when missing. */
export async function ensureSigningKey(dataDir: string): Promise<HubSigningKey> {
  const file = signingKeyPath(dataDir);
  const dir = join(dataDir, 'signing');
  if (!existsSync(file) || !existsSync(`${file}.pub`)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A half-written pair from an interrupted start is replaced.
    rmSync(file, { force: true });
    rmSync(`${file}.pub`, { force: true });
    const r = await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', HUB_SIGNER, '-f', file], { timeoutMs: 30_000 }).catch((err: Error) => err);
    if (r instanceof Error || r.code !== 0) {
      const cause = r instanceof Error ? r : new Error(`ssh-keygen exited ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
      throw new FoundryError('INTERNAL', `cannot generate the hub's signing key with ssh-keygen in ${dir}`, { cause, retry: 'terminal' });
    }
  }
  chmodSync(dir, 0o700);
  chmodSync(file, 0o600);
  const publicKey = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  return { privateKeyFile: file, publicKey, allowedSigner: `${HUB_SIGNER} namespaces="git" ${publicKey}` };
}

/** git settings that sign every commit with the key (on argv: a path, nothing secret). */
export function signingGitConfig(key: HubSigningKey): string[] {
  return ['gpg.format=ssh', `user.signingkey=${key.privateKeyFile}`, 'commit.gpgsign=true'];
}

/**
 * A check of the branch tip before the hub commits on top of it: with `allowedSignersFile` (the agents'
 * allowed signers), the tip must carry a good SSH signature by one of them or by the hub itself. Otherwise
 * the hub's signed commit would carry an unsigned one past every agent that verifies only the tip.
 * Throws GIT_SIGNATURE; the file is re-read on every check (admins add keys while the hub runs).
 */
export function tipVerifier(key: HubSigningKey, allowedSignersFile: string, workFile: string): (dir: string, revision: string) => Promise<void> {
  return async (dir, revision) => {
    let allowed: string;
    try {
      allowed = readFileSync(allowedSignersFile, 'utf8');
    } catch (err) {
      throw new FoundryError('GIT_SIGNATURE', `cannot read the allowed signers file ${allowedSignersFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { resource: allowedSignersFile });
    }
    writeFileSync(workFile, `${allowed.trimEnd()}\n${key.allowedSigner}\n`, { mode: 0o600 });
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
    const r = await runGit(['-C', dir, '-c', 'gpg.format=ssh', '-c', `gpg.ssh.allowedSignersFile=${workFile}`, 'verify-commit', revision], { env });
    if (r.code !== 0) {
      throw new FoundryError('GIT_SIGNATURE', `the infra repo's tip ${revision.slice(0, 12)} is not signed by an allowed key: the hub does not commit on top of it (its signature would carry that commit past the agents' verification); push a signed commit first`, { resource: revision });
    }
  };
}
