#!/usr/bin/env node
// What does checking an SSO session against the current provider mappings at every request cost?
// In-process hub (app.inject, no sockets): GET /api/v1/auth/me with a local user's session (the peer)
// and with an SSO user's session (re-mapped from its stored groups each time), medians of repeated
// batches, per request. Quick mode (CI): 3 batches of 200.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../dist/hub/app.js';
import { HubStore } from '../dist/hub/store/hub-store.js';
import { createUser, enableTotp, upsertSsoUser } from '../dist/hub/auth/users.js';
import { openSession } from '../dist/hub/auth/sessions.js';
import { median } from './stats.mjs';

/** A provider with `n` mappings; the user's group is the last, so the whole list is walked. */
function provider(n) {
  const mappings = Array.from({ length: n }, (_, i) => ({ group: `g-${i}`, tenant: 'acme', role: 'tenant-member' }));
  return { apiVersion: 'foundry.cloud/v1', kind: 'IdentityProvider', metadata: { name: 'acme-sso' }, spec: { displayName: 'ACME', tenant: 'acme', oidc: { issuer: 'https://idp.example', clientId: 'foundry' }, mappings } };
}

async function perRequestUs(app, cookie, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
    if (r.statusCode !== 200) throw new Error(`auth/me answered ${r.statusCode}`);
  }
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

/** Runs the benchmark. */
export async function run({ quick = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'foundry-sso-bench-'));
  const store = new HubStore(join(dir, 'hub.db'));
  const providers = [provider(200)];
  const app = await buildApp({ store, dashboard: { pollMs: 0, sso: { providers: async () => providers } } });
  try {
    await app.ready();
    const now = new Date();
    await createUser(store.users, { name: 'ada', role: 'admin' }, 'one-time-password-1', now);
    await enableTotp(store.users, 'ada');
    const local = await openSession(store.sessions, 'ada', '127.0.0.1', now);
    const { user } = await upsertSsoUser(store.users, { provider: 'acme-sso', subject: 's1', nameHint: 'alice', groups: ['other', 'g-199'] }, { role: 'tenant', tenant: 'acme', tenantRole: 'member' }, now);
    const sso = await openSession(store.sessions, user.name, '127.0.0.1', now, { provider: 'acme-sso' });
    const batches = quick ? 3 : 9;
    const n = quick ? 200 : 2000;
    await perRequestUs(app, `foundry_session=${local.id}`, 50); // warm-up
    await perRequestUs(app, `foundry_session=${sso.id}`, 50);
    const localUs = [];
    const ssoUs = [];
    for (let b = 0; b < batches; b++) {
      localUs.push(await perRequestUs(app, `foundry_session=${local.id}`, n));
      ssoUs.push(await perRequestUs(app, `foundry_session=${sso.id}`, n));
    }
    const l = median(localUs);
    const s = median(ssoUs);
    return {
      title: 'SSO session check (GET /api/v1/auth/me, in-process)',
      rows: [
        { figure: 'local session, per request', median: l, unit: 'µs', runs: batches },
        { figure: 'SSO session re-checked against 200 mappings, per request', median: s, unit: 'µs', runs: batches, target: '< 1.5× a local session', met: s < 1.5 * l, peer: 'local session', peerMedian: l, ratio: `${(s / l).toFixed(2)}×` },
      ],
      notes: [`${n} requests per batch; the SSO user's group is the last of 200 mappings`],
    };
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table } = await import('./run.mjs');
  console.log(table([await run({ quick: process.argv.includes('--quick') })]));
}
