import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { removeDoc, setFields, workspaceFile, workspacePath } from './workspace-yaml.js';

const two = '# two workspaces\napiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: a\nspec:\n  tenant: acme # the customer\n  template: t\n---\napiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: b\nspec:\n  tenant: acme\n  template: t\n';

describe('workspace yaml edits', () => {
  it('writes a new workspace file at the conventional path', () => {
    expect(workspacePath('acme', 'acme-a')).toBe('workspaces/acme/acme-a.yaml');
    const text = workspaceFile({ apiVersion: 'foundry.cloud/v1', kind: 'Workspace', metadata: { name: 'acme-a' }, spec: { tenant: 'acme', template: 't', node: 'gpu-01' } }, 'placed by the hub');
    expect(text.split('\n').slice(0, 2)).toEqual(['# yaml-language-server: $schema=../../schemas/infra.schema.json', '# placed by the hub']);
    expect(parse(text)).toEqual({ apiVersion: 'foundry.cloud/v1', kind: 'Workspace', metadata: { name: 'acme-a' }, spec: { tenant: 'acme', template: 't', node: 'gpu-01' } });
  });

  it('sets fields of one document and keeps comments and the other documents', () => {
    const out = setFields(two, 'w.yaml', 'Workspace', 'b', [[['spec', 'node'], 'gpu-02'], [['spec', 'gpus', 'uuids'], ['GPU-1']]]);
    expect(out).toContain('# two workspaces');
    expect(out).toContain('tenant: acme # the customer');
    expect(out.split('---\n')[1]).toBe('apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: b\nspec:\n  tenant: acme\n  template: t\n  node: gpu-02\n  gpus:\n    uuids:\n      - GPU-1\n');
    expect(() => setFields(two, 'w.yaml', 'Workspace', 'c', [])).toThrow('w.yaml holds no Workspace c');
  });

  it('removes one document, and reports an emptied file as null', () => {
    const out = removeDoc(two, 'w.yaml', 'Workspace', 'a');
    expect(out).toBe('apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: b\nspec:\n  tenant: acme\n  template: t\n');
    expect(removeDoc(out!, 'w.yaml', 'Workspace', 'b')).toBeNull();
  });

  it('edits a file with tens of thousands of labels in linear time (the hub does it on its event loop)', () => {
    const file = (n: number): string => `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: a\nspec:\n  tenant: acme\n  template: t\n  labels:\n${Array.from({ length: n }, (_, i) => `    k${i}: v\n`).join('')}`;
    const time = (n: number): number => {
      const t = performance.now();
      expect(setFields(file(n), 'w.yaml', 'Workspace', 'a', [[['spec', 'node'], 'gpu-02']])).toContain('\n  node: gpu-02\n');
      return performance.now() - t;
    };
    time(1000);
    // 8x the keys: the library's quadratic uniqueKeys costs 64x, linear parsing about 8x (generous bound for a shared machine).
    const small = Math.max(time(5000), 5);
    expect(time(40_000) / small).toBeLessThan(30);
  });
});
