/**
 * Repo secrets follow placements: when the hub commits a placement, the same commit re-encrypts every
 * `secrets/*.age` file whose set of nodes changed with it (secretRecipients: the nodes where a workload
 * refers to the secret), so the new node can decrypt it and a node that no longer runs a workload using
 * it cannot decrypt the new version. The hub decrypts with its own age identity (it must be one of the
 * file's recipients: its line in .foundry/admin-recipients); admins' recipients are kept as they are.
 * Plaintext exists only in the hub's memory for the moment of re-encryption.
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { InfraRepo, Secret, Workspace } from '../../common/infra/model.js';
import { decryptWithIdentities, encryptToRecipients } from '../../common/secrets/age.js';
import { secretRecipients } from '../../common/secrets/recipients.js';
import type { FileChange } from '../gitops/repo-writer.js';
import { setFields } from '../workspaces/workspace-yaml.js';
import type { HubAgeIdentity } from './hub-identity.js';

type Recipient = Secret['spec']['recipients'][number];

/** What a placement commit re-encrypts: the files, one line per secret for the commit message, and what it could not do. */
export interface ReencryptPlan {
  changes: FileChange[];
  done: string[];
  skipped: string[];
}

/** The repo as it is once `ws` is placed (its document replaced or added), for secretRecipients. */
export function withWorkspace(repo: InfraRepo, ws: Workspace): InfraRepo {
  const workspaces = new Map(repo.workspaces);
  const old = workspaces.get(ws.metadata.name);
  workspaces.set(ws.metadata.name, { ...(old ?? { source: { file: '', line: 1, column: 1 } }), doc: ws });
  return { ...repo, workspaces };
}

/**
 * Re-encrypts, in the checkout `dir`, the repo secrets whose nodes differ between `before` and `after`:
 * node recipients become exactly the nodes that need the secret after (their Node file's spec.ageRecipient),
 * every other recipient (admins, the hub) stays.
 */
export async function reencryptForPlacement(dir: string, before: InfraRepo, after: InfraRepo, hub: HubAgeIdentity, now: Date = new Date()): Promise<ReencryptPlan> {
  const plan: ReencryptPlan = { changes: [], done: [], skipped: [] };
  const was = secretRecipients(before);
  const will = secretRecipients(after);
  for (const name of [...new Set([...was.keys(), ...will.keys()])].sort()) {
    const oldNodes = was.get(name)?.nodes ?? [];
    const newNodes = will.get(name)?.nodes ?? [];
    if (oldNodes.join(',') === newNodes.join(',')) continue;
    const sidecar = after.secrets.get(name);
    if (sidecar === undefined) continue; // a reference to a missing secret: validation names it
    const current = sidecar.doc.spec.recipients;
    const missing = newNodes.filter((n) => after.nodes.get(n)?.doc.spec.ageRecipient === undefined);
    if (missing.length > 0) {
      plan.skipped.push(`secret ${name}: node ${missing.join(', ')} has no spec.ageRecipient in its Node file, so it cannot be made a recipient`);
      continue;
    }
    const next: Recipient[] = [...current.filter((r) => r.node === undefined), ...newNodes.map((n) => ({ node: n, recipient: after.nodes.get(n)!.doc.spec.ageRecipient! }))];
    if (sameRecipients(current, next)) continue;
    if (!current.some((r) => r.recipient === hub.recipient)) {
      plan.skipped.push(`secret ${name}: not encrypted to the hub (${hub.recipient}); add the hub's recipient to .foundry/admin-recipients and run foundry secret reencrypt ${name}, or re-encrypt it for ${newNodes.join(', ')} yourself`);
      continue;
    }
    const sidecarFile = sidecar.source.file;
    const ageFile = posix.join(posix.dirname(sidecarFile), sidecar.doc.spec.file ?? `${name}.age`);
    let plaintext: Uint8Array;
    try {
      plaintext = await decryptWithIdentities(readFileSync(join(dir, ageFile)), [hub.identity]);
    } catch (err) {
      plan.skipped.push(`secret ${name} (${ageFile}): the hub cannot decrypt it: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const ciphertext = await encryptToRecipients(plaintext, next.map((r) => r.recipient));
    const text = setFields(readFileSync(join(dir, sidecarFile), 'utf8'), sidecarFile, 'Secret', name, [[['spec', 'recipients'], next], [['spec', 'encryptedAt'], now.toISOString()]]);
    plan.changes.push({ path: ageFile, content: ciphertext }, { path: sidecarFile, content: text });
    // what the file said before, not what `before` needed: an admin may have unplaced the workspace meanwhile
    const had = current.flatMap((r) => (r.node === undefined ? [] : [r.node]));
    const added = newNodes.filter((n) => !had.includes(n));
    const dropped = had.filter((n) => !newNodes.includes(n));
    plan.done.push(`${ageFile}: ${[...added.map((n) => `+${n}`), ...dropped.map((n) => `-${n}`)].join(' ')}`);
  }
  return plan;
}

function sameRecipients(a: readonly Recipient[], b: readonly Recipient[]): boolean {
  const key = (l: readonly Recipient[]): string => l.map((r) => r.recipient).sort().join(',');
  return key(a) === key(b);
}

