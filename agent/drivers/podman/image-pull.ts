/**
 * Makes sure a container's image is on the node before anything is changed, following its pull policy:
 * Never (must be present), IfNotPresent (pull when absent), Always (pull every time a container is
 * created). A missing image that cannot be pulled is IMAGE_MISSING with a message that says why.
 */
import type { EngineClient } from './engine-client.js';
import { FoundryError } from '../../../common/errors.js';
import type { ContainerSpec } from '../../desired.js';
import { engineError, engineMessage, isNotFound, isUnreachable } from './engine-errors.js';

/** True when the engine has `image` locally. */
export async function imagePresent(engine: EngineClient, image: string, resource: string): Promise<boolean> {
  try {
    await engine.inspectImage(image);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw engineError(err, `inspect image ${image}`, resource);
  }
}

/** Ensures the image of `spec` is present according to its pull policy; throws IMAGE_MISSING otherwise. */
export async function ensureImage(engine: EngineClient, spec: ContainerSpec, resource: string, pullTimeoutMs: number): Promise<void> {
  const { image, pullPolicy } = spec;
  if (pullPolicy !== 'Always' && (await imagePresent(engine, image, resource))) return;
  if (pullPolicy === 'Never') {
    throw new FoundryError('IMAGE_MISSING', `image ${image} is not present on the node and pullPolicy is Never (load it with podman load/import)`, { resource });
  }
  try {
    await engine.pullImage(image, pullTimeoutMs);
  } catch (err) {
    if (isUnreachable(err)) throw engineError(err, `pull image ${image}`, resource);
    const why = engineMessage(err).split('\n')[0]?.slice(0, 300) ?? 'unknown error';
    const present = pullPolicy === 'Always' ? ' (pullPolicy Always requires a successful pull)' : ' and is not present on the node';
    throw new FoundryError('IMAGE_MISSING', `image ${image} could not be pulled: ${why}${present}`, { resource, cause: err });
  }
}
