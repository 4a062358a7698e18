/**
 * `foundry agent ...`: the node agent. Each sub-command lives in its own module, loaded only when the
 * command line names it (or for help): `agent run --once` does not load the GPU report, enrollment's
 * inventory or the planner's CLI (peak memory, bench/podman.bench.mjs).
 */
import type { Command } from 'commander';

type RegisterSub = (agent: Command) => void;

const SUBCOMMANDS: ReadonlyArray<readonly [string, () => Promise<RegisterSub>]> = [
  ['plan', async () => (await import('./agent-plan.js')).registerAgentPlan],
  ['gpus', async () => (await import('./agent-gpus.js')).registerAgentGpus],
  ['run', async () => (await import('./agent-run.js')).registerAgentRun],
  ['sync', async () => (await import('./agent-sync.js')).registerAgentSync],
  ['status', async () => (await import('./agent-status.js')).registerAgentStatus],
  ['enroll', async () => (await import('./agent-enroll.js')).registerAgentEnroll],
];

/** Registers the agent sub-commands: only the one argv names after `agent`, or all of them (help, unknown). */
export async function registerAgent(program: Command, argv: readonly string[] = []): Promise<void> {
  const agent = program.command('agent').description('the node agent: plan, run the GitOps loop, inspect GPUs');
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const named = words[0] === 'agent' && SUBCOMMANDS.some(([name]) => name === words[1]) ? words[1] : undefined;
  for (const [name, load] of SUBCOMMANDS) {
    if (named === undefined || named === name) (await load())(agent);
  }
}
