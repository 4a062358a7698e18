/**
 * Dashboard users: create (with a one-time password to change at first login), the password and TOTP
 * checks of a login, TOTP enrolment, recovery codes (hashed, single use) and 2FA reset, and single sign-on
 * users (linked by provider and subject, no password; see hub/sso/complete-login.ts). The rules live here;
 * the rows in the store's UsersRepo. No secret is ever returned except the ones a caller must show once.
 */
import { randomBytes } from 'node:crypto';
import { FoundryError } from '../../common/errors.js';
import type { TenantRole, UserRecord, UsersRepo } from '../store/users-repo.js';
import { hashSecret } from './secrets.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { checkTotp, newTotpSecret } from './totp.js';

export type { TenantRole } from '../store/users-repo.js';

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

/** password_hash of SSO users: not a scrypt hash, so no password ever matches it. */
const NO_PASSWORD = '!sso';

/** User names: a DNS-label-like login name. */
export const USER_NAME = /^[a-z0-9]([-a-z0-9._]{0,62}[a-z0-9])?$/;
const RECOVERY_CODES = 10;

const toUser = (r: UserRecord): User => ({
  name: r.name,
  role: r.role,
  tenant: r.tenant,
  tenantRole: r.tenantRole,
  mustChangePassword: r.mustChangePassword,
  totpEnabled: r.totpEnabled,
  createdAt: r.createdAt,
  ...(r.sso === undefined ? {} : { sso: r.sso }),
});

/** Creates a user with `password` (a one-time password: it must be changed at first login). */
export async function createUser(users: UsersRepo, u: { name: string; role: 'admin' | 'tenant'; tenant?: string; tenantRole?: TenantRole }, password: string, now: Date): Promise<User> {
  if (!USER_NAME.test(u.name)) throw new FoundryError('BAD_REQUEST', `invalid user name ${JSON.stringify(u.name)}: lowercase letters, digits, '-', '.', '_'`, { resource: u.name });
  if ((u.role === 'tenant') !== (u.tenant !== undefined)) throw new FoundryError('BAD_REQUEST', u.role === 'tenant' ? 'a tenant user needs --tenant' : 'an admin has no tenant', { resource: u.name });
  const taken = () => new FoundryError('CONFLICT', `user ${u.name} already exists`, { resource: u.name });
  // Checked before the (slow) hash too, so a taken name is refused at once.
  if ((await users.get(u.name)) !== undefined) throw taken();
  const passwordHash = await hashPassword(password);
  if (!(await users.create({ name: u.name, role: u.role, tenant: u.tenant ?? null, tenantRole: u.tenantRole ?? 'member', passwordHash, createdAt: now.toISOString() }))) throw taken();
  return toUser((await users.get(u.name))!);
}

/** Where a single sign-on user belongs now: platform admin, or a tenant with its role there. */
export type SsoPlacement = { role: 'admin' } | { role: 'tenant'; tenant: string; tenantRole: TenantRole };

/** The user linked to (provider, subject), if any. */
export async function findSsoUser(users: UsersRepo, provider: string, subject: string): Promise<User | undefined> {
  const r = await users.findSso(provider, subject);
  return r === undefined ? undefined : toUser(r);
}

/**
 * Creates or updates the user of an SSO identity: role, tenant and groups as of this login. A new user's
 * name comes from `nameHint` (made safe, suffixed with the provider, then -2, -3... when taken); it never
 * takes over an existing user. Returns the user and whether it was created.
 */
export async function upsertSsoUser(
  users: UsersRepo,
  id: { provider: string; subject: string; nameHint: string; email?: string; displayName?: string; groups: string[] },
  placement: SsoPlacement,
  now: Date,
): Promise<{ user: User; created: boolean }> {
  const name = ssoUserName(id.nameHint, id.provider);
  const r = await users.upsertSso(
    {
      provider: id.provider,
      subject: id.subject,
      email: id.email ?? null,
      displayName: id.displayName ?? null,
      groups: id.groups,
      role: placement.role,
      tenant: placement.role === 'tenant' ? placement.tenant : null,
      tenantRole: placement.role === 'tenant' ? placement.tenantRole : 'member',
      passwordMarker: NO_PASSWORD,
      createdAt: now.toISOString(),
    },
    (attempt) => (attempt === 1 ? name : `${name.slice(0, 60)}-${attempt}`),
  );
  return { user: toUser(r.user), created: r.created };
}

/** A safe user name from an IdP's hint (e-mail local part, preferred name): `alice.acme-entra`. */
export function ssoUserName(hint: string, provider: string): string {
  const local = hint.split('@')[0]!.toLowerCase().normalize('NFKD').replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  const base = (local === '' ? 'user' : local).slice(0, Math.max(8, 58 - provider.length)).replace(/[^a-z0-9]+$/, '');
  return `${base === '' ? 'user' : base}.${provider}`.slice(0, 60).replace(/[^a-z0-9]+$/, '');
}

/** A user by name. */
export async function getUser(users: UsersRepo, name: string): Promise<User | undefined> {
  const r = await users.get(name);
  return r === undefined ? undefined : toUser(r);
}

/** Every user, by name; only `tenant`'s when given. */
export async function listUsers(users: UsersRepo, tenant?: string): Promise<User[]> {
  return (await users.list(tenant)).map(toUser);
}

// A fixed hash to verify against when the user does not exist, so both cases cost one scrypt.
let dummyHash: Promise<string> | undefined;

/** The user when `password` is right, else undefined (same cost for unknown users). */
export async function checkPassword(users: UsersRepo, name: string, password: string): Promise<User | undefined> {
  const r = await users.get(name);
  dummyHash ??= hashPassword('not-a-password-of-anyone');
  const ok = await verifyPassword(password, r?.passwordHash ?? (await dummyHash));
  return ok && r !== undefined ? toUser(r) : undefined;
}

/** Sets a new password and clears the must-change flag. */
export async function setPassword(users: UsersRepo, name: string, password: string): Promise<void> {
  await users.setPassword(name, await hashPassword(password));
}

/** A fresh TOTP secret for a user who has none enabled yet (kept pending until confirmed by a code). */
export async function pendingTotpSecret(users: UsersRepo, name: string): Promise<string> {
  const r = await users.get(name);
  if (r === undefined) throw new FoundryError('NOT_FOUND', `no user ${name}`, { resource: name });
  if (r.totpEnabled) throw new FoundryError('CONFLICT', `user ${name} already has a second factor`, { resource: name });
  if (r.totpSecret !== null) return r.totpSecret;
  // Two first logins at once keep the same secret: the store sets it only when none is pending.
  const secret = await users.pendingTotpSecret(name, newTotpSecret());
  if (secret === undefined) throw new FoundryError('NOT_FOUND', `no user ${name}`, { resource: name });
  return secret;
}

/** Checks a TOTP code (and records its step) or a recovery code (and spends it). */
export async function checkSecondFactor(users: UsersRepo, name: string, code: string, now: number): Promise<'totp' | 'recovery' | undefined> {
  const r = await users.get(name);
  if (r === undefined || r.totpSecret === null) return undefined;
  const clean = code.replace(/\s+/g, '');
  const step = checkTotp(r.totpSecret, clean, now, r.totpLastStep);
  if (step !== undefined) {
    // Compare-and-set: two logins racing with the same code cannot both win.
    return (await users.advanceTotpStep(name, step)) ? 'totp' : undefined;
  }
  if (!r.totpEnabled || !/^[a-z0-9]{5}-[a-z0-9]{5}$/i.test(clean)) return undefined;
  return (await users.spendRecoveryCode(name, hashSecret(clean.toLowerCase()), new Date(now).toISOString())) ? 'recovery' : undefined;
}

/** Enables TOTP after a correct code and returns new recovery codes (shown once; stored hashed). */
export async function enableTotp(users: UsersRepo, name: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODES }, () => {
    const s = randomBytes(8).toString('hex').slice(0, 10);
    return `${s.slice(0, 5)}-${s.slice(5)}`;
  });
  await users.enableTotp(name, codes.map((c) => hashSecret(c)));
  return codes;
}

/** Recovery codes a user has left. */
export function recoveryCodesLeft(users: UsersRepo, name: string): Promise<number> {
  return users.recoveryCodesLeft(name);
}

/** Removes a user's second factor and sessions (they enrol again at next login); false when no such user. */
export function resetSecondFactor(users: UsersRepo, name: string): Promise<boolean> {
  return users.resetSecondFactor(name);
}
