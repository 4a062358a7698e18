/**
 * What the ingress reads and writes (migration 43 and the agents' statuses): one-time app login codes,
 * app sessions bound to a dashboard session, and the (node, seq) of each node's last status that the
 * route sync polls. Tokens and codes are stored by hash only (hub/ingress/app-sessions.ts hashes them).
 */
import type { Sql } from './sql/sql.js';

/** A login code as taken (deleted) from the store. */
export interface AppLoginCode {
  sessionHash: string;
  host: string;
  rd: string;
  expiresAt: string;
}

/** The dashboard session an app session rides on. */
export interface DashboardSessionTimes {
  user: string;
  expiresAt: string;
  lastSeenAt: string;
}

/** An app session joined with its dashboard session. */
export interface AppSessionRow {
  user: string;
  ssoProvider: string | null;
  sessionHash: string;
  host: string;
  expiresAt: string;
  sessionExpiresAt: string;
  sessionLastSeenAt: string;
}

/** Storage of the ingress: login codes, app sessions, node statuses' sequence numbers. */
export interface AppSessionsRepo {
  /** Stores a login code (by hash). */
  insertCode(codeHash: string, sessionHash: string, host: string, rd: string, expiresAt: string): Promise<void>;
  /** Deletes a login code and returns it: a second take of the same code finds nothing. */
  takeCode(codeHash: string): Promise<AppLoginCode | undefined>;
  /** The user and times of a dashboard session, or undefined. */
  dashboardSession(sessionHash: string): Promise<DashboardSessionTimes | undefined>;
  /** Stores a new app session (by hash). */
  insert(idHash: string, sessionHash: string, host: string, createdAt: string, expiresAt: string): Promise<void>;
  /** The app session of a token hash with its dashboard session, in one query (every uncached app request). */
  find(idHash: string): Promise<AppSessionRow | undefined>;
  /** Sets a dashboard session's last activity. */
  touch(sessionHash: string, at: string): Promise<void>;
  /** Deletes one app session; false when there was none. */
  close(idHash: string): Promise<boolean>;
  /** Deletes codes and app sessions expired at `at`; returns how many rows. */
  prune(at: string): Promise<number>;
  /** The sequence number of every node's last status (the route sync's cheap poll). */
  statusSeqs(): Promise<Array<{ node: string; seq: number }>>;
  /** A node's last status (its JSON text), or undefined. */
  status(node: string): Promise<{ seq: number; payload: string } | undefined>;
}

/** AppSessionsRepo over the Sql interface. */
export class SqlAppSessionsRepo implements AppSessionsRepo {
  constructor(private readonly sql: Sql) {}

  async insertCode(codeHash: string, sessionHash: string, host: string, rd: string, expiresAt: string): Promise<void> {
    await this.sql.run('INSERT INTO app_login_codes (code_hash, session_hash, host, rd, expires_at) VALUES (?, ?, ?, ?, ?)', [codeHash, sessionHash, host, rd, expiresAt]);
  }

  takeCode(codeHash: string): Promise<AppLoginCode | undefined> {
    return this.sql.get<AppLoginCode>('DELETE FROM app_login_codes WHERE code_hash = ? RETURNING session_hash AS "sessionHash", host, rd, expires_at AS "expiresAt"', [codeHash]);
  }

  dashboardSession(sessionHash: string): Promise<DashboardSessionTimes | undefined> {
    return this.sql.get<DashboardSessionTimes>('SELECT "user", expires_at AS "expiresAt", last_seen_at AS "lastSeenAt" FROM sessions WHERE id_hash = ?', [sessionHash]);
  }

  async insert(idHash: string, sessionHash: string, host: string, createdAt: string, expiresAt: string): Promise<void> {
    await this.sql.run('INSERT INTO app_sessions (id_hash, session_hash, host, created_at, expires_at) VALUES (?, ?, ?, ?, ?)', [idHash, sessionHash, host, createdAt, expiresAt]);
  }

  find(idHash: string): Promise<AppSessionRow | undefined> {
    return this.sql.get<AppSessionRow>(
      `SELECT s."user", s.sso_provider AS "ssoProvider", a.session_hash AS "sessionHash", a.host, a.expires_at AS "expiresAt",
         s.expires_at AS "sessionExpiresAt", s.last_seen_at AS "sessionLastSeenAt"
       FROM app_sessions a JOIN sessions s ON s.id_hash = a.session_hash WHERE a.id_hash = ?`,
      [idHash],
    );
  }

  async touch(sessionHash: string, at: string): Promise<void> {
    await this.sql.run('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?', [at, sessionHash]);
  }

  async close(idHash: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM app_sessions WHERE id_hash = ?', [idHash])).changes === 1;
  }

  async prune(at: string): Promise<number> {
    const codes = await this.sql.run('DELETE FROM app_login_codes WHERE expires_at <= ?', [at]);
    const sessions = await this.sql.run('DELETE FROM app_sessions WHERE expires_at <= ?', [at]);
    return codes.changes + sessions.changes;
  }

  statusSeqs(): Promise<Array<{ node: string; seq: number }>> {
    return this.sql.all<{ node: string; seq: number }>('SELECT node, seq FROM node_status');
  }

  status(node: string): Promise<{ seq: number; payload: string } | undefined> {
    return this.sql.get<{ seq: number; payload: string }>('SELECT seq, payload FROM node_status WHERE node = ?', [node]);
  }
}
