/** The dashboard's browser-test fleet: a hosted infra repo, a hub with fast live updates, users, an admin token and the stand-in agent. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../hub/app.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { hostedRepo } from '../workspaces/git-fixture.js';
import { addUser } from './support.js';
import { startCephAgent, startFakeAgent, type FakeAgent } from './fake-agent.js';

/** The GPU of the real H100 capture the stand-in nvidia-smi replays. */
export const CAPTURE_GPU = 'GPU-00000000-0000-0000-0000-000000000000';
export const H100 = 'NVIDIA H100 80GB HBM3';

const doc = (kind: string, name: string, spec: string): string => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

/** Repo: one GPU node (the capture's GPU), acme and globex, a template, and a price high enough that seconds show in cents. */
export const FILES: Record<string, string> = {
  'cluster.yaml': doc('Cluster', 'main', '  hubUrl: http://127.0.0.1:1\n'),
  'tenants/acme.yaml': doc('Tenant', 'acme', '  displayName: ACME\n  quota:\n    maxGpus: 1\n'),
  'tenants/globex.yaml': doc('Tenant', 'globex', '  displayName: Globex\n'),
  'templates/tiny.yaml': doc('WorkspaceTemplate', 'tiny', '  containers:\n    - name: main\n      image: localhost/foundry-test:1\n      command: [sleep, "3600"]\n      gpus: true\n      resources: { cpus: 2 }\n'),
  'pricing.yaml': doc('PriceList', 'default', `  currency: EUR\n  periods:\n    - effectiveFrom: "2026-01-01T00:00:00Z"\n      gpuHour:\n        ${H100}: "3600.00"\n      vcpuHour: "36.00"\n`),
  'nodes/gpu-01.yaml': doc('Node', 'gpu-01', `  profile: gpu-node\n  labels:\n    zone: fsn1\n  gpus:\n    - uuid: ${CAPTURE_GPU}\n      model: ${H100}\n`),
  'nodes/ceph-01.yaml': doc('Node', 'ceph-01', '  profile: ceph-node\n'),
};

/** What ceph-01 reports (`ceph df` cluster totals): 12 TB raw, 2.4 TB used. */
export const CEPH_STORAGE = { source: 'ceph' as const, totalBytes: 12e12, usedBytes: 2.4e12, availableBytes: 9.6e12, pools: [{ name: 'rbd', storedBytes: 0.79e12, maxAvailableBytes: 3.04e12 }] };

/** A hub with users ada (admin), tom (acme) and eve (globex), and gpu-01's agent connected. */
export interface E2eHub {
  url: string;
  app: FastifyInstance;
  store: HubStore;
  admin: string;
  agent: FakeAgent;
  ceph: FakeAgent;
  close(): Promise<void>;
}

/** Starts it all. */
export async function startE2eHub(): Promise<E2eHub> {
  const dir = mkdtempSync(join(tmpdir(), 'foundry-dash-e2e-'));
  const repoDir = await hostedRepo(dir, FILES);
  const store = new HubStore(join(dir, 'hub.db'));
  const app = await buildApp({ store, repoDir, telemetryFlushMs: 200, dashboard: { pollMs: 250 } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  const admin = (await store.createAdminToken('e2e'));
  for (const [name, role, tenant] of [['ada', 'admin', undefined], ['tom', 'tenant', 'acme'], ['eve', 'tenant', 'globex']] as const) await addUser(store, name, role, tenant);
  const agent = await startFakeAgent({ url, node: 'gpu-01', credential: (await store.issueNodeCredential('gpu-01')), adminToken: admin, stateDir: join(dir, 'agent') });
  const ceph = await startCephAgent({ url, node: 'ceph-01', credential: (await store.issueNodeCredential('ceph-01')), stateDir: join(dir, 'ceph-agent'), storage: CEPH_STORAGE });
  return {
    url, app, store, admin, agent, ceph,
    async close() {
      await ceph.close();
      await agent.close();
      await app.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
