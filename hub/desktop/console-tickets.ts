/**
 * One-time, short-lived console tickets. The dashboard asks for one (POST, CSRF-protected, the caller's
 * tenant checked) and presents it on the console WebSocket, which must carry the same session cookie.
 * Tickets live in memory, stored by their hash: a hub restart voids them, and the page simply asks for a
 * new one with its still-valid session.
 */
import { randomBytes } from 'node:crypto';
import { hashSecret } from '../auth/secrets.js';

/** How long a ticket is valid (ms). */
export const TICKET_TTL_MS = 30_000;

/** What a ticket grants: one console of one workspace, for one session. */
export interface TicketGrant {
  workspace: string;
  tenant: string;
  node: string;
  /** Hash of the dashboard session id the ticket is bound to. */
  sessionHash: string;
  /** Who, for the audit log (`tenant:tom`). */
  actor: string;
}

/** Why a ticket was refused. */
export type TicketRefusal = 'unknown' | 'expired' | 'other-session';

/** Issues and redeems console tickets. */
export class ConsoleTickets {
  private readonly tickets = new Map<string, TicketGrant & { expiresAt: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = TICKET_TTL_MS,
  ) {}

  /** A new ticket (shown once, to the caller) for `grant`. */
  issue(grant: TicketGrant): { ticket: string; expiresAt: string } {
    this.sweep();
    const ticket = randomBytes(24).toString('base64url');
    const expiresAt = this.now() + this.ttlMs;
    this.tickets.set(hashSecret(ticket), { ...grant, expiresAt });
    return { ticket, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Redeems a ticket once: it is gone afterwards whatever the outcome (a replay is refused as unknown). */
  redeem(ticket: string, sessionHash: string | undefined): { ok: true; grant: TicketGrant } | { ok: false; reason: TicketRefusal } {
    const key = hashSecret(ticket);
    const t = this.tickets.get(key);
    this.tickets.delete(key);
    if (t === undefined) return { ok: false, reason: 'unknown' };
    if (this.now() >= t.expiresAt) return { ok: false, reason: 'expired' };
    if (sessionHash === undefined || sessionHash !== t.sessionHash) return { ok: false, reason: 'other-session' };
    const { expiresAt: _expires, ...grant } = t;
    return { ok: true, grant };
  }

  /** Tickets not yet redeemed or swept. */
  get size(): number {
    return this.tickets.size;
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, v] of this.tickets) if (t >= v.expiresAt) this.tickets.delete(k);
  }
}
