/** `foundry hub migrate` as a real process: a populated SQLite hub into a fresh PostgreSQL database, a second run refused, bad URLs. */
import { afterAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { describeIf, describeIfBuilt } from '../support/requires.js';
import { createTestDatabase, postgresAvailable } from '../support/postgres.js';
import { tempDir } from './support.js';
import { writePopulatedHub } from '../support/populated-hub.js';
import { MIGRATIONS } from '../../hub/store/migrations/index.js';
import { formatCopyReport } from '../../cli/hub-migrate.js';
import type { CopyReport } from '../../hub/store/copy-store.js';

const bin = join(PACKAGE_ROOT, 'bin', 'foundry.js');
const dir = tempDir('foundry-hub-migrate-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PASSWORD = 'pw-n0t-in-0utput';

function foundry(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(process.execPath, [bin, ...args], { env: { ...process.env, PGPASSWORD: '' } }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr })));
}

it('formats a mismatch with both sides and the verdict', () => {
  const report: CopyReport = {
    schemaVersion: 52,
    copied: [{ table: 'nodes', rows: 1 }],
    triggers: [],
    identities: [],
    verification: {
      ok: false,
      tables: [{ table: 'nodes', source: { rows: 1, sha256: 'a'.repeat(64) }, target: { rows: 1, sha256: 'b'.repeat(64) }, ok: false }],
      totals: [{ tenant: 'acme', month: '2026-01', source: { records: 2, seconds: 60, invoice: '1.00 EUR' }, target: { records: 2, seconds: 59, invoice: '1.00 EUR' }, ok: false }],
    },
  };
  expect(formatCopyReport(report, '/d/hub.db', 'postgres://u:***@h/db')).toBe(
    [
      'source: /d/hub.db (schema version 52)',
      'target: postgres://u:***@h/db',
      '',
      'table  source rows  target rows  checksum            sha256',
      'nodes            1            1  MISMATCH  bbbbbbbbbbbbbbbb',
      '',
      'tenant  month    records  seconds  invoice total    totals',
      'acme    2026-01        2  60 → 59       1.00 EUR  MISMATCH',
      '',
      'NOT migrated cleanly: 1 tables and 1 tenant months differ',
      '',
    ].join('\n'),
  );
});

describeIfBuilt('dist/cli/hub-migrate.js')('foundry hub migrate (cli)', () => {
  describeIf(postgresAvailable(), 'PostgreSQL', 'apt-get install postgresql (or set FOUNDRY_TEST_PG_URL)')('against PostgreSQL', () => {
    it('copies a hub, prints each table matching, exits 0; a second run exits 1 naming a non-empty table; the password never shows', async () => {
      const hub = join(dir, 'hub.db');
      await writePopulatedHub(hub);
      const db = await createTestDatabase();
      try {
        const u = new URL(db.url);
        u.password = PASSWORD; // the test server trusts 127.0.0.1: the password is carried, never checked
        const r = await foundry(['hub', 'migrate', '--from', hub, '--to', u.toString()]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout + r.stderr).not.toContain(PASSWORD);
        expect(r.stdout).toContain(`source: ${hub} (schema version ${MIGRATIONS.at(-1)!.version})`);
        expect(r.stdout).toContain(`target: postgres://postgres:***@127.0.0.1:`);
        expect(r.stdout).toMatch(/^usage_records\s+4\s+4\s+match\s+[0-9a-f]{16}$/m);
        expect(r.stdout).toMatch(/^usage_late\s+2\s+2\s+match\s/m);
        expect(r.stdout).toMatch(/^acme\s+2026-01\s+3\s+18000\s+12\.34 EUR\s+match$/m);
        expect(r.stdout).not.toMatch(/MISMATCH/);
        expect(r.stdout).toContain('usage_records.id: new rows start at 5');
        expect(r.stdout).toMatch(/migrated: \d+ tables, every count, checksum and total matches/);
        expect(r.stderr).toContain('  usage_records: 4 rows');

        const again = await foundry(['hub', 'migrate', '--from', hub, '--to', u.toString(), '--json']);
        expect(again.code).toBe(1);
        expect(again.stderr).toMatch(/^foundry: the PostgreSQL database is not empty: table \w+ has rows/);
        expect(again.stdout + again.stderr).not.toContain(PASSWORD);
      } finally {
        await db.drop();
      }
    });
  });

  it('an unreachable server: exit 3, the URL shown without its password', async () => {
    const hub = join(dir, 'unreachable.db');
    await writePopulatedHub(hub);
    const r = await foundry(['hub', 'migrate', '--from', hub, '--to', `postgres://foundry:${PASSWORD}@127.0.0.1:1/hub`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^foundry: cannot reach PostgreSQL at postgres:\/\/foundry:\*\*\*@127\.0\.0\.1:1\/hub: .*ECONNREFUSED/);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it('a URL that is not PostgreSQL\'s, or a missing hub file: usage and clear errors, nothing echoed', async () => {
    const bad = await foundry(['hub', 'migrate', '--from', join(dir, 'x.db'), '--to', `mysql://root:${PASSWORD}@db/hub`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('foundry: --to: expected a postgres:// URL, not mysql://\n');
    const missing = await foundry(['hub', 'migrate', '--from', join(dir, 'none.db'), '--to', 'postgres://u@127.0.0.1:1/hub']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`foundry: no hub database at ${join(dir, 'none.db')}\n`);
  });
});
