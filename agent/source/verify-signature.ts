/**
 * Commit-signature verification: the agent applies a revision only when its commit carries a good
 * signature by an allowed key. SSH: `git verify-commit` against an allowed-signers file. GPG: `git
 * verify-commit` with a private GNUPGHOME that holds only the allowed public keys. The user's and the
 * system's git config are ignored, so nothing outside the agent's config can widen the trust.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FoundryError } from '../../common/errors.js';
import { gitErrorText } from '../../common/git-message.js';
import { runGit } from '../../common/git-run.js';
import { runCommand } from '../../common/run-command.js';

/** What verification needs. */
export interface SignaturePolicy {
  mode: 'ssh' | 'gpg';
  /** mode ssh: ssh-keygen allowed-signers file. */
  allowedSignersFile?: string;
  /** mode gpg: exported public keys of the allowed signers. */
  keyring?: string;
}

/** A verified signature. */
export interface VerifiedSignature {
  revision: string;
  /** Who signed: the SSH principal or the OpenPGP user id. */
  signer: string;
  /** Key fingerprint as git/gpg print it. */
  key: string;
}

/** gpg and gpgconf through the one command runner; a command that cannot start reads as a failed one. */
async function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCommand(cmd, args, { env, timeoutMs }).catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message, timedOut: false }));
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** git through the one git client (common/git-run.ts); a git that cannot start reads as a failed command. */
async function runIsolatedGit(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return runGit(args, { env, timeoutMs: 30_000 }).catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }));
}

/** git's environment without the user's or the system's configuration. */
function isolatedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C', ...extra };
}

/** The kind of signature a commit carries, read from its gpgsig header; undefined when unsigned. */
export async function signatureKind(repoDir: string, revision: string): Promise<'ssh' | 'gpg' | 'x509' | undefined> {
  const r = await runIsolatedGit(['-C', repoDir, 'cat-file', 'commit', revision], isolatedEnv());
  if (r.code !== 0) throw new FoundryError('GIT_REVISION', `cannot read commit ${revision}: ${gitErrorText(r.stderr)}`, { resource: revision });
  const header = r.stdout.split('\n\n')[0] ?? '';
  if (/^gpgsig -----BEGIN SSH SIGNATURE-----/m.test(header)) return 'ssh';
  if (/^gpgsig -----BEGIN PGP SIGNATURE-----/m.test(header)) return 'gpg';
  if (/^gpgsig -----BEGIN SIGNED MESSAGE-----/m.test(header)) return 'x509';
  return undefined;
}

/**
 * Verifies the signature of `revision` in the git repository at `repoDir` under `policy`.
 * Throws GIT_SIGNATURE (unsigned, wrong kind, bad or untrusted) with a message that says which.
 */
export async function verifyCommitSignature(repoDir: string, revision: string, policy: SignaturePolicy): Promise<VerifiedSignature> {
  const short = revision.slice(0, 12);
  const kind = await signatureKind(repoDir, revision);
  if (kind === undefined) throw new FoundryError('GIT_SIGNATURE', `commit ${short} is not signed; signature verification (${policy.mode}) is on`, { resource: revision });
  if (kind !== policy.mode) throw new FoundryError('GIT_SIGNATURE', `commit ${short} carries a ${kind} signature; only ${policy.mode} signatures are accepted`, { resource: revision });
  return policy.mode === 'ssh' ? verifySsh(repoDir, revision, policy) : verifyGpg(repoDir, revision, policy);
}

async function verifySsh(repoDir: string, revision: string, policy: SignaturePolicy): Promise<VerifiedSignature> {
  const file = policy.allowedSignersFile;
  if (file === undefined) throw new FoundryError('CONFIG_INVALID', 'verify.mode ssh needs verify.allowedSignersFile', { resource: revision });
  const r = await runIsolatedGit(['-C', repoDir, '-c', 'gpg.format=ssh', '-c', `gpg.ssh.allowedSignersFile=${file}`, 'verify-commit', '--raw', revision], isolatedEnv());
  const out = `${r.stdout}\n${r.stderr}`;
  const good = /Good "git" signature for (\S+) with (\S+) key (\S+)/.exec(out);
  if (r.code === 0 && good !== null) return { revision, signer: good[1]!, key: good[3]! };
  const anyKey = /with \S+ key (\S+)/.exec(out)?.[1];
  const why = /No principal matched/i.test(out) ? `its key ${anyKey ?? ''} is not in the allowed signers file ${file}`.replace('  ', ' ') : firstLine(out) || 'verification failed';
  throw new FoundryError('GIT_SIGNATURE', `commit ${revision.slice(0, 12)} has an untrusted or bad ssh signature: ${why}`, { resource: revision });
}

async function verifyGpg(repoDir: string, revision: string, policy: SignaturePolicy): Promise<VerifiedSignature> {
  const keyring = policy.keyring;
  if (keyring === undefined) throw new FoundryError('CONFIG_INVALID', 'verify.mode gpg needs verify.keyring', { resource: revision });
  // A throwaway GNUPGHOME holding only the allowed keys: a good signature by any key in it is trusted.
  const home = await mkdtemp(join(tmpdir(), 'fc-gnupg-'));
  try {
    const imp = await run('gpg', ['--batch', '--quiet', '--import', keyring], isolatedEnv({ GNUPGHOME: home }));
    if (imp.code !== 0) throw new FoundryError('GIT_SIGNATURE', `cannot import the gpg keyring ${keyring}: ${firstLine(imp.stderr)}`, { resource: revision, retry: 'wait' });
    const r = await runIsolatedGit(['-C', repoDir, '-c', 'gpg.format=openpgp', 'verify-commit', '--raw', revision], isolatedEnv({ GNUPGHOME: home }));
    const status = `${r.stdout}\n${r.stderr}`;
    const good = /\[GNUPG:\] GOODSIG \S+ (.+)/.exec(status);
    const valid = /\[GNUPG:\] VALIDSIG (\S+)/.exec(status);
    if (r.code === 0 && good !== null && valid !== null) return { revision, signer: good[1]!.trim(), key: valid[1]! };
    const why = /NO_PUBKEY|ERRSIG/.test(status) ? `it is signed by a key that is not in ${keyring}` : /BADSIG/.test(status) ? 'the signature does not match the commit' : firstLine(status) || 'verification failed';
    throw new FoundryError('GIT_SIGNATURE', `commit ${revision.slice(0, 12)} has an untrusted or bad gpg signature: ${why}`, { resource: revision });
  } finally {
    // gpg may have started an agent for this home; it must not outlive the check.
    await run('gpgconf', ['--homedir', home, '--kill', 'all'], isolatedEnv({ GNUPGHOME: home }), 5_000);
    await rm(home, { recursive: true, force: true });
  }
}

function firstLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('[GNUPG:]')) ?? '';
}
