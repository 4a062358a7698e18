import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capabilitiesCondition, DEFAULT_HELPER_DIRS, helperDirs, parseHelperDirs } from './capabilities.js';

describe('capabilitiesCondition', () => {
  const ok = { networkBackend: 'netavark', aardvarkDns: '/usr/lib/podman/aardvark-dns', pauseBinary: '/usr/bin/catatonit', helperDirs: ['/usr/lib/podman'] };

  it('is True when netavark, aardvark-dns and catatonit are there', () => {
    expect(capabilitiesCondition(ok)).toEqual({ type: 'PodmanCapabilities', status: 'True', reason: 'CapabilitiesPresent', message: 'network backend netavark, name resolution by /usr/lib/podman/aardvark-dns, pause binary /usr/bin/catatonit' });
  });

  it('needs iptables for netavark when it was probed (Debian 12: no container on a network starts without it)', () => {
    expect(capabilitiesCondition({ ...ok, iptables: '/usr/sbin/iptables' })).toMatchObject({ status: 'True', reason: 'CapabilitiesPresent' });
    expect(capabilitiesCondition({ ...ok, iptables: undefined })).toMatchObject({ status: 'False', reason: 'NoFirewallTool', message: expect.stringContaining('(apt-get install --no-install-recommends iptables)') });
    // CNI does not run netavark: its own problem is the reason
    expect(capabilitiesCondition({ ...ok, networkBackend: 'cni', iptables: undefined })).toMatchObject({ reason: 'CniNetworkBackend' });
  });

  it('names the first problem as the reason and every problem with its package', () => {
    expect(capabilitiesCondition({ ...ok, pauseBinary: undefined })).toMatchObject({ status: 'False', reason: 'NoPauseBinary', message: expect.stringContaining('install it (apt-get install --no-install-recommends catatonit)') });
    expect(capabilitiesCondition({ ...ok, aardvarkDns: undefined })).toMatchObject({ status: 'False', reason: 'NoNetworkNameResolution', message: expect.stringContaining('(apt-get install --no-install-recommends aardvark-dns)') });
    const cni = capabilitiesCondition({ ...ok, networkBackend: 'cni', aardvarkDns: undefined, pauseBinary: undefined });
    expect(cni.reason).toBe('CniNetworkBackend');
    expect(cni.message).toMatch(/^podman uses the cni network backend: .*; the pause binary catatonit is not in podman's helper dirs \(\/usr\/lib\/podman\) nor on PATH: .*catatonit\)$/);
    expect(cni.message).not.toContain('aardvark-dns is not');
  });
});

describe('helper dirs', () => {
  it('parses a one-line and a multi-line helper_binaries_dir, ignoring comments', () => {
    expect(parseHelperDirs('[engine]\n#helper_binaries_dir = ["/x"]\nhelper_binaries_dir = ["/a", \'/b\']\n')).toEqual(['/a', '/b']);
    expect(parseHelperDirs('[engine]\nhelper_binaries_dir = [\n  "/usr/lib/podman",\n  "/opt/p",\n]\n')).toEqual(['/usr/lib/podman', '/opt/p']);
    expect(parseHelperDirs('[engine]\n#helper_binaries_dir = [\n#  "/x",\n#]\n')).toBeUndefined();
  });

  it('takes them from CONTAINERS_CONF alone when set, else the built-in list', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fc-helpers-'));
    try {
      const conf = join(dir, 'c.conf');
      writeFileSync(conf, '[engine]\nhelper_binaries_dir = ["/only/here"]\n');
      expect(helperDirs({ CONTAINERS_CONF: conf })).toEqual(['/only/here']);
      writeFileSync(conf, '[engine]\nruntime = "runc"\n');
      expect(helperDirs({ CONTAINERS_CONF: conf })).toEqual(DEFAULT_HELPER_DIRS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
