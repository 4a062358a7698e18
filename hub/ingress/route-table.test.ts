import { describe, expect, it } from 'vitest';
import { repoOf } from '../../test/support/infra-repo.js';
import { appRoutes, ingressBodies, upstreamOf } from './route-table.js';
import type { StatusMessage } from '../../common/protocol/codec.js';

type Status = StatusMessage['body'];

const tpl = { kind: 'WorkspaceTemplate', metadata: { name: 'apps' }, spec: { containers: [{ name: 'ui', image: 'x:1', ports: [{ containerPort: 3000, app: 'flowise' }, { containerPort: 9000 }] }, { name: 'llm', image: 'y:1', ports: [{ containerPort: 11434, app: 'ollama-api', api: true }] }] } };
const ws = (name: string, node: string, state = 'running') => ({ kind: 'Workspace', metadata: { name }, spec: { tenant: 'acme', template: 'apps', node, state } });
const node = (name: string, internalAddress?: string) => ({ kind: 'Node', metadata: { name }, spec: { profile: 'gpu-node', ...(internalAddress === undefined ? {} : { network: { internalAddress } }) } });
const ingress = { kind: 'Service', metadata: { name: 'ingress' }, spec: { placement: { node: 'svc-01' }, ingress: { listen: '0.0.0.0:443', authCacheSeconds: 3 } } };

/** A node's status reporting containers of workspaces with their published ports. */
function status(nodeName: string, containers: Array<{ workspace: string; container: string; ports: Array<[number, string, number]> }>): Status {
  return {
    node: nodeName,
    conditions: [],
    resources: containers.map((c) => ({ id: `ws.${c.workspace}.${c.container}`, kind: 'container', workspace: c.workspace, conditions: [{ type: 'Ready', status: 'True', reason: 'UpToDate' }], ports: c.ports.map(([containerPort, hostIp, hostPort]) => ({ containerPort, protocol: 'tcp', hostIp, hostPort })) })),
  };
}

describe('route table', () => {
  it('routes each app of a running workspace to the address and host port its placed node reported', () => {
    const repo = repoOf([tpl, node('gpu-01', '10.0.1.11'), node('gpu-02'), ws('acme-alice', 'gpu-01'), ws('acme-bob', 'gpu-02'), ws('acme-off', 'gpu-01', 'stopped')]);
    const statuses = new Map<string, Status>([
      ['gpu-01', status('gpu-01', [{ workspace: 'acme-alice', container: 'ui', ports: [[3000, '10.0.1.11', 41001], [9000, '10.0.1.11', 41002]] }, { workspace: 'acme-alice', container: 'llm', ports: [[11434, '0.0.0.0', 41003]] }, { workspace: 'acme-off', container: 'ui', ports: [[3000, '10.0.1.11', 41009]] }])],
      // acme-bob moved here but gpu-02 has not reported its llm container yet; gpu-01 still reports an old copy
      ['gpu-02', status('gpu-02', [{ workspace: 'acme-bob', container: 'ui', ports: [[3000, '127.0.0.1', 42001]] }])],
    ]);
    statuses.get('gpu-01')!.resources.push(...status('gpu-01', [{ workspace: 'acme-bob', container: 'llm', ports: [[11434, '10.0.1.11', 41999]] }]).resources);
    expect(appRoutes(repo, (n) => statuses.get(n), 'apps.example.eu')).toEqual([
      { host: 'flowise--acme-alice.apps.example.eu', workspace: 'acme-alice', tenant: 'acme', app: 'flowise', upstream: '10.0.1.11:41001' },
      { host: 'flowise--acme-bob.apps.example.eu', workspace: 'acme-bob', tenant: 'acme', app: 'flowise', upstream: '127.0.0.1:42001' },
      // bound on all addresses: dialled on the node's internal address
      { host: 'ollama-api--acme-alice.apps.example.eu', workspace: 'acme-alice', tenant: 'acme', app: 'ollama-api', upstream: '10.0.1.11:41003' },
    ]);
  });

  it('sends one body per ingress service to its node, with the service settings and defaults', () => {
    const repo = repoOf([tpl, node('gpu-01'), node('svc-01'), ingress, ws('acme-alice', 'gpu-01')]);
    const st = status('gpu-01', [{ workspace: 'acme-alice', container: 'ui', ports: [[3000, '127.0.0.1', 40000]] }]);
    const bodies = ingressBodies(repo, (n) => (n === 'gpu-01' ? st : undefined), { appsDomain: 'apps.localhost', hubPublicUrl: 'http://127.0.0.1:8080' });
    expect([...bodies.keys()]).toEqual(['svc-01']);
    expect(bodies.get('svc-01')).toEqual([{ service: 'ingress', listen: '0.0.0.0:443', appsDomain: 'apps.localhost', hubPublicUrl: 'http://127.0.0.1:8080', auth: 'hub', authCacheSeconds: 3, maxBodySize: '0', routes: [{ host: 'flowise--acme-alice.apps.localhost', workspace: 'acme-alice', tenant: 'acme', app: 'flowise', upstream: '127.0.0.1:40000' }] }]);
  });

  it('brackets IPv6 upstreams', () => {
    expect(upstreamOf('fd00::5', 41000, undefined)).toBe('[fd00::5]:41000');
    expect(upstreamOf('::', 41000, 'fd00::6')).toBe('[fd00::6]:41000');
    expect(upstreamOf('', 41000, undefined)).toBe('127.0.0.1:41000');
  });
});
