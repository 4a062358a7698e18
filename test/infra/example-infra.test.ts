/** The example infra repo validates clean, and the editor dispatch schema picks each kind's schema. */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadInfraDir } from '../../common/infra/load.js';
import { formatIssue } from '../../common/infra/model.js';
import { EXAMPLE_INFRA_DIR } from '../../common/paths.js';
import { validatorFor } from '../../common/schema.js';
import { readRepoFiles } from '../../common/infra/files.js';

describe('fixtures/example-infra', () => {
  it('validates clean with the seed layout', async () => {
    const repo = await loadInfraDir(EXAMPLE_INFRA_DIR);
    expect(repo.issues.map(formatIssue)).toEqual([]);
    expect([...repo.nodes.keys()].sort()).toEqual(['ceph-01', 'ceph-02', 'ceph-03', 'gpu-01', 'svc-01', 'svc-02']);
    expect([...repo.services.keys()].sort()).toEqual(['gitlab-ce', 'guacamole', 'ingress', 'langfuse', 'monitoring', 'searxng']);
    expect([...repo.templates.keys()].sort()).toEqual(['ai-stack', 'desktop']);
    expect([...repo.tenants.keys()].sort()).toEqual(['acme', 'globex']);
    expect(repo.nodes.get('gpu-01')?.doc.spec.gpus?.length).toBe(2);
    const placed = [...repo.workspaces.values()].map((w) => [w.doc.metadata.name, w.doc.spec.node ?? null, w.doc.spec.gpus?.uuids ?? null]);
    expect(placed).toEqual([
      ['acme-alice', 'gpu-01', ['GPU-6f1c2a9e-3b7d-4c1e-9a52-0d8e4b7f1a01']],
      ['acme-carol', null, null],
      ['globex-bob', 'gpu-01', ['GPU-b24e7d10-58c3-4f6a-8e21-7c9d3a6b2f02']],
    ]);
    expect(repo.priceLists.get('default')?.doc.spec.currency).toBe('EUR');
    expect([...repo.identityProviders.keys()].sort()).toEqual(['acme-entra', 'foundry-keycloak', 'globex-adfs']);
    expect(repo.identityProviders.get('acme-entra')?.doc.spec.tenant).toBe('acme');
  });

  it('pins every image by tag (never latest) and names a schema for editors in every file', async () => {
    const files = (await readRepoFiles(EXAMPLE_INFRA_DIR, undefined, 1 << 20, []))!;
    for (const f of files) {
      expect(f.text, f.file).toMatch(/^# yaml-language-server: \$schema=(\.\.\/)+schemas\/infra\.schema\.json$/m);
      for (const m of f.text.matchAll(/image: (\S+)/g)) expect(m[1], f.file).toMatch(/:[^:/]+$/);
      expect(f.text).not.toMatch(/:latest\b/);
    }
  });

  it('editor dispatch schema accepts every example document and checks by kind', async () => {
    const validate = validatorFor('infra.schema.json');
    const files = (await readRepoFiles(EXAMPLE_INFRA_DIR, undefined, 1 << 20, []))!;
    let count = 0;
    for (const f of files) {
      for (const d of parseAllDocuments(f.text)) {
        expect(validate(d.toJS()), `${f.file}: ${JSON.stringify(validate.errors)}`).toBe(true);
        count++;
      }
    }
    expect(count).toBe(files.length);
    expect(validate({ apiVersion: 'foundry.cloud/v1', kind: 'Node', metadata: { name: 'n' }, spec: {} })).toBe(false);
    expect(validate.errors?.some((e) => e.keyword === 'required' && e.params.missingProperty === 'profile')).toBe(true);
    expect(validate({ apiVersion: 'foundry.cloud/v1', kind: 'Gadget' })).toBe(false);
  });

  it('the modeline paths point at the real schema file', async () => {
    const text = await readFile(join(EXAMPLE_INFRA_DIR, 'workspaces', 'acme', 'alice.yaml'), 'utf8');
    const rel = /\$schema=(\S+)/.exec(text)![1]!;
    const schema = JSON.parse(await readFile(join(EXAMPLE_INFRA_DIR, 'workspaces', 'acme', rel), 'utf8')) as { title: string };
    expect(schema.title).toBe('FoundryCloud infra document');
  });
});
