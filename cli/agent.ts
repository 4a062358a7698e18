/** `foundry agent ...`: the node agent. Each sub-command lives in its own module. */
import type { Command } from 'commander';
import { registerAgentPlan } from './agent-plan.js';
import { registerAgentGpus } from './agent-gpus.js';
import { registerAgentRun } from './agent-run.js';
import { registerAgentSync } from './agent-sync.js';
import { registerAgentEnroll } from './agent-enroll.js';
import { registerAgentStatus } from './agent-status.js';

/** Registers the agent sub-commands. */
export function registerAgent(program: Command): void {
  const agent = program.command('agent').description('the node agent: plan, run the GitOps loop, inspect GPUs');
  registerAgentPlan(agent);
  registerAgentGpus(agent);
  registerAgentRun(agent);
  registerAgentSync(agent);
  registerAgentStatus(agent);
  registerAgentEnroll(agent);
}
