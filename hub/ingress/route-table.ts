/**
 * The ingress route table, pure: from Git (ingress Services, workspaces, their templates' apps, nodes'
 * internal addresses) and what the agents last reported (the address and host port each running
 * container actually got), one `ingress-routes` body per ingress Service. A workspace routes only to the
 * node Git places it on, so a moved workspace follows its new node as soon as that node reports it.
 */
import { appHost } from '../../common/ingress/app-host.js';
import type { InfraRepo } from '../../common/infra/model.js';
import type { CommandMessage } from '../../common/protocol/codec.js';
import type { StatusMessage } from '../../common/protocol/codec.js';

/** What an ingress Service's node is told: its settings and its routes. */
export type IngressBody = NonNullable<CommandMessage['body']['ingress']>;
/** One route. */
export type IngressRoute = IngressBody['routes'][number];
/** A node's last status body. */
type StatusBody = StatusMessage['body'];

/** Settings of the hub that shape every app's URL and the login redirect. */
export interface IngressSettings {
  /** Apps are <app>--<workspace>.<appsDomain>. */
  appsDomain: string;
  /** The hub's URL as browsers reach it. */
  hubPublicUrl: string;
}

const ANY_ADDRESS = new Set(['', '0.0.0.0', '::', '[::]']);

/** The address:port to dial for a reported binding: the bound address, or the node's internal address when it bound all of them. */
export function upstreamOf(hostIp: string, hostPort: number, internalAddress: string | undefined): string {
  const ip = ANY_ADDRESS.has(hostIp) ? (internalAddress ?? '127.0.0.1') : hostIp;
  return ip.includes(':') ? `[${ip}]:${hostPort}` : `${ip}:${hostPort}`;
}

/** Every routable app: running workspaces placed on a node, whose app container that node reports running with the port published. */
export function appRoutes(repo: InfraRepo, statusOf: (node: string) => StatusBody | undefined, appsDomain: string): IngressRoute[] {
  const routes: IngressRoute[] = [];
  for (const [name, { doc }] of repo.workspaces) {
    const node = doc.spec.node;
    if (node === undefined || (doc.spec.state ?? 'running') !== 'running') continue;
    const template = repo.templates.get(doc.spec.template)?.doc;
    const status = statusOf(node);
    if (template === undefined || status === undefined) continue;
    const internal = repo.nodes.get(node)?.doc.spec.network?.internalAddress;
    for (const c of template.spec.containers ?? []) {
      // The agent's display id of a workspace container is ws.<workspace>.<container> (agent/render.ts); compared whole, never parsed.
      const reported = status.resources.find((r) => r.kind === 'container' && r.workspace === name && r.id === `ws.${name}.${c.name}`);
      for (const p of c.ports ?? []) {
        if (p.app === undefined) continue;
        const bound = reported?.ports?.find((b) => b.containerPort === p.containerPort && b.protocol === (p.protocol ?? 'tcp'));
        if (bound === undefined) continue;
        routes.push({ host: appHost(p.app, name, appsDomain), workspace: name, tenant: doc.spec.tenant, app: p.app, upstream: upstreamOf(bound.hostIp, bound.hostPort, internal) });
      }
    }
  }
  return routes.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/** One body per ingress Service placed on a node, keyed by that node. */
export function ingressBodies(repo: InfraRepo, statusOf: (node: string) => StatusBody | undefined, settings: IngressSettings): Map<string, IngressBody[]> {
  const routes = appRoutes(repo, statusOf, settings.appsDomain);
  const out = new Map<string, IngressBody[]>();
  for (const [name, { doc }] of repo.services) {
    const ing = doc.spec.ingress;
    const node = doc.spec.placement.node;
    if (ing === undefined || node === undefined) continue;
    const body: IngressBody = {
      service: name,
      listen: ing.listen,
      appsDomain: settings.appsDomain,
      hubPublicUrl: settings.hubPublicUrl,
      auth: ing.auth ?? 'hub',
      authCacheSeconds: ing.authCacheSeconds ?? 5,
      maxBodySize: ing.maxBodySize ?? '0',
      routes,
    };
    if (ing.tls !== undefined) body.tls = { certificateFile: ing.tls.certificateFile, keyFile: ing.tls.keyFile };
    out.set(node, [...(out.get(node) ?? []), body]);
  }
  return out;
}
