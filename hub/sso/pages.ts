/**
 * The few server-rendered pages of single sign-on: a refusal that says why, a sign-in that could not
 * start or finish, and the local TOTP step-up. Plain HTML forms (no script), every value escaped, served
 * with the dashboard's security headers.
 */
import type { FastifyReply } from 'fastify';
import { UI_HEADERS } from '../routes/ui.js';

/** HTML-escapes text for element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · FoundryCloud hub</title><link rel="stylesheet" href="/ui/style.css"></head>
<body><main id="main" class="sso-page"><section class="card narrow" aria-labelledby="sso-h"><h1 id="sso-h">${escapeHtml(title)}</h1>
${body}
</section></main></body></html>
`;
}

/** Sends an HTML page with the dashboard's headers; never cached. */
export function sendPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  // same-origin referrer: with no-referrer, Chromium sends "Origin: null" on the step-up form's POST, which the CSRF check refuses.
  return reply.code(status).headers(UI_HEADERS).header('referrer-policy', 'same-origin').header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page(title, body));
}

const backToLogin = '<p><a href="/ui/" data-testid="back-to-login">Back to the login page</a></p>';

/** A refused sign-in: `reason` is shown as is (escaped). */
export function refusalPage(reply: FastifyReply, provider: string, reason: string): FastifyReply {
  return sendPage(reply, 403, 'Sign-in refused', `<p>Signing in with ${escapeHtml(provider)} did not give you access.</p>
<p class="error" role="alert" data-testid="sso-refusal">${escapeHtml(reason)}</p>${backToLogin}`);
}

/** A sign-in that failed for a technical reason (IdP unreachable, bad answer, expired or replayed login). */
export function failurePage(reply: FastifyReply, status: number, provider: string, message: string): FastifyReply {
  return sendPage(reply, status, 'Sign-in failed', `<p>Signing in with ${escapeHtml(provider)} failed.</p>
<p class="error" role="alert" data-testid="sso-error">${escapeHtml(message)}</p>
<p>Local accounts can still log in with password and authenticator code.</p>${backToLogin}`);
}

/** The TOTP step-up: a code field; with `enrol`, the QR code and secret of a first authenticator. */
export function stepUpPage(reply: FastifyReply, provider: string, opts: { enrol?: { qrSvg: string; secret: string }; error?: string }): FastifyReply {
  const enrol = opts.enrol === undefined
    ? ''
    : `<p>Your provider did not confirm a second factor, and you have no authenticator here yet. Scan this code with an authenticator app (TOTP), then enter its first code.</p>
<img class="qr" width="200" height="200" alt="QR code of your authenticator secret" src="data:image/svg+xml;base64,${Buffer.from(opts.enrol.qrSvg).toString('base64')}">
<details><summary>Show the secret</summary><p><code class="break" data-testid="totp-secret">${escapeHtml(opts.enrol.secret)}</code></p></details>`;
  const intro = opts.enrol === undefined ? `<p>${escapeHtml(provider)} did not confirm a second factor: enter the code of your authenticator app.</p>` : '';
  const error = opts.error === undefined ? '' : `<p class="error" role="alert" data-testid="step-up-error">${escapeHtml(opts.error)}</p>`;
  return sendPage(reply, opts.error === undefined ? 200 : 401, 'Second factor', `${intro}${enrol}
<form method="post" action="/auth/step-up">
<div class="field"><label for="f-code">Authenticator code${opts.enrol === undefined ? ' or recovery code' : ''}</label>
<input id="f-code" name="code" autocomplete="one-time-code" inputmode="numeric" required autofocus></div>
${error}<button type="submit">Continue</button></form>${backToLogin}`);
}

/** Recovery codes after a first enrolment at step-up, shown once, then on to the dashboard. */
export function recoveryPage(reply: FastifyReply, codes: string[]): FastifyReply {
  return sendPage(reply, 200, 'Recovery codes', `<p>Each code passes the second factor once if you lose your authenticator. Keep them somewhere safe: they are not shown again.</p>
<ul class="codes" data-testid="recovery-codes">${codes.map((c) => `<li><code>${escapeHtml(c)}</code></li>`).join('')}</ul>
<p><a href="/ui/" data-testid="to-dashboard">Continue to the dashboard</a></p>`);
}
