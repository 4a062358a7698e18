/**
 * The hub's own SSH signing key: agents that verify commit signatures apply only commits signed by allowed
 * keys, so the hub signs its placement, drain and enrollment commits (git's SSH signing, gpg.format ssh).
 * Generated at first start into the data dir (ed25519, private key 0600 in a 0700 folder); admins add
 * the public key to the agents' allowed signers file (`foundry hub signing-key` prints the line).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FoundryError } from '../../common/errors.js';

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
export function ensureSigningKey(dataDir: string): HubSigningKey {
  const file = signingKeyPath(dataDir);
  const dir = join(dataDir, 'signing');
  if (!existsSync(file) || !existsSync(`${file}.pub`)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A half-written pair from an interrupted start is replaced.
    rmSync(file, { force: true });
    rmSync(`${file}.pub`, { force: true });
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', HUB_SIGNER, '-f', file], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    } catch (err) {
      throw new FoundryError('INTERNAL', `cannot generate the hub's signing key with ssh-keygen in ${dir}`, { cause: err, retry: 'terminal' });
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
