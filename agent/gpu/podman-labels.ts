/**
 * Container labels through the Podman (Docker-compatible) API socket, for attribution. The agent proper
 * gets its lookup from the Podman driver; this is the stand-alone one `foundry agent gpus` uses.
 */
import Docker from 'dockerode';
import type { ContainerLabelsLookup } from './attribution.js';

/** A lookup that inspects containers over `socketPath`; undefined for a container that does not exist. */
export function podmanLabelsLookup(socketPath: string, timeoutMs = 5_000): ContainerLabelsLookup {
  const docker = new Docker({ socketPath, timeout: timeoutMs });
  return async (containerId) => {
    try {
      const info = await docker.getContainer(containerId).inspect();
      return info.Config?.Labels ?? {};
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  };
}

/** True when the Podman API answers on `socketPath` (GET /_ping). */
export async function podmanReachable(socketPath: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    await new Docker({ socketPath, timeout: timeoutMs }).ping();
    return true;
  } catch {
    return false;
  }
}
