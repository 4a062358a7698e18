/** The volume keys repository on both backends; on SQLite, a destroyed key's bytes leave the database file. */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlVolumeKeysRepo, type VolumeKeyId } from '../../hub/store/volume-keys-repo.js';
import { SqliteSql } from '../../hub/store/sql/sqlite.js';
import { migrateSql } from '../../hub/store/migrate.js';
import { MIGRATIONS } from '../../hub/store/migrations/index.js';

const ref = (workspace: string, kind: VolumeKeyId['kind'], name: string): VolumeKeyId => ({ workspace, kind, name });
const acme = { tenant: 'acme', reclaim: 'Retain' as const };
const AT = '2026-12-01T00:00:00.000Z';

describeBackends('volume keys repo', (backend) => {
  let db: TestSql;
  let repo: SqlVolumeKeysRepo;
  beforeAll(async () => {
    db = await openTestSql(backend);
    repo = new SqlVolumeKeysRepo(db.sql);
  });
  afterAll(async () => db?.close());

  it('inserts a key once (a second insert loses and keeps the first), claims it while recording the owner', async () => {
    expect(await repo.claim(ref('w1', 'volume', 'data'), acme)).toBeUndefined();
    expect(await repo.insert(ref('w1', 'volume', 'data'), acme, 'WRAPPED-1', AT, 'n1')).toBe(true);
    expect(await repo.insert(ref('w1', 'volume', 'data'), { tenant: 'globex', reclaim: 'Delete' }, 'WRAPPED-2', AT, 'n2')).toBe(false);
    expect(await repo.claim(ref('w1', 'volume', 'data'), { tenant: 'acme', reclaim: 'Delete' })).toBe('WRAPPED-1');
    expect(await repo.list()).toEqual([{ workspace: 'w1', kind: 'volume', name: 'data', tenant: 'acme', reclaim: 'Delete', createdAt: AT, createdForNode: 'n1' }]);
    expect(await repo.claim(ref('w1', 'vm-disk', 'data'), acme)).toBeUndefined();
  });

  it('lists by workspace, kind and name; tells the home node; sets the owner of all a workspace\'s keys', async () => {
    await repo.insert(ref('w2', 'volume', 'b'), acme, 'X', AT, 'n2');
    await repo.insert(ref('w2', 'vm-disk', 'desk'), acme, 'Y', AT, 'n2');
    await repo.insert(ref('w0', 'volume', 'a'), acme, 'Z', AT, 'n3');
    expect((await repo.list()).map((k) => `${k.workspace}/${k.kind}/${k.name}`)).toEqual(['w0/volume/a', 'w1/volume/data', 'w2/vm-disk/desk', 'w2/volume/b']);
    expect(await repo.homeNode('w2')).toBe('n2');
    expect(await repo.homeNode('w9')).toBeUndefined();
    await repo.setOwner('w2', { tenant: 'globex', reclaim: 'Delete' });
    expect((await repo.list()).filter((k) => k.workspace === 'w2').map((k) => [k.tenant, k.reclaim])).toEqual([['globex', 'Delete'], ['globex', 'Delete']]);
    expect((await repo.list()).find((k) => k.workspace === 'w0')?.tenant).toBe('acme');
  });

  it('destroys every key of one workspace, returning them by kind and name', async () => {
    await repo.insert(ref('w3', 'volume', 'z'), acme, 'A', AT, 'n1');
    await repo.insert(ref('w3', 'volume', 'a'), acme, 'B', AT, 'n1');
    await repo.insert(ref('w3', 'vm-disk', 'desk'), acme, 'C', AT, 'n1');
    expect(await repo.destroyWorkspace('w3')).toEqual([{ kind: 'vm-disk', name: 'desk' }, { kind: 'volume', name: 'a' }, { kind: 'volume', name: 'z' }]);
    expect(await repo.destroyWorkspace('w3')).toEqual([]);
    expect((await repo.list()).some((k) => k.workspace === 'w3')).toBe(false);
    expect(await repo.homeNode('w3')).toBeUndefined();
  });

  it('refuses a kind the schema does not know', async () => {
    await expect(repo.insert({ workspace: 'w4', kind: 'disk' as never, name: 'x' }, acme, 'W', AT, 'n1')).rejects.toThrow();
  });
});

describe('volume keys repo on SQLite: erasure', () => {
  let dir: string;
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'foundry-volkeys-erase-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Stores a key, destroys it, and says whether its wrapped bytes are still in the file. */
  async function leftInFile(file: string, scrub: boolean): Promise<boolean> {
    const marker = `WRAPPED-${'k'.repeat(64)}-${file.length}`;
    const conn = new Database(join(dir, file));
    const sql = new SqliteSql(conn);
    await migrateSql(sql, MIGRATIONS);
    await sql.run('INSERT INTO volume_keys (workspace, kind, name, tenant, reclaim, wrapped, created_at, created_for_node) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', ['w1', 'volume', 'data', 'acme', 'Retain', marker, AT, 'n1']);
    // the control: a plain delete, which only unlinks the row from its page
    if (!scrub) await sql.script('PRAGMA secure_delete = OFF');
    const gone = scrub ? await new SqlVolumeKeysRepo(sql).destroyWorkspace('w1') : await sql.all('DELETE FROM volume_keys WHERE workspace = ? RETURNING kind, name', ['w1']);
    expect(gone).toEqual([{ kind: 'volume', name: 'data' }]);
    await sql.close();
    conn.close();
    return readFileSync(join(dir, file)).includes(Buffer.from(marker));
  }

  it('overwrites a destroyed key in the database file (a plain delete would leave it)', async () => {
    expect(await leftInFile('plain.db', false)).toBe(true);
    expect(await leftInFile('scrubbed.db', true)).toBe(false);
  });
});

