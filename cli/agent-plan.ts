/** `foundry agent plan`: what the agent would do on a node. */
import type { Command } from 'commander';

/** Registers `agent plan`. */
export function registerAgentPlan(agent: Command): void {
  agent.command('plan').description('print what the agent would do on a node (not implemented yet)');
}
