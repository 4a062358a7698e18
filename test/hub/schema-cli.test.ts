/** `foundry hub schema status|upgrade` as a real process on a data dir: new, one release behind, and newer than the binary. */
import { afterAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { describeIfBuilt } from '../support/requires.js';
import { tempDir } from './support.js';
import { migrate } from '../../hub/store/migrate.js';
import { MIGRATIONS } from '../../hub/store/migrations/index.js';

const bin = join(PACKAGE_ROOT, 'bin', 'foundry.js');
const dir = tempDir('foundry-hub-schema-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const latest = MIGRATIONS.at(-1)!;
const previous = MIGRATIONS.at(-2)!;

function foundry(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr })));
}

describeIfBuilt('dist/cli/hub-schema.js')('foundry hub schema (cli)', () => {
  it('status of a data dir without hub.db: everything pending, and it creates nothing', async () => {
    const data = join(dir, 'new');
    const r = await foundry(['hub', 'schema', 'status', '--data-dir', data]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`database: ${join(data, 'hub.db')}\nschema version: 0 (this release knows up to ${latest.version})\napplied: none\npending: ${MIGRATIONS.map((m) => `${m.version}-${m.name}`).join(' ')}\n`);
    expect(existsSync(data)).toBe(false);
  });

  it('upgrade of a database one release behind: backup first, then the migration; FOUNDRY_HUB_DATA_DIR is the default data dir', async () => {
    const data = join(dir, 'old');
    mkdirSync(data);
    const db = new Database(join(data, 'hub.db'));
    migrate(db, MIGRATIONS.slice(0, -1));
    db.close();
    const env = { FOUNDRY_HUB_DATA_DIR: data };
    const before = await foundry(['hub', 'schema', 'status', '--json'], env);
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ database: join(data, 'hub.db'), databaseVersion: previous.version, binaryVersion: latest.version, pending: [{ version: latest.version, name: latest.name }], unknown: [] });
    const up = await foundry(['hub', 'schema', 'upgrade'], env);
    expect(up.code, up.stderr).toBe(0);
    const backups = readdirSync(join(data, 'backups'));
    expect(backups).toHaveLength(1);
    expect(up.stdout).toBe(`${join(data, 'hub.db')}: upgraded from schema version ${previous.version} to ${latest.version} (applied ${latest.version}); backup of the previous file: ${join(data, 'backups', backups[0]!)}\n`);
    const again = await foundry(['hub', 'schema', 'upgrade'], env);
    expect(again.stdout).toBe(`${join(data, 'hub.db')}: schema version ${latest.version}, nothing to apply\n`);
    expect(readdirSync(join(data, 'backups'))).toEqual(backups);
  });

  it('an admin command on a database one release behind backs it up before it migrates, as hub start does', async () => {
    const data = join(dir, 'admin');
    mkdirSync(data);
    const db = new Database(join(data, 'hub.db'));
    migrate(db, MIGRATIONS.slice(0, -1));
    db.close();
    const r = await foundry(['hub', 'admin-token', 'create', '--data-dir', data]);
    expect(r.code, r.stderr).toBe(0);
    const backups = readdirSync(join(data, 'backups'));
    expect(backups).toEqual([expect.stringMatching(new RegExp(`^hub-v${previous.version}-`))]);
    const copy = new Database(join(data, 'backups', backups[0]!), { readonly: true });
    expect(copy.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(previous.version);
    copy.close();
  });

  it('a database newer than the binary: status and upgrade exit 1 naming both versions, and nothing is backed up', async () => {
    const data = join(dir, 'newer');
    mkdirSync(data);
    const db = new Database(join(data, 'hub.db'));
    migrate(db, [...MIGRATIONS, { version: latest.version + 1, name: 'future', sql: 'CREATE TABLE future (id INTEGER)' }]);
    db.close();
    const why = `foundry: ${join(data, 'hub.db')} has schema version ${latest.version + 1} but this hub knows versions up to ${latest.version}: refusing a downgrade`;
    const status = await foundry(['hub', 'schema', 'status', '--data-dir', data]);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`unknown to this release: ${latest.version + 1}\n`);
    expect(status.stderr).toContain(why);
    const up = await foundry(['hub', 'schema', 'upgrade', '--data-dir', data]);
    expect(up.code).toBe(1);
    expect(up.stderr).toContain(why);
    expect(existsSync(join(data, 'backups'))).toBe(false);
  });
});

describeIfBuilt('dist/cli/hub-schema.js')('foundry hub schema on PostgreSQL (FOUNDRY_HUB_DATABASE_URL)', () => {
  it('status, upgrade and the admin commands reach the database; its password never shows', async () => {
    const { createTestDatabase } = await import('../support/postgres.js');
    const database = await createTestDatabase();
    try {
      const url = new URL(database.url);
      url.password = 'not-shown-anywhere';
      const env = { FOUNDRY_HUB_DATABASE_URL: url.toString() };
      const before = await foundry(['hub', 'schema', 'status'], env);
      expect(before.code, before.stderr).toBe(0);
      expect(before.stdout).toContain(`schema version: 0 (this release knows up to ${latest.version})`);
      const up = await foundry(['hub', 'schema', 'upgrade'], env);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toContain(`upgraded from schema version 0 to ${latest.version}`);
      const after = await foundry(['hub', 'schema', 'status', '--json'], env);
      expect(JSON.parse(after.stdout)).toMatchObject({ databaseVersion: latest.version, pending: [] });
      const added = await foundry(['hub', 'node', 'add', 'gpu-09'], env);
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout).toMatch(/^fnc_/);
      for (const r of [before, up, after, added]) expect(r.stdout + r.stderr).not.toContain('not-shown-anywhere');
      const bad = await foundry(['hub', 'schema', 'status'], { FOUNDRY_HUB_DATABASE_URL: 'mysql://u:pw@h/db' });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('FOUNDRY_HUB_DATABASE_URL: expected a postgres:// or postgresql:// URL');
      expect(bad.stderr).not.toContain(':pw@');
    } finally {
      await database.drop();
    }
  });
});
