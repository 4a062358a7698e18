import { describe, expect, it } from 'vitest';
import { specHash } from '../../../common/hash.js';
import type { DesiredVm } from '../../desired.js';
import { createServerRequest, labelsToNovaMetadata, mapServerStatus, novaMetadataToLabels, serverToObserved } from './server-map.js';
import { Redactor } from './redact.js';

const spec = { driver: 'openstack' as const, vcpus: 2, memoryBytes: undefined, disk: undefined, network: undefined, userData: undefined, hostDevices: [], gpuUuids: [], openstack: { flavor: 'f', image: 'i' } };
const vm: DesiredVm = { kind: 'vm', ref: { kind: 'vm', scope: 'service', owner: 'search', name: 'a' }, id: 'svc.search.vm.a', name: 'search-a', owner: { node: 'n1', service: 'search' }, spec, specHash: specHash(spec), reclaimPolicy: 'Retain', run: true };

describe('mapServerStatus', () => {
  it.each([
    ['ACTIVE', 'running'],
    ['SHUTOFF', 'stopped'],
    ['SHELVED_OFFLOADED', 'stopped'],
    ['PAUSED', 'paused'],
    ['SUSPENDED', 'paused'],
    ['ERROR', 'failed'],
    ['BUILD', 'created'],
    ['HARD_REBOOT', 'created'],
    ['VERIFY_RESIZE', 'created'],
    ['UNKNOWN', 'unknown'],
  ])('%s → %s', (status, state) => expect(mapServerStatus(status)).toBe(state));
});

describe('ownership metadata', () => {
  it('round-trips labels through nova metadata keys nova accepts', () => {
    const meta = labelsToNovaMetadata({ 'foundry.cloud/id': 'x', 'foundry.cloud/node': 'n1' });
    expect(meta).toEqual({ 'foundry.cloud:id': 'x', 'foundry.cloud:node': 'n1' });
    expect(novaMetadataToLabels({ ...meta, other: 'y' })).toEqual({ 'foundry.cloud/id': 'x', 'foundry.cloud/node': 'n1' });
  });

  it('reads back a server created from the request', () => {
    const { body } = createServerRequest(vm, { flavorId: '1', imageId: 'img', networkId: undefined }, 'microversion');
    const observed = serverToObserved({ id: 'u1', name: 'search-a', status: 'ACTIVE', metadata: body.server.metadata as Record<string, string> }, 'n1');
    expect(observed).toEqual({ kind: 'vm', ref: vm.ref, id: vm.id, name: 'search-a', runtimeId: 'u1', owner: { node: 'n1', service: 'search' }, specHash: vm.specHash, state: 'running', reclaimPolicy: 'Retain', facts: { driver: 'openstack', status: 'ACTIVE' } });
    expect(serverToObserved({ id: 'u1', name: 'search-a', status: 'ACTIVE', metadata: body.server.metadata as Record<string, string> }, 'n2')).toBeUndefined();
    expect(serverToObserved({ id: 'u2', name: 'x', status: 'ACTIVE' }, 'n1')).toBeUndefined();
  });

  it('omits networks without a network and without a microversion (nova picks), and sets "auto" with 2.74', () => {
    expect(createServerRequest(vm, { flavorId: '1', imageId: 'img', networkId: undefined }, 'microversion')).toMatchObject({ microversion: undefined });
    expect(createServerRequest(vm, { flavorId: '1', imageId: 'img', networkId: undefined }, 'microversion').body.server.networks).toBeUndefined();
    const pinned = { ...vm, spec: { ...spec, openstack: { ...spec.openstack, host: 'h1' } } };
    expect(createServerRequest(pinned, { flavorId: '1', imageId: 'img', networkId: undefined }, 'microversion')).toMatchObject({ microversion: '2.74', body: { server: { host: 'h1', networks: 'auto' } } });
    expect(createServerRequest(pinned, { flavorId: '1', imageId: 'img', networkId: undefined }, 'availability-zone')).toMatchObject({ microversion: undefined, body: { server: { availability_zone: 'nova:h1' } } });
  });
});

describe('Redactor', () => {
  it('scrubs every registered secret and ignores short ones', () => {
    const r = new Redactor();
    r.add('s3cret-pass');
    r.add('tok-123456');
    r.add('ab');
    expect(r.scrub('pw s3cret-pass token tok-123456 tok-123456 ab')).toBe('pw [redacted] token [redacted] [redacted] ab');
  });
});
