/**
 * Single sign-on's state in the store, so it holds across restarts and replicas: OIDC logins in flight
 * (consumed once at the callback), TOTP step-ups waiting for their code, SAML's AuthnRequest IDs and
 * accepted assertion IDs (InResponseTo and replay checks), and each user's last SAML IdP session (single
 * logout). Every secret in here is a hash; the protocol rules live in hub/sso/.
 */
import type { Sql } from './sql/sql.js';

/** An OIDC login in flight, as the callback needs it. */
export interface OidcLoginRecord {
  provider: string;
  bindingHash: string;
  nonce: string;
  codeVerifier: string;
  expiresAt: string;
}

/** A TOTP step-up waiting for its code. */
export interface StepUpRecord {
  user: string;
  provider: string;
  attempts: number;
  expiresAt: string;
}

/** What a SAML LogoutRequest names: the user's NameID as the IdP sent it, and the IdP's session. */
export interface SamlSession {
  nameID: string;
  nameIDFormat: string | null;
  nameQualifier: string | null;
  spNameQualifier: string | null;
  sessionIndex: string | null;
}

/** Single sign-on's tables. */
export interface SsoRepo {
  /**
   * Removes the logins expired by `now`, then stores this one unless `max` are in flight already (false
   * then: anyone may start a login, so a flood must not grow the table without bound).
   */
  startLogin(stateHash: string, login: OidcLoginRecord, createdAt: string, max: number): Promise<boolean>;
  /** The login of a state, removed as it is read (a replayed callback finds nothing). */
  takeLogin(stateHash: string): Promise<OidcLoginRecord | undefined>;
  /** Logins in flight (expired or not). */
  loginsInFlight(): Promise<number>;

  /** Opens a step-up ticket of `user`, replacing the user's earlier ones and removing expired ones. */
  openStepUp(ticketHash: string, s: Omit<StepUpRecord, 'attempts'>, createdAt: string): Promise<void>;
  /** A step-up by ticket hash. */
  stepUp(ticketHash: string): Promise<StepUpRecord | undefined>;
  /** Counts a wrong code. */
  failStepUp(ticketHash: string): Promise<void>;
  /** Ends a step-up. */
  closeStepUp(ticketHash: string): Promise<void>;

  /** Records an issued AuthnRequest ID (after removing those created by `staleBy`); false when already recorded. */
  saveSamlRequest(provider: string, id: string, bindingHash: string | null, createdAt: string, staleBy: string): Promise<boolean>;
  /** An issued AuthnRequest ID. */
  samlRequest(provider: string, id: string): Promise<{ bindingHash: string | null; createdAt: string } | undefined>;
  /** Forgets an AuthnRequest ID; returns when it was created, if it was known. */
  takeSamlRequest(provider: string, id: string): Promise<string | undefined>;

  /** True when an assertion with this ID from `provider` is recorded. */
  assertionSeen(provider: string, id: string): Promise<boolean>;
  /** Records an accepted assertion (after removing those expired before `now`); false when its ID is recorded already (a replay). */
  recordAssertion(entry: { provider: string; id: string; subject: string; expiresAt: string }, now: string): Promise<boolean>;

  /** Remembers the IdP session of `s.nameID`'s latest sign-in at `provider` (the last one wins). */
  rememberSamlSession(provider: string, s: SamlSession, at: string): Promise<void>;
  /** The IdP session remembered for `subject` at `provider`, forgotten as it is read (a logout uses it once). */
  takeSamlSession(provider: string, subject: string): Promise<SamlSession | undefined>;
}

/** SsoRepo over the Sql interface. */
export class SqlSsoRepo implements SsoRepo {
  constructor(private readonly sql: Sql) {}

  // The pruning before a write needs no transaction: it removes only what no reader accepts any more.
  // (The bound is approximate under concurrent starts, which is all it needs to be.)
  async startLogin(stateHash: string, login: OidcLoginRecord, createdAt: string, max: number): Promise<boolean> {
    await this.sql.run('DELETE FROM sso_logins WHERE expires_at <= ?', [createdAt]);
    if ((await this.loginsInFlight()) >= max) return false;
    await this.sql.run('INSERT INTO sso_logins (state_hash, provider, binding_hash, nonce, code_verifier, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      stateHash, login.provider, login.bindingHash, login.nonce, login.codeVerifier, createdAt, login.expiresAt,
    ]);
    return true;
  }

  async takeLogin(stateHash: string): Promise<OidcLoginRecord | undefined> {
    const r = await this.sql.get<{ provider: string; binding_hash: string; nonce: string; code_verifier: string; expires_at: string }>(
      'DELETE FROM sso_logins WHERE state_hash = ? RETURNING provider, binding_hash, nonce, code_verifier, expires_at',
      [stateHash],
    );
    return r === undefined ? undefined : { provider: r.provider, bindingHash: r.binding_hash, nonce: r.nonce, codeVerifier: r.code_verifier, expiresAt: r.expires_at };
  }

  async loginsInFlight(): Promise<number> {
    return (await this.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM sso_logins'))!.n;
  }

  async openStepUp(ticketHash: string, s: Omit<StepUpRecord, 'attempts'>, createdAt: string): Promise<void> {
    await this.sql.run('DELETE FROM sso_step_ups WHERE expires_at <= ? OR "user" = ?', [createdAt, s.user]);
    await this.sql.run('INSERT INTO sso_step_ups (ticket_hash, "user", provider, created_at, expires_at) VALUES (?, ?, ?, ?, ?)', [ticketHash, s.user, s.provider, createdAt, s.expiresAt]);
  }

  async stepUp(ticketHash: string): Promise<StepUpRecord | undefined> {
    const r = await this.sql.get<{ user: string; provider: string; attempts: number; expires_at: string }>('SELECT "user", provider, attempts, expires_at FROM sso_step_ups WHERE ticket_hash = ?', [ticketHash]);
    return r === undefined ? undefined : { user: r.user, provider: r.provider, attempts: r.attempts, expiresAt: r.expires_at };
  }

  async failStepUp(ticketHash: string): Promise<void> {
    await this.sql.run('UPDATE sso_step_ups SET attempts = attempts + 1 WHERE ticket_hash = ?', [ticketHash]);
  }

  async closeStepUp(ticketHash: string): Promise<void> {
    await this.sql.run('DELETE FROM sso_step_ups WHERE ticket_hash = ?', [ticketHash]);
  }

  async saveSamlRequest(provider: string, id: string, bindingHash: string | null, createdAt: string, staleBy: string): Promise<boolean> {
    await this.sql.run('DELETE FROM saml_requests WHERE created_at <= ?', [staleBy]);
    const r = await this.sql.run('INSERT INTO saml_requests (provider, id, binding_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (provider, id) DO NOTHING', [provider, id, bindingHash, createdAt]);
    return r.changes === 1;
  }

  async samlRequest(provider: string, id: string): Promise<{ bindingHash: string | null; createdAt: string } | undefined> {
    const r = await this.sql.get<{ binding_hash: string | null; created_at: string }>('SELECT binding_hash, created_at FROM saml_requests WHERE provider = ? AND id = ?', [provider, id]);
    return r === undefined ? undefined : { bindingHash: r.binding_hash, createdAt: r.created_at };
  }

  async takeSamlRequest(provider: string, id: string): Promise<string | undefined> {
    return (await this.sql.get<{ created_at: string }>('DELETE FROM saml_requests WHERE provider = ? AND id = ? RETURNING created_at', [provider, id]))?.created_at;
  }

  async assertionSeen(provider: string, id: string): Promise<boolean> {
    return (await this.sql.get('SELECT 1 AS x FROM saml_assertions WHERE provider = ? AND id = ?', [provider, id])) !== undefined;
  }

  async recordAssertion(entry: { provider: string; id: string; subject: string; expiresAt: string }, now: string): Promise<boolean> {
    await this.sql.run('DELETE FROM saml_assertions WHERE expires_at < ?', [now]);
    const r = await this.sql.run('INSERT INTO saml_assertions (provider, id, subject, expires_at, accepted_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, id) DO NOTHING', [
      entry.provider, entry.id, entry.subject, entry.expiresAt, now,
    ]);
    return r.changes === 1;
  }

  async rememberSamlSession(provider: string, s: SamlSession, at: string): Promise<void> {
    await this.sql.run(
      `INSERT INTO saml_sessions (provider, subject, name_id_format, name_qualifier, sp_name_qualifier, session_index, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (provider, subject) DO UPDATE SET name_id_format = excluded.name_id_format, name_qualifier = excluded.name_qualifier,
         sp_name_qualifier = excluded.sp_name_qualifier, session_index = excluded.session_index, updated_at = excluded.updated_at`,
      [provider, s.nameID, s.nameIDFormat, s.nameQualifier, s.spNameQualifier, s.sessionIndex, at],
    );
  }

  async takeSamlSession(provider: string, subject: string): Promise<SamlSession | undefined> {
    const r = await this.sql.get<{ name_id_format: string | null; name_qualifier: string | null; sp_name_qualifier: string | null; session_index: string | null }>(
      'DELETE FROM saml_sessions WHERE provider = ? AND subject = ? RETURNING name_id_format, name_qualifier, sp_name_qualifier, session_index',
      [provider, subject],
    );
    return r === undefined ? undefined : { nameID: subject, nameIDFormat: r.name_id_format, nameQualifier: r.name_qualifier, spNameQualifier: r.sp_name_qualifier, sessionIndex: r.session_index };
  }
}
