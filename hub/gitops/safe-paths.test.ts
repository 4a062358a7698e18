import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPlainPath, linksInHubFolders, parseLsTree, repoRelative } from './safe-paths.js';

describe('repoRelative', () => {
  it('normalizes inside paths and refuses what leaves the repo or names .git', () => {
    expect(repoRelative('workspaces/./acme/a.yaml')).toBe('workspaces/acme/a.yaml');
    for (const bad of ['/etc/passwd', '../x', 'a/../../x', '.', '.git/config']) expect(() => repoRelative(bad)).toThrow(/^refusing to write outside the infra repo/);
  });
});

describe('assertPlainPath', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'foundry-safe-paths-'));
    mkdirSync(join(root, 'clone', 'workspaces', 'acme'), { recursive: true });
    mkdirSync(join(root, 'outside'));
    writeFileSync(join(root, 'clone', 'workspaces', 'acme', 'a.yaml'), 'x');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('accepts real folders, a regular file and missing components', () => {
    const clone = join(root, 'clone');
    expect(() => assertPlainPath(clone, 'workspaces/acme/a.yaml')).not.toThrow();
    expect(() => assertPlainPath(clone, 'workspaces/globex/new/b.yaml')).not.toThrow();
  });

  it('refuses a linked folder anywhere on the way, a linked file and a folder where the file should be', () => {
    const clone = join(root, 'clone');
    symlinkSync('../../outside', join(clone, 'workspaces', 'globex'));
    symlinkSync(join(root, 'outside'), join(clone, 'nodes'));
    symlinkSync('a.yaml', join(clone, 'workspaces', 'acme', 'b.yaml'));
    mkdirSync(join(clone, 'workspaces', 'acme', 'c.yaml'));
    expect(() => assertPlainPath(clone, 'workspaces/globex/x.yaml')).toThrow('refusing to write workspaces/globex/x.yaml: workspaces/globex is a symbolic link in the infra repo; the hub never follows links (replace it with a real folder or file)');
    expect(() => assertPlainPath(clone, 'nodes/gpu-01.yaml')).toThrow(/nodes is a symbolic link/);
    expect(() => assertPlainPath(clone, 'workspaces/acme/b.yaml')).toThrow(/workspaces\/acme\/b\.yaml is a symbolic link/);
    expect(() => assertPlainPath(clone, 'workspaces/acme/c.yaml')).toThrow('refusing to write workspaces/acme/c.yaml: it exists and is not a regular file');
    expect(() => assertPlainPath(clone, 'workspaces/acme/a.yaml/d.yaml')).toThrow('refusing to write workspaces/acme/a.yaml/d.yaml: workspaces/acme/a.yaml is not a folder');
  });
});

describe('linksInHubFolders', () => {
  it('picks links and submodules in workspaces/ and nodes/ from ls-tree -r -z output', () => {
    const out = ['120000 blob aaa\tworkspaces/globex', '100644 blob bbb\tworkspaces/acme/a.yaml', '120000 blob ccc\tdocs/link', '160000 commit ddd\tnodes/sub', '120000 blob eee\tnodes', '120000 blob fff\tworkspaces-old'].join('\0') + '\0';
    expect(linksInHubFolders(parseLsTree(out)).map((e) => e.path)).toEqual(['workspaces/globex', 'nodes/sub', 'nodes']);
  });
});
