/**
 * Maps an OpenStack error answer to a typed FoundryError: quota, no valid host, conflicts, auth, and
 * anything else. Nova's fault body is {"<faultName>": {"code", "message"}} (api-guide "Faults").
 */
import { FoundryError } from '../../../common/errors.js';
import { errorMessageOf } from './keystone.js';
import type { Redactor } from './redact.js';

/** The typed error for an HTTP error answer of `op` (e.g. "create server") on `resource`. */
export function mapApiError(status: number, json: unknown, text: string, op: string, resource: string, redactor: Redactor): FoundryError {
  const raw = errorMessageOf(json) ?? (text.trim().slice(0, 200) || `http ${status}`);
  const msg = redactor.scrub(raw);
  const details = { status, op };
  if (/quota exceeded/i.test(raw) || status === 413) {
    return new FoundryError('OPENSTACK_QUOTA', `${op} for ${resource} refused: project quota exceeded (${msg}); free resources or raise the quota`, { resource, details });
  }
  if (/no valid host was found/i.test(raw)) {
    return new FoundryError('OPENSTACK_NO_VALID_HOST', `${op} for ${resource} failed: no compute host can take it (${msg}); check the flavor, availability zone and host targeting`, { resource, details });
  }
  if (status === 409) {
    return new FoundryError('OPENSTACK_CONFLICT', `${op} for ${resource} conflicts with the server's current state (${msg})`, { resource, details });
  }
  if (status === 401) {
    return new FoundryError('OPENSTACK_AUTH', `${op} for ${resource} rejected the token (http 401): ${msg}`, { resource, details });
  }
  return new FoundryError('OPENSTACK_REQUEST', `${op} for ${resource} failed (http ${status}): ${msg}`, { resource, details, retry: status >= 500 ? 'transient' : 'wait' });
}
