/**
 * Pure mapping from what the engine lists (containers, networks, volumes) to ObservedResource, keeping
 * only what carries our ownership labels for this node.
 */
import type { ContainerSummary, NetworkSummary, VolumeSummary } from './engine-types.js';
import type { ObservedResource, ObservedState, PublishedPort } from '../../desired.js';
import { LABELS, ownerFromLabels } from '../../labels.js';
import { compareText } from '../../../common/text-order.js';

/** Normalizes an engine container state (running, exited, created, paused, dead...). */
export function containerState(state: string | undefined): ObservedState {
  switch ((state ?? '').toLowerCase()) {
    case 'running':
      return 'running';
    case 'exited':
    case 'stopped':
      return 'stopped';
    case 'created':
    case 'configured':
    case 'initialized':
      return 'created';
    case 'paused':
      return 'paused';
    case 'dead':
    case 'removing':
      return 'failed';
    default:
      return 'unknown';
  }
}

/** Health as the engine puts it in the status line, e.g. "Up 3 minutes (healthy)". */
function healthOf(status: string | undefined): string | undefined {
  const m = /\((healthy|unhealthy|starting|health: starting)\)/.exec(status ?? '');
  return m?.[1]?.replace('health: ', '');
}

/** An owned container from a `GET /containers/json?all=1` entry; undefined when not ours. */
export function observeContainer(c: ContainerSummary, node: string): ObservedResource | undefined {
  const own = ownerFromLabels(c.Labels ?? undefined, node, 'container');
  if (own === undefined) return undefined;
  const facts: Record<string, string> = { image: c.Image, status: c.Status ?? '' };
  const health = healthOf(c.Status);
  if (health !== undefined) facts.health = health;
  const secrets = c.Labels?.[LABELS.secrets];
  if (secrets !== undefined && secrets !== '') facts.secrets = secrets;
  return {
    kind: 'container',
    ref: own.ref,
    id: own.id,
    name: (c.Names?.[0] ?? '').replace(/^\//, ''),
    runtimeId: c.Id,
    owner: own.owner,
    specHash: own.specHash,
    state: containerState(c.State),
    reclaimPolicy: own.reclaim,
    facts,
    published: publishedPorts(c),
  };
}

/** The published ports of a list entry, sorted, without duplicates (an engine lists a port once per address family). */
export function publishedPorts(c: ContainerSummary): PublishedPort[] {
  const seen = new Map<string, PublishedPort>();
  for (const p of c.Ports ?? []) {
    const protocol = (p.Type ?? 'tcp').toLowerCase();
    if (p.PublicPort === undefined || p.PublicPort === 0 || (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp')) continue;
    const port: PublishedPort = { containerPort: p.PrivatePort, protocol, hostIp: p.IP ?? '', hostPort: p.PublicPort };
    const key = `${port.containerPort}/${port.protocol}/${port.hostIp}`;
    if (!seen.has(key)) seen.set(key, port);
  }
  return [...seen.values()].sort((a, b) => a.containerPort - b.containerPort || compareText(a.protocol, b.protocol) || compareText(a.hostIp, b.hostIp));
}

/** An owned network from a `GET /networks` entry; undefined when not ours. */
export function observeNetwork(n: NetworkSummary, node: string): ObservedResource | undefined {
  const own = ownerFromLabels(n.Labels ?? undefined, node, 'network');
  if (own === undefined) return undefined;
  return { kind: 'network', ref: own.ref, id: own.id, name: n.Name, runtimeId: n.Id, owner: own.owner, specHash: own.specHash, state: 'created', reclaimPolicy: own.reclaim, facts: {} };
}

/** An owned volume from a `GET /volumes` entry; undefined when not ours. Volumes are addressed by name. */
export function observeVolume(v: VolumeSummary, node: string): ObservedResource | undefined {
  const own = ownerFromLabels(v.Labels ?? undefined, node, 'volume');
  if (own === undefined) return undefined;
  const encryption = v.Labels?.['foundry.cloud/encryption'];
  return { kind: 'volume', ref: own.ref, id: own.id, name: v.Name, runtimeId: v.Name, owner: own.owner, specHash: own.specHash, state: 'created', reclaimPolicy: own.reclaim, facts: encryption !== undefined ? { encryption } : {} };
}
