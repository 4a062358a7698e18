/**
 * Encrypted workspace volumes with real Podman and real gocryptfs (FUSE): a container's marker is not in
 * the files on the host; a node without the key cannot start the container (VOLUME_KEY_MISSING with the
 * resource); after a "reboot" (mount gone, keyring empty) the key comes back and the data is readable
 * again; deleting the workspace (reclaimPolicy Delete) forgets the key and removes the cipher files, and
 * a copy of them taken before opens only with that key.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf, onPath } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { repoOf } from '../support/infra-repo.js';
import { renderNodeState } from '../../agent/render.js';
import { planActions } from '../../agent/plan.js';
import { PodmanDriver } from '../../agent/drivers/podman/podman-driver.js';
import { runCommand } from '../../common/run-command.js';
import { EncryptedDirs } from '../../agent/volumes/encrypted-dirs.js';
import { VolumeKeyring } from '../../agent/volumes/keyring.js';
import type { DesiredState } from '../../agent/desired.js';
import { isFoundryError } from '../../common/errors.js';

const NODE = 'enc-01';
const MARKER = `foundry-marker-${randomBytes(6).toString('hex')}`;
const KEY_REF = { workspace: 'w1', kind: 'volume', name: 'data' } as const;

function desired(workspaces: Record<string, Record<string, unknown>>, template: Record<string, unknown> = {}): DesiredState {
  const container = { name: 'db', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sh', '-c', `echo ${MARKER} >> /data/log; exec sleep 600`], volumes: [{ name: 'data', mountPath: '/data' }] };
  return renderNodeState(
    repoOf([
      { kind: 'NodeProfile', metadata: { name: 'gpu-node' }, spec: {} },
      { kind: 'Node', metadata: { name: NODE }, spec: { profile: 'gpu-node', allowMassPrune: true } },
      { kind: 'WorkspaceTemplate', metadata: { name: 't' }, spec: { containers: [container], ...template } },
      ...Object.entries(workspaces).map(([name, spec]) => ({ kind: 'Workspace', metadata: { name }, spec: { tenant: 'acme', template: 't', node: NODE, reclaimPolicy: 'Delete', ...spec } })),
    ]),
    NODE,
  );
}

async function converge(driver: PodmanDriver, state: DesiredState): Promise<Record<string, string>> {
  const plan = planActions(state, await driver.list(NODE));
  const errors: Record<string, string> = {};
  for (const a of plan.actions) {
    try {
      await driver.apply(a);
    } catch (err) {
      errors[a.id] = isFoundryError(err) ? `${err.code}: ${err.message}` : String(err);
    }
  }
  return errors;
}

/** grep -r for the marker in a dir: true when found. */
function grepFinds(dir: string): boolean {
  return spawnSync('grep', ['-r', '-q', '-a', MARKER, dir]).status === 0;
}

const fuseAvailable = onPath('gocryptfs', 'fusermount3') && existsSync('/dev/fuse');

describeIf(podmanAvailable() && fuseAvailable, 'podman and gocryptfs', `${PODMAN_HOW}; apt-get install gocryptfs fuse3`)('encrypted volumes (real podman, real gocryptfs)', () => {
  let pm: PrivatePodman;
  let root: string;
  let dirs: EncryptedDirs;
  const key = randomBytes(32);
  const driverWith = (keys: VolumeKeyring): PodmanDriver => new PodmanDriver({ socketPath: pm.socketPath, stopTimeoutS: 1, encryptedVolumes: { dirs, keys } });

  beforeAll(async () => {
    pm = await startPrivatePodman();
    root = mkdtempSync(join(tmpdir(), 'fc-encvol-'));
    dirs = new EncryptedDirs(runCommand, root);
  }, 600_000);
  afterAll(async () => {
    await pm?.stop();
    for (const name of readdirSync(join(root, 'mnt'), { withFileTypes: true }).map((d) => d.name)) await dirs.unmount(name, 'cleanup').catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses to create the volume on a node without the key, naming the resource', async () => {
    const errors = await converge(driverWith(new VolumeKeyring()), desired({ w1: {} }));
    expect(errors['ws.w1.vol.data']).toMatch(/^VOLUME_KEY_MISSING: this node holds no key for volume data of workspace w1/);
    expect(existsSync(join(root, 'cipher', 'fc-ws-w1-data'))).toBe(false);
  });

  it('keeps what the container writes encrypted on the host, readable inside', async () => {
    const keys = new VolumeKeyring();
    keys.set(KEY_REF, key);
    expect(await converge(driverWith(keys), desired({ w1: {} }))).toEqual({});
    await waitFor(() => pm.podman(['exec', 'fc-ws-w1-db', 'cat', '/data/log'], { allowFail: true }).stdout.includes(MARKER));
    const p = dirs.paths('fc-ws-w1-data');
    expect(readFileSync(join(p.data, 'log'), 'utf8')).toContain(MARKER); // the plaintext view while mounted
    expect(grepFinds(p.cipher)).toBe(false);
    expect(readdirSync(p.cipher)).toContain('gocryptfs.conf');
    const vol = JSON.parse(pm.podman(['volume', 'inspect', 'fc-ws-w1-data']).stdout) as [{ Labels: Record<string, string>; Options: Record<string, string> }];
    expect(vol[0].Labels['foundry.cloud/encryption']).toBe('gocryptfs');
    expect(vol[0].Options).toMatchObject({ o: 'bind', device: p.data });
  });

  it('after a reboot (mount gone, keys gone) the container cannot start until the key is back, then reads its data again', async () => {
    pm.podman(['stop', '--time', '1', 'fc-ws-w1-db']);
    await dirs.unmount('fc-ws-w1-data', 'test');
    expect(dirs.isMounted('fc-ws-w1-data')).toBe(false);
    const empty = new VolumeKeyring();
    const errors = await converge(driverWith(empty), desired({ w1: {} }));
    expect(errors['ws.w1.db']).toMatch(/^VOLUME_KEY_MISSING: .*volume data of workspace w1/);
    expect(empty.wanted()).toEqual([KEY_REF]);
    expect(pm.podman(['inspect', '--format', '{{.State.Running}}', 'fc-ws-w1-db']).stdout.trim()).toBe('false');
    empty.set(KEY_REF, key);
    expect(await converge(driverWith(empty), desired({ w1: {} }))).toEqual({});
    await waitFor(() => (pm.podman(['exec', 'fc-ws-w1-db', 'cat', '/data/log'], { allowFail: true }).stdout.match(new RegExp(MARKER, 'g')) ?? []).length === 2);
  });

  it('a wrong key does not open the volume', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'fc-encvol-copy-'));
    try {
      cpSync(dirs.paths('fc-ws-w1-data').cipher, join(copy, 'cipher', 'x'), { recursive: true });
      const other = new EncryptedDirs(runCommand, copy);
      await expect(other.ensureMounted('x', randomBytes(32), 'copy')).rejects.toThrow(/^cannot mount the encrypted volume of copy: the key this node holds does not open it$/);
      expect(other.isMounted('x')).toBe(false);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('deleting the workspace forgets the key and the files; a copy taken before opens only with that key', async () => {
    const keys = new VolumeKeyring();
    keys.set(KEY_REF, key);
    const copy = mkdtempSync(join(tmpdir(), 'fc-encvol-copy-'));
    try {
      cpSync(dirs.paths('fc-ws-w1-data').cipher, join(copy, 'cipher', 'stolen'), { recursive: true });
      expect(await converge(driverWith(keys), desired({}))).toEqual({});
      expect(keys.get(KEY_REF)).toBeUndefined();
      expect(existsSync(dirs.paths('fc-ws-w1-data').cipher)).toBe(false);
      expect(pm.podman(['volume', 'ls', '-q']).stdout).not.toContain('fc-ws-w1-data');
      // The copy: no marker in its bytes, no key opens it but the destroyed one.
      expect(grepFinds(copy)).toBe(false);
      const thief = new EncryptedDirs(runCommand, copy);
      await expect(thief.ensureMounted('stolen', randomBytes(32), 'copy')).rejects.toThrow(/does not open/);
      const withOldKey = await thief.ensureMounted('stolen', key, 'copy');
      expect(readFileSync(join(withOldKey.data, 'log'), 'utf8')).toContain(MARKER);
      await thief.unmount('stolen', 'copy');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('a template with encryption: none gets a plain volume', async () => {
    expect(await converge(driverWith(new VolumeKeyring()), desired({ w2: {} }, { encryption: 'none' }))).toEqual({});
    const vol = JSON.parse(pm.podman(['volume', 'inspect', 'fc-ws-w2-data']).stdout) as [{ Labels: Record<string, string> }];
    expect(vol[0].Labels['foundry.cloud/encryption']).toBeUndefined();
    expect(existsSync(join(root, 'cipher', 'fc-ws-w2-data'))).toBe(false);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
