/**
 * The whole node agent: the GitOps loop (reconcile/agent.ts) plus, when the node is enrolled, the hub
 * link (status transitions and usage records through the durable outbox, telemetry best effort, sync-now
 * and drain commands) and the telemetry tick that feeds usage. This is the agent's composition root.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { canonicalJson } from '../common/hash.js';
import { VERSION } from '../common/version.js';
import type { ResolvedAgentConfig } from './config/load-config.js';
import type { ObservedResource } from './desired.js';
import type { RuntimeDriver } from './drivers/driver.js';
import { attributeGpus, attributeProcesses } from './gpu/attribution.js';
import { attributedHolders } from './gpu/gpu-holders.js';
import { NvidiaGpuPlugin } from './gpu/nvidia-plugin.js';
import { podmanLabelsLookup } from './gpu/podman-labels.js';
import { TelemetryLoop } from './telemetry-loop.js';
import type { GpuDevice } from './gpu/types.js';
import { collectHostMetrics } from './host/host-metrics.js';
import { cachedCephDf, CEPH_FALLBACK_MOUNTS, storageConfigFor } from './host/storage-config.js';
import { HubLink } from './link/hub-link.js';
import { ConsoleTunnels } from './console/console-tunnel.js';
import { locateConsole } from './drivers/libvirt/console-locate.js';
import { Virsh } from './drivers/libvirt/virsh.js';
import { runCommand } from '../common/run-command.js';
import { IngressHost } from './ingress/ingress-host.js';
import { loadOrCreateNodeIdentity } from './secrets/node-identity.js';
import { HubSecretCache } from './secrets/hub-secrets.js';
import { WorkspaceSecretResolver } from './secrets/workspace-resolver.js';
import { decryptWithIdentities } from '../common/secrets/age.js';
import { buildReconciler, buildSecretSources, startAgent, type RunningAgent } from './reconcile/gitops-loop.js';
import type { AgentStatus } from './reconcile/status.js';
import { UsageEmitter } from './usage/usage-emitter.js';
import { VolumeKeyClient } from './volumes/key-client.js';
import { VolumeKeyring } from './volumes/keyring.js';
import { workspaceAllocations } from './usage/workspace-allocations.js';
import type { AgentMetricsSink } from './metrics/metrics-sink.js';
import type { MetricsServer } from './metrics/metrics-server.js';

/** How often a node that found no GPU runs nvidia-smi's inventory again. */
const GPU_REDISCOVERY_MS = 60_000;

/** Options beyond the config file (tests and `npm start` set them). */
export interface NodeAgentOptions {
  /** nvidia-smi to run (default: the one on PATH). */
  nvidiaSmi?: string;
  /** Telemetry interval (default: the Cluster's spec.telemetryInterval of the last good revision, else 5 s). */
  telemetryIntervalMs?: number;
  /** Usage record resolution (default 10 s). */
  usageResolutionMs?: number;
  /** Runtime drivers besides Podman (libvirt, OpenStack). */
  extraDrivers?: RuntimeDriver[];
}

/** A running node agent. */
export interface NodeAgent {
  agent: RunningAgent;
  /** The hub link, when the node is enrolled (config hub.url and hub.credentialFile). */
  link: HubLink | undefined;
  /** GPU and host samples and usage records; ticking only when the node is enrolled (there is a link). */
  telemetry: TelemetryLoop;
  /** The ingresses (nginx) the hub assigns to this node; present when the node is enrolled. */
  ingress: IngressHost | undefined;
  /** Tenant secrets the hub delivered (names and versions via versions(); values only to the secrets step). */
  hubSecrets: HubSecretCache;
  /** The metrics endpoint, when config metrics.listen (or --metrics-listen) turned it on. */
  metrics: MetricsServer | undefined;
  stop(): Promise<void>;
}

/** The protocol's status body for an agent status (conditions per resource from the phase and reason). */
export function statusBody(status: AgentStatus, durationMs?: number): Omit<Parameters<HubLink['sendStatus']>[0], never> {
  return {
    observedRevision: status.observedRevision ?? null,
    lastAppliedRevision: status.lastAppliedRevision ?? null,
    conditions: status.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message.slice(0, 4096) })),
    resources: status.resources.map((r) => ({
      id: r.id,
      kind: r.kind,
      ...(r.workspace === undefined ? {} : { workspace: r.workspace }),
      ...(r.service === undefined ? {} : { service: r.service }),
      ...(r.ports === undefined ? {} : { ports: r.ports.slice(0, 64) }),
      conditions: [{ type: 'Ready', status: r.phase === 'Ready' ? 'True' : 'False', reason: r.reason, message: r.message.slice(0, 4096) }],
    })),
    reconcile: { result: status.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'success' : 'failure', ...(durationMs === undefined ? {} : { durationMs }) },
  };
}

// What each workspace holds now (GPUs, running, vCPUs/memory/storage) is computed with the usage records.
export { workspaceAllocations } from './usage/workspace-allocations.js';

/** Why the Cluster's spec.hubUrl and the agent's configured hub URL disagree (different origins), or undefined when either is unset or they agree. */
export function hubUrlMismatch(clusterUrl: string | undefined, configUrl: string | undefined): string | undefined {
  if (clusterUrl === undefined || configUrl === undefined) return undefined;
  let a: string;
  let b: string;
  try {
    a = new URL(clusterUrl).origin;
    b = new URL(configUrl).origin;
  } catch {
    return undefined;
  }
  return a === b ? undefined : `cluster.yaml spec.hubUrl is ${a} but this agent dials ${b} (hub.url in its configuration): one of them is stale`;
}

/** Starts the node agent from its configuration. */
export async function startNodeAgent(config: ResolvedAgentConfig, logger: Logger, options: NodeAgentOptions = {}): Promise<NodeAgent> {
  let link: HubLink | undefined;
  let consoles: ConsoleTunnels | undefined;
  let keyClient: VolumeKeyClient | undefined;
  let lastStatusKey = '';
  let warnedHubUrl: string | undefined;
  // The node's age key: made at enrollment, or here for a node enrolled before nodes had keys; its public half goes in every hello.
  const nodeKey = await loadOrCreateNodeIdentity(config.stateDir);
  if (nodeKey.created) logger.info({ event: 'node-key-created', file: nodeKey.file, recipient: nodeKey.recipient }, `created the node's age key ${nodeKey.file}`);
  // Volume keys live in memory only: the hub gives them again after every restart (VolumeKeyClient).
  const volumeKeys = new VolumeKeyring();
  // Tenant secrets the hub delivers (encrypted to this node's key), in memory only; a change reconciles,
  // which recreates exactly the containers whose secret digests changed.
  const late: { agent?: RunningAgent; secretsPending?: boolean } = {};
  const hubSecrets = new HubSecretCache({
    decrypt: (armored) => decryptWithIdentities(armored, [nodeKey.identity]),
    onChange: () => {
      if (late.agent === undefined) late.secretsPending = true;
      else void late.agent.syncNow('secrets');
    },
    log: logger,
  });
  // The metrics endpoint, when asked for: prom-client is loaded only then (start-up memory of agents without it).
  const promMetrics = config.metrics === undefined ? undefined : await startAgentMetrics(config.metrics.listen, () => link, logger);
  const metrics: AgentMetricsSink | undefined = promMetrics?.sink;
  const secrets = buildSecretSources(config.stateDir);
  secrets.resolvers.add(new WorkspaceSecretResolver(hubSecrets));
  const reconciler = buildReconciler(config, logger, options.extraDrivers ?? [], {
    secrets,
    metrics,
    onResult: (result) => {
      const mismatch = hubUrlMismatch(reconciler.lastGood()?.facts.hubUrl, config.hubUrl);
      if (mismatch !== undefined && mismatch !== warnedHubUrl) logger.warn({ event: 'hub-url-mismatch', cluster: reconciler.lastGood()?.facts.hubUrl, config: config.hubUrl }, mismatch);
      warnedHubUrl = mismatch;
      if (link === undefined) return;
      const body = statusBody(result.status);
      // Only transitions go through the durable outbox: an unchanged status is not news.
      const key = canonicalJson({ ...body, reconcile: undefined });
      if (key === lastStatusKey) return;
      lastStatusKey = key;
      link.sendStatus(body);
    },
  }, volumeKeys);
  const gpu = new NvidiaGpuPlugin({ command: options.nvidiaSmi ?? 'nvidia-smi', logger, metrics });
  let devices: GpuDevice[] = (await gpu.fingerprint().catch(() => ({ gpus: [] as GpuDevice[] }))).gpus;
  // A node that showed no GPU looks again once a minute (a driver loaded late), not on every 5 s tick.
  let lastFingerprint = Date.now();
  const refreshDevices = async (): Promise<void> => {
    if (devices.length > 0 || Date.now() - lastFingerprint < GPU_REDISCOVERY_MS) return;
    lastFingerprint = Date.now();
    devices = (await gpu.fingerprint().catch(() => ({ gpus: [] as GpuDevice[] }))).gpus;
  };

  if (config.hubUrl !== undefined && config.hubCredentialFile !== undefined) {
    const credential = readFileSync(config.hubCredentialFile, 'utf8').trim();
    const ca = config.hubCaFile === undefined ? undefined : readFileSync(config.hubCaFile);
    // Consoles of this node's libvirt VMs, through a second outbound WebSocket per console (docs/desktops.md).
    const libvirt = config.libvirt;
    const virsh = libvirt === undefined ? undefined : new Virsh(runCommand, libvirt.uri);
    consoles = new ConsoleTunnels({
      hubUrl: config.hubUrl,
      credential,
      ca,
      log: logger,
      locate: async (workspace) => {
        if (virsh === undefined) throw new Error('this node runs no libvirt vms (no libvirt section in its agent config)');
        return locateConsole(virsh, config.node, workspace);
      },
    });
    const tunnels = consoles;
    link = new HubLink({
      hubUrl: config.hubUrl,
      node: config.node,
      credential,
      stateDir: config.stateDir,
      agentVersion: VERSION,
      ca,
      hello: () => ({
        ageRecipient: nodeKey.recipient,
        appliedRevision: reconciler.lastGood()?.revision ?? null,
        inventory: {
          gpus: devices.map((d) => ({ uuid: d.uuid, model: d.model, memoryTotalMiB: d.memoryTotalMiB, pciBusId: d.pciBusId })),
          resources: (reconciler.lastGood()?.desired.resources ?? []).map((r) => `${r.kind}/${r.id}`),
        },
      }),
      handlers: {
        // A hub sync does not bypass back-off: failing resources keep their retry schedule (an operator's `foundry agent sync` does bypass it).
        syncNow: () => void agent.syncNow('hub'),
        secrets: (body) => hubSecrets.apply(body),
        drain: (cmd) => logger.info({ event: 'drain', cmd }, 'hub asked to drain: no new workspaces will be placed here; running ones stay until moved'),
        consoleOpen: (req) => tunnels.handle(req),
        volumeKeys: (body) => keyClient?.handle(body),
      },
      log: logger,
    });
    if (metrics !== undefined) {
      link.on('connected', () => metrics.hubLink(true));
      link.on('disconnected', () => metrics.hubLink(false));
    }
    keyClient = new VolumeKeyClient({ keys: volumeKeys, link, identity: nodeKey.identity, onKeys: () => void agent.syncNow('volume-keys'), log: logger });
    link.start();
  }

  // An ingress Service on this node: the hub sends its route table, nginx runs as its own daemon (it outlives the agent).
  let ingress: IngressHost | undefined;
  if (link !== undefined && config.hubUrl !== undefined) {
    const host = new IngressHost({ stateDir: config.stateDir, hubUrl: config.hubUrl, hubCaFile: config.hubCaFile, logger });
    ingress = host;
    link.onCommand((cmd) => (cmd.name === 'ingress-routes' && cmd.ingress !== undefined ? host.apply(cmd.ingress) : undefined));
    void host.resume().catch((err: unknown) => logger.error({ event: 'ingress-resume-failed', reason: String(err) }, 'could not start the kept ingress configuration'));
  }

  const agent = await startAgent(config, logger, reconciler);
  late.agent = agent;
  if (late.secretsPending === true) void agent.syncNow('secrets');
  const usage = link === undefined ? undefined : new UsageEmitter({
    node: config.node,
    resolutionMs: options.usageResolutionMs,
    // enqueueUsage writes the outbox synchronously; a throw (disk full) keeps the record in the emitter.
    sink: (record) => {
      link?.enqueueUsage(record as unknown as Record<string, unknown>);
    },
    onSinkError: (err) => logger.error({ event: 'usage-sink-failed', reason: String(err) }, 'usage record kept for the next tick'),
  });
  const labelsOf = podmanLabelsLookup(config.podman.socketPath);
  const cephDf = cachedCephDf();
  const telemetry = new TelemetryLoop({
    node: config.node,
    gpu,
    intervalMs: () => options.telemetryIntervalMs ?? reconciler.lastGood()?.facts.telemetryIntervalMs,
    // Ceph nodes (profile reportsStorage) add storage capacity to the host sample.
    host: () => {
      // A last good revision restored after a restart has no repo, only its facts.
      const last = reconciler.lastGood();
      const storage = last?.repo !== undefined ? storageConfigFor(last.repo, config.node) : last?.facts.reportsStorage === true ? { ceph: true, mounts: CEPH_FALLBACK_MOUNTS } : undefined;
      return collectHostMetrics({ storage, cephDf });
    },
    // GPUs no workspace declares are labelled with the workspace their processes belong to (Podman labels).
    attribute: async (stats, unheld) => {
      const processes = await attributeProcesses(stats.processes.filter((p) => p.gpuUuid !== null && unheld.has(p.gpuUuid)), { labelsOf });
      return attributedHolders(attributeGpus(stats.gpus.filter((g) => unheld.has(g.uuid)), processes));
    },
    send: (body) => {
      link?.sendTelemetry(body);
    },
    usage,
    allocations: async () => {
      const last = reconciler.lastGood();
      const declared = new Map(Object.entries(last?.facts.gpuModels ?? {}));
      await refreshDevices();
      const observed = await listAll(reconciler.deps.drivers, config.node);
      return workspaceAllocations(last?.desired, declared, observed, devices);
    },
    logger,
  });
  // Samples and usage go only to the hub: a node that is not enrolled has no one to send them to.
  if (link !== undefined) telemetry.start();
  return {
    agent,
    link,
    telemetry,
    ingress,
    hubSecrets,
    metrics: promMetrics?.server,
    stop: async () => {
      telemetry.stop();
      await agent.stop();
      consoles?.closeAll();
      await link?.close();
      await promMetrics?.server.close();
    },
  };
}

/** Loads prom-client and starts the metrics endpoint on `listen` (undefined, logged, when it cannot listen); the outbox gauges read the link (once there is one) at scrape time. */
async function startAgentMetrics(listen: NonNullable<ResolvedAgentConfig['metrics']>['listen'], link: () => HubLink | undefined, logger: Logger): Promise<{ sink: AgentMetricsSink; server: MetricsServer } | undefined> {
  const [{ PromAgentMetrics }, { startMetricsServer }] = await Promise.all([import('./metrics/prom-metrics.js'), import('./metrics/metrics-server.js')]);
  const prom = new PromAgentMetrics({
    version: VERSION,
    outbox: () => {
      const l = link();
      return l === undefined ? undefined : { records: () => l.pending(), oldestAt: () => l.oldestPendingAt() };
    },
  });
  let server: MetricsServer;
  try {
    server = await startMetricsServer(listen, prom.registry);
  } catch (err) {
    // The node's work matters more than its metrics: the agent runs on, and says why there are none.
    logger.error({ event: 'metrics-listen-failed', host: listen.host, port: listen.port, reason: err instanceof Error ? err.message : String(err) }, `no metrics endpoint: cannot listen on ${listen.host}:${listen.port}`);
    return undefined;
  }
  const address = `${server.address.host.includes(':') ? `[${server.address.host}]` : server.address.host}:${server.address.port}`;
  logger.info({ event: 'metrics-listening', address, port: server.address.port }, `metrics at http://${address}/metrics`);
  if (!listen.loopback) logger.warn({ event: 'metrics-not-loopback', address }, `the metrics endpoint listens on ${address}, beyond the loopback, without authentication: restrict who reaches it (firewall)`);
  return { sink: prom, server };
}

/** Everything the drivers report; a runtime that cannot be listed contributes nothing, so its workloads count as not running. */
async function listAll(drivers: RuntimeDriver[], node: string): Promise<ObservedResource[]> {
  return (await Promise.all(drivers.map((d) => d.list(node).catch(() => [] as ObservedResource[])))).flat();
}
