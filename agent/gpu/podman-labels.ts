/**
 * Container labels through the Podman (Docker-compatible) API socket, for attribution. The agent proper
 * gets its lookup from the Podman driver; this is the stand-alone one `foundry agent gpus` uses.
 */
import { EngineClient } from '../drivers/podman/engine-client.js';
import { isNotFound } from '../drivers/podman/engine-errors.js';
import { pingEngine } from '../drivers/podman/ping.js';
import type { ContainerLabelsLookup } from './attribution.js';

/** A lookup that inspects containers over `socketPath`; undefined for a container that does not exist. */
export function podmanLabelsLookup(socketPath: string, timeoutMs = 5_000): ContainerLabelsLookup {
  const engine = new EngineClient({ socketPath, timeoutMs });
  return async (containerId) => {
    try {
      const info = await engine.inspectContainer(containerId);
      return info.Config?.Labels ?? {};
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
}

/** True when the Podman API answers on `socketPath` (GET /_ping). */
export async function podmanReachable(socketPath: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    await pingEngine(socketPath, timeoutMs);
    return true;
  } catch {
    return false;
  }
}
