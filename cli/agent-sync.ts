/**
 * `foundry agent sync`: asks the agent running on this node to reconcile now and waits for the result.
 * Exit 0 converged, 1 not converged, 3 no agent running.
 */
import type { Command } from 'commander';
import { DEFAULT_CONFIG_PATH, loadAgentConfig } from '../agent/config/load-config.js';
import { requestSync } from '../agent/reconcile/triggers.js';
import { parseDuration } from '../common/units.js';
import { FoundryError } from '../common/errors.js';
import { EXIT } from './exit-codes.js';

interface SyncFlags {
  config: string;
  stateDir?: string;
  timeout: string;
}

/** Registers `agent sync`. */
export function registerAgentSync(agent: Command): void {
  agent
    .command('sync')
    .description('make the running agent reconcile now and print the result (exit 0 converged, 1 not converged, 3 no agent running)')
    .option('-c, --config <path>', 'agent configuration file (for its stateDir)', DEFAULT_CONFIG_PATH)
    .option('--state-dir <dir>', 'state dir of the agent (instead of reading the config)')
    .option('--timeout <duration>', 'how long to wait for the reconcile', '10m')
    .action(async (flags: SyncFlags) => {
      let timeoutMs: number;
      try {
        timeoutMs = parseDuration(flags.timeout);
      } catch {
        throw new FoundryError('CLI_USAGE', `invalid --timeout ${flags.timeout}: expected a duration such as 30s or 10m`);
      }
      const stateDir = flags.stateDir ?? (await loadAgentConfig(flags.config)).stateDir;
      const reply = await requestSync(stateDir, timeoutMs);
      process.stdout.write(`${reply.converged ? 'converged' : 'not converged'} at ${reply.observedRevision ?? 'no revision'}${reply.message !== '' ? `: ${reply.message}` : ''}\n`);
      process.exitCode = reply.converged ? EXIT.OK : EXIT.FAILED;
    });
}
