/* global URLSearchParams */
// A real OpenID Provider (oidc-provider, certified) for tests, as its own process. Configured by the
// JSON in FOUNDRY_OP_CONFIG: issuer, signing keys (private JWKS), clients and users (login, password,
// claims, groups, amr). Serves its own login form; consent is granted automatically. Prints
// "READY <port>" once listening on 127.0.0.1.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const cfg = JSON.parse(process.env.FOUNDRY_OP_CONFIG ?? '{}');
const users = new Map(cfg.users.map((u) => [u.login, u]));
const bySub = new Map(cfg.users.map((u) => [u.sub, u]));
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const provider = new Provider(cfg.issuer, {
  clients: cfg.clients,
  jwks: cfg.jwks,
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  // amr and acr ride with openid, so the ID token says how the user authenticated (MFA).
  claims: { openid: ['sub', 'amr', 'acr'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: ['groups'] },
  // Claims of granted scopes go into the ID token too (as Entra ID and Keycloak can be set up to do).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, sub) {
    const u = bySub.get(sub);
    if (u === undefined) return undefined;
    return { accountId: sub, claims: () => ({ sub, email: u.email, email_verified: true, name: u.name, preferred_username: u.login, groups: u.groups }) };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
});

function loginForm(res, uid, error) {
  res.writeHead(error ? 401 : 200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><title>Test IdP sign-in</title></head><body><h1>Test IdP sign-in</h1>
${error ? `<p id="op-error">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label>User <input name="login" id="op-login" autofocus></label>
<label>Password <input name="password" id="op-password" type="password"></label>
<button type="submit" id="op-submit">Sign in</button></form></body></html>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return Object.fromEntries(new URLSearchParams(body));
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(req.url.split('?')[0]);
  if (m === null) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') return loginForm(res, details.uid);
    const form = await readForm(req);
    const u = users.get(form.login);
    if (u === undefined || u.password !== form.password) return loginForm(res, details.uid, 'wrong user or password');
    await provider.interactionFinished(req, res, { login: { accountId: u.sub, amr: u.amr ?? ['pwd'], ...(u.acr ? { acr: u.acr } : {}) } }, { mergeWithLastSubmission: false });
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`interaction failed: ${err.message}`);
  }
});
server.listen(cfg.port ?? 0, '127.0.0.1', () => process.stdout.write(`READY ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
