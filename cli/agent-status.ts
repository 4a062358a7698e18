/**
 * `foundry agent status`: what the agent last wrote to <stateDir>/status.json, readably (or `--json`):
 * revisions, the node's conditions with reason and message (Ready, Reconciling, Stalled and runtime
 * conditions such as PodmanCapabilities), resources that are not ready, errors and repo issues.
 * Exit 0 healthy, 1 a condition says something is wrong, 3 no status yet (the agent has not run).
 */
import type { Command } from 'commander';
import { DEFAULT_CONFIG_PATH, loadAgentConfig } from '../agent/config/load-config.js';
import { readStatus, statusPath, type AgentStatus, type Condition } from '../agent/reconcile/status.js';
import { FoundryError } from '../common/errors.js';
import { EXIT } from './exit-codes.js';

interface StatusFlags {
  config: string;
  stateDir?: string;
  json?: boolean;
}

/** True when the condition reports a problem: Stalled or Reconciling True, any other type False. */
export function conditionIsBad(c: Pick<Condition, 'type' | 'status'>): boolean {
  if (c.type === 'Stalled') return c.status === 'True';
  if (c.type === 'Reconciling') return false;
  return c.status === 'False';
}

const short = (rev: string | undefined): string => (rev === undefined ? 'none' : rev.slice(0, 12));

/** The status as text for an operator: one line per condition, then what is not ready, errors, issues. */
export function formatAgentStatus(s: AgentStatus): string {
  const lines = [`node ${s.node}`, `revisions: observed ${short(s.observedRevision)}, desired ${short(s.desiredRevision)}, applied ${short(s.lastAppliedRevision)}`];
  const r = s.lastReconcile;
  lines.push(`last reconcile: ${r.finishedAt} (${r.trigger}, ${r.durationMs} ms), ${r.converged ? 'converged' : 'not converged'}`);
  lines.push('', 'conditions:');
  const width = Math.max(...s.conditions.map((c) => c.type.length), 4);
  for (const c of s.conditions) {
    const mark = conditionIsBad(c) ? '!' : ' ';
    lines.push(`${mark} ${c.type.padEnd(width)}  ${c.status.padEnd(5)}  ${c.reason}${c.message === '' ? '' : `: ${c.message}`}`);
  }
  const notReady = s.resources.filter((x) => x.phase !== 'Ready');
  lines.push('', `resources: ${s.resources.length}, ${s.resources.length - notReady.length} ready`);
  for (const x of notReady) lines.push(`  ${x.id}  ${x.phase}  ${x.reason}${x.message === '' ? '' : `: ${x.message}`}`);
  if (s.errors.length > 0) lines.push('', 'errors:', ...s.errors.map((e) => `  ${e.step}: ${e.code}: ${e.message}`));
  if (s.issues.length > 0) lines.push('', 'issues:', ...s.issues.map((i) => `  ${i}`));
  return `${lines.join('\n')}\n`;
}

/** Registers `agent status`. */
export function registerAgentStatus(agent: Command): void {
  agent
    .command('status')
    .description("print the agent's last status (status.json): conditions with reasons, resources not ready, errors (exit 0 healthy, 1 a problem, 3 no status yet)")
    .option('-c, --config <path>', 'agent configuration file (for its stateDir)', DEFAULT_CONFIG_PATH)
    .option('--state-dir <dir>', 'state dir of the agent (instead of reading the config)')
    .option('--json', 'print status.json as it is')
    .action(async (flags: StatusFlags) => {
      const stateDir = flags.stateDir ?? (await loadAgentConfig(flags.config)).stateDir;
      const status = await readStatus(stateDir);
      if (status === undefined) {
        throw new FoundryError('NOT_FOUND', `no readable status at ${statusPath(stateDir)}: the agent has not run yet (foundry agent run)`, { retry: 'wait' });
      }
      process.stdout.write(flags.json === true ? `${JSON.stringify(status, null, 2)}\n` : formatAgentStatus(status));
      process.exitCode = status.conditions.some(conditionIsBad) ? EXIT.FAILED : EXIT.OK;
    });
}
