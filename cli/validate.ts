/** `foundry validate <dir|url>`: checks an infra repo. */
import type { Command } from 'commander';

/** Registers the validate command. */
export function registerValidate(program: Command): void {
  program.command('validate').description('check an infra repo (not implemented yet)');
}
