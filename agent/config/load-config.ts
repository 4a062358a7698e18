/**
 * The agent's configuration: one YAML file (/etc/foundry/agent.yaml by default), validated by
 * schemas/agent-config.schema.json, resolved into plain values with every default applied. A bad file
 * is a CONFIG_INVALID error whose message lists each problem as file:line:column: field: message.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { FoundryError, errorMessage } from '../../common/errors.js';
import { formatIssue, type InfraIssue } from '../../common/infra/model.js';
import { schemaIssues } from '../../common/infra/schema-issues.js';
import { locatorFor } from '../../common/infra/yaml-locate.js';
import { validatorFor } from '../../common/schema.js';
import { parseDuration } from '../../common/units.js';
import type { AgentConfig } from '../../common/generated/agent-config.js';
import { DEFAULT_CLOUDS_FILE } from '../drivers/openstack/clouds-yaml.js';
import { parseMetricsListen, type MetricsListen } from '../metrics/metrics-listen.js';

/** Where the agent looks for its configuration unless --config says otherwise. */
export const DEFAULT_CONFIG_PATH = '/etc/foundry/agent.yaml';

/** The configuration with every default applied and durations in milliseconds. */
export interface ResolvedAgentConfig {
  /** The file it was read from. */
  file: string;
  node: string;
  repo: {
    /** A URL, or an absolute local path (relative paths are resolved against the config file's folder). */
    url: string;
    /** Set when url is a local path (then it is watched for changes). */
    localPath: string | undefined;
    branch: string | undefined;
    path: string | undefined;
    revision: string | undefined;
    /** Undefined: use the Cluster's spec.pollInterval, else 60 s. */
    pollIntervalMs: number | undefined;
    timeoutMs: number;
  };
  cacheDir: string;
  stateDir: string;
  podman: { socketPath: string; stopTimeoutMs: number };
  hubUrl: string | undefined;
  /** Node credential file and hub certificate written at enrollment (agent link, hosted repo). */
  hubCredentialFile?: string;
  hubCaFile?: string;
  /** libvirt VMs on this node; undefined when off. */
  libvirt?: { uri: string; diskDir: string; imageDir: string; shutdownTimeoutMs: number };
  /** OpenStack VMs on this node (the cloud's secrets stay in cloudsFile); undefined when off. */
  openstack?: { cloudsFile: string; cloud: string; hostTargeting: 'microversion' | 'availability-zone'; networks: 'none' | 'auto' | undefined; timeoutMs: number };
  verify: { mode: 'off' | 'ssh' | 'gpg'; allowedSignersFile: string | undefined; keyring: string | undefined };
  retry: { baseDelayMs: number; maxDelayMs: number };
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /** The metrics endpoint (config metrics.listen, or --metrics-listen); undefined when off. */
  metrics?: { listen: MetricsListen };
}

/** Reads and validates the configuration file. Throws CONFIG_INVALID naming the file, line and field. */
export async function loadAgentConfig(file: string): Promise<ResolvedAgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FoundryError('CONFIG_INVALID', `cannot read agent config ${file}: ${errorMessage(err)} (pass --config PATH)`, { resource: file, cause: err });
  }
  return parseAgentConfig(text, file);
}

/** Parses configuration text read from `file`; pure apart from resolving relative paths against it. */
export function parseAgentConfig(text: string, file: string): ResolvedAgentConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const issues: InfraIssue[] = doc.errors.map((err) => {
    const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
    return { code: 'INFRA_YAML', file, line: pos.line, column: pos.col, path: '', message: err.message.split('\n')[0]?.toLowerCase() ?? 'invalid yaml' };
  });
  let value: unknown;
  if (issues.length === 0) {
    value = doc.toJS({ maxAliasCount: 100 });
    const validate = validatorFor<AgentConfig>('agent-config.schema.json');
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ code: 'INFRA_SCHEMA', file, line: 1, column: 1, path: '', message: 'expected a mapping with at least node and repo.url' });
    } else if (!validate(value)) {
      issues.push(...schemaIssues(validate.errors ?? [], doc, locatorFor(doc, lineCounter, file, { file, line: 1, column: 1 }), file));
    }
  }
  if (issues.length > 0) {
    const lines = [...issues].sort((a, b) => a.line - b.line || a.column - b.column).map(formatIssue);
    throw new FoundryError('CONFIG_INVALID', `invalid agent config:\n${lines.join('\n')}`, { resource: file, details: { issues } });
  }
  return resolveConfig(value as AgentConfig, file);
}

/** Applies defaults and converts durations; `file` anchors relative local repo paths. */
export function resolveConfig(c: AgentConfig, file: string): ResolvedAgentConfig {
  const localPath = isLocalPath(c.repo.url) ? resolve(dirname(resolve(file)), c.repo.url.replace(/^file:\/\//, '')) : undefined;
  return {
    file,
    node: c.node,
    repo: {
      url: localPath ?? c.repo.url,
      localPath,
      branch: c.repo.branch,
      path: c.repo.path,
      revision: c.repo.revision,
      pollIntervalMs: c.repo.pollInterval === undefined ? undefined : parseDuration(c.repo.pollInterval),
      timeoutMs: parseDuration(c.repo.timeout ?? '60s'),
    },
    cacheDir: c.cacheDir ?? '/var/lib/foundry/cache',
    stateDir: c.stateDir ?? '/var/lib/foundry/agent',
    podman: { socketPath: c.podman?.socketPath ?? '/run/podman/podman.sock', stopTimeoutMs: parseDuration(c.podman?.stopTimeout ?? '10s') },
    hubUrl: c.hub?.url,
    hubCredentialFile: c.hub?.credentialFile,
    hubCaFile: c.hub?.caFile,
    libvirt: c.libvirt === undefined ? undefined : { uri: c.libvirt.uri ?? 'qemu:///system', diskDir: c.libvirt.diskDir ?? '/var/lib/libvirt/images/foundry', imageDir: c.libvirt.imageDir ?? '/var/lib/foundry/images', shutdownTimeoutMs: parseDuration(c.libvirt.shutdownTimeout ?? '60s') },
    openstack:
      c.openstack === undefined
        ? undefined
        : { cloudsFile: c.openstack.cloudsFile ?? DEFAULT_CLOUDS_FILE, cloud: c.openstack.cloud, hostTargeting: c.openstack.hostTargeting ?? 'microversion', networks: c.openstack.networks, timeoutMs: parseDuration(c.openstack.timeout ?? '30s') },
    verify: { mode: c.verify?.mode ?? 'off', allowedSignersFile: c.verify?.allowedSignersFile, keyring: c.verify?.keyring },
    retry: { baseDelayMs: parseDuration(c.retry?.baseDelay ?? '5s'), maxDelayMs: parseDuration(c.retry?.maxDelay ?? '5m') },
    logLevel: c.log?.level ?? 'info',
    ...(c.metrics === undefined ? {} : { metrics: { listen: parseMetricsListen(c.metrics.listen, `metrics.listen in ${file}`) } }),
  };
}

/** A path (absolute, ./relative, ../relative) or a file:// URL, as opposed to a remote Git URL. */
export function isLocalPath(url: string): boolean {
  if (url.startsWith('file://')) return true;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return false;
  // scp-like ssh (git@host:repo.git) is remote.
  if (/^[^/]+@[^/:]+:/.test(url)) return false;
  return isAbsolute(url) || url.startsWith('./') || url.startsWith('../') || !url.includes(':');
}
