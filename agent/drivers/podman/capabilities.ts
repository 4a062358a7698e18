/**
 * Can this Podman serve workspaces? A read-only probe of what Debian's podman only *recommends*: the
 * netavark network backend (CNI gives no name resolution on workspace networks), aardvark-dns (netavark's
 * name server), the pause binary catatonit (without it `podman pod create` fails) and iptables (Debian 12's
 * netavark 1.4 sets up every network's NAT and firewall rules with it; without it no container on a
 * network starts: "netavark: No such file or directory"). The backend comes
 * from the engine's own answer (GET /libpod/info); the helper binaries are looked up where Podman looks:
 * its helper_binaries_dir (from containers.conf, CONTAINERS_CONF when set) and, for the pause binary, PATH.
 * The result is the node condition PodmanCapabilities, with a reason and what to install.
 */
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { NodeCondition } from '../driver.js';

/** Podman's built-in helper_binaries_dir, used when no containers.conf sets it. */
export const DEFAULT_HELPER_DIRS = ['/usr/local/libexec/podman', '/usr/local/lib/podman', '/usr/libexec/podman', '/usr/lib/podman'];

/** What the probe found. */
export interface PodmanFacts {
  /** host.networkBackend of /libpod/info: netavark or cni (undefined: an engine that does not say, e.g. Docker). */
  networkBackend: string | undefined;
  /** Where aardvark-dns is (undefined: not found). */
  aardvarkDns: string | undefined;
  /** Where the pause binary catatonit is (undefined: not found). */
  pauseBinary: string | undefined;
  /** Where iptables is, which netavark runs (undefined: not found; absent: not probed). */
  iptables?: string | undefined;
  /** The dirs looked in. */
  helperDirs: string[];
}

/** The type of the node condition this probe sets. */
export const CAPABILITIES_CONDITION = 'PodmanCapabilities';

const INSTALL = 'apt-get install --no-install-recommends';

/** The PodmanCapabilities condition from the facts: False with the first problem's reason and every problem with its fix. */
export function capabilitiesCondition(f: PodmanFacts): NodeCondition {
  const problems: Array<{ reason: string; message: string }> = [];
  const looked = f.helperDirs.join(', ');
  if (f.networkBackend === 'cni') {
    problems.push({
      reason: 'CniNetworkBackend',
      message: `podman uses the cni network backend: containers of a workspace network cannot resolve each other by name; install netavark and aardvark-dns (${INSTALL} netavark aardvark-dns), set [network] network_backend = "netavark" in containers.conf and restart podman`,
    });
  } else if (f.aardvarkDns === undefined) {
    problems.push({
      reason: 'NoNetworkNameResolution',
      message: `aardvark-dns is not in podman's helper dirs (${looked}): containers of a workspace network cannot resolve each other by name; install it (${INSTALL} aardvark-dns)`,
    });
  }
  if (f.networkBackend === 'netavark' && 'iptables' in f && f.iptables === undefined) {
    problems.push({
      reason: 'NoFirewallTool',
      message: `iptables is not on PATH nor in /usr/sbin or /sbin: netavark cannot set up workspace networks, so no container on a network starts; install it (${INSTALL} iptables)`,
    });
  }
  if (f.pauseBinary === undefined) {
    problems.push({
      reason: 'NoPauseBinary',
      message: `the pause binary catatonit is not in podman's helper dirs (${looked}) nor on PATH: podman cannot create pods; install it (${INSTALL} catatonit)`,
    });
  }
  const first = problems[0];
  if (first === undefined) {
    return { type: CAPABILITIES_CONDITION, status: 'True', reason: 'CapabilitiesPresent', message: `network backend ${f.networkBackend ?? 'unknown'}, name resolution by ${f.aardvarkDns}, pause binary ${f.pauseBinary}` };
  }
  return { type: CAPABILITIES_CONDITION, status: 'False', reason: first.reason, message: problems.map((p) => p.message).join('; ') };
}

/** The containers.conf files Podman reads, in order: CONTAINERS_CONF alone when set, else the system ones. */
export function containersConfFiles(env: NodeJS.ProcessEnv): string[] {
  if (env.CONTAINERS_CONF !== undefined && env.CONTAINERS_CONF !== '') return [env.CONTAINERS_CONF];
  let dropIns: string[] = [];
  try {
    dropIns = readdirSync('/etc/containers/containers.conf.d').filter((f) => f.endsWith('.conf')).sort().map((f) => join('/etc/containers/containers.conf.d', f));
  } catch {
    // no drop-in dir
  }
  return ['/usr/share/containers/containers.conf', '/etc/containers/containers.conf', ...dropIns];
}

/** helper_binaries_dir of one containers.conf text (undefined when it does not set it). */
export function parseHelperDirs(text: string): string[] | undefined {
  const m = /^[ \t]*helper_binaries_dir[ \t]*=[ \t]*\[([^\]]*)\]/m.exec(text);
  if (m === null) return undefined;
  return [...(m[1] ?? '').matchAll(/"([^"]*)"|'([^']*)'/g)].map((q) => q[1] ?? q[2] ?? '');
}

/** The helper dirs Podman uses with `env`: the last file that sets them wins, else the built-in list. */
export function helperDirs(env: NodeJS.ProcessEnv): string[] {
  let dirs = DEFAULT_HELPER_DIRS;
  for (const file of containersConfFiles(env)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    dirs = parseHelperDirs(text) ?? dirs;
  }
  return dirs;
}

function executableIn(dirs: string[], name: string): string | undefined {
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Looks up aardvark-dns, catatonit and iptables the way Podman and netavark do with `env` (its CONTAINERS_CONF and PATH). */
export function findHelpers(env: NodeJS.ProcessEnv): Pick<PodmanFacts, 'aardvarkDns' | 'pauseBinary' | 'helperDirs' | 'iptables'> {
  const dirs = helperDirs(env);
  const path = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  return {
    helperDirs: dirs,
    aardvarkDns: executableIn(dirs, 'aardvark-dns'),
    pauseBinary: executableIn(dirs, 'catatonit') ?? executableIn(path, 'catatonit'),
    iptables: executableIn([...path, '/usr/sbin', '/sbin'], 'iptables'),
  };
}
