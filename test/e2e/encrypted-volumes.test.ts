/**
 * Encrypted volumes end to end, through the production path: a hub with its age identity and a node
 * agent started by its composition root (`startNodeAgent`: real git, real Podman, real gocryptfs, the hub
 * link). API request → placement → the agent misses the volume key, asks the hub, gets it encrypted to its
 * own recipient → the container's marker is not in the cipher files → agent restart and reboot (mount
 * gone, memory empty) → the new agent fetches the key again and the data is readable → DELETE with
 * reclaimPolicy Delete → the hub destroys the keys (audit), the agent prunes, the files are gone and a copy
 * of them taken before is unreadable: nobody holds the key any more.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pino } from 'pino';
import { describeIf, onPath } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { resolveConfig, type ResolvedAgentConfig } from '../../agent/config/load-config.js';
import { startNodeAgent, type NodeAgent } from '../../agent/node-agent.js';
import { volumeDirOf } from '../../agent/reconcile/gitops-loop.js';
import { runCommand } from '../../common/run-command.js';
import { EncryptedDirs } from '../../agent/volumes/encrypted-dirs.js';
import { fleetFiles } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';

const NODE = 'gpu-01';
const MARKER = `e2e-volume-marker-${Date.now()}`;
const VOLUME = 'fc-ws-acme-enc-data';
const built = existsSync(join(PACKAGE_ROOT, 'dist', 'hub', 'git', 'pre-receive-hook.js'));
const fuse = onPath('gocryptfs', 'fusermount3') && existsSync('/dev/fuse');

describeIf(podmanAvailable() && fuse && built, 'podman, gocryptfs and a build', `${PODMAN_HOW}; apt-get install gocryptfs fuse3; npm run build`)('encrypted volumes end to end (hub keys, node agent, real podman and gocryptfs)', () => {
  let hub: WsHub;
  let pm: PrivatePodman;
  let node: NodeAgent | undefined;
  let dir: string;
  let config: ResolvedAgentConfig;
  const log = pino({ level: 'silent' });
  const start = async (): Promise<NodeAgent> => startNodeAgent(config, log, { nvidiaSmi: join(PACKAGE_ROOT, 'scripts', 'fake-nvidia-smi'), telemetryIntervalMs: 60_000 });
  const until = async <T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 90_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const readLog = (): string => pm.podman(['exec', 'fc-ws-acme-enc-db', 'cat', '/data/log'], { allowFail: true }).stdout;
  const grepFinds = (where: string): boolean => spawnSync('grep', ['-r', '-q', '-a', MARKER, where]).status === 0;

  beforeAll(async () => {
    const files = fleetFiles({ nodes: 1, gpus: 0 });
    files['templates/db.yaml'] = `apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata:\n  name: db\nspec:\n  containers:\n    - name: db\n      image: ${TEST_IMAGE}\n      pullPolicy: Never\n      command: [sh, -c, "echo ${MARKER} >> /data/log; exec sleep 600"]\n      volumes:\n        - name: data\n          mountPath: /data\n`;
    files['profiles/e2e.yaml'] = 'apiVersion: foundry.cloud/v1\nkind: NodeProfile\nmetadata:\n  name: e2e\nspec:\n  description: node without baseline containers\n  hostsWorkspaces: true\n';
    files[`nodes/${NODE}.yaml`] = `apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: ${NODE}\nspec:\n  profile: e2e\n`;
    hub = await startWsHub(files, [], { secrets: true });
    pm = await startPrivatePodman();
    dir = mkdtempSync(join(tmpdir(), 'foundry-e2e-enc-'));
    const credentialFile = join(dir, 'credential');
    writeFileSync(credentialFile, `${(await hub.store.issueNodeCredential(NODE))}\n`, { mode: 0o600 });
    config = resolveConfig({ node: NODE, repo: { url: `${hub.url}/git/infra.git`, branch: 'main' }, cacheDir: join(dir, 'cache'), stateDir: join(dir, 'state'), podman: { socketPath: pm.socketPath }, hub: { url: hub.url, credentialFile } }, join(dir, 'agent.yaml'));
    node = await start();
    await until('agent connected', () => (hub.app.hub.gateway.connectedNodes().includes(NODE) ? true : undefined));
  }, 600_000);
  afterAll(async () => {
    await node?.stop();
    await pm?.stop();
    await hub?.close();
    if (dir !== undefined) {
      const dirs = new EncryptedDirs(runCommand, volumeDirOf(config.stateDir));
      for (const name of existsSync(join(volumeDirOf(config.stateDir), 'mnt')) ? readdirSync(join(volumeDirOf(config.stateDir), 'mnt')) : []) await dirs.unmount(name, 'cleanup').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('key from the hub → encrypted on disk → fetched again after a restart → destroyed on delete', async () => {
    // Declared in Git as an admin would (reclaimPolicy is not an API field; a volume records it when created).
    await hub.app.hub.gitops!.writer.commit(async () => ({
      changes: [{ path: 'workspaces/acme/acme-enc.yaml', content: `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: acme-enc\nspec:\n  tenant: acme\n  template: db\n  node: ${NODE}\n  reclaimPolicy: Delete\n` }],
      message: 'workspace acme-enc',
    }));
    const ws = (await hub.call('GET', '/api/v1/workspaces/acme-enc')).json as { encryption: unknown };
    expect(ws.encryption).toEqual({ atRest: 'encrypted', optedOut: [], dataOnMove: 'refuse' });

    // 1. the agent asks for the key, the hub creates it for this node, the container writes through gocryptfs
    await until('marker written', () => (readLog().includes(MARKER) ? true : undefined));
    const dirs = new EncryptedDirs(runCommand, volumeDirOf(config.stateDir));
    const cipher = dirs.paths(VOLUME).cipher;
    expect(readdirSync(cipher)).toContain('gocryptfs.conf');
    expect(grepFinds(cipher)).toBe(false);
    expect(grepFinds(config.stateDir.replace(/state$/, ''))).toBe(true); // sanity: grep finds it through the mount
    const keyRows = await hub.store.sql.all<{ wrapped: string }>('SELECT workspace, kind, name, created_for_node, wrapped FROM volume_keys');
    expect(keyRows).toEqual([{ workspace: 'acme-enc', kind: 'volume', name: 'data', created_for_node: NODE, wrapped: expect.stringMatching(/^-----BEGIN AGE ENCRYPTED FILE-----/) }]);

    // 2. agent restart and reboot: the agent stops, the container stops, the mount goes, memory is gone
    await node!.stop();
    node = undefined;
    pm.podman(['stop', '--time', '1', 'fc-ws-acme-enc-db']);
    await dirs.unmount(VOLUME, 'test');
    expect(dirs.isMounted(VOLUME)).toBe(false);
    node = await start();
    await until('marker written twice (restarted with the key fetched again)', () => ((readLog().match(new RegExp(MARKER, 'g')) ?? []).length === 2 ? true : undefined));
    expect(dirs.isMounted(VOLUME)).toBe(true);

    // 3. delete with reclaimPolicy Delete: keys destroyed first (audited), the agent prunes, a copy is useless
    const copy = mkdtempSync(join(tmpdir(), 'foundry-e2e-enc-copy-'));
    try {
      cpSync(cipher, join(copy, 'cipher', 'stolen'), { recursive: true });
      const del = await hub.call('DELETE', '/api/v1/workspaces/acme-enc', { tenant: 'acme' });
      expect(del.json).toMatchObject({ deleted: true, keysDestroyed: true });
      expect(await hub.store.sql.get('SELECT COUNT(*) AS n FROM volume_keys')).toEqual({ n: 0 });
      expect((await hub.store.auditLog()).filter((e) => e.action === 'volume-key.destroy')).toEqual([expect.objectContaining({ target: 'acme-enc' })]);
      await until('volume pruned', () => (!existsSync(cipher) && !pm.podman(['volume', 'ls', '-q']).stdout.includes(VOLUME) ? true : undefined));
      expect(grepFinds(copy)).toBe(false);
      const thief = new EncryptedDirs(runCommand, copy);
      await expect(thief.ensureMounted('stolen', Buffer.alloc(32), 'copy')).rejects.toThrow(/does not open/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 400_000);
});
