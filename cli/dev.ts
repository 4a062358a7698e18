/** `foundry dev`: hub plus a local agent on one machine (what `npm start` runs). */
import type { Command } from 'commander';
import { FoundryError } from '../common/errors.js';

/** Registers the dev sub-command. */
export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('run the hub and a local agent together with the embedded defaults (what npm start runs)')
    .action(() => {
      throw new FoundryError('RUNTIME_UNAVAILABLE', 'not ready yet: the hub lands with the hub issue; use `foundry validate` and `foundry agent plan` meanwhile');
    });
}
