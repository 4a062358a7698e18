import { describe, expect, it } from 'vitest';
import { attributedHolders, declaredHolders } from './gpu-holders.js';

describe('declaredHolders', () => {
  it('maps each declared GPU to its workspace and tenant (running or not; empty tenant is null)', () => {
    const held = declaredHolders([
      { workspace: 'desk', tenant: 'acme', gpus: [{ uuid: 'GPU-b', model: null }], running: false },
      { workspace: 'alice', tenant: 'acme', gpus: [{ uuid: 'GPU-a', model: 'H100' }], running: true },
      { workspace: 'orphan', tenant: '', gpus: [{ uuid: 'GPU-c', model: null }], running: true },
      { workspace: 'zed', tenant: 'globex', gpus: [{ uuid: 'GPU-a', model: null }], running: true },
    ]);
    expect([...held]).toEqual([
      ['GPU-a', { workspace: 'alice', tenant: 'acme' }],
      ['GPU-b', { workspace: 'desk', tenant: 'acme' }],
      ['GPU-c', { workspace: 'orphan', tenant: null }],
    ]);
  });
});

describe('attributedHolders', () => {
  it('labels a GPU with the one workspace its processes or VM belong to, and no other', () => {
    const held = attributedHolders([
      { uuid: 'GPU-a', pciBusId: null, holders: [{ kind: 'workspace', workspace: 'alice', tenant: 'acme' }, { kind: 'workspace', workspace: 'alice', tenant: 'acme', containerId: 'c2' }] },
      { uuid: 'GPU-b', pciBusId: null, holders: [{ kind: 'workspace', workspace: 'alice' }, { kind: 'workspace', workspace: 'bob' }] },
      { uuid: 'GPU-c', pciBusId: null, holders: [{ kind: 'service', service: 'ollama' }, { kind: 'unattributed', reason: 'host process, not in a container' }] },
      { uuid: 'GPU-d', pciBusId: '0000:41:00.0', holders: [{ kind: 'vm', workspace: 'desk', pciBusId: '0000:41:00.0' }] },
      { uuid: null, pciBusId: '0000:c1:00.0', holders: [{ kind: 'vm', workspace: 'vm2', pciBusId: '0000:c1:00.0' }] },
    ]);
    expect([...held]).toEqual([['GPU-a', { workspace: 'alice', tenant: 'acme' }], ['GPU-d', { workspace: 'desk', tenant: null }]]);
  });
});
