/**
 * `foundry agent plan --repo <dir|url> --node <name>`: what the agent would do on a node, with the
 * reason for each action. Loads and validates the repo, renders the node's desired state, observes
 * what runs (through the observer hook) and plans. Nothing is changed.
 */
import type { Command } from 'commander';
import { renderNodeState } from '../agent/render.js';
import { formatPlan, planActions, type PlanResult } from '../agent/plan.js';
import type { ObservedResource } from '../agent/desired.js';
import { FoundryError, isFoundryError } from '../common/errors.js';
import { formatIssue } from '../common/infra/model.js';
import { EXIT } from './exit-codes.js';
import { loadTarget, type TargetOptions } from './load-target.js';

/** What an observer found on the node: the runtime's resources, or why no runtime could be reached. */
export type Observation = { runtime: string; resources: ObservedResource[] } | { unavailable: string };

/** Observes what runs on `node`. The Podman/libvirt drivers install theirs with setPlanObserver. */
export type PlanObserver = (node: string) => Promise<Observation>;

const NO_RUNTIME: PlanObserver = async () => ({ unavailable: 'no runtime reachable' });
let observer: PlanObserver = NO_RUNTIME;

/** Hook for the runtime drivers: makes `agent plan` plan against what actually runs. */
export function setPlanObserver(fn: PlanObserver | undefined): void {
  observer = fn ?? NO_RUNTIME;
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
export async function planNode(target: string, node: string, opts: TargetOptions, observe: PlanObserver = observer): Promise<PlanReport> {
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
  return { plan: planActions(desired, seen.resources), profile: desired.profile, runtime: seen.runtime, note: undefined };
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
    pruneRefused: plan.pruneRefused ?? null,
    actions: plan.actions.map((a) => ({ type: a.type, kind: a.kind, id: a.id, reason: a.reason, specHash: a.desired?.specHash ?? null })),
  };
}

/** Registers `agent plan`. */
export function registerAgentPlan(agent: Command): void {
  agent
    .command('plan')
    .description('print what the agent would do on a node: create, recreate, start, stop, remove or unchanged, each with its reason (changes nothing)')
    .requiredOption('--repo <repo>', 'folder of the infra repo, or a git URL')
    .requiredOption('--node <name>', 'node to plan for (metadata.name of a Node)')
    .option('--path <sub>', 'folder inside the repo that holds the infra files')
    .option('--branch <branch>', 'branch to fetch (git URL or local git repo)')
    .option('--revision <rev>', 'commit or tag to check out (git URL or local git repo)')
    .option('--json', 'print the plan as JSON')
    .action(async (flags: TargetOptions & { repo: string; node: string; json?: boolean }) => {
      const report = await planNode(flags.repo, flags.node, flags);
      process.stdout.write(flags.json === true ? `${JSON.stringify(planJson(report), null, 2)}\n` : `${planText(report)}\n`);
      process.exitCode = EXIT.OK;
    });
}
