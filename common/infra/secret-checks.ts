/**
 * Secrets in the infra repo: a plaintext `env` value whose name says it is a secret is a warning (it is
 * readable by everyone who can read Git, and by every node); a reference to a Secret the repo does not
 * declare, or one whose age file the target node cannot decrypt (not among the Secret's recipients with
 * the node's current spec.ageRecipient), is an error naming the node. checkSecretFiles (I/O, called by
 * the loader) checks that each Secret's age file exists and is an age file with as many stanzas as listed
 * recipients.
 */
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { issueAt } from './issue-at.js';
import type { InfraIssue, InfraRepo, Located, PathSegment } from './model.js';
import { readAgeHeader } from '../secrets/age-header.js';
import { secretUses } from '../secrets/recipients.js';

/** Names of environment variables that hold secrets by convention (a `_FILE` suffix points to a file and is fine). */
const SECRET_NAME = /(PASS(WORD|WD)?|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|SALT)(_|$)/i;
/** A URL with a password in it (postgresql://user:password@host). */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/:@\s]+:[^/@\s]+@/i;

/** Why an env entry looks like a plaintext secret, or undefined. */
export function plaintextSecretReason(name: string, value: string): string | undefined {
  if (value === '' || /_FILE$/i.test(name)) return undefined;
  if (SECRET_NAME.test(name)) return `${name} looks like a secret but its value is plaintext in Git`;
  if (URL_WITH_PASSWORD.test(value)) return `${name} holds a URL with a password in plaintext`;
  return undefined;
}

/** Adds secret issues (errors) and warnings to `repo`. */
export function checkSecrets(repo: InfraRepo, issues: InfraIssue[]): void {
  const warnings = (repo.warnings ??= []);
  for (const { loc, path, env } of envBlocks(repo)) {
    for (const [name, value] of Object.entries(env)) {
      const why = plaintextSecretReason(name, value);
      if (why !== undefined) warnings.push(issueAt('INFRA_CONFLICT', loc, [...path, name], `${why}: move it to a secret (secrets: [{ name: ..., env: ${name} }], see docs/secrets.md)`));
    }
  }
  const reported = new Set<string>();
  for (const use of secretUses(repo)) {
    const secret = repo.secrets.get(use.secret);
    const once = (key: string, issue: () => InfraIssue): void => {
      if (reported.has(key)) return;
      reported.add(key);
      issues.push(issue());
    };
    if (secret === undefined) {
      once(`missing|${use.secret}|${use.node}|${JSON.stringify(use.path)}|${use.loc.source.file}`, () => issueAt('INFRA_REFERENCE', use.loc, [...use.path, 'name'], `secret ${use.secret} (used by ${use.workload} on node ${use.node}) is not declared: no Secret document named ${use.secret} (create it with foundry secret encrypt ${use.secret})`));
      continue;
    }
    const key = repo.nodes.get(use.node)?.doc.spec.ageRecipient;
    if (key === undefined) {
      once(`nokey|${use.node}|${use.secret}`, () => issueAt('INFRA_REFERENCE', use.loc, [...use.path, 'name'], `secret ${use.secret} is needed on node ${use.node} (${use.workload}), which has no spec.ageRecipient: enroll the node or add its key (foundry secret recipients --from-hub), then foundry secret reencrypt ${use.secret}`));
      continue;
    }
    if (!secret.doc.spec.recipients.some((r) => r.recipient === key)) {
      once(`norecipient|${use.node}|${use.secret}`, () => issueAt('INFRA_REFERENCE', use.loc, [...use.path, 'name'], `node ${use.node} cannot decrypt secret ${use.secret} (used by ${use.workload}): its key is not among the recipients in ${secret.source.file}; run foundry secret reencrypt ${use.secret}`));
    }
  }
}

/** Every env mapping of the repo with its document and path (containers of profiles, services and templates; workspace overrides). */
function envBlocks(repo: InfraRepo): { loc: Located<unknown>; path: PathSegment[]; env: Record<string, string> }[] {
  const out: { loc: Located<unknown>; path: PathSegment[]; env: Record<string, string> }[] = [];
  const containersOf = (loc: Located<unknown>, containers: { env?: Record<string, string> }[] | undefined): void => {
    (containers ?? []).forEach((c, i) => {
      if (c.env !== undefined) out.push({ loc, path: ['spec', 'containers', i, 'env'], env: c.env });
    });
  };
  for (const loc of repo.profiles.values()) if (loc.builtin !== true) containersOf(loc, loc.doc.spec.containers);
  for (const loc of repo.services.values()) containersOf(loc, loc.doc.spec.containers);
  for (const loc of repo.templates.values()) containersOf(loc, loc.doc.spec.containers);
  for (const loc of repo.workspaces.values()) if (loc.doc.spec.env !== undefined) out.push({ loc, path: ['spec', 'env'], env: loc.doc.spec.env });
  return out;
}

/** Each Secret's age file: present, an age file, and with one stanza per listed recipient (else the sidecar is stale). */
export async function checkSecretFiles(repo: InfraRepo, dir: string, issues: InfraIssue[]): Promise<void> {
  for (const [name, loc] of repo.secrets) {
    const rel = posix.normalize(posix.join(posix.dirname(loc.source.file), loc.doc.spec.file ?? `${name}.age`));
    const at: PathSegment[] = loc.doc.spec.file === undefined ? ['metadata', 'name'] : ['spec', 'file'];
    if (rel.startsWith('..')) {
      issues.push(issueAt('INFRA_FILE', loc, at, `the age file ${rel} leaves the repo`));
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, rel));
    } catch {
      issues.push(issueAt('INFRA_FILE', loc, at, `secret ${name}: its age file ${rel} is missing (write it with foundry secret encrypt ${name})`));
      continue;
    }
    try {
      const { stanzas } = readAgeHeader(bytes);
      const listed = loc.doc.spec.recipients.length;
      if (stanzas.length !== listed) issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', 'recipients'], `secret ${name}: ${rel} is encrypted to ${stanzas.length} recipients but ${listed} are listed: the sidecar is out of date (foundry secret reencrypt ${name})`));
    } catch (err) {
      issues.push(issueAt('INFRA_FILE', loc, at, `secret ${name}: ${rel}: ${err instanceof Error ? err.message : String(err)}`));
    }
  }
}
