/**
 * Dashboard users in the store: local users (scrypt password, TOTP, recovery codes hashed and single use),
 * their tenant role, and single sign-on users (linked by provider and subject, no password). Hashing,
 * TOTP checks and naming rules stay in hub/auth/users.ts; this holds the SQL, portable to both dialects.
 */
import type { Sql, SqlExecutor } from './sql/sql.js';

/** A tenant user's role in its tenant. */
export type TenantRole = 'admin' | 'member';

/** A user as stored (hashes and TOTP secret included: never hand this to a route as is). */
export interface UserRecord {
  name: string;
  role: 'admin' | 'tenant';
  tenant: string | null;
  tenantRole: TenantRole;
  passwordHash: string;
  mustChangePassword: boolean;
  totpSecret: string | null;
  totpEnabled: boolean;
  /** The last TOTP time step accepted (a code is accepted once). */
  totpLastStep: number;
  createdAt: string;
  /** Single sign-on users: the identity provider, the subject there, and the groups of the last login. */
  sso?: { provider: string; subject: string; groups: string[] };
}

/** A new local user. */
export interface NewUser {
  name: string;
  role: 'admin' | 'tenant';
  tenant: string | null;
  tenantRole: TenantRole;
  passwordHash: string;
  createdAt: string;
}

/** An SSO identity as of one login, with where it belongs now. */
export interface SsoUserSpec {
  provider: string;
  subject: string;
  email: string | null;
  displayName: string | null;
  groups: string[];
  role: 'admin' | 'tenant';
  tenant: string | null;
  tenantRole: TenantRole;
  /** password_hash of the new user: a marker no password matches. */
  passwordMarker: string;
  createdAt: string;
}

/** The users of the store. */
export interface UsersRepo {
  /** A user by name. */
  get(name: string): Promise<UserRecord | undefined>;
  /** The user linked to (provider, subject). */
  findSso(provider: string, subject: string): Promise<UserRecord | undefined>;
  /** Every user by name; only `tenant`'s tenant users when given. */
  list(tenant?: string): Promise<UserRecord[]>;
  /** Inserts a user; false when the name is taken. */
  create(u: NewUser): Promise<boolean>;
  /**
   * Creates or updates the user of an SSO identity in one transaction. An existing user gets its role,
   * tenant, groups and contact as of this login, and loses its sessions when its role or tenant changed;
   * a new one takes the first free name of `nameFor(1)`, `nameFor(2)`, ... and never an existing user.
   */
  upsertSso(spec: SsoUserSpec, nameFor: (attempt: number) => string): Promise<{ user: UserRecord; created: boolean }>;
  /** Sets a password hash and clears the must-change flag. */
  setPassword(name: string, passwordHash: string): Promise<void>;
  /** Stores `secret` as the pending TOTP secret unless one is stored; returns the stored one (undefined: no such user). */
  pendingTotpSecret(name: string, secret: string): Promise<string | undefined>;
  /** Records TOTP step `step` as used, when it is later than the last one (compare-and-set); false otherwise. */
  advanceTotpStep(name: string, step: number): Promise<boolean>;
  /** Spends an unused recovery code by its hash; false when there is none. */
  spendRecoveryCode(name: string, codeHash: string, at: string): Promise<boolean>;
  /** Enables TOTP and replaces the recovery codes with `codeHashes`, in one transaction. */
  enableTotp(name: string, codeHashes: readonly string[]): Promise<void>;
  /** Recovery codes a user has left. */
  recoveryCodesLeft(name: string): Promise<number>;
  /** Removes a user's TOTP, recovery codes and sessions in one transaction; false when there is no such user. */
  resetSecondFactor(name: string): Promise<boolean>;
}

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

const COLUMNS = 'name, role, tenant, password_hash, must_change_password, totp_secret, totp_enabled, totp_last_step, created_at, tenant_role, sso_provider, sso_subject, sso_groups';

const toRecord = (r: UserRow): UserRecord => ({
  name: r.name,
  role: r.role,
  tenant: r.tenant,
  tenantRole: r.tenant_role,
  passwordHash: r.password_hash,
  mustChangePassword: r.must_change_password === 1,
  totpSecret: r.totp_secret,
  totpEnabled: r.totp_enabled === 1,
  totpLastStep: r.totp_last_step,
  createdAt: r.created_at,
  ...(r.sso_provider !== null && r.sso_subject !== null ? { sso: { provider: r.sso_provider, subject: r.sso_subject, groups: JSON.parse(r.sso_groups ?? '[]') as string[] } } : {}),
});

async function byName(q: SqlExecutor, name: string): Promise<UserRecord | undefined> {
  const r = await q.get<UserRow>(`SELECT ${COLUMNS} FROM users WHERE name = ?`, [name]);
  return r === undefined ? undefined : toRecord(r);
}

async function bySso(q: SqlExecutor, provider: string, subject: string): Promise<UserRecord | undefined> {
  const r = await q.get<UserRow>(`SELECT ${COLUMNS} FROM users WHERE sso_provider = ? AND sso_subject = ?`, [provider, subject]);
  return r === undefined ? undefined : toRecord(r);
}

/** UsersRepo over the Sql interface. */
export class SqlUsersRepo implements UsersRepo {
  constructor(private readonly sql: Sql) {}

  get(name: string): Promise<UserRecord | undefined> {
    return byName(this.sql, name);
  }

  findSso(provider: string, subject: string): Promise<UserRecord | undefined> {
    return bySso(this.sql, provider, subject);
  }

  async list(tenant?: string): Promise<UserRecord[]> {
    const rows = tenant === undefined
      ? await this.sql.all<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY name`)
      : await this.sql.all<UserRow>(`SELECT ${COLUMNS} FROM users WHERE role = 'tenant' AND tenant = ? ORDER BY name`, [tenant]);
    return rows.map(toRecord);
  }

  async create(u: NewUser): Promise<boolean> {
    const r = await this.sql.run('INSERT INTO users (name, role, tenant, tenant_role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING', [
      u.name, u.role, u.tenant, u.tenantRole, u.passwordHash, u.createdAt,
    ]);
    return r.changes === 1;
  }

  upsertSso(spec: SsoUserSpec, nameFor: (attempt: number) => string): Promise<{ user: UserRecord; created: boolean }> {
    const groups = JSON.stringify(spec.groups);
    return this.sql.tx(async (tx) => {
      for (let attempt = 1; ; attempt++) {
        const existing = await bySso(tx, spec.provider, spec.subject);
        if (existing !== undefined) {
          await tx.run('UPDATE users SET role = ?, tenant = ?, tenant_role = ?, sso_groups = ?, email = ?, display_name = ? WHERE name = ?', [
            spec.role, spec.tenant, spec.tenantRole, groups, spec.email, spec.displayName, existing.name,
          ]);
          // A user moved to another tenant or role keeps no session of the old one.
          if (existing.role !== spec.role || existing.tenant !== spec.tenant || existing.tenantRole !== spec.tenantRole) await tx.run('DELETE FROM sessions WHERE "user" = ?', [existing.name]);
          return { user: (await byName(tx, existing.name))!, created: false };
        }
        // Nothing inserted: the name is taken (try the next one), or the same identity logged in at the same
        // moment on another connection (the next round finds it).
        const name = nameFor(attempt);
        const r = await tx.run(
          `INSERT INTO users (name, role, tenant, tenant_role, password_hash, must_change_password, sso_provider, sso_subject, sso_groups, email, display_name, created_at)
           VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          [name, spec.role, spec.tenant, spec.tenantRole, spec.passwordMarker, spec.provider, spec.subject, groups, spec.email, spec.displayName, spec.createdAt],
        );
        if (r.changes === 1) return { user: (await byName(tx, name))!, created: true };
      }
    });
  }

  async setPassword(name: string, passwordHash: string): Promise<void> {
    await this.sql.run('UPDATE users SET password_hash = ?, must_change_password = 0 WHERE name = ?', [passwordHash, name]);
  }

  async pendingTotpSecret(name: string, secret: string): Promise<string | undefined> {
    const r = await this.sql.get<{ totp_secret: string }>('UPDATE users SET totp_secret = COALESCE(totp_secret, ?) WHERE name = ? RETURNING totp_secret', [secret, name]);
    return r?.totp_secret;
  }

  async advanceTotpStep(name: string, step: number): Promise<boolean> {
    return (await this.sql.run('UPDATE users SET totp_last_step = ? WHERE name = ? AND totp_last_step < ?', [step, name, step])).changes === 1;
  }

  async spendRecoveryCode(name: string, codeHash: string, at: string): Promise<boolean> {
    return (await this.sql.run('UPDATE recovery_codes SET used_at = ? WHERE "user" = ? AND code_hash = ? AND used_at IS NULL', [at, name, codeHash])).changes === 1;
  }

  async enableTotp(name: string, codeHashes: readonly string[]): Promise<void> {
    await this.sql.tx(async (tx) => {
      await tx.run('UPDATE users SET totp_enabled = 1 WHERE name = ?', [name]);
      await tx.run('DELETE FROM recovery_codes WHERE "user" = ?', [name]);
      for (const h of codeHashes) await tx.run('INSERT INTO recovery_codes ("user", code_hash) VALUES (?, ?)', [name, h]);
    });
  }

  async recoveryCodesLeft(name: string): Promise<number> {
    return (await this.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM recovery_codes WHERE "user" = ? AND used_at IS NULL', [name]))!.n;
  }

  resetSecondFactor(name: string): Promise<boolean> {
    return this.sql.tx(async (tx) => {
      const changed = (await tx.run('UPDATE users SET totp_secret = NULL, totp_enabled = 0, totp_last_step = 0 WHERE name = ?', [name])).changes === 1;
      await tx.run('DELETE FROM recovery_codes WHERE "user" = ?', [name]);
      await tx.run('DELETE FROM sessions WHERE "user" = ?', [name]);
      return changed;
    });
  }
}
