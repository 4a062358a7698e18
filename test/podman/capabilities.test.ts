/**
 * The PodmanCapabilities node condition against real Podman services: a healthy one reports True; one
 * whose helper dirs lack aardvark-dns and catatonit (and whose PATH lacks catatonit) reports what to
 * install, and there `podman pod create` really fails and containers really cannot resolve each other; one on the CNI backend reports CniNetworkBackend.
 * The condition reaches status.json through the reconciler.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PodmanDriver } from '../../agent/drivers/podman/podman-driver.js';
import { Reconciler } from '../../agent/reconcile/reconciler.js';
import { readStatus } from '../../agent/reconcile/status.js';
import { DirSource } from '../../agent/source/dir-source.js';
import { describeIf } from '../support/requires.js';
import { podmanAvailable, PODMAN_HOW, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';

/** Whether a container on a fresh network resolves another one by name (what workspaces rely on); throws when the lookup could not even run. */
function resolvesByName(pp: PrivatePodman): boolean {
  pp.podman(['network', 'create', 'caps-net']);
  pp.podman(['run', '-d', '--name', 'caps-a', '--network', 'caps-net', TEST_IMAGE, 'sleep', '600']);
  const r = pp.podman(['run', '--rm', '--network', 'caps-net', TEST_IMAGE, 'nslookup', 'caps-a'], { allowFail: true });
  if (r.status !== 0 && !/can't find caps-a|no servers could be reached|can't resolve/.test(`${r.stdout}${r.stderr}`)) throw new Error(`nslookup did not run: ${r.status} ${r.stdout} ${r.stderr}`);
  return r.status === 0;
}

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('PodmanCapabilities (real podman)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-caps-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const withPodman = async (options: Parameters<typeof startPrivatePodman>[0], fn: (pp: PrivatePodman, driver: PodmanDriver) => Promise<void>): Promise<void> => {
    const pp = await startPrivatePodman(options);
    try {
      await fn(pp, new PodmanDriver({ socketPath: pp.socketPath, capabilityEnv: pp.env }));
    } finally {
      await pp.stop();
    }
  };

  it('a healthy podman: True, and the reconciler writes it into status.json', async () => {
    await withPodman({}, async (pp, driver) => {
      const [c] = await driver.conditions();
      expect(c).toMatchObject({ type: 'PodmanCapabilities', status: 'True', reason: 'CapabilitiesPresent' });
      expect(c?.message).toMatch(/^network backend netavark, name resolution by \/\S+\/aardvark-dns, pause binary \/\S+\/catatonit$/);
      expect(pp.podman(['pod', 'create', '--name', 'p1']).status).toBe(0);
      expect(resolvesByName(pp)).toBe(true);

      const stateDir = join(dir, 'state-healthy');
      mkdirSync(join(dir, 'empty-repo'), { recursive: true });
      const reconciler = new Reconciler({ node: 'n1', source: new DirSource(join(dir, 'empty-repo')), drivers: [driver], stateDir, verify: undefined, logger: pino({ level: 'silent' }), backoff: { baseDelayMs: 1000, maxDelayMs: 1000 } });
      await reconciler.trigger('test');
      expect((await readStatus(stateDir))?.conditions.find((x) => x.type === 'PodmanCapabilities')).toEqual(c);
    });
    // a private Podman service, a pod, a network and two containers: on a loaded 2-core machine this took over 60 s once
  }, 180_000);

  it('helper dirs without aardvark-dns and catatonit, PATH without catatonit: False with what to install, and pods and name resolution really fail', async () => {
    const helpers = join(dir, 'helpers');
    mkdirSync(helpers, { recursive: true });
    symlinkSync('/usr/lib/podman/netavark', join(helpers, 'netavark'));
    await withPodman({ engine: [`helper_binaries_dir = ["${helpers}"]`], path: '/usr/sbin:/sbin' }, async (pp, driver) => {
      expect(await driver.conditions()).toEqual([
        {
          type: 'PodmanCapabilities',
          status: 'False',
          reason: 'NoNetworkNameResolution',
          message:
            `aardvark-dns is not in podman's helper dirs (${helpers}): containers of a workspace network cannot resolve each other by name; install it (apt-get install --no-install-recommends aardvark-dns); ` +
            `the pause binary catatonit is not in podman's helper dirs (${helpers}) nor on PATH: podman cannot create pods; install it (apt-get install --no-install-recommends catatonit)`,
        },
      ]);
      const pod = pp.podman(['pod', 'create', '--name', 'p2'], { allowFail: true });
      expect(pod.status).not.toBe(0);
      expect(pod.stderr).toContain('finding pause binary');
      expect(resolvesByName(pp)).toBe(false);
    });
  });

  it('the CNI network backend: False, CniNetworkBackend', async () => {
    await withPodman({ network: ['network_backend = "cni"'] }, async (_pp, driver) => {
      const [c] = await driver.conditions();
      expect(c).toMatchObject({ type: 'PodmanCapabilities', status: 'False', reason: 'CniNetworkBackend' });
      expect(c?.message).toContain('podman uses the cni network backend: containers of a workspace network cannot resolve each other by name; install netavark and aardvark-dns');
    });
  });
});
