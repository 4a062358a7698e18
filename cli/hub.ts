/** `foundry hub ...`: the central service. */
import type { Command } from 'commander';

/** Registers the hub sub-commands. */
export function registerHub(program: Command): void {
  program.command('hub').description('run and administer the hub (gateway, billing, placement, dashboard)');
}
