/**
 * Host PID → Podman container, from /proc/<pid>/cgroup. Covers the layouts Podman produces:
 *   systemd, rootful:   0::/machine.slice/libpod-<id>.scope[/container]
 *   systemd, rootless:  0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-<id>.scope
 *   systemd, pod:       0::/machine.slice/machine-libpod_pod_<pod>.slice/libpod-<id>.scope (rootless: user-libpod_pod_)
 *   cgroupfs (v1/v2):   4:memory:/libpod_parent/libpod-<id>, pods: /libpod_parent/<pod>/libpod-<id>
 * conmon's own scope (libpod-conmon-<id>.scope, /libpod_parent/conmon) is not the container.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The container a process runs in, as read from its cgroup path. */
export interface CgroupContainer {
  containerId: string;
  podId: string | undefined;
}

const CONTAINER = /\/libpod-(?!conmon-)([0-9a-f]{64})(?:\.scope)?(?=\/|$)/g;
const SYSTEMD_POD = /\/(?:machine|user)-libpod_pod_([0-9a-f]{64})\.slice\//;
const CGROUPFS_POD = /\/libpod_parent\/([0-9a-f]{64})\/libpod-/;

/** The container id in a /proc/<pid>/cgroup text, or undefined for a process outside any container. */
export function containerFromCgroup(text: string): CgroupContainer | undefined {
  for (const line of text.split('\n')) {
    // "hierarchy-id:controllers:path"; the path may itself contain colons in theory, so split twice only.
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const path = line.slice(second + 1).trim();
    const matches = [...path.matchAll(CONTAINER)];
    // The innermost libpod-<id> wins (nested scopes such as .../libpod-<id>.scope/container).
    const last = matches[matches.length - 1];
    if (last === undefined) continue;
    const pod = SYSTEMD_POD.exec(path) ?? CGROUPFS_POD.exec(path);
    return { containerId: last[1] as string, podId: pod?.[1] };
  }
  return undefined;
}

/** Reads /proc/<pid>/cgroup under `procRoot` (default /proc); undefined when the process is gone. */
export async function readProcCgroup(pid: number, procRoot = '/proc'): Promise<string | undefined> {
  try {
    return await readFile(join(procRoot, String(pid), 'cgroup'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw err;
  }
}
