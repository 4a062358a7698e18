/**
 * The foundry CLI: one binary, sub-commands per area. Each area registers its commands from its own
 * module so that areas stay independent. This is the composition root of every command.
 */
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';
import { isFoundryError, errorMessage } from '../common/errors.js';
import { VERSION } from '../common/version.js';

/** Registers an area's commands; argv lets an area load only the sub-command the line names (cli/agent.ts). */
type Register = (program: Command, argv: readonly string[]) => void | Promise<void>;

/**
 * Each area's module, loaded only when its command runs: `foundry validate` must not load the hub's web
 * server, nor `foundry agent run` the dashboard (start-up time and peak memory; bench/startup.mjs).
 */
const AREAS: ReadonlyArray<readonly [string, () => Promise<Register>]> = [
  ['validate', async () => (await import('./validate.js')).registerValidate],
  ['agent', async () => (await import('./agent.js')).registerAgent],
  ['hub', async () => (await import('./hub.js')).registerHub],
  ['dev', async () => (await import('./dev.js')).registerDev],
  ['workspace', async () => (await import('./workspace.js')).registerWorkspace],
  ['node', async () => (await import('./node.js')).registerNode],
  ['secret', async () => (await import('./secret.js')).registerSecret],
];

/**
 * Areas whose commands finish in well under a second (read files or call the hub once, then exit): V8's
 * optimizing compiler would only cost memory there (about 10 MB of peak RSS for `foundry validate`), so it
 * stays off, and the young generation keeps its first size instead of growing (about 5 MB). The agent, the
 * hub and `foundry dev` run for days and keep V8's defaults, except the agent's one-shot commands
 * (shortLived), which also trade speed for memory with V8's lite mode (their target is peak memory,
 * bench/podman.bench.mjs).
 */
const SHORT_LIVED = new Set(['validate', 'workspace', 'node', 'secret']);

/** Whether a command line runs a short-lived command: a SHORT_LIVED area, or any agent command but the `agent run` loop. */
export function shortLived(argv: readonly string[]): boolean {
  const area = areaOf(argv);
  if (area === undefined) return false;
  if (SHORT_LIVED.has(area)) return true;
  if (area !== 'agent') return false;
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  return words[1] !== 'run' || argv.includes('--once');
}

/** The area a command line runs (its first word that is not an option), or undefined for help and version. */
function areaOf(argv: readonly string[]): string | undefined {
  const word = argv.slice(2).find((a) => !a.startsWith('-'));
  return AREAS.some(([name]) => name === word) ? word : undefined;
}

/**
 * Builds the command tree for a command line (exported for tests, which run it in-process): only the area
 * argv names, or every area when it names none (top-level help, an unknown command).
 */
export async function buildCli(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('foundry')
    .description('FoundryCloud control plane: GitOps agent for GPU nodes and the hub that bills and places workspaces')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const area = areaOf(argv);
  const versionOnly = area === undefined && argv.slice(2).some((a) => a === '-V' || a === '--version');
  for (const [name, load] of versionOnly ? [] : AREAS) {
    if (area === undefined || area === name) await (await load())(program, argv);
  }
  return program;
}

/** Runs the CLI with argv and exits with a meaningful code. */
export async function main(argv: string[]): Promise<void> {
  if (shortLived(argv)) setFlagsFromString(`--no-opt --semi-space-growth-factor=1${areaOf(argv) === 'agent' ? ' --lite-mode' : ''}`);
  const program = await buildCli(argv);
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
