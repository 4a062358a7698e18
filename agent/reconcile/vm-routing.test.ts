import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DirSource } from '../source/dir-source.js';
import { FakeDriver } from '../../test/support/fake-driver.js';
import { Reconciler } from './reconciler.js';
import { driverKeys, runtimeKeyOf } from '../drivers/driver.js';

const head = (kind: string, name: string): string => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n`;
const files: Record<string, string> = {
  'cluster.yaml': `${head('Cluster', 'fc')}  hubUrl: http://127.0.0.1:8080\n`,
  'profile.yaml': `${head('NodeProfile', 'bare')}  hostsWorkspaces: true\n`,
  'node.yaml': `${head('Node', 'n1')}  profile: bare\n`,
  'tenant.yaml': `${head('Tenant', 'acme')}  displayName: Acme\n`,
  'pricing.yaml': `${head('PriceList', 'default')}  currency: EUR\n  periods:\n    - effectiveFrom: "2026-01-01T00:00:00Z"\n      gpuHour: { "NVIDIA H100 80GB HBM3": "2.49" }\n`,
  'desk.yaml': `${head('WorkspaceTemplate', 'desk')}  vm: { name: desk, driver: libvirt, memory: 64Mi, disk: { baseImage: base.qcow2 } }\n`,
  'cloud.yaml': `${head('WorkspaceTemplate', 'cloud')}  vm: { name: srv, driver: openstack, openstack: { flavor: m1.small, image: ubuntu } }\n`,
  'ws-a.yaml': `${head('Workspace', 'ws-a')}  tenant: acme\n  template: desk\n  node: n1\n`,
  'ws-b.yaml': `${head('Workspace', 'ws-b')}  tenant: acme\n  template: cloud\n  node: n1\n`,
};

describe('VM routing by driver', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-vmroute-'));
    mkdirSync(join(dir, 'repo'));
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, 'repo', f), text);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keys resources and drivers by kind, and VMs by their driver', () => {
    expect(runtimeKeyOf({ kind: 'container' })).toBe('container');
    expect(runtimeKeyOf({ kind: 'vm', spec: { driver: 'openstack' } })).toBe('vm/openstack');
    expect(runtimeKeyOf({ kind: 'vm', facts: { driver: 'libvirt' } })).toBe('vm/libvirt');
    expect(driverKeys({ name: 'libvirt', kinds: ['vm'] })).toEqual(['vm/libvirt']);
  });

  it('sends each VM to its own backend, and an unreachable backend blocks only its own VMs', async () => {
    const libvirt = new FakeDriver({ name: 'libvirt', kinds: ['vm'] });
    const openstack = new FakeDriver({ name: 'openstack', kinds: ['vm'] });
    openstack.down = true;
    const reconciler = new Reconciler({ node: 'n1', source: new DirSource(join(dir, 'repo')), drivers: [libvirt, openstack], stateDir: join(dir, 'state'), verify: undefined, logger: pino({ level: 'silent' }), backoff: { baseDelayMs: 1000, maxDelayMs: 1000 } });
    const r1 = await reconciler.trigger('test');
    expect(libvirt.applied).toEqual(['create ws.ws-a.vm.desk']);
    expect(r1.status.resources.find((s) => s.id === 'ws.ws-b.vm.srv')).toMatchObject({ phase: 'Reconciling', reason: 'RuntimeUnavailable', message: 'the vm/openstack runtime could not be listed; retried next run' });
    openstack.down = false;
    const r2 = await reconciler.trigger('test');
    expect(openstack.applied).toEqual(['create ws.ws-b.vm.srv']);
    expect(libvirt.applied).toEqual(['create ws.ws-a.vm.desk']);
    expect(r2.converged).toBe(true);
  });
});
