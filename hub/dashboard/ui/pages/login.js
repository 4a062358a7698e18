/* global FormData, btoa, URLSearchParams, location */
// Login: one button per single sign-on provider, and the local form (the break-glass admin): user,
// password and TOTP (or a recovery code) in one form. A new user (one-time password, no
// second factor yet) continues to setup: a new password, the QR code to scan, and a first code; the
// recovery codes are then shown once.
import { api } from '../api.js';
import { h, fill, errorBox } from '../dom.js';
import { nextUrl } from '../next-url.js';

/**
 * An SSO start link that carries this page's `?next=` (a workspace app's /ingress/login) through the IdP;
 * the hub checks it again and drops anything else.
 */
function withNext(start) {
  const next = nextUrl();
  return next === null ? start : `${start}${start.includes('?') ? '&' : '?'}next=${encodeURIComponent(next)}`;
}

function field(label, attrs) {
  const id = `f-${attrs.name}`;
  return h('div.field', {}, h('label', { for: id }, label), h('input', { id, ...attrs }));
}

/** Renders the login form into `main`; calls onLogin(session) when a session is open. */
export function renderLogin(main, { onLogin }) {
  document.title = 'Log in · FoundryCloud hub';
  const msg = h('div', { 'aria-live': 'assertive' });
  // Sent here by a workspace app (/ingress/login): say where the login leads.
  const toApp = new URLSearchParams(location.search).has('next');
  const form = h('form.card.narrow', { 'aria-labelledby': 'login-h' },
    h('h1#login-h', {}, 'Log in'),
    toApp ? h('p.muted', { 'data-testid': 'login-to-app' }, 'Log in to open the workspace app you asked for; you go there right after.') : null,
    field('User name', { name: 'user', autocomplete: 'username', required: true, autofocus: true }),
    field('Password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    field('Authenticator code or recovery code', { name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', 'aria-describedby': 'code-help' }),
    h('p#code-help.muted', {}, 'Leave empty at your first login: you will set up your authenticator next.'),
    msg,
    h('button', { type: 'submit' }, 'Log in'),
    h('p#account-help.muted', { 'data-testid': 'account-help' },
      'No account yet? An admin creates one with ', h('code', {}, 'foundry hub user add NAME --role admin|tenant'),
      ' and gives you its one-time password. On a machine running ', h('code', {}, 'npm start'),
      ', the first admin user, ', h('code', {}, 'admin'), ', and its one-time password were printed in the terminal at the first start.'));
  const sso = h('section.card.narrow', { 'aria-labelledby': 'sso-h', 'data-testid': 'sso-providers', hidden: true }, h('h2#sso-h', {}, 'Single sign-on'));
  void renderProviders(sso);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    if (data.code === '') delete data.code;
    fill(msg);
    try {
      const r = await api('/api/v1/auth/login', { method: 'POST', body: data });
      if (r.next === 'setup') renderSetup(main, r, onLogin);
      else await onLogin(r);
    } catch (err) {
      fill(msg, errorBox(err.message));
    }
  });
  fill(main, sso, form);
  form.querySelector('input').focus();
}

/** One button per identity provider (platform-wide first); a provider that cannot be used now says why. */
async function renderProviders(section) {
  let providers;
  try {
    providers = (await api('/api/v1/auth/providers')).providers;
  } catch (err) {
    section.append(errorBox(`single sign-on is unavailable: ${err.message}`));
    section.hidden = false;
    return;
  }
  if (providers.length === 0) return;
  const list = h('ul.sso-list', {}, providers.map((p) => h('li', {},
    p.problem === null
      ? h('a.button', { href: withNext(p.start), 'data-testid': `sso-${p.name}` }, `Sign in with ${p.displayName}`)
      : h('span.button.disabled', { 'aria-disabled': 'true', 'data-testid': `sso-${p.name}` }, `Sign in with ${p.displayName}`),
    p.tenant === null ? null : h('span.muted', {}, ` (tenant ${p.tenant})`),
    p.problem === null ? null : h('p.error', { role: 'alert', 'data-testid': `sso-problem-${p.name}` }, `Unavailable: ${p.problem}. Local accounts can still log in below.`))));
  section.append(list);
  section.hidden = false;
}

function renderSetup(main, r, onLogin) {
  const msg = h('div', { 'aria-live': 'assertive' });
  const qr = h('img.qr', { src: `data:image/svg+xml;base64,${btoa(r.qrSvg)}`, alt: 'QR code of your authenticator secret', width: 200, height: 200 });
  const secret = new URL(r.otpauthUri).searchParams.get('secret');
  const form = h('form.card.narrow', { 'aria-labelledby': 'setup-h' },
    h('h1#setup-h', {}, 'Set up your account'),
    r.mustChangePassword ? field('New password (at least 12 characters)', { name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true, minlength: 12 }) : null,
    h('p', {}, 'Scan this code with an authenticator app (TOTP), or enter the secret by hand.'),
    qr,
    h('details', {}, h('summary', {}, 'Show the secret'), h('p', {}, h('code.break', { 'data-testid': 'totp-secret' }, secret)), h('p', {}, h('code.break', { 'data-testid': 'otpauth-uri' }, r.otpauthUri))),
    field('Code from the app', { name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', required: true, pattern: '[0-9]{6}' }),
    msg,
    h('button', { type: 'submit' }, 'Finish setup'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    fill(msg);
    try {
      const done = await api('/api/v1/auth/setup', { method: 'POST', body: { ticket: r.ticket, ...data } });
      renderRecovery(main, done, onLogin);
    } catch (err) {
      fill(msg, errorBox(err.message));
    }
  });
  fill(main, form);
  form.querySelector('input').focus();
}

function renderRecovery(main, done, onLogin) {
  const go = h('button', { type: 'button', onclick: () => onLogin(done) }, 'Continue to the dashboard');
  fill(main, h('section.card.narrow', { 'aria-labelledby': 'rec-h' },
    h('h1#rec-h', {}, 'Recovery codes'),
    h('p', {}, 'Each code logs you in once if you lose your authenticator. Keep them somewhere safe: they are not shown again.'),
    h('ul.codes', { 'data-testid': 'recovery-codes' }, done.recoveryCodes.map((c) => h('li', {}, h('code', {}, c)))),
    go));
  go.focus();
}
