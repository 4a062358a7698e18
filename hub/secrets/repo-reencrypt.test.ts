/**
 * reencryptForPlacement on a real checkout: a workspace placed on a node makes the hub re-encrypt the
 * repo secret its template uses (the node added, a node that no longer needs it dropped, admins and the
 * hub kept), writes the sidecar's recipients, and explains what it could not do.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadInfraDir } from '../../common/infra/load.js';
import type { InfraRepo, Workspace } from '../../common/infra/model.js';
import { decryptWithIdentities, encryptToRecipients, generateAgeKeyPair } from '../../common/secrets/age.js';
import { ensureHubIdentity, type HubAgeIdentity } from './hub-identity.js';
import { reencryptForPlacement, withWorkspace } from './repo-reencrypt.js';

const doc = (kind: string, name: string, spec: string): string => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
type Keys = { identity: string; recipient: string };

describe('repo secrets follow placements', () => {
  let dir: string;
  let hub: HubAgeIdentity;
  let admin: Keys;
  let n1: Keys;
  let n2: Keys;

  const write = (files: Record<string, string>): void => {
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, 'repo', p)), { recursive: true });
      writeFileSync(join(dir, 'repo', p), c);
    }
  };
  const ws = (node?: string): Workspace => ({ apiVersion: 'foundry.cloud/v1', kind: 'Workspace', metadata: { name: 'acme-w' }, spec: { tenant: 'acme', template: 't', ...(node === undefined ? {} : { node }) } });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-reencrypt-'));
    hub = await ensureHubIdentity(join(dir, 'hub'));
    [admin, n1, n2] = await Promise.all([generateAgeKeyPair(), generateAgeKeyPair(), generateAgeKeyPair()]);
    write({
      'tenants/acme.yaml': doc('Tenant', 'acme', '  displayName: ACME\n'),
      'nodes/n1.yaml': doc('Node', 'n1', `  profile: gpu-node\n  ageRecipient: ${n1.recipient}\n`),
      'nodes/n2.yaml': doc('Node', 'n2', `  profile: gpu-node\n  ageRecipient: ${n2.recipient}\n`),
      'templates/t.yaml': doc('WorkspaceTemplate', 't', '  containers:\n    - name: main\n      image: localhost/x:1\n      secrets:\n        - { name: db, file: /run/secrets/db }\n'),
      'secrets/db.yaml': doc('Secret', 'db', `  recipients:\n    - { admin: foundry-hub, recipient: ${hub.recipient} }\n    - { admin: ada, recipient: ${admin.recipient} }\n    - { node: n1, recipient: ${n1.recipient} }\n`),
      'secrets/db.age': await encryptToRecipients('s3cret-db', [hub.recipient, admin.recipient, n1.recipient]),
      'workspaces/acme/acme-w.yaml': doc('Workspace', 'acme-w', '  tenant: acme\n  template: t\n  node: n1\n'),
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const load = (): Promise<InfraRepo> => loadInfraDir(join(dir, 'repo'), { revision: 'r' });
  const opens = async (k: Keys, text: string): Promise<boolean> => decryptWithIdentities(text, [k.identity]).then(() => true, () => false);

  it('moves the secret from n1 to n2: n2, the admin and the hub can decrypt the new version, n1 cannot', async () => {
    const before = await load();
    const plan = await reencryptForPlacement(join(dir, 'repo'), before, withWorkspace(before, ws('n2')), hub, new Date('2026-12-07T00:00:00Z'));
    expect(plan.skipped).toEqual([]);
    expect(plan.done).toEqual(['secrets/db.age: +n2 -n1']);
    expect(plan.changes.map((c) => c.path)).toEqual(['secrets/db.age', 'secrets/db.yaml']);
    const age = plan.changes[0]!.content!;
    expect(Buffer.from(await decryptWithIdentities(age, [n2.identity])).toString()).toBe('s3cret-db');
    expect([await opens(n1, age), await opens(admin, age), await opens(hub, age)]).toEqual([false, true, true]);
    const sidecar = plan.changes[1]!.content!;
    expect(sidecar).toContain(`node: n2`);
    expect(sidecar).not.toContain('node: n1');
    expect(sidecar).toContain('admin: ada');
    expect(sidecar).toContain('encryptedAt: 2026-12-07T00:00:00.000Z');
  });

  it('does nothing when the placement changes no secret\'s nodes, and explains what it cannot do', async () => {
    const before = await load();
    expect(await reencryptForPlacement(join(dir, 'repo'), before, withWorkspace(before, ws('n1')), hub)).toEqual({ changes: [], done: [], skipped: [] });
    // not encrypted to the hub
    write({ 'secrets/db.age': await encryptToRecipients('s3cret-db', [admin.recipient, n1.recipient]), 'secrets/db.yaml': doc('Secret', 'db', `  recipients:\n    - { admin: ada, recipient: ${admin.recipient} }\n    - { node: n1, recipient: ${n1.recipient} }\n`) });
    const r1 = await load();
    const plan = await reencryptForPlacement(join(dir, 'repo'), r1, withWorkspace(r1, ws('n2')), hub);
    expect(plan.changes).toEqual([]);
    expect(plan.skipped).toEqual([`secret db: not encrypted to the hub (${hub.recipient}); add the hub's recipient to .foundry/admin-recipients and run foundry secret reencrypt db, or re-encrypt it for n2 yourself`]);
    // encrypted to the hub per the sidecar, but the file is damaged
    write({ 'secrets/db.yaml': doc('Secret', 'db', `  recipients:\n    - { admin: foundry-hub, recipient: ${hub.recipient} }\n    - { node: n1, recipient: ${n1.recipient} }\n`), 'secrets/db.age': '-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n' });
    const r2 = await load();
    const bad = await reencryptForPlacement(join(dir, 'repo'), r2, withWorkspace(r2, ws('n2')), hub);
    expect(bad.skipped).toHaveLength(1);
    expect(bad.skipped[0]).toMatch(/^secret db \(secrets\/db\.age\): the hub cannot decrypt it: /);
    expect(readFileSync(join(dir, 'repo', 'secrets/db.age'), 'utf8')).toContain('YWdl');
  });
});
