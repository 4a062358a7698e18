import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { onPath } from '../../test/support/requires.js';
import { loadOrCreateNodeIdentity, nodeIdentityPath } from './node-identity.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const stateDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'fc-node-key-'));
  dirs.push(d);
  return join(d, 'state');
};

describe('loadOrCreateNodeIdentity', () => {
  it('creates the key once, mode 0600, in age-keygen format, and reads the same key back', async () => {
    const dir = stateDir();
    const first = await loadOrCreateNodeIdentity(dir);
    expect(first.created).toBe(true);
    expect(first.recipient).toMatch(/^age1[02-9ac-hj-np-z]{58}$/);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(readFileSync(first.file, 'utf8')).toContain(`# public key: ${first.recipient}\n${first.identity}\n`);
    if (onPath('age-keygen')) expect(execFileSync('age-keygen', ['-y', first.file], { encoding: 'utf8' }).trim()).toBe(first.recipient);
    const again = await loadOrCreateNodeIdentity(dir);
    expect({ ...again, created: undefined }).toEqual({ ...first, created: undefined });
    expect(again.created).toBe(false);
  });

  it('refuses a key readable by others and a file without a key, and never replaces them', async () => {
    const dir = stateDir();
    const { file } = await loadOrCreateNodeIdentity(dir);
    chmodSync(file, 0o644);
    await expect(loadOrCreateNodeIdentity(dir)).rejects.toThrow(`the node key ${file} is readable by others (mode 644): run chmod 600 ${file}`);
    writeFileSync(nodeIdentityPath(dir), '# nothing here\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    await expect(loadOrCreateNodeIdentity(dir)).rejects.toThrow(/holds no age identity/);
    expect(readFileSync(file, 'utf8')).toBe('# nothing here\n');
  });
});
