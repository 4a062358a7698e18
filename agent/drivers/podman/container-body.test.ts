import { describe, expect, it } from 'vitest';
import { compatCreateBody, libpodCreateBody } from './container-body.js';
import type { DesiredContainer } from '../../desired.js';

function container(overrides: Partial<DesiredContainer['spec']> = {}): DesiredContainer {
  return {
    kind: 'container',
    ref: { kind: 'container', scope: 'workspace', owner: 'w1', name: 'app' },
    id: 'ws.w1.app',
    name: 'fc-ws-w1-app',
    owner: { node: 'n1', workspace: 'w1', tenant: 'acme' },
    specHash: 'abc123',
    reclaimPolicy: 'Retain',
    run: true,
    spec: {
      image: 'x:1',
      command: undefined,
      args: ['serve'],
      env: { A: '1' },
      ports: [{ containerPort: 80, hostPort: undefined, hostIp: undefined, protocol: 'tcp' }],
      mounts: [
        { type: 'volume', source: 'fc-ws-w1-data', target: '/data', readOnly: false },
        { type: 'bind', source: '/srv/models', target: '/models', readOnly: true },
      ],
      cpus: 1.5,
      memoryBytes: 1024,
      devices: [],
      healthcheck: { command: ['curl', '-f', 'http://localhost'], intervalMs: 30_000, timeoutMs: 10_000, retries: 3, startPeriodMs: 0 },
      restartPolicy: 'no',
      pullPolicy: 'IfNotPresent',
      labels: { 'foundry.cloud/id': 'forged', team: 'ml' },
      user: undefined,
      workingDir: undefined,
      network: 'fc-ws-w1',
      hostNetwork: false,
      privileged: false,
      aliases: ['app'],
      ...overrides,
    },
  };
}

describe('compatCreateBody', () => {
  it('maps every field to the Docker-compatible body, ownership labels winning over user labels', () => {
    const body = compatCreateBody(container(), { cdiViaDeviceRequests: false });
    expect(body).toEqual({
      name: 'fc-ws-w1-app',
      Image: 'x:1',
      Cmd: ['serve'],
      Env: ['A=1'],
      Labels: {
        team: 'ml',
        'foundry.cloud/id': 'ws.w1.app',
        'foundry.cloud/managed-by': 'foundry-agent',
        'foundry.cloud/name': 'app',
        'foundry.cloud/node': 'n1',
        'foundry.cloud/spec-hash': 'abc123',
        'foundry.cloud/reclaim': 'Retain',
        'foundry.cloud/workspace': 'w1',
        'foundry.cloud/tenant': 'acme',
      },
      ExposedPorts: { '80/tcp': {} },
      Healthcheck: { Test: ['CMD', 'curl', '-f', 'http://localhost'], Interval: 30e9, Timeout: 10e9, Retries: 3, StartPeriod: 0 },
      HostConfig: {
        PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '' }] },
        Mounts: [
          { Type: 'volume', Source: 'fc-ws-w1-data', Target: '/data', ReadOnly: false },
          { Type: 'bind', Source: '/srv/models', Target: '/models', ReadOnly: true },
        ],
        RestartPolicy: { Name: '' },
        NetworkMode: 'fc-ws-w1',
        Privileged: false,
        NanoCpus: 1_500_000_000,
        Memory: 1024,
      },
      NetworkingConfig: { EndpointsConfig: { 'fc-ws-w1': { Aliases: ['app'] } } },
    });
  });

  it('uses the host network without endpoint config, and CDI device requests only when asked', () => {
    const host = compatCreateBody(container({ hostNetwork: true, network: undefined, aliases: [], devices: ['nvidia.com/gpu=all'] }), { cdiViaDeviceRequests: true });
    expect(host.HostConfig?.NetworkMode).toBe('host');
    expect(host.NetworkingConfig).toBeUndefined();
    expect(host.HostConfig?.DeviceRequests).toEqual([{ Driver: 'cdi', DeviceIDs: ['nvidia.com/gpu=all'], Capabilities: [] }]);
    expect(() => compatCreateBody(container({ devices: ['nvidia.com/gpu=all'] }), { cdiViaDeviceRequests: false })).toThrow(/libpod/);
  });
});

describe('libpodCreateBody', () => {
  it('maps the same container to a libpod SpecGenerator with CDI devices', () => {
    const body = libpodCreateBody(container({ devices: ['nvidia.com/gpu=GPU-1'], command: ['sh', '-c'], user: '1000', workingDir: '/w' }));
    expect(body).toMatchObject({
      name: 'fc-ws-w1-app',
      image: 'x:1',
      entrypoint: ['sh', '-c'],
      command: ['serve'],
      env: { A: '1' },
      user: '1000',
      work_dir: '/w',
      portmappings: [{ container_port: 80, host_port: 0, host_ip: '', protocol: 'tcp' }],
      volumes: [{ Name: 'fc-ws-w1-data', Dest: '/data', Options: [] }],
      mounts: [{ Type: 'bind', Source: '/srv/models', Destination: '/models', Options: ['rbind', 'ro'] }],
      devices: [{ path: 'nvidia.com/gpu=GPU-1' }],
      restart_policy: 'no',
      netns: { nsmode: 'bridge' },
      Networks: { 'fc-ws-w1': { aliases: ['app'] } },
      resource_limits: { cpu: { quota: 150_000, period: 100_000 }, memory: { limit: 1024 } },
      healthconfig: { Test: ['CMD', 'curl', '-f', 'http://localhost'], Interval: 30e9 },
    });
    expect((body.labels as Record<string, string>)['foundry.cloud/id']).toBe('ws.w1.app');
  });
});
