/** Shared pieces of the OpenStack tests: sample credentials, a settable clock, a desired VM. */
import { specHash } from '../../common/hash.js';
import type { DesiredVm, VmSpec } from '../../agent/desired.js';
import type { PasswordCredentials } from '../../agent/drivers/openstack/keystone.js';
import { SAMPLE_PROJECT } from './fake-cloud.js';

/** The password sample's user and password, scoped to the sample's project. */
export const PASSWORD_CREDS: PasswordCredentials = { type: 'password', username: 'admin', userDomainName: 'Default', password: 'devstacker', projectId: SAMPLE_PROJECT };

/** A clock tests move by hand; starts at the password sample's issued_at. */
export class TestClock {
  t = Date.parse('2015-11-07T01:58:43.578929Z');
  now = (): number => this.t;
}

/** An OpenStack DesiredVm for node n1. */
export function osVm(short: string, spec: Partial<VmSpec> = {}, extra: Partial<Pick<DesiredVm, 'run' | 'reclaimPolicy'>> = {}): DesiredVm {
  const full: VmSpec = {
    driver: 'openstack',
    vcpus: 2,
    memoryBytes: undefined,
    disk: undefined,
    network: undefined,
    userData: undefined,
    hostDevices: [],
    gpuUuids: [],
    openstack: { flavor: 'm1.tiny', image: '70a599e0-31e7-49b7-b260-868f441e862b' },
    ...spec,
  };
  return {
    kind: 'vm',
    ref: { kind: 'vm', scope: 'workspace', owner: 'acme-alice', name: short },
    id: `ws.acme-alice.vm.${short}`,
    name: `acme-alice-${short}`,
    owner: { node: 'n1', workspace: 'acme-alice', tenant: 'acme' },
    spec: full,
    specHash: specHash(full),
    reclaimPolicy: extra.reclaimPolicy ?? 'Retain',
    run: extra.run ?? true,
  };
}
