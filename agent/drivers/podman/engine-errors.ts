/**
 * The errors of the engine client (engine-client.ts): an HTTP error answer (status + the engine's
 * message), a socket error (ENOENT, ECONNREFUSED...) or a timeout (ETIMEDOUT), and how they become
 * FoundryErrors that name the resource.
 */
import { FoundryError, type ErrorCode } from '../../../common/errors.js';

/** An HTTP error answer of the engine: the status and the body (parsed JSON, else the trimmed text, else null). */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly json: unknown,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** The engine's answer body as an error payload: parsed JSON, else the trimmed text, else null. */
function errorPayload(text: string): unknown {
  const t = text.trim();
  if (t === '') return null;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return t;
  }
}

/** An EngineError for a non-2xx answer, with the engine's own message where it sent one. */
export function errorFromAnswer(method: string, path: string, status: number, text: string): EngineError {
  const json = errorPayload(text);
  const message = (json as { message?: unknown } | null)?.message;
  const said = typeof json === 'string' ? json : typeof message === 'string' ? message : '';
  return new EngineError(`${method} ${path.split('?')[0]} answered ${status}${said === '' ? '' : `: ${said}`}`, status, json);
}

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

/** The engine's own message (the `message` of its JSON body, else its text, else the error's message). */
export function engineMessage(err: unknown): string {
  const e = err as EngineErrorShape | undefined;
  if (e?.json !== undefined && e.json !== null) {
    if (typeof e.json === 'string') return e.json.trim();
    if (typeof e.json.message === 'string') return e.json.message.trim();
  }
  return (e?.message ?? String(err)).trim();
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

/** True when the engine socket itself is unreachable, or the engine did not answer in time. */
export function isUnreachable(err: unknown): boolean {
  const code = (err as EngineErrorShape | undefined)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
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
