/**
 * Builds tenant secrets for the hub (called by hub/app.ts): the store (encrypted to the hub's age
 * identity) and the delivery to the node that runs each workspace (on connect, on change, after a new
 * revision and on a tick). Needs the workspace service (a hub with an infra repo); the API routes are
 * hub/routes/workspace-secrets.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { HubAgeIdentity } from './hub-identity.js';
import { WorkspaceSecrets } from './workspace-secrets.js';
import { SecretDelivery, type PlacementView } from './secret-delivery.js';
import { errorMessage } from '../../common/errors.js';
import type { InfraRepo } from '../../common/infra/model.js';
import type { HubStore } from '../store/hub-store.js';
import type { AgentGateway } from '../gateway/agent-gateway.js';
import type { WorkspaceService } from '../workspaces/workspace-service.js';
import type { SecretsServices } from '../services.js';

/** Builds the secrets services; the delivery tick stops when `app` closes. */
export function buildSecrets(app: FastifyInstance, hub: { store: HubStore; gateway: AgentGateway; workspaces: WorkspaceService }, identity: HubAgeIdentity, tickMs = 2000): SecretsServices {
  const { store, gateway, workspaces: ws } = hub;
  const secrets = new WorkspaceSecrets(store.secrets, identity, (actor, action, target, details) => store.audit(actor, action, target, details));
  const placements = async (fresh: boolean): Promise<PlacementView> => {
    const repo = await ws.repo({ cached: !fresh });
    return { revision: repo.revision, workspaces: [...repo.workspaces.values()].map(({ doc }) => ({ name: doc.metadata.name, tenant: doc.spec.tenant, node: doc.spec.node })) };
  };
  const delivery = new SecretDelivery({
    secrets,
    placements,
    recipientOf: async (node) => nodeRecipient(await ws.repo({ cached: true }), store, node),
    send: (node, body) => gateway.sendSecrets(node, body),
    connected: () => gateway.connectedNodes(),
    log: app.log,
    onUnreadable: (workspace, name, version) => void store.audit('foundry-hub', 'workspace.secret.unreadable', `${workspace}/${name}`, { version }).catch((err: unknown) => app.log.warn({ err: errorMessage(err) }, 'audit entry not written')),
  });
  const warn = (err: unknown): void => app.log.warn({ err: errorMessage(err) }, 'secret delivery failed');
  gateway.on('connected', (node: string) => void delivery.connected(node).catch(warn));
  gateway.on('disconnected', (node: string) => delivery.disconnected(node));
  if (tickMs > 0) {
    // Moves and deletions the workspace service read from Git (its cached tip) reach the nodes within a tick.
    const timer = setInterval(() => void delivery.reconcile(false).catch(warn), tickMs);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }
  return { store: secrets, delivery, recipient: identity.recipient };
}

/**
 * A node's age recipient: its Node file's spec.ageRecipient (written at enrollment; in Git, so an admin
 * sees and pins it), else, for a node enrolled before nodes had keys, the one it reported itself.
 */
async function nodeRecipient(repo: InfraRepo, store: HubStore, node: string): Promise<string | undefined> {
  return repo.nodes.get(node)?.doc.spec.ageRecipient ?? (await store.nodeRecipient(node));
}
