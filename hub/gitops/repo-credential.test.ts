import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoUrlCredential, gitAuthEnv, readRepoCredential } from './repo-credential.js';

describe('repo credential', () => {
  it('reads the first line of the file, else the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'foundry-cred-'));
    try {
      writeFileSync(join(dir, 'c'), 'hub:s3cret\nignored\n');
      expect(readRepoCredential(join(dir, 'c'), {})).toBe('hub:s3cret');
      expect(readRepoCredential(undefined, { FOUNDRY_HUB_REPO_CREDENTIAL: ' tok ' })).toBe('tok');
      expect(readRepoCredential(undefined, {})).toBeUndefined();
      writeFileSync(join(dir, 'empty'), '\n');
      expect(() => readRepoCredential(join(dir, 'empty'), {})).toThrow(`--repo-credential-file ${join(dir, 'empty')}: the file is empty`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends USER:TOKEN as Basic and a bare token as Bearer, scoped to the repo URL', () => {
    expect(gitAuthEnv('https://git.example/infra.git', 'hub:s3cret')).toEqual({ GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.https://git.example/infra.git.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from('hub:s3cret').toString('base64')}` });
    expect(gitAuthEnv('https://git.example/infra.git', 'glpat-abc').GIT_CONFIG_VALUE_0).toBe('Authorization: Bearer glpat-abc');
    expect(gitAuthEnv('https://git.example/infra.git', undefined)).toEqual({});
  });

  it('refuses a URL with a user or password without repeating them', () => {
    expect(() => assertNoUrlCredential('https://hub:s3cret@git.example/infra.git')).toThrow('--repo-url https://git.example/infra.git: remove the user and password from the URL');
    expect(() => assertNoUrlCredential('https://git.example/infra.git')).not.toThrow();
    expect(() => assertNoUrlCredential('/srv/infra.git')).not.toThrow();
  });
});
