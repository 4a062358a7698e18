/**
 * Builds the hub's volume keys (called by hub/app.ts): the key store over the hub's database and age
 * identity, the service answering agents' requests through the gateway, and the reaper, which runs after
 * every new revision (app.ts's notifyRevision: push, webhook), every minute, and once at start.
 */
import type { FastifyInstance } from 'fastify';
import { FoundryError, errorMessage } from '../../common/errors.js';
import type { HubAgeIdentity } from '../secrets/hub-identity.js';
import type { HubStore } from '../store/hub-store.js';
import type { AgentGateway } from '../gateway/agent-gateway.js';
import type { GitopsServices } from '../services.js';
import { VolumeKeyService } from './volume-key-service.js';
import { VolumeKeyStore } from './volume-key-store.js';

/** Builds the volume key service and hands it to the gateway; the branch tip comes from the workspace service. */
export function buildVolumeKeys(app: FastifyInstance, hub: { store: HubStore; gateway: AgentGateway; gitops: GitopsServices | undefined }, identity: HubAgeIdentity): VolumeKeyService {
  const { store, gateway, gitops } = hub;
  const keys = new VolumeKeyStore(store.volumeKeys, identity, (actor, action, target, details) => store.audit(actor, action, target, details));
  const svc = new VolumeKeyService({
    keys,
    repo: async () => {
      if (gitops === undefined) throw new FoundryError('GIT_FETCH', 'volume keys need the infra repo: this hub has none', { retry: 'wait' });
      return gitops.workspaces.repo();
    },
    recipientOf: (node) => store.nodeRecipient(node),
    send: (node, body) => void gateway.sendVolumeKeys(node, body),
    connected: () => gateway.connectedNodes(),
    log: app.log,
  });
  gateway.setVolumeKeys(svc);
  const reap = (why: string): void => {
    svc.reap('hub').catch((err: unknown) => app.log.warn({ err: errorMessage(err), why }, 'volume key reaping failed; retried at the next revision'));
  };
  app.addHook('onReady', async () => reap('start'));
  // Besides each revision (app.ts): an external repo changed without a webhook is seen within a minute.
  const timer = setInterval(() => reap('periodic'), 60_000);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
  return svc;
}
