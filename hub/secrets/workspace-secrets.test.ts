/**
 * Tenant secrets at rest: real SQLite file, real age (npm) and the Debian age CLI reading what the hub
 * wrote with the hub's key file; the plaintext is never in the database files; a damaged row is an error
 * naming the secret.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubStore } from '../store/hub-store.js';
import { ensureHubIdentity, hubIdentityPath, type HubAgeIdentity } from './hub-identity.js';
import { WorkspaceSecrets } from './workspace-secrets.js';
import { describeIf, onPath } from '../../test/support/requires.js';

const PLAIN = 'sk-live-4f1d9c0e7b2a-plaintext-marker';

describe('hub age identity', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'foundry-hub-age-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated once, 0600 in a 0700 folder, and read back the same', async () => {
    const a = await ensureHubIdentity(dir);
    const b = await ensureHubIdentity(dir);
    expect(a.recipient).toMatch(/^age1[02-9ac-hj-np-z]{58}$/);
    expect(b).toEqual(a);
    expect(statSync(hubIdentityPath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'secrets')).mode & 0o777).toBe(0o700);
  });
});

describe('workspace secrets at rest', () => {
  let dir: string;
  let store: HubStore;
  let id: HubAgeIdentity;
  let secrets: WorkspaceSecrets;
  const audits: Array<{ action: string; target?: string; details?: Record<string, unknown> }> = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-ws-secrets-'));
    store = new HubStore(join(dir, 'hub.db'));
    id = await ensureHubIdentity(dir);
    audits.length = 0;
    secrets = new WorkspaceSecrets(store.secrets, id, async (actor, action, target, details) => {
      audits.push({ action, target, details });
      await store.audit(actor, action, target, details);
    });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores only ciphertext, lists names and versions, versions count up, audits without values', async () => {
    expect(await secrets.set('acme-a', 'acme', 'openai-api-key', Buffer.from(PLAIN), 'tenant:alice')).toEqual({ version: 1, created: true });
    expect(await secrets.set('acme-a', 'acme', 'openai-api-key', Buffer.from(`${PLAIN}-2`), 'tenant:alice')).toEqual({ version: 2, created: false });
    await secrets.set('acme-a', 'acme', 'db-password', Buffer.from('hunter2-xyz'), 'tenant:alice');
    const list = await secrets.list('acme-a', 'acme');
    expect(list.map((s) => [s.name, s.version, s.updatedBy])).toEqual([['db-password', 1, 'tenant:alice'], ['openai-api-key', 2, 'tenant:alice']]);
    expect(JSON.stringify(list)).not.toContain(PLAIN);
    expect(await secrets.list('acme-a', 'globex')).toEqual([]);
    expect(audits.map((a) => a.action)).toEqual(['workspace.secret.create', 'workspace.secret.replace', 'workspace.secret.create']);
    expect(JSON.stringify(audits)).not.toContain(PLAIN);
    const opened = await secrets.open('acme-a', 'acme');
    expect(opened.map((s) => ('value' in s ? [s.name, s.version, Buffer.from(s.value).toString()] : s.error))).toEqual([['db-password', 1, 'hunter2-xyz'], ['openai-api-key', 2, `${PLAIN}-2`]]);
    await store.close();
    for (const f of readdirSync(dir).filter((f) => f.startsWith('hub.db'))) expect(readFileSync(join(dir, f)).includes(Buffer.from(PLAIN))).toBe(false);
    store = new HubStore(join(dir, 'hub.db'));
  });

  it('refuses bad names, empty and oversized values and too many secrets, naming the secret', async () => {
    await expect(secrets.set('w', 'acme', '../etc', Buffer.from('x'), 'a')).rejects.toThrow(/secret name "..\/etc"/);
    await expect(secrets.set('w', 'acme', 'empty', Buffer.alloc(0), 'a')).rejects.toThrow(/secret w\/empty: the value is empty/);
    await expect(secrets.set('w', 'acme', 'big', Buffer.alloc(64 * 1024 + 1, 97), 'a')).rejects.toThrow(/secret w\/big: the value has 65537 bytes/);
    for (let i = 0; i < 32; i++) await secrets.set('w', 'acme', `s${i}`, Buffer.from('v'), 'a');
    await expect(secrets.set('w', 'acme', 's32', Buffer.from('v'), 'a')).rejects.toThrow(/already has 32 secrets/);
    await secrets.set('w', 'acme', 's0', Buffer.from('replaced'), 'a');
  });

  it('a workspace name taken by another tenant does not inherit the first tenant\'s secrets', async () => {
    await secrets.set('shared-name', 'acme', 'key', Buffer.from(PLAIN), 'a');
    await secrets.set('shared-name', 'globex', 'other', Buffer.from('g'), 'b');
    expect(await secrets.list('shared-name', 'acme')).toEqual([]);
    expect(await secrets.fingerprint('shared-name', 'globex')).toBe('other:1');
  });

  it('a damaged stored ciphertext is an error naming the workspace, the secret and its version; the others still open', async () => {
    await secrets.set('acme-a', 'acme', 'good', Buffer.from('fine'), 'a');
    await secrets.set('acme-a', 'acme', 'broken', Buffer.from(PLAIN), 'a');
    const row = (await store.sql.get<{ ciphertext: string }>("SELECT ciphertext FROM workspace_secrets WHERE name = 'broken'"))!;
    const lines = row.ciphertext.split('\n');
    lines[3] = lines[3]!.replace(/[A-Za-z]/, (c) => (c === 'A' ? 'B' : 'A'));
    await store.sql.run("UPDATE workspace_secrets SET ciphertext = ? WHERE name = 'broken'", [lines.join('\n')]);
    const opened = await secrets.open('acme-a', 'acme');
    expect(opened[0]).toMatchObject({ name: 'broken', version: 1, error: expect.stringMatching(/^secret acme-a\/broken \(version 1\) in the hub's store cannot be decrypted/) });
    const good = opened[1]!;
    expect('value' in good && [good.name, Buffer.from(good.value).toString()]).toEqual(['good', 'fine']);
  });

  describeIf(onPath('age'), 'the age CLI', 'apt-get install -y age')('with the age CLI', () => {
    it('`age -d -i <data dir>/secrets/hub.agekey` decrypts a stored row', async () => {
      await secrets.set('acme-a', 'acme', 'key', Buffer.from(PLAIN), 'a');
      const row = (await store.sql.get<{ ciphertext: string }>("SELECT ciphertext FROM workspace_secrets WHERE name = 'key'"))!;
      const r = spawnSync('age', ['-d', '-i', id.file], { input: row.ciphertext, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(PLAIN);
    });
  });
});
