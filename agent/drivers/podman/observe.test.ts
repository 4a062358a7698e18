import { describe, expect, it } from 'vitest';
import type { ContainerSummary, NetworkSummary } from './engine-types.js';
import { containerState, observeContainer, observeNetwork, observeVolume } from './observe.js';
import { engineFromHeaders } from './ping.js';

const OURS = {
  'foundry.cloud/managed-by': 'foundry-agent',
  'foundry.cloud/node': 'n1',
  'foundry.cloud/id': 'ws.w1.app',
  'foundry.cloud/spec-hash': 'h1',
  'foundry.cloud/reclaim': 'Delete',
  'foundry.cloud/workspace': 'w1',
  'foundry.cloud/tenant': 'acme',
};

describe('observe', () => {
  it('normalizes engine states', () => {
    expect(['running', 'exited', 'stopped', 'created', 'configured', 'paused', 'dead', 'weird', undefined].map(containerState)).toEqual([
      'running', 'stopped', 'stopped', 'created', 'created', 'paused', 'failed', 'unknown', 'unknown',
    ]);
  });

  it('reads an owned container back from its labels, with image and health facts', () => {
    const c = { Id: 'abc', Names: ['/fc-ws-w1-app'], Image: 'x:1', State: 'running', Status: 'Up 2 minutes (healthy)', Labels: OURS } satisfies ContainerSummary;
    expect(observeContainer(c, 'n1')).toEqual({
      kind: 'container',
      id: 'ws.w1.app',
      name: 'fc-ws-w1-app',
      runtimeId: 'abc',
      owner: { node: 'n1', workspace: 'w1', tenant: 'acme' },
      specHash: 'h1',
      state: 'running',
      reclaimPolicy: 'Delete',
      facts: { image: 'x:1', status: 'Up 2 minutes (healthy)', health: 'healthy' },
      published: [],
    });
  });

  it('reads the address and host port the engine bound, once per address, skipping unpublished ports', () => {
    const c = {
      Id: 'abc', Image: 'x:1', Labels: OURS,
      Ports: [
        { IP: '127.0.0.1', PrivatePort: 8080, PublicPort: 41234, Type: 'tcp' },
        { IP: '127.0.0.1', PrivatePort: 8080, PublicPort: 41234, Type: 'tcp' },
        { IP: '10.0.1.11', PrivatePort: 80, PublicPort: 40001, Type: 'tcp' },
        { PrivatePort: 9000, Type: 'tcp' },
      ],
    } satisfies ContainerSummary;
    expect(observeContainer(c, 'n1')?.published).toEqual([
      { containerPort: 80, protocol: 'tcp', hostIp: '10.0.1.11', hostPort: 40001 },
      { containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 41234 },
    ]);
  });

  it('ignores what is not ours or belongs to another node', () => {
    const foreign = { Id: 'x', Names: ['/x'], Image: 'x', State: 'running', Labels: { a: 'b' } } satisfies ContainerSummary;
    const otherNode = { ...foreign, Labels: { ...OURS, 'foundry.cloud/node': 'n2' } } satisfies ContainerSummary;
    expect(observeContainer(foreign, 'n1')).toBeUndefined();
    expect(observeContainer(otherNode, 'n1')).toBeUndefined();
    expect(observeNetwork({ Name: 'podman', Id: 'p', Labels: {} } satisfies NetworkSummary, 'n1')).toBeUndefined();
    expect(observeVolume({ Name: 'v', Labels: null }, 'n1')).toBeUndefined();
  });

  it('addresses volumes by name and networks by id', () => {
    expect(observeVolume({ Name: 'fc-ws-w1-data', Labels: OURS }, 'n1')).toMatchObject({ kind: 'volume', runtimeId: 'fc-ws-w1-data', reclaimPolicy: 'Delete' });
    expect(observeNetwork({ Name: 'fc-ws-w1', Id: 'n123', Labels: OURS } satisfies NetworkSummary, 'n1')).toMatchObject({ kind: 'network', runtimeId: 'n123', name: 'fc-ws-w1' });
  });
});

describe('engineFromHeaders', () => {
  it('tells Podman from Docker Engine by the /_ping headers', () => {
    expect(engineFromHeaders({ 'libpod-api-version': '4.3.1', 'api-version': '1.41', server: 'Libpod/4.3.1 (linux)' })).toEqual({ flavor: 'podman', version: '4.3.1', apiVersion: '1.41' });
    expect(engineFromHeaders({ 'api-version': '1.43', server: 'Docker/24.0.7 (linux)' })).toEqual({ flavor: 'docker', version: '24.0.7', apiVersion: '1.43' });
  });
});
