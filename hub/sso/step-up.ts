/**
 * The local TOTP step-up of SSO users whose provider requires MFA the IdP did not assert: GET shows the
 * code form (with a first enrolment when the user has no authenticator yet), POST checks the code and
 * opens the session. Bound to the browser by the step-up cookie; five wrong codes end the ticket.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hashSecret } from '../auth/secrets.js';
import { qrSvg, totpUri } from '../auth/totp.js';
import { checkSecondFactor, enableTotp, getUser, pendingTotpSecret, type User } from '../auth/users.js';
import { SSO_NEXT_COOKIE, STEP_UP_COOKIE, STEP_UP_PATH, openSsoSession, safeLoginNext, setSsoSession, type SsoContext } from './complete-login.js';
import { failurePage, recoveryPage, stepUpPage } from './pages.js';

const MAX_ATTEMPTS = 5;

interface Pending { ticketHash: string; user: User; provider: string; attempts: number }

/** Registers GET and POST /auth/step-up. */
export function stepUpRoutes(app: FastifyInstance, ctx: SsoContext): void {
  const pending = async (req: FastifyRequest): Promise<Pending | undefined> => {
    const ticket = req.cookies[STEP_UP_COOKIE];
    if (ticket === undefined || ticket === '') return undefined;
    const ticketHash = hashSecret(ticket);
    const r = await ctx.sso.stepUp(ticketHash);
    if (r === undefined || Date.parse(r.expiresAt) <= ctx.now().getTime() || r.attempts >= MAX_ATTEMPTS) return undefined;
    const user = await getUser(ctx.users, r.user);
    return user === undefined ? undefined : { ticketHash, user, provider: r.provider, attempts: r.attempts };
  };
  const expired = (reply: FastifyReply) => failurePage(reply, 401, 'your identity provider', 'the second-factor step is unknown or expired: sign in again');
  const show = async (reply: FastifyReply, p: Pending, error?: string) => {
    const name = (await ctx.directory.get(p.provider))?.spec.displayName ?? p.provider;
    if (p.user.totpEnabled) return stepUpPage(reply, name, { error });
    const secret = await pendingTotpSecret(ctx.users, p.user.name);
    return stepUpPage(reply, name, { enrol: { secret, qrSvg: await qrSvg(totpUri(secret, p.user.name)) }, error });
  };

  app.get(STEP_UP_PATH, async (req, reply) => {
    const p = await pending(req);
    return p === undefined ? expired(reply) : show(reply, p);
  });

  app.post<{ Body: { code: string } }>(
    STEP_UP_PATH,
    { schema: { body: { type: 'object', required: ['code'], properties: { code: { type: 'string', minLength: 1, maxLength: 32 } } } } },
    async (req, reply) => {
      const p = await pending(req);
      if (p === undefined) return expired(reply);
      const provider = await ctx.directory.get(p.provider);
      // The mapping may have gone while the user looked for the phone.
      if (provider === undefined || !(await ctx.directory.stillMapped(p.user))) {
        await ctx.sso.closeStepUp(p.ticketHash);
        return failurePage(reply, 403, p.provider, 'your access was removed while signing in');
      }
      const factor = await checkSecondFactor(ctx.users, p.user.name, req.body.code, ctx.now().getTime());
      if (factor === undefined) {
        await ctx.sso.failStepUp(p.ticketHash);
        await ctx.audit(`user:${p.user.name}`, 'auth.login.fail', p.user.name, { provider: p.provider, subject: p.user.sso?.subject, reason: 'step-up code' });
        if (p.attempts + 1 >= MAX_ATTEMPTS) return expired(reply);
        return show(reply, { ...p, attempts: p.attempts + 1 }, 'wrong code: try again');
      }
      await ctx.sso.closeStepUp(p.ticketHash);
      void reply.clearCookie(STEP_UP_COOKIE, { path: STEP_UP_PATH });
      const codes = p.user.totpEnabled ? [] : await enableTotp(ctx.users, p.user.name);
      const identity = { provider: p.provider, protocol: (provider.spec.saml !== undefined ? 'saml' : 'oidc') as 'oidc' | 'saml', subject: p.user.sso?.subject ?? '', mfa: true };
      if (codes.length === 0) return openSsoSession(ctx, p.user, identity, undefined, req, reply, safeLoginNext(req.cookies[SSO_NEXT_COOKIE]));
      // A first enrolment shows its recovery codes once, with the session already open.
      await setSsoSession(ctx, p.user, identity, undefined, req, reply);
      return recoveryPage(reply, codes);
    },
  );
}
