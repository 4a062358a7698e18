/** Maps the catalog's error codes to HTTP answers for the workspace and billing routes. */
import type { FastifyReply } from 'fastify';
import { isFoundryError, type ErrorCode } from '../../common/errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  NOT_FOUND: 404,
  CONFLICT: 409,
  BAD_REQUEST: 400,
  BILLING: 422,
  GIT_PUSH_REJECTED: 422,
  INFRA_FILE: 422,
  GIT_SIGNATURE: 409,
  PLACEMENT_CONFLICT: 503,
  GIT_PUSH_CONFLICT: 503,
  GIT_FETCH: 502,
  AUTH_FORBIDDEN: 403,
  CONSOLE_UNAVAILABLE: 409,
  CONSOLE_TUNNEL: 503,
  GUACAMOLE_KEY: 503,
};

/** Sends a FoundryError as {code, message, resource, details}; rethrows anything else (Fastify answers 500). */
export async function sendError(reply: FastifyReply, err: unknown): Promise<FastifyReply> {
  if (!isFoundryError(err)) throw err;
  return reply.code(STATUS[err.code] ?? 500).send({ code: err.code, message: err.message, resource: err.resource, details: err.details });
}
