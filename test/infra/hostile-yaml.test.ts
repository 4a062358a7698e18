/** Hostile YAML in the infra repo: each input is refused with file:line:column and a message naming the real problem. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadInfraDir } from '../../common/infra/load.js';
import { formatIssue } from '../../common/infra/model.js';
import { parseRepoFile } from '../../common/infra/parse-docs.js';
import { BASE, doc, tempRepo, type TempRepo } from './temp-repo.js';

let repo: TempRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

async function issuesOf(files: Record<string, string | Buffer | undefined>): Promise<string[]> {
  repo = await tempRepo();
  for (const [rel, text] of Object.entries({ ...BASE, ...files })) {
    if (typeof text === 'string') await repo.put(rel, text);
    else if (text !== undefined) {
      await mkdir(dirname(join(repo.dir, rel)), { recursive: true });
      await writeFile(join(repo.dir, rel), text);
    }
  }
  return (await loadInfraDir(repo.dir)).issues.map(formatIssue);
}

const tenant = (displayLine: string): string => doc('Tenant', 'acme', [displayLine]);

describe('hostile YAML', () => {
  it('refuses a NUL written as an escape in a value', async () => {
    expect(await issuesOf({ 'tenants/acme.yaml': tenant('  displayName: "AC\\0ME"') })).toEqual([
      'tenants/acme.yaml:6:16: NUL character in a value ("AC\\0ME"): expected text without NUL bytes',
    ]);
  });

  it('refuses a raw NUL byte and invalid UTF-8, naming line and column', async () => {
    const nul = Buffer.from(tenant('  displayName: AC\u0000ME'), 'utf8');
    const latin1 = Buffer.concat([Buffer.from(doc('Tenant', 'acme', ['  displayName: Caf']), 'utf8').subarray(0, -1), Buffer.from([0xe9, 0x0a])]);
    expect(await issuesOf({ 'tenants/acme.yaml': nul })).toEqual(['tenants/acme.yaml:6:18: NUL byte in the file: expected UTF-8 text without NUL bytes']);
    expect(await issuesOf({ 'tenants/acme.yaml': latin1 })).toEqual(['tenants/acme.yaml:6:19: invalid UTF-8 (byte 0xe9): expected the file to be UTF-8 text']);
  });

  it('reports 1e309 as a number out of range with its source text, not as null', async () => {
    const node = doc('Node', 'gpu-02', ['  profile: gpu-node', '  capacity: { cpus: 1e309 }']);
    expect(await issuesOf({ 'nodes/gpu-02.yaml': node })).toEqual([
      'nodes/gpu-02.yaml:7:21: number out of range: 1e309 is too large to represent (at most about 1.8e308)',
    ]);
    // .inf is YAML's own spelling of infinity: the schema judges it (not a number JSON can hold).
    const inf = doc('Node', 'gpu-02', ['  profile: gpu-node', '  capacity: { cpus: .inf }']);
    expect((await issuesOf({ 'nodes/gpu-02.yaml': inf })).join('\n')).not.toContain('out of range');
  });

  it('finds duplicate keys in linear time, also in flow mappings and nested ones', () => {
    const issues: never[] = [];
    parseRepoFile({ file: 'd.yaml', text: 'a: 1\nb: { x: 1, x: 2 }\nc:\n  d: 1\n  "d": 2\n  1: x\n  "1": y\na: 3\n' }, issues, new Set());
    expect(issues.map(formatIssue)).toEqual(['d.yaml:8:1: map keys must be unique', 'd.yaml:2:12: map keys must be unique', 'd.yaml:5:3: map keys must be unique']);
    const keys = (n: number): string => `labels:\n${Array.from({ length: n }, (_, i) => `  k${i}: v\n`).join('')}  k0: again\n`;
    const time = (n: number): number => {
      const t = performance.now();
      const out: never[] = [];
      parseRepoFile({ file: 'big.yaml', text: keys(n) }, out, new Set());
      expect(out).toHaveLength(1);
      return performance.now() - t;
    };
    time(1000);
    // 8x the keys: a quadratic check costs 64x, a linear one about 8x (generous bound for a shared machine).
    const small = Math.max(time(5000), 5);
    expect(time(40_000) / small).toBeLessThan(30);
  });

  it('refuses a GPU uuid claimed on a node that declares no GPUs', async () => {
    const ws = doc('Workspace', 'bob', ['  tenant: acme', '  template: stack', '  node: svc-01', '  gpus: { count: 1, uuids: [GPU-bbbbbbbb-0000-0000-0000-000000000001] }']);
    const svc = doc('Node', 'svc-01', ['  profile: gpu-node']);
    expect(await issuesOf({ 'workspaces/bob.yaml': ws, 'nodes/svc-01.yaml': svc })).toEqual([
      'workspaces/bob.yaml:9:29: spec.gpus.uuids[0]: GPU GPU-bbbbbbbb-0000-0000-0000-000000000001 is claimed on node svc-01, which declares no GPUs: expected the node\'s GPUs in its spec.gpus first',
    ]);
  });
});
