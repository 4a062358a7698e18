import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderNodeFile, withAgeRecipient } from './node-file.js';

const inventory = {
  hostname: 'gpu-07.example.eu',
  cpu: { model: 'AMD EPYC', cores: 64 },
  memoryBytes: 512 * 2 ** 30,
  disks: [],
  gpus: [
    { uuid: 'GPU-6f1c2a9e-3b7d-4c1e-9a52-0d8e4b7f1a01', model: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559, pciBusId: '0000:17:00.0' },
    { uuid: 'GPU-b24e7d10-58c3-4f6a-8e21-7c9d3a6b2f02', model: null, memoryTotalMiB: null, pciBusId: null },
  ],
};

describe('renderNodeFile', () => {
  it('writes profile and labels from the token, capacity and GPUs from the inventory', () => {
    const text = renderNodeFile({ node: 'gpu-07', profile: 'gpu-node', labels: { zone: 'fsn1' }, inventory, tokenId: 'abc', at: new Date('2026-11-27T10:00:00Z') });
    expect(text.split('\n')[1]).toBe('# Enrolled 2026-11-27T10:00:00.000Z from host gpu-07.example.eu with join token abc.');
    expect(parse(text)).toEqual({
      apiVersion: 'foundry.cloud/v1',
      kind: 'Node',
      metadata: { name: 'gpu-07' },
      spec: {
        profile: 'gpu-node',
        labels: { zone: 'fsn1' },
        capacity: { cpus: 64, memory: '524288Mi' },
        gpus: [
          { uuid: 'GPU-6f1c2a9e-3b7d-4c1e-9a52-0d8e4b7f1a01', model: 'NVIDIA H100 80GB HBM3', pciAddress: '0000:17:00.0' },
          { uuid: 'GPU-b24e7d10-58c3-4f6a-8e21-7c9d3a6b2f02', model: 'unknown' },
        ],
      },
    });
  });

  it('leaves out labels and gpus when there are none, and keeps odd host names to one printable line', () => {
    const text = renderNodeFile({ node: 'svc-1', profile: 'service-node', labels: {}, inventory: { ...inventory, hostname: 'evil\nname', gpus: [] }, tokenId: 't', at: new Date(0) });
    expect(parse(text).spec).toEqual({ profile: 'service-node', capacity: { cpus: 64, memory: '524288Mi' } });
    expect(text).toContain('from host evil?name with');
  });
});

describe('withAgeRecipient', () => {
  const key = 'age1n5vsx0x3gsgj04z65gnk8yvjsggrydvdsahmr9gfltlg66wlt9cqrepwec';
  it("sets spec.ageRecipient in the admins' file and keeps their comments", () => {
    const text = '# ours: keep this\napiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  profile: gpu-node # the profile\n';
    const out = withAgeRecipient(text, key)!;
    expect(out).toContain('# ours: keep this\n');
    expect(out).toContain('profile: gpu-node # the profile\n');
    expect(parse(out).spec).toEqual({ profile: 'gpu-node', ageRecipient: key });
    expect(withAgeRecipient(out, key)).toBeUndefined();
  });
  it('leaves files that are not a single Node document alone', () => {
    expect(withAgeRecipient('kind: Service\n', key)).toBeUndefined();
    expect(withAgeRecipient('kind: Node\n---\nkind: Node\n', key)).toBeUndefined();
  });
});
