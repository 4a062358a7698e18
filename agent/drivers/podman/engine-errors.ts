/**
 * Reads the errors dockerode raises (HTTP status + engine message, or a socket error) and turns them into
 * FoundryErrors that name the resource.
 */
import { FoundryError, type ErrorCode } from '../../../common/errors.js';

interface EngineErrorShape {
  statusCode?: number;
  code?: string;
  json?: { message?: string; cause?: string } | string | null;
  message?: string;
}

/** HTTP status of an engine error, undefined for socket-level errors. */
export function statusOf(err: unknown): number | undefined {
  return (err as EngineErrorShape | undefined)?.statusCode;
}

/** The engine's own message (without dockerode's "(HTTP code 500) server error - " prefix). */
export function engineMessage(err: unknown): string {
  const e = err as EngineErrorShape | undefined;
  if (e?.json !== undefined && e.json !== null) {
    if (typeof e.json === 'string') return e.json.trim();
    if (typeof e.json.message === 'string') return e.json.message.trim();
  }
  const msg = e?.message ?? String(err);
  return msg.replace(/^\(HTTP code \d+\) [a-z ]+ - /i, '').trim();
}

/** True for "not found" (404). */
export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}

/** True for "already in that state" (304 on start/stop). */
export function isNotModified(err: unknown): boolean {
  return statusOf(err) === 304;
}

/** True when a name is already taken (409 on Docker; Podman also answers 500 with "already in use"/"already exists"). */
export function isNameConflict(err: unknown): boolean {
  const s = statusOf(err);
  return s === 409 || (s === 500 && /already (in use|exists)/i.test(engineMessage(err)));
}

/** True when the engine socket itself is unreachable. */
export function isUnreachable(err: unknown): boolean {
  const code = (err as EngineErrorShape | undefined)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' || code === 'ECONNRESET' || code === 'EPIPE';
}

/** Wraps an engine error: RUNTIME_UNAVAILABLE when the socket is unreachable, `code` otherwise. */
export function engineError(err: unknown, what: string, resource: string, code: ErrorCode = 'RUNTIME_ACTION'): FoundryError {
  if (err instanceof FoundryError) return err;
  if (isUnreachable(err)) {
    return new FoundryError('RUNTIME_UNAVAILABLE', `${what}: the container engine is not reachable (${(err as EngineErrorShape).code})`, { resource, cause: err });
  }
  const status = statusOf(err);
  return new FoundryError(code, `${what}: ${engineMessage(err)}`, { resource, cause: err, details: status === undefined ? undefined : { status } });
}
