/** What "untouched" means for a chaos scenario: every managed container's id, start time and state. */
import Docker from 'dockerode';

/** name → "id startedAt state" of every container of `node` carrying our labels, on the Podman at `socketPath`. */
export async function containerSnapshot(socketPath: string, node: string): Promise<Record<string, string>> {
  const docker = new Docker({ socketPath });
  const list = await docker.listContainers({ all: true, filters: { label: ['foundry.cloud/managed-by=foundry-agent', `foundry.cloud/node=${node}`] } });
  const out: Record<string, string> = {};
  for (const c of list) {
    const info = await docker.getContainer(c.Id).inspect();
    out[(c.Names[0] ?? '').replace(/^\//, '')] = `${c.Id.slice(0, 12)} ${info.State.StartedAt} ${info.State.Status}`;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
