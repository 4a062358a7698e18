/**
 * What `foundry secret` does to a checkout of the infra repo, offline: encrypt a value to the nodes that
 * need it (their spec.ageRecipient in the Node files) plus the admins (.foundry/admin-recipients), write
 * secrets/NAME.age (armored, what `age -d` reads) and its sidecar secrets/NAME.yaml (kind Secret: who
 * can decrypt), re-encrypt (rotation, a new node, a move; needs an identity that can decrypt), and say
 * who can decrypt. The admin commits and pushes the result like any other change.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { FoundryError } from '../common/errors.js';
import { loadInfraDir } from '../common/infra/load.js';
import type { InfraRepo, Secret } from '../common/infra/model.js';
import { AGE_RECIPIENT, decryptWithIdentities, encryptToRecipients, parseRecipientsFile } from '../common/secrets/age.js';
import { readAgeHeader } from '../common/secrets/age-header.js';
import { secretRecipients } from '../common/secrets/recipients.js';

/** Where admins list their age public keys (one per line, `# name` after each), relative to the repo root. */
export const ADMIN_RECIPIENTS_FILE = '.foundry/admin-recipients';

/** One recipient of a secret file. */
export type SecretRecipient = Secret['spec']['recipients'][number];

/** The recipients a secret needs now: each node that runs a workload using it, then every admin. */
export async function recipientsFor(dir: string, repo: InfraRepo, name: string): Promise<{ recipients: SecretRecipient[]; nodes: string[]; workloads: string[] }> {
  const need = secretRecipients(repo).get(name) ?? { nodes: [], workloads: [] };
  const out: SecretRecipient[] = [];
  const missing: string[] = [];
  for (const node of need.nodes) {
    const r = repo.nodes.get(node)?.doc.spec.ageRecipient;
    if (r === undefined) missing.push(node);
    else out.push({ node, recipient: r });
  }
  if (missing.length > 0) {
    throw new FoundryError('INFRA_REFERENCE', `secret ${name} is needed on ${missing.join(', ')}, but ${missing.length === 1 ? 'that node has' : 'those nodes have'} no spec.ageRecipient in nodes/: enroll the node (it writes its key) or copy the key from \`foundry secret recipients\``, { resource: `secrets/${name}` });
  }
  out.push(...(await adminRecipients(dir)));
  if (out.length === 0) throw new FoundryError('INFRA_REFERENCE', `secret ${name}: nobody could decrypt it: no workload uses it and ${ADMIN_RECIPIENTS_FILE} lists no admin`, { resource: `secrets/${name}` });
  return { recipients: out, nodes: need.nodes, workloads: need.workloads };
}

/** The admins' recipients from .foundry/admin-recipients (empty when the file is absent). */
export async function adminRecipients(dir: string): Promise<SecretRecipient[]> {
  let text: string;
  try {
    text = await readFile(join(dir, ADMIN_RECIPIENTS_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return parseRecipientsFile(text).map((r) => {
    if (!AGE_RECIPIENT.test(r.recipient)) throw new FoundryError('INFRA_FILE', `${ADMIN_RECIPIENTS_FILE}:${r.line}: not an age X25519 recipient (expected age1... and an optional # name)`, { resource: `${ADMIN_RECIPIENTS_FILE}:${r.line}` });
    return { admin: r.label ?? `line ${r.line}`, recipient: r.recipient };
  });
}

/** The infra repo of a checkout; issues do not stop `foundry secret` (a template may name a secret that does not exist yet). */
export function loadCheckout(dir: string): Promise<InfraRepo> {
  return loadInfraDir(dir);
}

/** Encrypts `value` as secret `name` and writes secrets/NAME.age and secrets/NAME.yaml (or the files an existing Secret document names). */
export async function encryptSecret(dir: string, name: string, value: Uint8Array, now = new Date()): Promise<{ files: string[]; recipients: SecretRecipient[]; nodes: string[] }> {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) throw new FoundryError('CLI_USAGE', `invalid secret name ${name}: a DNS label (lowercase letters, digits, '-')`);
  if (value.length === 0) throw new FoundryError('CLI_USAGE', `secret ${name}: the value is empty`);
  const repo = await loadCheckout(dir);
  const { recipients, nodes } = await recipientsFor(dir, repo, name);
  const existing = repo.secrets.get(name);
  const docFile = existing?.source.file ?? `secrets/${name}.yaml`;
  const ageFile = join(dirname(docFile), existing?.doc.spec.file ?? `${name}.age`);
  const armored = await encryptToRecipients(value, recipients.map((r) => r.recipient));
  await mkdir(dirname(join(dir, ageFile)), { recursive: true });
  await writeFile(join(dir, ageFile), armored);
  await writeFile(join(dir, docFile), sidecarText(name, existing?.doc.spec.file, recipients, now));
  return { files: [ageFile, docFile], recipients, nodes };
}

/** Re-encrypts secret `name` to whoever needs it now, decrypting with `identities` (an admin's key). */
export async function reencryptSecret(dir: string, name: string, identities: string[], now = new Date()): Promise<{ files: string[]; recipients: SecretRecipient[]; nodes: string[] }> {
  const repo = await loadCheckout(dir);
  const doc = repo.secrets.get(name);
  if (doc === undefined) throw new FoundryError('NOT_FOUND', `no Secret document named ${name} in the repo`, { resource: `secrets/${name}` });
  const ageFile = join(dirname(doc.source.file), doc.doc.spec.file ?? `${name}.age`);
  let value: Uint8Array;
  try {
    value = await decryptWithIdentities(await readFile(join(dir, ageFile)), identities);
  } catch (err) {
    throw new FoundryError('INFRA_FILE', `secret ${name}: ${ageFile}: ${err instanceof Error ? err.message : String(err)}`, { resource: ageFile, cause: err });
  }
  return encryptSecret(dir, name, value, now);
}

/** Who can decrypt secret `name` (from its sidecar), who should (from the repo), and whether the file's stanza count agrees. */
export async function whoCanDecrypt(dir: string, name: string): Promise<{ recipients: SecretRecipient[]; needs: string[]; missing: string[]; extra: string[]; stanzas: number; file: string; workloads: string[] }> {
  const repo = await loadCheckout(dir);
  const doc = repo.secrets.get(name);
  if (doc === undefined) throw new FoundryError('NOT_FOUND', `no Secret document named ${name} in the repo`, { resource: `secrets/${name}` });
  const file = join(dirname(doc.source.file), doc.doc.spec.file ?? `${name}.age`);
  const { stanzas } = readAgeHeader(await readFile(join(dir, file)));
  const need = secretRecipients(repo).get(name) ?? { nodes: [], workloads: [] };
  const listed = doc.doc.spec.recipients;
  const keyOf = (node: string): string | undefined => repo.nodes.get(node)?.doc.spec.ageRecipient;
  const missing = need.nodes.filter((n) => !listed.some((r) => r.node === n && r.recipient === keyOf(n)));
  const extra = listed.filter((r) => r.node !== undefined && !need.nodes.includes(r.node)).map((r) => r.node!);
  return { recipients: listed, needs: need.nodes, missing, extra, stanzas: stanzas.length, file, workloads: need.workloads };
}

/** The sidecar document: a Secret with its recipients (yaml-language-server header like every repo file). */
export function sidecarText(name: string, file: string | undefined, recipients: SecretRecipient[], now: Date): string {
  const doc = { apiVersion: 'foundry.cloud/v1', kind: 'Secret', metadata: { name }, spec: { ...(file === undefined ? {} : { file }), recipients, encryptedAt: now.toISOString() } };
  return `# yaml-language-server: $schema=../schemas/infra.schema.json\n# Written by foundry secret: the age file ${file ?? `${name}.age`} is encrypted to exactly these recipients.\n${stringify(doc, { lineWidth: 0 })}`;
}
