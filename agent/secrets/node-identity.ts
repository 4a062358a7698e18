/**
 * The node's age key pair: the identity (private key) lives only on the node, in <stateDir>/node-key.txt
 * with mode 0600, in age-keygen's format (so `age -d -i node-key.txt` works for an operator on the
 * node); the recipient (public key) goes to the hub at enrollment and in every hello, and into the
 * node's file in the infra repo. Created once, on enrollment or at the first start of an agent enrolled
 * before nodes had keys; never rotated silently (a new key would lock the node out of its secrets).
 */
import { chmod, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FoundryError } from '../../common/errors.js';

/** The node's key pair and where the identity is kept. */
export interface NodeIdentity {
  /** AGE-SECRET-KEY-1...: never logged, never sent. */
  identity: string;
  /** age1...: public, sent to the hub. */
  recipient: string;
  file: string;
  /** True when this call created the key. */
  created: boolean;
}

/** File name of the node identity in the state dir. */
export const NODE_KEY_FILE = 'node-key.txt';

/** Path of the node identity in `stateDir`. */
export function nodeIdentityPath(stateDir: string): string {
  return join(stateDir, NODE_KEY_FILE);
}

/**
 * Reads the node's identity from `stateDir`, or creates it (0600, atomically) when there is none. A file
 * that exists but holds no identity, or is readable by others, is an error (CONFIG_INVALID): the agent
 * never replaces a key it cannot read.
 */
export async function loadOrCreateNodeIdentity(stateDir: string): Promise<NodeIdentity> {
  const file = nodeIdentityPath(stateDir);
  // age-encryption only when a key is needed: an agent without secrets never loads its curve code.
  const { generateAgeKeyPair, parseIdentityFile, recipientOf } = await import('../../common/secrets/age.js');
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new FoundryError('CONFIG_INVALID', `cannot read the node key ${file}: ${(err as Error).message}`, { resource: file, cause: err });
  }
  if (text !== undefined) {
    const mode = (await stat(file)).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new FoundryError('CONFIG_INVALID', `the node key ${file} is readable by others (mode ${mode.toString(8)}): run chmod 600 ${file}`, { resource: file });
    const [identity] = parseIdentityFile(text);
    if (identity === undefined) throw new FoundryError('CONFIG_INVALID', `the node key ${file} holds no age identity (AGE-SECRET-KEY-1...): restore it from a backup, or remove it to make a new key and re-encrypt the node's secrets`, { resource: file });
    return { identity, recipient: await recipientOf(identity), file, created: false };
  }
  const { identity, recipient } = await generateAgeKeyPair();
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`# created: ${new Date().toISOString()} by foundry agent\n# public key: ${recipient}\n${identity}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return { identity, recipient, file, created: true };
}
