import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.js';

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fc-atomic-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file whole, with the mode asked, and leaves no temp file', async () => {
    const file = join(dir, 'sub', 'state.json');
    await writeFileAtomic(file, 'one\n');
    await writeFileAtomic(file, 'two\n', { mode: 0o600 });
    expect(readFileSync(file, 'utf8')).toBe('two\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['state.json']);
  });

  it('keeps the old file and removes the temp file when the rename fails', async () => {
    const target = join(dir, 'a-folder');
    await writeFileAtomic(join(target, 'x'), 'x');
    await expect(writeFileAtomic(target, 'not a folder')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['a-folder']);
  });
});
