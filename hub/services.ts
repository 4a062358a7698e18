/**
 * The hub's services, built once by the composition root (hub/app.ts `buildApp`) and handed to every
 * route registration function as a typed parameter (`app.hub` holds the same object, for tests). An optional service is `undefined` when the hub
 * runs without what it needs (no infra repo: no gitops, usage gate or ingress sync; no age identity:
 * no secrets or volume keys); routes test for that instead of looking for Fastify decorators.
 */
import type { HubStore } from './store/hub-store.js';
import type { AgentGateway } from './gateway/agent-gateway.js';
import type { HubMetrics } from './metrics.js';
import type { AppsUrl } from '../common/ingress/apps-url.js';
import type { InfraRepoWriter } from './gitops/repo-writer.js';
import type { WorkspaceService } from './workspaces/workspace-service.js';
import type { LifecycleRepo } from './store/lifecycle-repo.js';
import type { UsageGate } from './usage/usage-gate.js';
import type { Invoicer } from './invoicing/invoicer.js';
import type { ConsoleBroker } from './desktop/console-broker.js';
import type { GuacamoleLinks } from './desktop/guacamole-links.js';
import type { LiveEvents } from './dashboard/live-events.js';
import type { GpuHistory } from './dashboard/gpu-history.js';
import type { IngressSync } from './ingress/ingress-sync.js';
import type { AppIndex } from './ingress/app-index.js';
import type { AppSessions } from './ingress/app-sessions.js';
import type { WorkspaceSecrets } from './secrets/workspace-secrets.js';
import type { SecretDelivery } from './secrets/secret-delivery.js';
import type { VolumeKeyService } from './volumes/volume-key-service.js';

/** The infra repo side: the one writer (one work dir, one commit queue) and the workspace service on it. */
export interface GitopsServices {
  /** The only way the hub writes to the infra repo (placements, drains, enrollment's node files). */
  writer: InfraRepoWriter;
  workspaces: WorkspaceService;
  lifecycle: LifecycleRepo;
}

/** Tenant secrets: the encrypted store and the delivery to the nodes that run each workspace. */
export interface SecretsServices {
  store: WorkspaceSecrets;
  delivery: SecretDelivery;
  /** The hub's age recipient (secrets are encrypted at rest to it). */
  recipient: string;
}

/** Every service of one hub process. */
export interface HubServices {
  store: HubStore;
  gateway: AgentGateway;
  metrics: HubMetrics;
  /** Where apps are reached (--apps-url); undefined when the hub runs without apps settings. */
  apps: AppsUrl | undefined;
  /** Tells agents to sync now after a new revision; returns how many were told. */
  notifyRevision(revision: string, ref: string | undefined, source: 'push' | 'webhook', actor: string): number;
  /** Present when the hub has an infra repo (hosted or external). */
  gitops: GitopsServices | undefined;
  /** Usage admission against the placement history; present with an infra repo. */
  usage: UsageGate | undefined;
  invoicer: Invoicer;
  consoles: ConsoleBroker;
  /** Desktops through Apache Guacamole; present when the hub is configured for it. */
  guacamole: GuacamoleLinks | undefined;
  /** Dashboard live updates (SSE) and the GPU sparkline history they feed. */
  live: LiveEvents;
  gpuHistory: GpuHistory;
  /** App routing: the index of apps at the tip and the app sessions; the route feed to ingress nodes (with apps settings and a repo). */
  appIndex: AppIndex;
  appSessions: AppSessions;
  ingress: IngressSync | undefined;
  /** Present with the hub's age identity and an infra repo. */
  secrets: SecretsServices | undefined;
  /** Present with the hub's age identity. */
  volumeKeys: VolumeKeyService | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The hub's services, for tests and tools that hold only the app; routes receive them as a parameter. */
    hub: HubServices;
  }
}
