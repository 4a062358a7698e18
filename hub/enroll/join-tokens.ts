/**
 * Join tokens (rows in the store's JoinTokensRepo): created hashed with an expiry and a use limit, listed with their uses,
 * revoked; and the one atomic step of enrollment (`reserveEnrollment`): check the token, refuse a taken
 * node name, count the use, create the node with a fresh credential, all in one transaction.
 */
import { randomBytes } from 'node:crypto';
import { FoundryError } from '../../common/errors.js';
import { hashSecret, newSecret, NODE_CREDENTIAL_PREFIX } from '../auth/secrets.js';
import { newJoinSecret } from '../../common/enroll/token-format.js';
import type { JoinTokensRepo, StoredJoinToken } from '../store/join-tokens-repo.js';

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

/** A join token as listed (never the secret nor its hash): the stored row, its state and the nodes enrolled with it. */
export interface JoinTokenRow extends StoredJoinToken {
  /** active, expired, used-up or revoked (revoked wins, then used-up, then expired). */
  state: 'active' | 'expired' | 'used-up' | 'revoked';
  /** Nodes enrolled with it. */
  nodes: string[];
}

/** Creates a token; returns its id and the secret part (shown once, only its hash is kept). */
export async function createJoinToken(repo: JoinTokensRepo, spec: JoinTokenSpec, now: Date): Promise<{ id: string; secret: string; expiresAt: string }> {
  const secret = newJoinSecret();
  const id = randomBytes(6).toString('hex');
  const expiresAt = new Date(now.getTime() + spec.ttlMs).toISOString();
  await repo.create({ id, tokenHash: hashSecret(secret), profile: spec.profile, node: spec.node ?? null, labels: spec.labels, maxUses: spec.uses, expiresAt, createdBy: spec.createdBy, createdAt: now.toISOString() });
  return { id, secret, expiresAt };
}

/** Every token, newest first. */
export async function listJoinTokens(repo: JoinTokensRepo, now: Date): Promise<JoinTokenRow[]> {
  const byToken = new Map<string, string[]>();
  for (const e of await repo.enrollments()) byToken.set(e.tokenId, [...(byToken.get(e.tokenId) ?? []), e.node]);
  return (await repo.list()).map((t) => ({ ...t, nodes: byToken.get(t.id) ?? [], state: tokenState(t, now) }));
}

function tokenState(t: { revoked: boolean; uses: number; maxUses: number; expiresAt: string }, now: Date): JoinTokenRow['state'] {
  if (t.revoked) return 'revoked';
  if (t.uses >= t.maxUses) return 'used-up';
  return Date.parse(t.expiresAt) <= now.getTime() ? 'expired' : 'active';
}

/** Revokes a token; false when there is no such id. */
export function revokeJoinToken(repo: JoinTokensRepo, id: string): Promise<boolean> {
  return repo.revoke(id);
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
export async function joinTokenScope(repo: JoinTokensRepo, secret: string): Promise<{ id: string; profile: string; node: string | null } | undefined> {
  const t = await repo.byHash(hashSecret(secret));
  return t === undefined ? undefined : { id: t.id, profile: t.profile, node: t.node };
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
export async function reserveEnrollment(repo: JoinTokensRepo, claim: EnrollmentClaim, now: Date): Promise<Reservation> {
  const credential = newSecret(NODE_CREDENTIAL_PREFIX);
  const check = (t: StoredJoinToken | undefined, nodeExists: boolean): void => {
    if (t === undefined) throw new FoundryError('JOIN_TOKEN', 'unknown join token');
    const state = tokenState(t, now);
    if (state !== 'active') throw new FoundryError('JOIN_TOKEN', `join token ${t.id} is ${state}`, { resource: t.id });
    if (nodeExists) throw new FoundryError('NODE_NAME_TAKEN', `node name ${claim.node} is already enrolled: pick another name (--name) or ask an admin`, { resource: claim.node });
    const problem = scopeProblem(t, claim.node, claim.declaredProfile);
    if (problem !== undefined) throw new FoundryError('JOIN_TOKEN', problem, { resource: t.id });
  };
  const rows = { node: claim.node, hostname: claim.hostname, inventory: claim.inventory, credentialHash: hashSecret(credential), at: now.toISOString() };
  const t = await repo.reserve(hashSecret(claim.secret), rows, check);
  return { node: claim.node, credential, tokenId: t.id, profile: t.profile, labels: t.labels };
}

/** Undoes a reservation whose node file could not be committed: the node is gone and the use is given back. */
export function releaseEnrollment(repo: JoinTokensRepo, r: Reservation): Promise<void> {
  return repo.release(r.node, r.tokenId);
}

/** Records where the node file went (its path and revision) once committed. */
export function recordNodeFile(repo: JoinTokensRepo, node: string, nodeFile: string): Promise<void> {
  return repo.setNodeFile(node, nodeFile);
}

/** Enrollment facts per node (for the nodes API and dashboard). */
export async function enrollments(repo: JoinTokensRepo): Promise<Map<string, { tokenId: string; hostname: string; profile: string; labels: Record<string, string>; enrolledAt: string; nodeFile: string | null }>> {
  return new Map((await repo.enrollments()).map(({ node, ...rest }) => [node, rest]));
}

/** Saves the hub's public URL and TLS pin (written by a listening hub, read by `foundry hub token create`). */
export function saveHubIdentity(repo: JoinTokensRepo, identity: { url: string | undefined; pin: string | undefined }, now: Date): Promise<void> {
  return repo.saveIdentity(identity, now.toISOString());
}

/** The identity the hub last saved (both undefined before its first start). */
export function hubIdentity(repo: JoinTokensRepo): Promise<{ url: string | undefined; pin: string | undefined }> {
  return repo.identity();
}
