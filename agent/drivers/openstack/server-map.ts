/**
 * Pure mapping between our resources and Nova servers: ownership in server metadata (Nova allows only
 * [a-zA-Z0-9-_:. ] in keys, so "foundry.cloud/x" becomes "foundry.cloud:x"), the create body, and
 * Nova statuses in our state vocabulary.
 */
import type { DesiredVm, ObservedResource, ObservedState } from '../../desired.js';
import { LABEL_PREFIX, ownerFromLabels, ownershipLabels } from '../../labels.js';
import type { NovaServer } from './nova-client.js';

/** Prefix of our metadata keys on Nova servers. */
export const METADATA_PREFIX = 'foundry.cloud:';

/** Ownership labels as Nova metadata. */
export function labelsToNovaMetadata(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k.startsWith(LABEL_PREFIX) ? METADATA_PREFIX + k.slice(LABEL_PREFIX.length) : k, v]));
}

/** Nova metadata back to ownership labels (other keys dropped). */
export function novaMetadataToLabels(meta: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(meta ?? {}).filter(([k]) => k.startsWith(METADATA_PREFIX)).map(([k, v]) => [LABEL_PREFIX + k.slice(METADATA_PREFIX.length), v]));
}

/** Nova server status → our state. Transitional statuses read as "created" (on its way, not to be started). */
export function mapServerStatus(status: string): ObservedState {
  switch (status.toUpperCase()) {
    case 'ACTIVE':
      return 'running';
    case 'SHUTOFF':
    case 'STOPPED':
    case 'SHELVED':
    case 'SHELVED_OFFLOADED':
      return 'stopped';
    case 'PAUSED':
    case 'SUSPENDED':
      return 'paused';
    case 'ERROR':
      return 'failed';
    case 'BUILD':
    case 'REBUILD':
    case 'REBOOT':
    case 'HARD_REBOOT':
    case 'RESIZE':
    case 'VERIFY_RESIZE':
    case 'REVERT_RESIZE':
    case 'MIGRATING':
    case 'PASSWORD':
    case 'RESCUE':
      return 'created';
    default:
      return 'unknown';
  }
}

/** Whether Nova is still working on the server (an action now would conflict). */
export function isTransitional(server: NovaServer): boolean {
  return mapServerStatus(server.status) === 'created' || (server['OS-EXT-STS:task_state'] ?? null) !== null;
}

/** Our view of a server when its metadata says it is ours for `node`; undefined otherwise, and for servers being deleted. */
export function serverToObserved(server: NovaServer, node: string): ObservedResource | undefined {
  const own = ownerFromLabels(novaMetadataToLabels(server.metadata), node, 'vm');
  if (own === undefined) return undefined;
  if (['DELETED', 'SOFT_DELETED'].includes(server.status.toUpperCase()) || server['OS-EXT-STS:task_state'] === 'deleting') return undefined;
  const facts: Record<string, string> = { driver: 'openstack', status: server.status };
  if (server.fault?.message !== undefined) facts.fault = server.fault.message;
  if (server['OS-EXT-AZ:availability_zone'] !== undefined) facts.availabilityZone = server['OS-EXT-AZ:availability_zone'];
  return { kind: 'vm', ref: own.ref, id: own.id, name: server.name, runtimeId: server.id, owner: own.owner, specHash: own.specHash, state: mapServerStatus(server.status), reclaimPolicy: own.reclaim, facts };
}

/** References already resolved to ids. */
export interface ResolvedRefs {
  flavorId: string;
  imageId: string;
  networkId: string | undefined;
}

/** How host targeting is expressed: the `host` field (microversion 2.74) or the legacy "zone:host" availability zone. */
export type HostTargeting = 'microversion' | 'availability-zone';

/**
 * What a VM that names no network gets: "none" (no NIC) or "auto" (Neutron's auto-allocated topology).
 * Both need compute microversion 2.37; unset, such a VM is created at 2.1 with no networks field
 * (Nova then picks the project's network), except with the host field, where "auto" was the default.
 */
export type NoNetwork = 'none' | 'auto';

/** The POST /servers body and the microversion it needs. */
export function createServerRequest(d: DesiredVm, refs: ResolvedRefs, targeting: HostTargeting, noNetwork?: NoNetwork): { body: { server: Record<string, unknown> }; microversion: string | undefined } {
  const os = d.spec.openstack;
  const server: Record<string, unknown> = { name: d.name, imageRef: refs.imageId, flavorRef: refs.flavorId };
  const hostField = os?.host !== undefined && targeting === 'microversion';
  const microversion = hostField ? '2.74' : noNetwork !== undefined && refs.networkId === undefined ? '2.37' : undefined;
  if (refs.networkId !== undefined) server.networks = [{ uuid: refs.networkId }];
  else if (microversion !== undefined) server.networks = noNetwork ?? 'auto'; // required from 2.37 on
  if (os?.host !== undefined && !hostField) server.availability_zone = `${os.availabilityZone ?? 'nova'}:${os.host}`;
  else if (os?.availabilityZone !== undefined) server.availability_zone = os.availabilityZone;
  if (hostField) server.host = os?.host;
  if (os?.keyName !== undefined) server.key_name = os.keyName;
  if (d.spec.userData !== undefined) server.user_data = Buffer.from(d.spec.userData, 'utf8').toString('base64');
  server.metadata = labelsToNovaMetadata(ownershipLabels(d.id, d.owner, d.specHash, d.reclaimPolicy, d.ref));
  return { body: { server }, microversion };
}
