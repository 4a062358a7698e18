/**
 * Join tokens in the hub store: created hashed with an expiry and a use limit, listed with their uses,
 * revoked; and the one atomic step of enrollment (`reserveEnrollment`): check the token, refuse a taken
 * node name, count the use, create the node with a fresh credential, all in one transaction.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { FoundryError } from '../../common/errors.js';
import { hashSecret, newSecret, NODE_CREDENTIAL_PREFIX } from '../auth/secrets.js';
import { newJoinSecret } from '../../common/enroll/token-format.js';

/** What a new token is for. */
export interface JoinTokenSpec {
  ttlMs: number;
  uses: number;
  profile: string;
  /** The one node name it may enroll (needed to take over a node declared in Git); any name when absent. */
  node?: string;
  labels: Record<string, string>;
  createdBy: string;
}

/** A join token as listed (never the secret nor its hash). */
export interface JoinTokenRow {
  id: string;
  profile: string;
  /** The node name it is made for, or null for any name. */
  node: string | null;
  labels: Record<string, string>;
  maxUses: number;
  uses: number;
  expiresAt: string;
  createdAt: string;
  createdBy: string;
  revoked: boolean;
  /** active, expired, used-up or revoked (revoked wins, then used-up, then expired). */
  state: 'active' | 'expired' | 'used-up' | 'revoked';
  /** Nodes enrolled with it. */
  nodes: string[];
}

/** Creates a token; returns its id and the secret part (shown once, only its hash is kept). */
export function createJoinToken(db: Database.Database, spec: JoinTokenSpec, now: Date): { id: string; secret: string; expiresAt: string } {
  const secret = newJoinSecret();
  const id = randomBytes(6).toString('hex');
  const expiresAt = new Date(now.getTime() + spec.ttlMs).toISOString();
  db.prepare('INSERT INTO join_tokens (id, token_hash, profile, node, labels, max_uses, expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
    id,
    hashSecret(secret),
    spec.profile,
    spec.node ?? null,
    JSON.stringify(spec.labels),
    spec.uses,
    expiresAt,
    spec.createdBy,
    now.toISOString(),
  );
  return { id, secret, expiresAt };
}

/** Every token, newest first. */
export function listJoinTokens(db: Database.Database, now: Date): JoinTokenRow[] {
  const rows = db.prepare('SELECT * FROM join_tokens ORDER BY created_at DESC, id').all() as Array<Record<string, unknown>>;
  const byToken = new Map<string, string[]>();
  for (const e of db.prepare('SELECT node, token_id FROM node_enrollments ORDER BY node').all() as Array<{ node: string; token_id: string }>) {
    byToken.set(e.token_id, [...(byToken.get(e.token_id) ?? []), e.node]);
  }
  return rows.map((r) => {
    const row = {
      id: String(r.id),
      profile: String(r.profile),
      node: (r.node as string | null) ?? null,
      labels: JSON.parse(String(r.labels)) as Record<string, string>,
      maxUses: Number(r.max_uses),
      uses: Number(r.uses),
      expiresAt: String(r.expires_at),
      createdAt: String(r.created_at),
      createdBy: String(r.created_by),
      revoked: r.revoked === 1,
      nodes: byToken.get(String(r.id)) ?? [],
    };
    return { ...row, state: tokenState(row, now) };
  });
}

function tokenState(t: { revoked: boolean; uses: number; maxUses: number; expiresAt: string }, now: Date): JoinTokenRow['state'] {
  if (t.revoked) return 'revoked';
  if (t.uses >= t.maxUses) return 'used-up';
  return Date.parse(t.expiresAt) <= now.getTime() ? 'expired' : 'active';
}

/** Revokes a token; false when there is no such id. */
export function revokeJoinToken(db: Database.Database, id: string): boolean {
  return db.prepare('UPDATE join_tokens SET revoked = 1 WHERE id = ?').run(id).changes > 0;
}

/** What an enrolling node asks for. */
export interface EnrollmentClaim {
  secret: string;
  node: string;
  hostname: string;
  inventory: unknown;
  /** The profile Git declares for this node name, when a Node of that name is in the infra repo. */
  declaredProfile?: string;
}

/** What a token is for, to check a claim against Git before reserving; undefined for an unknown secret. */
export function joinTokenScope(db: Database.Database, secret: string): { id: string; profile: string; node: string | null } | undefined {
  const t = db.prepare('SELECT id, profile, node FROM join_tokens WHERE token_hash = ?').get(hashSecret(secret)) as { id: string; profile: string; node: string | null } | undefined;
  return t === undefined ? undefined : { id: t.id, profile: t.profile, node: t.node ?? null };
}

/**
 * Why a token may not enroll `node`, or undefined: a token made for one node name enrolls only that
 * name; a node declared in Git needs a token made for its name and of its profile.
 */
export function scopeProblem(token: { id: string; profile: string; node: string | null }, node: string, declaredProfile: string | undefined): string | undefined {
  if (token.node !== null && token.node !== node) return `join token ${token.id} is for node ${token.node}, not ${node}`;
  if (declaredProfile === undefined) return undefined;
  if (declaredProfile !== token.profile) return `node ${node} is declared in the infra repo with profile ${declaredProfile}, and join token ${token.id} is for profile ${token.profile}`;
  if (token.node !== node) return `node ${node} is declared in the infra repo: enrolling it needs a join token made for that node (--node ${node})`;
  return undefined;
}

/** A reserved enrollment: the node exists with this credential; the token's use is counted. */
export interface Reservation {
  node: string;
  credential: string;
  tokenId: string;
  profile: string;
  labels: Record<string, string>;
}

/**
 * Checks the token, its scope (see scopeProblem) and the name and, in one transaction, counts the use and
 * creates the node with a new credential. Throws JOIN_TOKEN (unknown, revoked, expired, used up, made for
 * another node or profile) or NODE_NAME_TAKEN; nothing changes then.
 */
export function reserveEnrollment(db: Database.Database, claim: EnrollmentClaim, now: Date): Reservation {
  return db.transaction((): Reservation => {
    const t = db.prepare('SELECT * FROM join_tokens WHERE token_hash = ?').get(hashSecret(claim.secret)) as Record<string, unknown> | undefined;
    if (t === undefined) throw new FoundryError('JOIN_TOKEN', 'unknown join token');
    const id = String(t.id);
    const state = tokenState({ revoked: t.revoked === 1, uses: Number(t.uses), maxUses: Number(t.max_uses), expiresAt: String(t.expires_at) }, now);
    if (state !== 'active') throw new FoundryError('JOIN_TOKEN', `join token ${id} is ${state}`, { resource: id });
    if (db.prepare('SELECT 1 FROM nodes WHERE name = ?').get(claim.node) !== undefined) {
      throw new FoundryError('NODE_NAME_TAKEN', `node name ${claim.node} is already enrolled: pick another name (--name) or ask an admin`, { resource: claim.node });
    }
    const problem = scopeProblem({ id, profile: String(t.profile), node: (t.node as string | null) ?? null }, claim.node, claim.declaredProfile);
    if (problem !== undefined) throw new FoundryError('JOIN_TOKEN', problem, { resource: id });
    const credential = newSecret(NODE_CREDENTIAL_PREFIX);
    const at = now.toISOString();
    db.prepare('UPDATE join_tokens SET uses = uses + 1 WHERE id = ?').run(id);
    db.prepare('INSERT INTO nodes (name, credential_hash, created_at) VALUES (?, ?, ?)').run(claim.node, hashSecret(credential), at);
    db.prepare('INSERT INTO node_enrollments (node, token_id, hostname, profile, labels, inventory, enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      claim.node,
      id,
      claim.hostname,
      String(t.profile),
      String(t.labels),
      JSON.stringify(claim.inventory),
      at,
    );
    return { node: claim.node, credential, tokenId: id, profile: String(t.profile), labels: JSON.parse(String(t.labels)) as Record<string, string> };
  })();
}

/** Undoes a reservation whose node file could not be committed: the node is gone and the use is given back. */
export function releaseEnrollment(db: Database.Database, r: Reservation): void {
  db.transaction(() => {
    db.prepare('DELETE FROM node_enrollments WHERE node = ?').run(r.node);
    db.prepare('DELETE FROM nodes WHERE name = ?').run(r.node);
    db.prepare('UPDATE join_tokens SET uses = uses - 1 WHERE id = ? AND uses > 0').run(r.tokenId);
  })();
}

/** Records where the node file went (its path and revision) once committed. */
export function recordNodeFile(db: Database.Database, node: string, nodeFile: string): void {
  db.prepare('UPDATE node_enrollments SET node_file = ? WHERE node = ?').run(nodeFile, node);
}

/** Enrollment facts per node (for the nodes API and dashboard). */
export function enrollments(db: Database.Database): Map<string, { tokenId: string; hostname: string; profile: string; labels: Record<string, string>; enrolledAt: string; nodeFile: string | null }> {
  const rows = db.prepare('SELECT * FROM node_enrollments').all() as Array<Record<string, unknown>>;
  return new Map(
    rows.map((r) => [
      String(r.node),
      { tokenId: String(r.token_id), hostname: String(r.hostname), profile: String(r.profile), labels: JSON.parse(String(r.labels)) as Record<string, string>, enrolledAt: String(r.enrolled_at), nodeFile: (r.node_file as string | null) ?? null },
    ]),
  );
}

/** Saves the hub's public URL and TLS pin (written by a listening hub, read by `foundry hub token create`). */
export function saveHubIdentity(db: Database.Database, identity: { url: string | undefined; pin: string | undefined }, now: Date): void {
  db.prepare('INSERT INTO hub_identity (id, url, tls_pin, updated_at) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET url = excluded.url, tls_pin = excluded.tls_pin, updated_at = excluded.updated_at').run(
    identity.url ?? null,
    identity.pin ?? null,
    now.toISOString(),
  );
}

/** The identity the hub last saved (both undefined before its first start). */
export function hubIdentity(db: Database.Database): { url: string | undefined; pin: string | undefined } {
  const r = db.prepare('SELECT url, tls_pin FROM hub_identity WHERE id = 1').get() as { url: string | null; tls_pin: string | null } | undefined;
  return { url: r?.url ?? undefined, pin: r?.tls_pin ?? undefined };
}
