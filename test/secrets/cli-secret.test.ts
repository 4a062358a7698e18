/**
 * `foundry secret` on a checkout: encrypt to the node that runs the workload and the admins, `who`, a
 * move to another node (validation names the node that cannot decrypt), `reencrypt` with the admin key,
 * after which the old node cannot decrypt the new version. Also the built CLI with the age CLI.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadInfraDir } from '../../common/infra/load.js';
import { formatIssue } from '../../common/infra/model.js';
import { decryptWithIdentities, generateAgeKeyPair, SecretFileError } from '../../common/secrets/age.js';
import { encryptSecret, reencryptSecret, whoCanDecrypt } from '../../cli/secret-files.js';
import { writeRepo, type RepoSpec } from '../agent/infra-fixture.js';
import { describeIfBuilt, onPath } from '../support/requires.js';

const node = (name: string, recipient: string): string => stringify({ apiVersion: 'foundry.cloud/v1', kind: 'Node', metadata: { name }, spec: { profile: 'test-node', ageRecipient: recipient } });

describe('foundry secret on a checkout', () => {
  let dir: string;
  let keys: Record<'a' | 'b' | 'admin', { identity: string; recipient: string }>;
  const spec = (on: string): RepoSpec => ({
    node: 'a',
    templates: { t: [{ name: 'app', image: 'x', secrets: [{ name: 'db-password', env: 'PW' }] }] },
    workspaces: { w: { template: 't', node: on } },
    extraFiles: { 'nodes/a.yaml': node('a', keys.a.recipient), 'nodes/b.yaml': node('b', keys.b.recipient), '.foundry/admin-recipients': `# admins\n${keys.admin.recipient} # alice\n` },
  });
  const decrypts = async (who: 'a' | 'b' | 'admin'): Promise<string> => {
    try {
      return Buffer.from(await decryptWithIdentities(readFileSync(join(dir, 'secrets', 'db-password.age')), [keys[who].identity])).toString();
    } catch (err) {
      return err instanceof SecretFileError ? err.problem : String(err);
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fc-secret-cli-'));
    keys = { a: await generateAgeKeyPair(), b: await generateAgeKeyPair(), admin: await generateAgeKeyPair() };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('encrypts to the node of the workload and the admins, and says who can decrypt', async () => {
    writeRepo(dir, spec('a'));
    const before = await loadInfraDir(dir);
    expect(before.issues.map(formatIssue)).toEqual([expect.stringMatching(/^templates\/t\.yaml:\d+:\d+: spec\.containers\[0\]\.secrets\[0\]\.name: secret db-password \(used by workspace w \(template t\), container app on node a\) is not declared/)]);
    const r = await encryptSecret(dir, 'db-password', Buffer.from('hunter2-value'));
    expect(r.files).toEqual(['secrets/db-password.age', 'secrets/db-password.yaml']);
    expect(r.recipients).toEqual([{ node: 'a', recipient: keys.a.recipient }, { admin: 'alice', recipient: keys.admin.recipient }]);
    expect((await loadInfraDir(dir)).issues).toEqual([]);
    expect(await decrypts('a')).toBe('hunter2-value');
    expect(await decrypts('admin')).toBe('hunter2-value');
    expect(await decrypts('b')).toBe('wrong-key');
    expect(await whoCanDecrypt(dir, 'db-password')).toMatchObject({ needs: ['a'], missing: [], extra: [], stanzas: 2 });
  });

  it('after a move, validation names the node that cannot decrypt; reencrypt fixes it and the old node cannot decrypt the new version', async () => {
    writeRepo(dir, spec('b'));
    const moved = await loadInfraDir(dir);
    expect(moved.issues.map(formatIssue)).toEqual([expect.stringMatching(/^templates\/t\.yaml:\d+:\d+: spec\.containers\[0\]\.secrets\[0\]\.name: node b cannot decrypt secret db-password \(used by workspace w \(template t\), container app\): its key is not among the recipients in secrets\/db-password\.yaml/)]);
    expect(await whoCanDecrypt(dir, 'db-password')).toMatchObject({ needs: ['b'], missing: ['b'], extra: ['a'] });
    await expect(reencryptSecret(dir, 'db-password', [keys.b.identity])).rejects.toThrow(/secret db-password: secrets\/db-password\.age: no key of this node can decrypt it/);
    await reencryptSecret(dir, 'db-password', [keys.admin.identity]);
    expect((await loadInfraDir(dir)).issues).toEqual([]);
    expect(await decrypts('b')).toBe('hunter2-value');
    expect(await decrypts('a')).toBe('wrong-key');
    expect(await whoCanDecrypt(dir, 'db-password')).toMatchObject({ needs: ['b'], missing: [], extra: [] });
  });

  it('refuses to encrypt for a node without a key, naming it', async () => {
    writeRepo(dir, { ...spec('b'), extraFiles: { ...spec('b').extraFiles, 'nodes/b.yaml': stringify({ apiVersion: 'foundry.cloud/v1', kind: 'Node', metadata: { name: 'b' }, spec: { profile: 'test-node' } }) } });
    await expect(encryptSecret(dir, 'db-password', Buffer.from('x'))).rejects.toThrow('secret db-password is needed on b, but that node has no spec.ageRecipient in nodes/');
  });
});

describeIfBuilt('dist/cli/foundry.js')('the built CLI with the age CLI', () => {
  it('foundry secret encrypt reads stdin; age -d decrypts the file with the node key; who exits 0', async () => {
    if (!onPath('age-keygen', 'age')) throw new Error('age is required: apt-get install -y age');
    const dir = mkdtempSync(join(tmpdir(), 'fc-secret-bin-'));
    try {
      execFileSync('age-keygen', ['-o', join(dir, 'node.key')], { stdio: 'pipe' });
      const recipient = execFileSync('age-keygen', ['-y', join(dir, 'node.key')], { encoding: 'utf8' }).trim();
      const repo = join(dir, 'infra');
      mkdirSync(repo);
      writeRepo(repo, { node: 'n1', templates: { t: [{ name: 'app', image: 'x', secrets: [{ name: 'api-key', file: '/run/secrets/k' }] }] }, workspaces: { w: { template: 't' } }, extraFiles: { 'nodes/n1.yaml': node('n1', recipient) } });
      const bin = join(process.cwd(), 'bin', 'foundry.js');
      const enc = spawnSync('node', [bin, 'secret', 'encrypt', 'api-key', '--repo', repo], { input: 'from-stdin-42', encoding: 'utf8' });
      expect(enc.stderr).toBe('');
      expect(enc.stdout).toContain('encrypted api-key to node n1');
      expect(execFileSync('age', ['-d', '-i', join(dir, 'node.key'), join(repo, 'secrets', 'api-key.age')], { encoding: 'utf8' })).toBe('from-stdin-42');
      const who = spawnSync('node', [bin, 'secret', 'who', 'api-key', '--repo', repo], { encoding: 'utf8' });
      expect(who.status).toBe(0);
      expect(who.stdout).toContain(`node n1  ${recipient}`);
      const v = spawnSync('node', [bin, 'validate', repo], { encoding: 'utf8' });
      expect(v.stdout).toMatch(/^valid: /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
