import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { IdentityProvider } from '../../common/infra/model.js';
import { OidcError, oidcConfig } from './oidc-client.js';

const idp = (clientSecretFile: string, issuer = 'http://127.0.0.1:1/realm'): IdentityProvider => ({
  apiVersion: 'foundry.cloud/v1',
  kind: 'IdentityProvider',
  metadata: { name: 'acme-sso' },
  spec: { displayName: 'ACME', oidc: { issuer, clientId: 'foundry', clientSecretFile }, mappings: [{ group: 'g', role: 'platform-admin' }] },
});

describe('oidcConfig', () => {
  it('names a missing or empty secret file in the log detail only, never in the message the login page shows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foundry-oidc-secret-'));
    try {
      const missing = join(dir, 'nope.secret');
      const err = await oidcConfig(idp(missing)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OidcError);
      expect((err as OidcError).message).toBe('identity provider acme-sso: its client secret file cannot be read (ENOENT)');
      expect((err as OidcError).logDetail).toBe(`file ${missing}`);
      writeFileSync(join(dir, 'empty.secret'), '\n');
      await expect(oidcConfig(idp(join(dir, 'empty.secret')))).rejects.toThrow(/^identity provider acme-sso: its client secret file is empty$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which issuer did not answer, and refuses http issuers unless allowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foundry-oidc-secret-'));
    try {
      const file = join(dir, 'ok.secret');
      writeFileSync(file, 'the-secret-value\n');
      const insecure = (await oidcConfig(idp(file)).catch((e: unknown) => e)) as Error;
      expect(insecure.message).toMatch(/^identity provider acme-sso: discovery at http:\/\/127\.0\.0\.1:1\/realm failed: only requests to HTTPS are allowed/);
      // A port nothing listens on: what an IdP that is down looks like.
      const server = createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      await new Promise((r) => server.close(r));
      const down = (await oidcConfig(idp(file, `http://127.0.0.1:${port}/realm`), { allowInsecureHttp: true, timeoutS: 2 }).catch((e: unknown) => e)) as Error;
      expect(down.message).toBe(`identity provider acme-sso: discovery at http://127.0.0.1:${port}/realm failed: fetch failed: connect ECONNREFUSED 127.0.0.1:${port}`);
      expect(down.message).not.toContain('the-secret-value');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names what is wrong with a broken discovery document (not JSON, another issuer, a bad field)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foundry-oidc-secret-'));
    const file = join(dir, 'ok.secret');
    writeFileSync(file, 'the-secret-value\n');
    // An IdP that answers discovery with whatever `body` holds now.
    let body = '';
    const server = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}/realm`;
    const failure = async (answer: string) => {
      body = answer;
      return ((await oidcConfig(idp(file, issuer), { allowInsecureHttp: true, timeoutS: 2 }).catch((e: unknown) => e)) as Error).message;
    };
    try {
      expect(await failure('<html>not json')).toBe(`identity provider acme-sso: discovery at ${issuer} failed: parsing error occured: failed to parse "response" body as JSON (OAUTH_PARSE_ERROR)`);
      expect(await failure(JSON.stringify({ issuer: 'https://elsewhere.example/realm', authorization_endpoint: 'https://elsewhere.example/auth' }))).toBe(
        `identity provider acme-sso: discovery at ${issuer} failed: discovered metadata issuer does not match the expected issuer (OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED)`,
      );
      expect(await failure('{"issuer": 5}')).toBe(`identity provider acme-sso: discovery at ${issuer} failed: invalid response encountered: "response" body "issuer" property must be a string (OAUTH_INVALID_RESPONSE)`);
    } finally {
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
