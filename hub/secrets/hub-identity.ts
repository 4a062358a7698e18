/**
 * The hub's own age identity: the hub is a recipient of the infra repo's secrets (so it can re-encrypt
 * them when it moves a workspace) and encrypts tenant secrets at rest to itself. Generated at first start
 * into `<data dir>/secrets/hub.agekey` (0600 in a 0700 folder), in age-keygen's format, so
 * `age -d -i <data dir>/secrets/hub.agekey` reads what the hub encrypted. `foundry hub age-recipient` prints
 * the recipient admins add to the repo's recipients.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FoundryError } from '../../common/errors.js';
import { generateAgeKeyPair, parseIdentityFile, recipientOf } from '../../common/secrets/age.js';

/** The hub's age key pair. The identity never leaves the hub's data dir, logs or answers. */
export interface HubAgeIdentity {
  /** Where the key file is. */
  file: string;
  /** `AGE-SECRET-KEY-1...`. */
  identity: string;
  /** `age1...`, public. */
  recipient: string;
}

/** Path of the hub's age key in a data dir. */
export function hubIdentityPath(dataDir: string): string {
  return join(dataDir, 'secrets', 'hub.agekey');
}

/** Reads the hub's age identity from `dataDir`, generating it when missing. */
export async function ensureHubIdentity(dataDir: string): Promise<HubAgeIdentity> {
  const dir = join(dataDir, 'secrets');
  const file = hubIdentityPath(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (!existsSync(file)) {
    const { identity, recipient } = await generateAgeKeyPair();
    // Written whole under a temporary name, then renamed: an interrupted start leaves no half key.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  }
  chmodSync(file, 0o600);
  const [line] = parseIdentityFile(readFileSync(file, 'utf8'));
  if (line === undefined) throw new FoundryError('CONFIG_INVALID', `${file} holds no age identity (a line AGE-SECRET-KEY-1...)`, { resource: file });
  let recipient: string;
  try {
    recipient = await recipientOf(line);
  } catch {
    // no cause: the parser's message could quote the key
    throw new FoundryError('CONFIG_INVALID', `${file}: the age identity is malformed`, { resource: file });
  }
  return { file, identity: line, recipient };
}
