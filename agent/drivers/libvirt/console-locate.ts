/**
 * Finds the VNC console of a workspace's VM on this node: the running domain the agent manages for this
 * node and that workspace (our metadata, as the driver's list reads it), and its VNC listener from `virsh dumpxml`. Only a loopback listener is
 * accepted: the console is reached through the agent's tunnel, never on an address others can reach.
 */
import { FoundryError } from '../../../common/errors.js';
import { ownerFromLabels } from '../../labels.js';
import { parseDomainXml, parseVncListener, type VncListener } from './domain-parse.js';
import { metadataToLabels } from './libvirt-driver.js';
import type { Virsh } from './virsh.js';

/** Addresses a console may listen on (the node's loopback). */
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

/** A located console: the domain and where its VNC server listens. */
export interface LocatedConsole extends VncListener {
  domain: string;
}

/** True when `host` is a loopback address. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/**
 * The console of `workspace` on `node`. Throws CONSOLE_UNAVAILABLE naming the workspace when no running VM
 * of it is here, when it has no VNC graphics, or when it listens beyond the loopback.
 */
export async function locateConsole(virsh: Virsh, node: string, workspace: string): Promise<LocatedConsole> {
  for (const name of await virsh.listNames()) {
    const xml = await virsh.dumpXml(name);
    if (xml === undefined) continue;
    const d = parseDomainXml(xml);
    // Only a domain the agent manages for this node, by the same ownership rule as the driver's list.
    const own = d.foundry === undefined ? undefined : ownerFromLabels(metadataToLabels(d.foundry), node, 'vm');
    if (own?.owner.workspace !== workspace) continue;
    if (!d.active) throw new FoundryError('CONSOLE_UNAVAILABLE', `the vm of workspace ${workspace} (domain ${name}) is not running`, { resource: workspace, retry: 'wait' });
    const vnc = parseVncListener(xml);
    if (vnc === undefined) throw new FoundryError('CONSOLE_UNAVAILABLE', `the vm of workspace ${workspace} (domain ${name}) has no vnc console`, { resource: workspace, retry: 'terminal' });
    if (!isLoopback(vnc.host)) throw new FoundryError('CONSOLE_UNAVAILABLE', `the vnc console of workspace ${workspace} listens on ${vnc.host}, not on the loopback: refused`, { resource: workspace, retry: 'terminal' });
    return { domain: name, ...vnc };
  }
  throw new FoundryError('CONSOLE_UNAVAILABLE', `no vm of workspace ${workspace} on node ${node}`, { resource: workspace, retry: 'wait' });
}
