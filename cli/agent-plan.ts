/**
 * `foundry agent plan --repo <dir|url> --node <name>`: what the agent would do on a node, with the
 * reason for each action. Loads and validates the repo, renders the node's desired state, observes what
 * runs on this machine's runtimes (the same agent configuration as `agent run`: Podman socket, libvirt
 * URI, OpenStack cloud; list calls only) and plans. Nothing is changed.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import { renderNodeState } from '../agent/render.js';
import { formatPlan, planActions, type PlanResult } from '../agent/plan.js';
import type { ObservedResource } from '../agent/desired.js';
import { DEFAULT_CONFIG_PATH, loadAgentConfig, resolveConfig } from '../agent/config/load-config.js';
import { buildDrivers } from '../agent/reconcile/gitops-loop.js';
import { driverKeys, runtimeKeyOf, type RuntimeDriver } from '../agent/drivers/driver.js';
import { errorMessage, FoundryError, isFoundryError } from '../common/errors.js';
import { formatIssue } from '../common/infra/model.js';
import { EXIT } from './exit-codes.js';
import { loadTarget, type TargetOptions } from './load-target.js';

/**
 * What an observer found on the node: the resources of the runtimes it could list (`runtime` names them),
 * with the routing keys (runtimeKeyOf) of those it could not; or why none could be reached.
 */
export type Observation = { runtime: string; resources: ObservedResource[]; unavailableKeys?: string[]; note?: string } | { unavailable: string };

/** Observes what runs on `node`, read-only. */
export type PlanObserver = (node: string) => Promise<Observation>;

/** Plans against an empty node (`--no-observe`). */
export const NO_OBSERVE: PlanObserver = async () => ({ unavailable: 'not observed (--no-observe)' });

/** An observer that lists `drivers` (list calls only: nothing is created, changed or removed). */
export function driversObserver(drivers: RuntimeDriver[]): PlanObserver {
  return async (node) => {
    const found: ObservedResource[] = [];
    const reached: string[] = [];
    const failed: string[] = [];
    const unavailableKeys: string[] = [];
    for (const d of drivers) {
      try {
        found.push(...(await d.list(node)));
        reached.push(d.name);
      } catch (err) {
        failed.push(`${d.name} unreachable (${errorMessage(err)})`);
        unavailableKeys.push(...driverKeys(d));
      }
    }
    if (reached.length === 0) return { unavailable: failed.join('; ') || 'no runtime configured' };
    return { runtime: reached.join(', '), resources: found, unavailableKeys, ...(failed.length > 0 ? { note: `${failed.join('; ')}: its resources are planned against an empty runtime` } : {}) };
  };
}

/** A plan with where the observed state came from. */
export interface PlanReport {
  plan: PlanResult;
  profile: string;
  /** Runtime the observation came from, or undefined when planning against an empty node. */
  runtime: string | undefined;
  /** Set when no runtime was reachable. */
  note: string | undefined;
}

/** Loads the repo, refuses it when invalid, renders `node` and plans against the observer's findings. */
export async function planNode(target: string, node: string, opts: TargetOptions, observe: PlanObserver = NO_OBSERVE): Promise<PlanReport> {
  const repo = await loadTarget(target, opts);
  if (repo.issues.length > 0) {
    const list = repo.issues.map(formatIssue).join('\n');
    throw new FoundryError('INFRA_SCHEMA', `the infra repo is invalid at ${repo.revision}; the agent would keep its last good revision:\n${list}`, { resource: target, retry: 'terminal' });
  }
  let desired;
  try {
    desired = renderNodeState(repo, node);
  } catch (err) {
    if (isFoundryError(err, 'NODE_UNKNOWN')) throw new FoundryError('NODE_UNKNOWN', err.message, { resource: err.resource, retry: 'terminal' });
    throw err;
  }
  const seen = await observe(node);
  if ('unavailable' in seen) {
    return { plan: planActions(desired, []), profile: desired.profile, runtime: undefined, note: `${seen.unavailable}: planning against an empty node` };
  }
  // Resources of a runtime that could not be listed are not "to remove": only what was listed is weighed.
  const down = new Set(seen.unavailableKeys ?? []);
  const observed = seen.resources.filter((o) => !down.has(runtimeKeyOf(o)));
  return { plan: withSecretsNote(planActions(desired, observed)), profile: desired.profile, runtime: seen.runtime, note: seen.note };
}

/** `agent plan` does not decrypt: a running container with secrets carries their digests in its spec hash, so it shows as changed; say so on its action. */
function withSecretsNote(plan: PlanResult): PlanResult {
  for (const a of plan.actions) {
    const d = a.desired;
    if (a.type === 'recreate' && (d?.kind === 'container' || d?.kind === 'vm') && (d.spec.secrets ?? []).length > 0) a.reason += ' (agent plan does not decrypt secrets, so a workload with secrets always shows as changed here; the agent recreates it only when its spec or a secret value changed)';
  }
  return plan;
}

/** The observer of `agent plan`: none with --no-observe; else the drivers of the agent configuration (or Podman at its default socket when the default configuration file is absent). */
async function observerFor(flags: { config?: string; observe?: boolean }): Promise<{ observe: PlanObserver; drivers: RuntimeDriver[]; node: string | undefined; note: string | undefined }> {
  const logger = pino({ level: 'silent' });
  const file = flags.config ?? DEFAULT_CONFIG_PATH;
  if (flags.observe === false) {
    // Not observing: the configuration, when given, still names the node.
    return { observe: NO_OBSERVE, drivers: [], node: flags.config === undefined ? undefined : (await loadAgentConfig(file)).node, note: undefined };
  }
  if (flags.config === undefined && !existsSync(file)) {
    const defaults = resolveConfig({ node: 'plan', repo: { url: '.' } }, file);
    const drivers = await buildDrivers(defaults, logger);
    return { observe: driversObserver(drivers), drivers, node: undefined, note: `no agent configuration at ${file}: observing Podman at ${defaults.podman.socketPath}` };
  }
  const config = await loadAgentConfig(file);
  const drivers = await buildDrivers(config, logger);
  return { observe: driversObserver(drivers), drivers, node: config.node, note: undefined };
}

/** The text of `agent plan`: a header, the note when planning against nothing, then every action with its reason. */
export function planText(report: PlanReport): string {
  const head = `node ${report.plan.node} (profile ${report.profile}) at revision ${report.plan.revision}, observed ${report.runtime ?? 'nothing'}`;
  const lines = [head];
  if (report.note !== undefined) lines.push(`note: ${report.note}`);
  lines.push(formatPlan(report.plan, { showUnchanged: true }));
  return lines.join('\n');
}

/** The JSON of `agent plan --json` (desired and observed specs left out: ids, types and reasons only). */
export function planJson(report: PlanReport): Record<string, unknown> {
  const { plan } = report;
  return {
    node: plan.node,
    profile: report.profile,
    revision: plan.revision,
    observed: report.runtime ?? null,
    note: report.note ?? null,
    counts: plan.counts,
    pruneRefused: plan.pruneRefused?.message ?? null,
    pruneRefusal: plan.pruneRefused === undefined ? null : { rule: plan.pruneRefused.rule, removedUnits: plan.pruneRefused.removedUnits, held: plan.pruneRefused.held, managed: plan.pruneRefused.managed },
    actions: plan.actions.map((a) => ({ type: a.type, kind: a.kind, id: a.id, reason: a.reason, specHash: a.desired?.specHash ?? null })),
  };
}

/** Registers `agent plan`. */
export function registerAgentPlan(agent: Command): void {
  agent
    .command('plan')
    .description('print what the agent would do on a node: create, recreate, start, stop, remove or unchanged, each with its reason (changes nothing)')
    .requiredOption('--repo <repo>', 'folder of the infra repo, or a git URL')
    .option('--node <name>', 'node to plan for (metadata.name of a Node; default: the node of the agent configuration)')
    .option('-c, --config <path>', `agent configuration whose runtimes are observed, read-only (default ${DEFAULT_CONFIG_PATH}; without it, Podman at its default socket)`)
    .option('--no-observe', 'plan against an empty node instead of observing this machine')
    .option('--path <sub>', 'folder inside the repo that holds the infra files')
    .option('--branch <branch>', 'branch to fetch (git URL or local git repo)')
    .option('--revision <rev>', 'commit or tag to check out (git URL or local git repo)')
    .option('--json', 'print the plan as JSON')
    .action(async (flags: TargetOptions & { repo: string; node?: string; json?: boolean; config?: string; observe?: boolean }) => {
      const { observe, drivers, node, note } = await observerFor(flags);
      try {
        const target = flags.node ?? node;
        if (target === undefined) throw new FoundryError('CLI_USAGE', 'no node to plan for: pass --node, or --config with an agent configuration that names one');
        const report = await planNode(flags.repo, target, flags, observe);
        if (note !== undefined) report.note = report.note === undefined ? note : `${note}; ${report.note}`;
        process.stdout.write(flags.json === true ? `${JSON.stringify(planJson(report), null, 2)}\n` : `${planText(report)}\n`);
        process.exitCode = EXIT.OK;
      } finally {
        for (const d of drivers) await d.close?.();
      }
    });
}
