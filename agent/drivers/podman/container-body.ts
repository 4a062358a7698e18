/**
 * Pure translation of a resolved ContainerSpec into the request bodies of the engine: the
 * Docker-compatible `POST /containers/create` body (Podman and Docker Engine), and Podman's libpod
 * SpecGenerator, used only for containers with CDI devices (Podman 4.x's compat API rejects CDI names in
 * HostConfig.Devices: "stat nvidia.com/gpu=...: no such file or directory", and ignores DeviceRequests).
 */
import type { ContainerCreateBody, HealthConfig, HostConfig } from './engine-types.js';
import type { ContainerSpec, DesiredContainer } from '../../desired.js';
import { LABELS, ownershipLabels } from '../../labels.js';

const NS_PER_MS = 1_000_000;
const CPU_PERIOD_US = 100_000;

/** User labels plus ownership labels (ownership wins, so a spec cannot forge them), and the names (never values) of its runtime secrets. */
export function containerLabels(d: DesiredContainer): Record<string, string> {
  const labels = { ...d.spec.labels, ...ownershipLabels(d.id, d.owner, d.specHash, d.reclaimPolicy, d.ref) };
  const secrets = runtimeSecretNames(d.spec);
  if (secrets.length > 0) labels[LABELS.secrets] = secrets.join(',');
  else delete labels[LABELS.secrets];
  return labels;
}

/** The runtime secret names a spec uses (set by the agent's secrets step), sorted and unique. */
export function runtimeSecretNames(spec: ContainerSpec): string[] {
  return [...new Set((spec.secrets ?? []).flatMap((s) => (s.runtimeName === undefined ? [] : [s.runtimeName])))].sort();
}

/**
 * Podman secrets in the SpecGenerator: `secret_env` (variable → secret name) and `secrets` (mounted as
 * files, mode 0400). Only names travel in the body; Podman reads the values from its secret store.
 */
function libpodSecrets(d: DesiredContainer): { secret_env?: Record<string, string>; secrets?: { source: string; target: string; mode: number }[] } {
  const refs = d.spec.secrets ?? [];
  if (refs.length === 0) return {};
  const unresolved = refs.find((s) => s.runtimeName === undefined);
  if (unresolved !== undefined) throw new Error(`secret ${unresolved.name} of ${d.id} was not resolved before create`);
  const env = Object.fromEntries(refs.filter((s) => s.env !== undefined).map((s) => [s.env!, s.runtimeName!]));
  const files = refs.filter((s) => s.file !== undefined).map((s) => ({ source: s.runtimeName!, target: s.file!, mode: 0o400 }));
  return { ...(Object.keys(env).length > 0 ? { secret_env: env } : {}), ...(files.length > 0 ? { secrets: files } : {}) };
}

function envList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

function portKey(p: ContainerSpec['ports'][number]): string {
  return `${p.containerPort}/${p.protocol}`;
}

/** Healthcheck in the engine's units (nanoseconds); the command runs without a shell (CMD form). */
function healthcheck(spec: ContainerSpec): HealthConfig | undefined {
  const hc = spec.healthcheck;
  if (hc === undefined) return undefined;
  return { Test: ['CMD', ...hc.command], Interval: hc.intervalMs * NS_PER_MS, Timeout: hc.timeoutMs * NS_PER_MS, Retries: hc.retries, StartPeriod: hc.startPeriodMs * NS_PER_MS };
}

/**
 * The Docker-compatible create body. `cdiViaDeviceRequests` puts CDI devices in DeviceRequests with the
 * `cdi` driver (Docker Engine 25+); without it, a spec with devices must go through the libpod body.
 */
export function compatCreateBody(d: DesiredContainer, options: { cdiViaDeviceRequests: boolean }): ContainerCreateBody {
  const s = d.spec;
  // The compatible API has no container secrets (Docker's are Swarm-only): never fall back to plain env.
  if ((s.secrets ?? []).length > 0) throw new Error('container secrets need the libpod create body (podman)');
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of s.ports) {
    exposed[portKey(p)] = {};
    // No hostPort: published on an ephemeral port, so two workspaces of one template never clash.
    (bindings[portKey(p)] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: p.hostPort === undefined ? '' : String(p.hostPort) });
  }
  const hostConfig: HostConfig = {
    PortBindings: bindings,
    Mounts: s.mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
    RestartPolicy: { Name: s.restartPolicy === 'no' ? '' : s.restartPolicy },
    NetworkMode: s.hostNetwork ? 'host' : (s.network ?? 'bridge'),
    Privileged: s.privileged,
  };
  if (s.cpus !== undefined) hostConfig.NanoCpus = Math.round(s.cpus * 1e9);
  if (s.memoryBytes !== undefined) hostConfig.Memory = s.memoryBytes;
  if (s.devices.length > 0) {
    if (!options.cdiViaDeviceRequests) throw new Error('cdi devices need the libpod create body on podman');
    hostConfig.DeviceRequests = [{ Driver: 'cdi', DeviceIDs: s.devices, Capabilities: [] }];
  }
  const body: ContainerCreateBody = {
    name: d.name,
    Image: s.image,
    Env: envList(s.env),
    Labels: containerLabels(d),
    ExposedPorts: exposed,
    HostConfig: hostConfig,
  };
  if (s.command !== undefined) body.Entrypoint = s.command;
  if (s.args !== undefined) body.Cmd = s.args;
  if (s.user !== undefined) body.User = s.user;
  if (s.workingDir !== undefined) body.WorkingDir = s.workingDir;
  const hc = healthcheck(s);
  if (hc !== undefined) body.Healthcheck = hc;
  if (!s.hostNetwork && s.network !== undefined) body.NetworkingConfig = { EndpointsConfig: { [s.network]: { Aliases: s.aliases } } };
  return body;
}

/** Podman's libpod SpecGenerator (POST /v4.0.0/libpod/containers/create) for the same container. */
export function libpodCreateBody(d: DesiredContainer): Record<string, unknown> {
  const s = d.spec;
  const body: Record<string, unknown> = {
    name: d.name,
    image: s.image,
    env: s.env,
    labels: containerLabels(d),
    portmappings: s.ports.map((p) => ({ container_port: p.containerPort, host_port: p.hostPort ?? 0, host_ip: p.hostIp ?? '', protocol: p.protocol })),
    volumes: s.mounts.filter((m) => m.type === 'volume').map((m) => ({ Name: m.source, Dest: m.target, Options: m.readOnly ? ['ro'] : [] })),
    mounts: s.mounts
      .filter((m) => m.type === 'bind')
      .map((m) => ({ Type: 'bind', Source: m.source, Destination: m.target, Options: ['rbind', ...(m.readOnly ? ['ro'] : [])] })),
    devices: s.devices.map((path) => ({ path })),
    restart_policy: s.restartPolicy,
    privileged: s.privileged,
    netns: { nsmode: s.hostNetwork ? 'host' : 'bridge' },
    ...libpodSecrets(d),
  };
  if (!s.hostNetwork && s.network !== undefined) body.Networks = { [s.network]: { aliases: s.aliases } };
  if (s.command !== undefined) body.entrypoint = s.command;
  if (s.args !== undefined) body.command = s.args;
  if (s.user !== undefined) body.user = s.user;
  if (s.workingDir !== undefined) body.work_dir = s.workingDir;
  const limits: Record<string, unknown> = {};
  if (s.cpus !== undefined) limits.cpu = { quota: Math.round(s.cpus * CPU_PERIOD_US), period: CPU_PERIOD_US };
  if (s.memoryBytes !== undefined) limits.memory = { limit: s.memoryBytes };
  if (Object.keys(limits).length > 0) body.resource_limits = limits;
  const hc = healthcheck(s);
  if (hc !== undefined) body.healthconfig = hc;
  return body;
}
