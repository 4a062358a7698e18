/**
 * The fleet of the OIDC tests: a real OpenID Provider (test/support/oidc-provider.ts) with users alice
 * (acme-users, MFA asserted), carol (acme-admins, password only) and bob (sales, mapped nowhere); a hub
 * whose hosted infra repo declares acme's provider (MFA required) and a platform-wide provider whose
 * issuer does not answer; a local break-glass admin.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../hub/app.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { gitSync, hostedRepo } from '../workspaces/git-fixture.js';
import { freePort } from '../hub/support.js';
import { startTestOp, type TestOp } from '../support/oidc-provider.js';

const doc = (kind: string, name: string, spec: string): string => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

/** The IdentityProvider of acme, with its mappings (YAML list lines). */
export function acmeProvider(issuer: string, secretFile: string, mappings = ['    - { group: acme-admins, tenant: acme, role: tenant-admin }', '    - { group: acme-users, tenant: acme, role: tenant-member }']): string {
  return doc('IdentityProvider', 'acme-sso', [
    '  displayName: ACME SSO',
    '  tenant: acme',
    '  mfaRequired: true',
    '  oidc:',
    `    issuer: ${issuer}`,
    '    clientId: foundry',
    `    clientSecretFile: ${secretFile}`,
    '    scopes: [openid, email, profile, groups]',
    '    groupsClaim: groups',
    '  mappings:',
    ...mappings,
    '',
  ].join('\n'));
}

/** A running hub and IdP. */
export interface OidcHub {
  url: string;
  app: FastifyInstance;
  store: HubStore;
  op: TestOp;
  secretFile: string;
  /** Commits `files` to the hosted repo (as an admin's push would). */
  commit(files: Record<string, string | null>, message: string): void;
  close(): Promise<void>;
}

/** Starts the IdP, then the hub on a port the IdP already knows as its redirect target. */
export async function startOidcHub(): Promise<OidcHub> {
  const dir = mkdtempSync(join(tmpdir(), 'foundry-oidc-'));
  const port = await freePort();
  const deadIdp = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const secret = `client-secret-${Date.now()}-not-in-git`;
  const secretFile = join(dir, 'acme-sso.secret');
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const op = await startTestOp({
    clients: () => [
      { client_id: 'foundry', client_secret: secret, redirect_uris: [`${url}/auth/oidc/acme-sso/callback`], post_logout_redirect_uris: [`${url}/ui/`] },
      { client_id: 'other-app', client_secret: 'other-secret', redirect_uris: ['http://127.0.0.1:9/cb'] },
    ],
    users: [
      { login: 'alice', password: 'alice-pw', sub: 'sub-alice', email: 'alice@acme.example', name: 'Alice', groups: ['acme-users'], amr: ['pwd', 'mfa'] },
      { login: 'carol', password: 'carol-pw', sub: 'sub-carol', email: 'carol@acme.example', name: 'Carol', groups: ['acme-admins', 'acme-users'], amr: ['pwd'] },
      { login: 'bob', password: 'bob-pw', sub: 'sub-bob', email: 'bob@acme.example', name: 'Bob', groups: ['sales'], amr: ['pwd', 'mfa'] },
    ],
  });
  const files: Record<string, string> = {
    'cluster.yaml': doc('Cluster', 'main', `  hubUrl: ${url}\n`),
    'tenants/acme.yaml': doc('Tenant', 'acme', '  displayName: ACME\n'),
    'pricing.yaml': doc('PriceList', 'default', '  currency: EUR\n  periods:\n    - effectiveFrom: "2026-01-01T00:00:00Z"\n      gpuHour: { "NVIDIA H100 80GB HBM3": "2.49" }\n'),
    'identity-providers/acme-sso.yaml': acmeProvider(op.issuer, secretFile),
    'identity-providers/staff.yaml': doc('IdentityProvider', 'staff', `  displayName: Staff SSO\n  oidc:\n    issuer: http://127.0.0.1:${deadIdp}/realms/staff\n    clientId: foundry\n  mappings:\n    - { group: ops, role: platform-admin }\n`),
  };
  const repoDir = await hostedRepo(dir, files);
  const store = new HubStore(join(dir, 'hub.db'));
  const app = await buildApp({ store, repoDir, repoPollMs: 200, dashboard: { pollMs: 0, sso: { oidc: { allowInsecureHttp: true, timeoutS: 3 } } } });
  await app.listen({ port, host: '127.0.0.1' });
  const work = join(dir, 'work');
  gitSync(['clone', '-q', repoDir, work], dir);
  return {
    url, app, store, op, secretFile,
    commit(changes, message) {
      for (const [path, text] of Object.entries(changes)) {
        if (text === null) gitSync(['rm', '-q', path], work);
        else writeFileSync(join(work, path), text);
      }
      gitSync(['add', '-A'], work);
      gitSync(['commit', '-q', '-m', message], work);
      gitSync(['push', '-q', 'origin', 'HEAD:main'], work);
    },
    async close() {
      await app.close();
      store.close();
      await op.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
