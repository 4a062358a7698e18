/**
 * The hub's one error handler: a FoundryError answers the HTTP status of its catalog code with
 * `{ code, message, resource, details }`; a schema validation error answers 400 naming the field; other
 * refusals of the request itself (bad JSON, a body too large, a wrong content type) keep their 4xx with a
 * fixed message (a parser's message may quote the body); anything else is a 500 that says nothing of
 * its cause (the cause goes to the log).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage, isFoundryError, type ErrorCode, type FoundryError } from '../common/errors.js';

/** HTTP status of each catalog code a request can meet; any other code is a 500. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  AUTH_REQUIRED: 401,
  AUTH_FORBIDDEN: 403,
  JOIN_TOKEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  NODE_NAME_TAKEN: 409,
  GIT_SIGNATURE: 409,
  CONSOLE_UNAVAILABLE: 409,
  BILLING: 422,
  GIT_PUSH_REJECTED: 422,
  INFRA_FILE: 422,
  GIT_FETCH: 502,
  PLACEMENT_CONFLICT: 503,
  GIT_PUSH_CONFLICT: 503,
  CONSOLE_TUNNEL: 503,
  GUACAMOLE_KEY: 503,
  RUNTIME_UNAVAILABLE: 503,
  STORE: 503,
};

/** Codes that say the request itself is wrong (as opposed to the hub being unable to serve it now). */
const REQUEST_CODES: ReadonlySet<ErrorCode> = new Set(['BAD_REQUEST', 'AUTH_REQUIRED', 'AUTH_FORBIDDEN', 'JOIN_TOKEN', 'NOT_FOUND', 'NODE_NAME_TAKEN']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Per route: the status of every FoundryError that is not the request's fault (enrollment: 503, install.sh tries again). */
    hubSideStatus?: number;
    /** Per route: false answers FoundryErrors as `{ code, message }` only (enrollment's API, which install.sh reads, never had more). */
    errorDetails?: boolean;
  }
}

/** The HTTP status of a catalog code (500 for codes no request should meet). */
export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

/** The body of a FoundryError as the API answers it. */
export function errorBody(err: FoundryError): { code: ErrorCode; message: string; resource?: string; details?: Record<string, unknown> } {
  return { code: err.code, message: err.message, resource: err.resource, details: err.details };
}

/** Fixed messages for Fastify's own refusals; their own messages may quote the body. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'the body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the content length does not match the body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid request body: expected json, got an empty body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid request body: not json',
};

const CODE_OF_STATUS: Record<number, ErrorCode> = { 401: 'AUTH_REQUIRED', 403: 'AUTH_FORBIDDEN', 404: 'NOT_FOUND' };

/** The app-wide error handler (installed once by buildApp). */
export async function hubErrorHandler(err: FastifyError | FoundryError | Error, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (isFoundryError(err)) {
    const config = req.routeOptions.config;
    const status = config?.hubSideStatus !== undefined && !REQUEST_CODES.has(err.code) ? config.hubSideStatus : httpStatusOf(err.code);
    if (status >= 500) req.log.warn({ code: err.code, err: err.message }, 'request failed');
    return reply.code(status).send(config?.errorDetails === false ? { code: err.code, message: err.message } : errorBody(err));
  }
  const fe = err as Partial<FastifyError>;
  if (fe.validation !== undefined) {
    // "body/value must be string": the field named by its path, never its value.
    const where = fe.validationContext ?? 'request';
    const what = fe.validation.map((v) => `${where}${v.instancePath === '' ? '' : v.instancePath} ${v.message ?? 'is invalid'}`).join('; ');
    return reply.code(400).send({ code: 'BAD_REQUEST', message: `invalid ${where}: ${what}` });
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    return reply.code(status).send({ code: CODE_OF_STATUS[status] ?? 'BAD_REQUEST', message: FASTIFY_MESSAGES[fe.code ?? ''] ?? (err instanceof SyntaxError ? 'invalid request body: not json' : 'invalid request') });
  }
  req.log.error({ err: errorMessage(err), code: fe.code }, 'internal error');
  return reply.code(500).send({ code: 'INTERNAL', message: 'internal error' });
}
