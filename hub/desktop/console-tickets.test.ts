import { describe, expect, it } from 'vitest';
import { ConsoleTickets, TICKET_TTL_MS } from './console-tickets.js';

const grant = { workspace: 'acme-desk', tenant: 'acme', node: 'gpu-01', sessionHash: 'h-tom', actor: 'tenant:tom' };

describe('console tickets', () => {
  it('redeem once, for the session they were issued to, within 30 s', () => {
    let now = 1_000_000;
    const t = new ConsoleTickets(() => now);
    const a = t.issue(grant);
    expect(a.expiresAt).toBe(new Date(1_000_000 + TICKET_TTL_MS).toISOString());
    expect(TICKET_TTL_MS).toBe(30_000);
    expect(a.ticket).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(t.redeem(a.ticket, 'h-tom')).toEqual({ ok: true, grant });
    expect(t.redeem(a.ticket, 'h-tom')).toEqual({ ok: false, reason: 'unknown' });
    const b = t.issue(grant);
    expect(t.redeem(b.ticket, 'h-eve')).toEqual({ ok: false, reason: 'other-session' });
    // burned by the wrong session
    expect(t.redeem(b.ticket, 'h-tom')).toEqual({ ok: false, reason: 'unknown' });
    expect(t.redeem(t.issue(grant).ticket, undefined)).toEqual({ ok: false, reason: 'other-session' });
    const c = t.issue(grant);
    now += TICKET_TTL_MS;
    expect(t.redeem(c.ticket, 'h-tom')).toEqual({ ok: false, reason: 'expired' });
  });

  it('keeps only hashes and sweeps expired tickets', () => {
    let now = 0;
    const t = new ConsoleTickets(() => now);
    const a = t.issue(grant);
    expect(JSON.stringify([...(t as unknown as { tickets: Map<string, unknown> }).tickets.keys()])).not.toContain(a.ticket);
    now = TICKET_TTL_MS + 1;
    t.issue(grant);
    expect(t.size).toBe(1);
  });
});
