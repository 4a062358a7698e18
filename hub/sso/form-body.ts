/**
 * Parses application/x-www-form-urlencoded bodies (the step-up form; SAML's HTTP-POST binding) into a
 * flat object of strings, with a size limit. Only inside formRoutes' scope: the JSON API keeps refusing
 * form posts (415), one more wall against cross-site requests.
 */
import type { FastifyInstance } from 'fastify';

/** Largest form accepted (a SAML response with certificates fits easily). */
export const FORM_BODY_LIMIT = 256 * 1024;

/** Registers routes that take HTML form posts: `add` runs in a scope of its own that parses them. */
export function formRoutes(app: FastifyInstance, add: (scope: FastifyInstance) => void): void {
  void app.register(async (scope) => {
    installFormBody(scope);
    add(scope);
  });
}

/** Registers the urlencoded parser on `app` (a scope) unless one is already there. */
export function installFormBody(app: FastifyInstance): void {
  if (app.hasContentTypeParser('application/x-www-form-urlencoded')) return;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_req, body, done) => {
    const out: Record<string, string> = {};
    // First value wins: a duplicated field must not override what a check already read.
    for (const [k, v] of new URLSearchParams(body as string)) if (!(k in out)) out[k] = v;
    done(null, out);
  });
}
