import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDatabaseUrl } from './database-url.js';

const dir = mkdtempSync(join(tmpdir(), 'db-url-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, 0o600);
  return p;
};

describe('readDatabaseUrl', () => {
  it('reads the first URL line of the file (comments and blank lines skipped); the file wins over the environment', () => {
    expect(readDatabaseUrl(file('ok', '# hub database\n\npostgres://hub:pw@db:5432/foundry\n'), 'postgres://other/x')).toBe('postgres://hub:pw@db:5432/foundry');
  });

  it('without a file: the environment, or undefined (the embedded SQLite store)', () => {
    expect(readDatabaseUrl(undefined, 'postgresql://h/db')).toBe('postgresql://h/db');
    expect(readDatabaseUrl(undefined, undefined)).toBeUndefined();
    expect(readDatabaseUrl(undefined, '  ')).toBeUndefined();
  });

  it('names the source and what is wrong, never the password', () => {
    expect(() => readDatabaseUrl(join(dir, 'missing'), undefined)).toThrow(`--database-url-file ${join(dir, 'missing')}: cannot read it (ENOENT)`);
    expect(() => readDatabaseUrl(file('empty', '\n# nothing\n'), undefined)).toThrow('the file is empty; expected a postgres:// URL');
    let err: unknown;
    try {
      readDatabaseUrl(undefined, 'mysql://u:secret-pw@h/db');
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toContain('FOUNDRY_HUB_DATABASE_URL: expected a postgres:// or postgresql:// URL');
    expect((err as Error).message).not.toContain('secret-pw');
  });
});
