import { describe, expect, it } from 'vitest';
import { declaredGpuModels, parsePlacementDocs, placementsOf, templateLimits } from './placements.js';

describe('placements of one revision', () => {
  it('reads workspaces, their template limits and declared GPU models, skipping broken documents', () => {
    const docs = parsePlacementDocs([
      'apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata: { name: t }\nspec:\n  containers:\n    - { name: a, image: x, resources: { cpus: 0.5, memory: 1Gi } }\n    - { name: b, image: x }\n  vm: { driver: libvirt, disk: { baseImage: /b, size: 20Gi } }\n',
      '---\napiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata: { name: w }\nspec: { tenant: acme, template: t, node: n1, state: stopped, gpus: { count: 2, uuids: [GPU-b, GPU-a] } }\n',
      '---\nkind: Workspace\nmetadata: { name: broken\nspec: [',
      '---\nkind: Service\nmetadata: { name: s }\nspec: {}\n',
      '---\nkind: Node\nmetadata: { name: n1 }\nspec: { gpus: [{ uuid: GPU-a, model: H100 }, { uuid: GPU-b }] }\n',
    ].join(''));
    expect(docs.map((d) => `${d.kind}/${d.name}`)).toEqual(['WorkspaceTemplate/t', 'Workspace/w', 'Node/n1']);
    expect(placementsOf(docs).get('w')).toEqual({ tenant: 'acme', node: 'n1', gpuUuids: ['GPU-a', 'GPU-b'], running: false, template: 't', limits: { milliVcpus: 2500, memoryBytes: 2 ** 30, storageBytes: 20 * 2 ** 30 } });
    expect([...declaredGpuModels(docs).get('n1')!]).toEqual([['GPU-a', 'H100']]);
    expect(parsePlacementDocs(': : :\n\t- [')).toEqual([]);
  });

  it('gives a workspace of a missing template no allowance, and one without node none either', () => {
    const docs = parsePlacementDocs('kind: Workspace\nmetadata: { name: w }\nspec: { tenant: acme, template: gone }\n');
    expect(placementsOf(docs).get('w')).toEqual({ tenant: 'acme', node: undefined, gpuUuids: [], running: true, template: 'gone', limits: { milliVcpus: 0, memoryBytes: 0, storageBytes: 0 } });
    expect(templateLimits({ containers: [{ resources: { memory: 'lots' } }] })).toEqual({ milliVcpus: 0, memoryBytes: 0, storageBytes: 0 });
  });

  it('reads a file with tens of thousands of keys in one mapping in linear time, still skipping a document with duplicate keys', () => {
    const ws = 'kind: Workspace\nmetadata: { name: w }\nspec: { tenant: acme, template: t }\n';
    expect(parsePlacementDocs(`${ws}---\nkind: Workspace\nmetadata: { name: dup }\nspec: { tenant: acme, tenant: globex, template: t }\n`).map((d) => d.name)).toEqual(['w']);
    const node = (n: number): string => `kind: Node\nmetadata: { name: n1 }\nspec:\n  labels:\n${Array.from({ length: n }, (_, i) => `    k${i}: v\n`).join('')}`;
    const time = (n: number): number => {
      const t = performance.now();
      expect(parsePlacementDocs(node(n)).map((d) => d.name)).toEqual(['n1']);
      return performance.now() - t;
    };
    time(1000);
    // 8x the keys: the library's quadratic uniqueKeys costs 64x, a linear check about 8x (generous bound for a shared machine).
    const small = Math.max(time(5000), 5);
    expect(time(40_000) / small).toBeLessThan(30);
  });
});
