/**
 * The foundry CLI: one binary, sub-commands per area. Each area registers its commands from its own
 * module so that areas stay independent. This is the composition root of every command.
 */
import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';
import { isFoundryError, errorMessage } from '../common/errors.js';
import { VERSION } from '../common/version.js';
import { registerValidate } from './validate.js';
import { registerAgent } from './agent.js';
import { registerHub } from './hub.js';
import { registerDev } from './dev.js';
import { registerWorkspace } from './workspace.js';
import { registerNode } from './node.js';
import { registerSecret } from './secret.js';

/** Builds the command tree (exported for tests, which run it in-process). */
export function buildCli(): Command {
  const program = new Command('foundry')
    .description('FoundryCloud control plane: GitOps agent for GPU nodes and the hub that bills and places workspaces')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerValidate(program);
  registerAgent(program);
  registerHub(program);
  registerDev(program);
  registerWorkspace(program);
  registerNode(program);
  registerSecret(program);
  return program;
}

/** Runs the CLI with argv and exits with a meaningful code. */
export async function main(argv: string[]): Promise<void> {
  const program = buildCli();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return;
    }
    if (isFoundryError(err)) {
      process.stderr.write(`foundry: ${err.message}${err.resource && !err.message.includes(err.resource) ? ` (${err.resource})` : ''}\n`);
      process.exitCode = err.code === 'CLI_USAGE' ? EXIT.USAGE : err.retry === 'terminal' ? EXIT.FAILED : EXIT.UNAVAILABLE;
      return;
    }
    process.stderr.write(`foundry: internal error: ${errorMessage(err)}\n`);
    if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = EXIT.INTERNAL;
  }
}
