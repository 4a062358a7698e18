/**
 * Dashboard users in the hub store: create (with a one-time password to change at first login), the
 * password and TOTP checks of a login, TOTP enrolment, recovery codes (hashed, single use) and 2FA reset,
 * and single sign-on users (linked by provider and subject, no password; see hub/sso/complete-login.ts).
 * Queries take the store's database; no secret is ever returned except the ones a caller must show once.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { FoundryError } from '../../common/errors.js';
import { hashSecret } from './secrets.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { checkTotp, newTotpSecret } from './totp.js';

/** A user as routes see it (no hashes, no TOTP secret). */
export interface User {
  name: string;
  role: 'admin' | 'tenant';
  tenant: string | null;
  /** A tenant user's role in its tenant: member, or admin (manages its tenant's users and API tokens). */
  tenantRole: TenantRole;
  mustChangePassword: boolean;
  totpEnabled: boolean;
  createdAt: string;
  /** Single sign-on users: the identity provider and the subject there; absent for local users. */
  sso?: { provider: string; subject: string; groups: string[] };
}

/** A tenant user's role in its tenant. */
export type TenantRole = 'admin' | 'member';

/** password_hash of SSO users: not a scrypt hash, so no password ever matches it. */
const NO_PASSWORD = '!sso';

interface UserRow {
  name: string;
  role: 'admin' | 'tenant';
  tenant: string | null;
  password_hash: string;
  must_change_password: number;
  totp_secret: string | null;
  totp_enabled: number;
  totp_last_step: number;
  created_at: string;
  tenant_role: TenantRole;
  sso_provider: string | null;
  sso_subject: string | null;
  sso_groups: string | null;
}

/** User names: a DNS-label-like login name. */
export const USER_NAME = /^[a-z0-9]([-a-z0-9._]{0,62}[a-z0-9])?$/;
const RECOVERY_CODES = 10;

const toUser = (r: UserRow): User => ({
  name: r.name,
  role: r.role,
  tenant: r.tenant,
  tenantRole: r.tenant_role,
  mustChangePassword: r.must_change_password === 1,
  totpEnabled: r.totp_enabled === 1,
  createdAt: r.created_at,
  ...(r.sso_provider !== null && r.sso_subject !== null ? { sso: { provider: r.sso_provider, subject: r.sso_subject, groups: JSON.parse(r.sso_groups ?? '[]') as string[] } } : {}),
});

function row(db: Database.Database, name: string): UserRow | undefined {
  return db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined;
}

/** Creates a user with `password` (a one-time password: it must be changed at first login). */
export async function createUser(db: Database.Database, u: { name: string; role: 'admin' | 'tenant'; tenant?: string; tenantRole?: TenantRole }, password: string, now: Date): Promise<User> {
  if (!USER_NAME.test(u.name)) throw new FoundryError('BAD_REQUEST', `invalid user name ${JSON.stringify(u.name)}: lowercase letters, digits, '-', '.', '_'`, { resource: u.name });
  if ((u.role === 'tenant') !== (u.tenant !== undefined)) throw new FoundryError('BAD_REQUEST', u.role === 'tenant' ? 'a tenant user needs --tenant' : 'an admin has no tenant', { resource: u.name });
  if (row(db, u.name) !== undefined) throw new FoundryError('CONFLICT', `user ${u.name} already exists`, { resource: u.name });
  const hash = await hashPassword(password);
  db.prepare('INSERT INTO users (name, role, tenant, tenant_role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(u.name, u.role, u.tenant ?? null, u.tenantRole ?? 'member', hash, now.toISOString());
  return toUser(row(db, u.name) as UserRow);
}

/** Where a single sign-on user belongs now: platform admin, or a tenant with its role there. */
export type SsoPlacement = { role: 'admin' } | { role: 'tenant'; tenant: string; tenantRole: TenantRole };

/** The user linked to (provider, subject), if any. */
export function findSsoUser(db: Database.Database, provider: string, subject: string): User | undefined {
  const r = db.prepare('SELECT * FROM users WHERE sso_provider = ? AND sso_subject = ?').get(provider, subject) as UserRow | undefined;
  return r === undefined ? undefined : toUser(r);
}

/**
 * Creates or updates the user of an SSO identity: role, tenant and groups as of this login. A new user's
 * name comes from `nameHint` (made safe, suffixed with the provider, then -2, -3... when taken); it never
 * takes over an existing user. Returns the user and whether it was created.
 */
export function upsertSsoUser(
  db: Database.Database,
  id: { provider: string; subject: string; nameHint: string; email?: string; displayName?: string; groups: string[] },
  placement: SsoPlacement,
  now: Date,
): { user: User; created: boolean } {
  return db.transaction(() => {
    const tenant = placement.role === 'tenant' ? placement.tenant : null;
    const tenantRole = placement.role === 'tenant' ? placement.tenantRole : 'member';
    const groups = JSON.stringify(id.groups);
    const existing = findSsoUser(db, id.provider, id.subject);
    if (existing !== undefined) {
      db.prepare('UPDATE users SET role = ?, tenant = ?, tenant_role = ?, sso_groups = ?, email = ?, display_name = ? WHERE name = ?').run(placement.role, tenant, tenantRole, groups, id.email ?? null, id.displayName ?? null, existing.name);
      // A user moved to another tenant or role keeps no session of the old one.
      if (existing.role !== placement.role || existing.tenant !== tenant || existing.tenantRole !== tenantRole) db.prepare('DELETE FROM sessions WHERE user = ?').run(existing.name);
      return { user: toUser(row(db, existing.name) as UserRow), created: false };
    }
    const name = freeName(db, ssoUserName(id.nameHint, id.provider));
    db.prepare(
      'INSERT INTO users (name, role, tenant, tenant_role, password_hash, must_change_password, sso_provider, sso_subject, sso_groups, email, display_name, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)',
    ).run(name, placement.role, tenant, tenantRole, NO_PASSWORD, id.provider, id.subject, groups, id.email ?? null, id.displayName ?? null, now.toISOString());
    return { user: toUser(row(db, name) as UserRow), created: true };
  })();
}

/** A safe user name from an IdP's hint (e-mail local part, preferred name): `alice.acme-entra`. */
export function ssoUserName(hint: string, provider: string): string {
  const local = hint.split('@')[0]!.toLowerCase().normalize('NFKD').replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  const base = (local === '' ? 'user' : local).slice(0, Math.max(8, 58 - provider.length)).replace(/[^a-z0-9]+$/, '');
  return `${base === '' ? 'user' : base}.${provider}`.slice(0, 60).replace(/[^a-z0-9]+$/, '');
}

function freeName(db: Database.Database, name: string): string {
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? name : `${name.slice(0, 60)}-${i}`;
    if (row(db, candidate) === undefined) return candidate;
  }
}

/** A user by name. */
export function getUser(db: Database.Database, name: string): User | undefined {
  const r = row(db, name);
  return r === undefined ? undefined : toUser(r);
}

/** Every user, by name; only `tenant`'s when given. */
export function listUsers(db: Database.Database, tenant?: string): User[] {
  const rows = tenant === undefined ? db.prepare('SELECT * FROM users ORDER BY name').all() : db.prepare("SELECT * FROM users WHERE role = 'tenant' AND tenant = ? ORDER BY name").all(tenant);
  return (rows as UserRow[]).map(toUser);
}

// A fixed hash to verify against when the user does not exist, so both cases cost one scrypt.
let dummyHash: Promise<string> | undefined;

/** The user when `password` is right, else undefined (same cost for unknown users). */
export async function checkPassword(db: Database.Database, name: string, password: string): Promise<User | undefined> {
  const r = row(db, name);
  dummyHash ??= hashPassword('not-a-password-of-anyone');
  const ok = await verifyPassword(password, r?.password_hash ?? (await dummyHash));
  return ok && r !== undefined ? toUser(r) : undefined;
}

/** Sets a new password and clears the must-change flag. */
export async function setPassword(db: Database.Database, name: string, password: string): Promise<void> {
  db.prepare('UPDATE users SET password_hash = ?, must_change_password = 0 WHERE name = ?').run(await hashPassword(password), name);
}

/** A fresh TOTP secret for a user who has none enabled yet (kept pending until confirmed by a code). */
export function pendingTotpSecret(db: Database.Database, name: string): string {
  const r = row(db, name);
  if (r === undefined) throw new FoundryError('NOT_FOUND', `no user ${name}`, { resource: name });
  if (r.totp_enabled === 1) throw new FoundryError('CONFLICT', `user ${name} already has a second factor`, { resource: name });
  if (r.totp_secret !== null) return r.totp_secret;
  const secret = newTotpSecret();
  db.prepare('UPDATE users SET totp_secret = ? WHERE name = ?').run(secret, name);
  return secret;
}

/** Checks a TOTP code (and records its step) or a recovery code (and spends it). */
export function checkSecondFactor(db: Database.Database, name: string, code: string, now: number): 'totp' | 'recovery' | undefined {
  const r = row(db, name);
  if (r === undefined || r.totp_secret === null) return undefined;
  const clean = code.replace(/\s+/g, '');
  const step = checkTotp(r.totp_secret, clean, now, r.totp_last_step);
  if (step !== undefined) {
    // Compare-and-set: two logins racing with the same code cannot both win.
    const won = db.prepare('UPDATE users SET totp_last_step = ? WHERE name = ? AND totp_last_step < ?').run(step, name, step).changes === 1;
    return won ? 'totp' : undefined;
  }
  if (r.totp_enabled !== 1 || !/^[a-z0-9]{5}-[a-z0-9]{5}$/i.test(clean)) return undefined;
  const spent = db.prepare('UPDATE recovery_codes SET used_at = ? WHERE user = ? AND code_hash = ? AND used_at IS NULL').run(new Date(now).toISOString(), name, hashSecret(clean.toLowerCase()));
  return spent.changes === 1 ? 'recovery' : undefined;
}

/** Enables TOTP after a correct code and returns new recovery codes (shown once; stored hashed). */
export function enableTotp(db: Database.Database, name: string): string[] {
  const codes = Array.from({ length: RECOVERY_CODES }, () => {
    const s = randomBytes(8).toString('hex').slice(0, 10);
    return `${s.slice(0, 5)}-${s.slice(5)}`;
  });
  db.transaction(() => {
    db.prepare('UPDATE users SET totp_enabled = 1 WHERE name = ?').run(name);
    db.prepare('DELETE FROM recovery_codes WHERE user = ?').run(name);
    const insert = db.prepare('INSERT INTO recovery_codes (user, code_hash) VALUES (?, ?)');
    for (const c of codes) insert.run(name, hashSecret(c));
  })();
  return codes;
}

/** Recovery codes a user has left. */
export function recoveryCodesLeft(db: Database.Database, name: string): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM recovery_codes WHERE user = ? AND used_at IS NULL').get(name) as { n: number }).n;
}

/** Removes a user's second factor and sessions (they enrol again at next login); false when no such user. */
export function resetSecondFactor(db: Database.Database, name: string): boolean {
  return db.transaction(() => {
    const changed = db.prepare('UPDATE users SET totp_secret = NULL, totp_enabled = 0, totp_last_step = 0 WHERE name = ?').run(name).changes === 1;
    db.prepare('DELETE FROM recovery_codes WHERE user = ?').run(name);
    db.prepare('DELETE FROM sessions WHERE user = ?').run(name);
    return changed;
  })();
}
