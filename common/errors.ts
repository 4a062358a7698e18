/**
 * One catalog of error codes for the whole project. Every error FoundryCloud raises on purpose is a
 * FoundryError: a code from this catalog, the resource it concerns, a retry class and an optional cause.
 * Messages are lowercase, say what failed and why, and never contain secrets.
 */

/** How a caller should react: try again soon, wait for something outside to change, or give up. */
export type RetryClass = 'transient' | 'wait' | 'terminal';

/** Every error code, with its default retry class. Add new codes here, never inline. */
export const ERROR_CODES = {
  // infra repo
  INFRA_YAML: 'terminal',
  INFRA_SCHEMA: 'terminal',
  INFRA_REFERENCE: 'terminal',
  INFRA_CONFLICT: 'terminal',
  INFRA_FILE: 'terminal',
  INFRA_UNKNOWN_KIND: 'terminal',
  // git source
  GIT_FETCH: 'transient',
  GIT_REVISION: 'terminal',
  GIT_SIGNATURE: 'wait',
  GIT_PUSH_REJECTED: 'terminal',
  GIT_PUSH_CONFLICT: 'transient',
  // agent
  CONFIG_INVALID: 'terminal',
  NODE_UNKNOWN: 'wait',
  PRUNE_REFUSED: 'wait',
  RUNTIME_UNAVAILABLE: 'transient',
  RUNTIME_ACTION: 'transient',
  IMAGE_MISSING: 'wait',
  IMAGE_REFUSED: 'terminal',
  SECRET_UNAVAILABLE: 'wait',
  // encrypted volumes
  VOLUME_KEY_MISSING: 'wait',
  VOLUME_MOVE_REFUSED: 'terminal',
  // vms
  VM_ACTION: 'transient',
  OPENSTACK_AUTH: 'wait',
  OPENSTACK_QUOTA: 'wait',
  OPENSTACK_NO_VALID_HOST: 'wait',
  OPENSTACK_CONFLICT: 'transient',
  OPENSTACK_REQUEST: 'transient',
  // desktops (consoles of vms)
  CONSOLE_UNAVAILABLE: 'wait',
  CONSOLE_TUNNEL: 'transient',
  GUACAMOLE_KEY: 'terminal',
  // telemetry
  NVIDIA_SMI: 'transient',
  NVIDIA_SMI_TIMEOUT: 'transient',
  NVIDIA_SMI_PARSE: 'transient',
  // protocol and hub
  PROTOCOL_FRAME: 'terminal',
  AUTH_REQUIRED: 'terminal',
  AUTH_FORBIDDEN: 'terminal',
  NOT_FOUND: 'terminal',
  BAD_REQUEST: 'terminal',
  STORE: 'transient',
  JOIN_TOKEN: 'terminal',
  NODE_NAME_TAKEN: 'terminal',
  TLS_PIN_MISMATCH: 'terminal',
  PLACEMENT_NONE: 'wait',
  PLACEMENT_CONFLICT: 'transient',
  CONFLICT: 'terminal',
  BILLING: 'terminal',
  CLI_USAGE: 'terminal',
  INTERNAL: 'transient',
} as const satisfies Record<string, RetryClass>;

/** A code from the catalog. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Options for a FoundryError beyond its code and message. */
export interface FoundryErrorOptions {
  /** Resource the error concerns (a file, a resource id, a node). */
  resource?: string;
  /** Overrides the code's default retry class. */
  retry?: RetryClass;
  /** The underlying error. */
  cause?: unknown;
  /** Structured details safe to log and to show (never secrets). */
  details?: Record<string, unknown>;
}

/** The project's typed error: a catalog code, a resource, a retry class and a cause. */
export class FoundryError extends Error {
  readonly code: ErrorCode;
  readonly resource: string | undefined;
  readonly retry: RetryClass;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: FoundryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FoundryError';
    this.code = code;
    this.resource = options.resource;
    this.retry = options.retry ?? ERROR_CODES[code];
    this.details = options.details;
  }

  /** A plain object for logs, status files and API bodies. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, resource: this.resource, retry: this.retry, details: this.details };
  }
}

/** True when `err` is a FoundryError, optionally with the given code. */
export function isFoundryError(err: unknown, code?: ErrorCode): err is FoundryError {
  return err instanceof FoundryError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for places that must report a foreign error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
