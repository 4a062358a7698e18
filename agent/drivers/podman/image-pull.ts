/**
 * Makes sure a container's image is on the node before anything is changed, following its pull policy:
 * Never (must be present), IfNotPresent (pull when absent), Always (pull every time a container is
 * created). A missing image that cannot be pulled is IMAGE_MISSING with a message that says why.
 */
import type Docker from 'dockerode';
import { FoundryError } from '../../../common/errors.js';
import type { ContainerSpec } from '../../desired.js';
import { engineError, engineMessage, isNotFound, isUnreachable } from './engine-errors.js';

/** True when the engine has `image` locally. */
export async function imagePresent(docker: Docker, image: string, resource: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw engineError(err, `inspect image ${image}`, resource);
  }
}

/** Pulls `image`, following the progress stream to its end (errors can arrive inside the stream). */
export async function pullImage(docker: Docker, image: string, timeoutMs: number): Promise<void> {
  const stream = await docker.pull(image);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      (stream as { destroy?: () => void }).destroy?.();
      reject(new Error(`pull did not finish within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: { error?: string; errorDetail?: { message?: string } }[]) => {
        clearTimeout(timer);
        const failed = events?.find((e) => e.error !== undefined || e.errorDetail !== undefined);
        if (err !== null) reject(err);
        else if (failed !== undefined) reject(new Error(failed.errorDetail?.message ?? failed.error ?? 'pull failed'));
        else resolve();
      },
    );
  });
}

/** Ensures the image of `spec` is present according to its pull policy; throws IMAGE_MISSING otherwise. */
export async function ensureImage(docker: Docker, spec: ContainerSpec, resource: string, pullTimeoutMs: number): Promise<void> {
  const { image, pullPolicy } = spec;
  if (pullPolicy !== 'Always' && (await imagePresent(docker, image, resource))) return;
  if (pullPolicy === 'Never') {
    throw new FoundryError('IMAGE_MISSING', `image ${image} is not present on the node and pullPolicy is Never (load it with podman load/import)`, { resource });
  }
  try {
    await pullImage(docker, image, pullTimeoutMs);
  } catch (err) {
    if (isUnreachable(err)) throw engineError(err, `pull image ${image}`, resource);
    const why = engineMessage(err).split('\n')[0]?.slice(0, 300) ?? 'unknown error';
    const present = pullPolicy === 'Always' ? ' (pullPolicy Always requires a successful pull)' : ' and is not present on the node';
    throw new FoundryError('IMAGE_MISSING', `image ${image} could not be pulled: ${why}${present}`, { resource, cause: err });
  }
}
