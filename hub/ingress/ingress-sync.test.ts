/** The route sync over the hub store (real SQLite): statuses read through the repository, sent when they change. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { repoOf } from '../../test/support/infra-repo.js';
import { HubStore } from '../store/hub-store.js';
import type { CommandMessage, StatusMessage } from '../../common/protocol/codec.js';
import type { AppSessionsRepo } from '../store/app-sessions-repo.js';
import { IngressSync } from './ingress-sync.js';

const tpl = { kind: 'WorkspaceTemplate', metadata: { name: 'apps' }, spec: { containers: [{ name: 'ui', image: 'x:1', ports: [{ containerPort: 3000, app: 'flowise' }] }] } };
const repo = repoOf([
  tpl,
  { kind: 'Node', metadata: { name: 'gpu-01' }, spec: { profile: 'gpu-node', network: { internalAddress: '10.0.1.11' } } },
  { kind: 'Node', metadata: { name: 'svc-01' }, spec: { profile: 'gpu-node' } },
  { kind: 'Workspace', metadata: { name: 'acme-alice' }, spec: { tenant: 'acme', template: 'apps', node: 'gpu-01', state: 'running' } },
  { kind: 'Service', metadata: { name: 'ingress' }, spec: { placement: { node: 'svc-01' }, ingress: { listen: '0.0.0.0:443' } } },
]);

function status(hostPort: number): StatusMessage['body'] {
  return { node: 'gpu-01', conditions: [], resources: [{ id: 'ws.acme-alice.ui', kind: 'container', workspace: 'acme-alice', conditions: [{ type: 'Ready', status: 'True', reason: 'UpToDate' }], ports: [{ containerPort: 3000, protocol: 'tcp', hostIp: '10.0.1.11', hostPort }] }] };
}

describe('ingress sync', () => {
  let store: HubStore;
  let sent: Array<{ node: string; body: CommandMessage['body'] }>;
  let reads: string[];
  let sync: IngressSync;

  beforeEach(() => {
    store = new HubStore(':memory:');
    sent = [];
    reads = [];
    // the store's repository, with its per-node reads counted
    const statuses: Pick<AppSessionsRepo, 'statusSeqs' | 'status'> = { statusSeqs: () => store.appSessions.statusSeqs(), status: (node) => (reads.push(node), store.appSessions.status(node)) };
    sync = new IngressSync({ statuses, repo: async () => repo, connectedNodes: () => ['svc-01'], command: (node, body) => (sent.push({ node, body }), true), settings: { appsDomain: 'apps.example', hubPublicUrl: 'https://hub.example' }, log: pino({ level: 'silent' }) });
  });
  afterEach(() => store.close());

  const upstreams = (): string[][] => sent.map((s) => s.body.ingress!.routes.map((r) => `${r.host} ${r.upstream}`));

  it('sends the routes the agents reported, re-reads a status only when its seq moved, and sends again only on a change', async () => {
    await store.ingest([{ node: 'gpu-01', seq: 1, kind: 'status', payload: status(41001) }]);
    await sync.tick();
    expect(sent.map((s) => [s.node, s.body.name])).toEqual([['svc-01', 'ingress-routes']]);
    expect(upstreams()).toEqual([['flowise--acme-alice.apps.example 10.0.1.11:41001']]);
    await sync.tick();
    expect(reads).toEqual(['gpu-01']);
    expect(sent).toHaveLength(1);
    await store.ingest([{ node: 'gpu-01', seq: 2, kind: 'status', payload: status(41002) }]);
    await sync.tick();
    expect(reads).toEqual(['gpu-01', 'gpu-01']);
    expect(upstreams()).toEqual([['flowise--acme-alice.apps.example 10.0.1.11:41001'], ['flowise--acme-alice.apps.example 10.0.1.11:41002']]);
  });
});
