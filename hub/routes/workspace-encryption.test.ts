import { describe, expect, it } from 'vitest';
import type { WorkspaceTemplate } from '../../common/infra/model.js';
import { encryptionView } from './workspaces.js';

const tpl = (spec: Record<string, unknown>): WorkspaceTemplate => ({ apiVersion: 'foundry.cloud/v1', kind: 'WorkspaceTemplate', metadata: { name: 't' }, spec }) as unknown as WorkspaceTemplate;
const c = (volumes: Record<string, unknown>[]) => ({ name: 'c', image: 'x', volumes });

describe('encryptionView (API and dashboard)', () => {
  it('says whether a workspace encrypts its data, which volumes opt out, and what a move does', () => {
    expect(encryptionView('w', tpl({ containers: [c([{ name: 'a', mountPath: '/a' }])], vm: { name: 'vm', driver: 'libvirt', disk: { baseImage: 'b' } } }))).toEqual({ atRest: 'encrypted', optedOut: [], dataOnMove: 'refuse' });
    expect(encryptionView('w', tpl({ dataOnMove: 'drop', containers: [c([{ name: 'a', mountPath: '/a' }, { name: 'b', mountPath: '/b', encryption: 'none' }])] }))).toEqual({ atRest: 'partly', optedOut: ['b'], dataOnMove: 'drop' });
    expect(encryptionView('w', tpl({ encryption: 'none', containers: [c([{ name: 'a', mountPath: '/a' }])] }))).toEqual({ atRest: 'not-encrypted', optedOut: ['a'], dataOnMove: 'refuse' });
    expect(encryptionView('w', tpl({ containers: [c([{ hostPath: '/srv', mountPath: '/a' }])] }))).toEqual({ atRest: 'no-data', optedOut: [], dataOnMove: 'refuse' });
    expect(encryptionView('w', undefined)).toBeNull();
  });
});
