/**
 * `foundry agent run`: the node's GitOps loop. With `--once`: one full reconcile, exit 0 when converged
 * and 1 otherwise (for scripts and first boot). Without: runs until SIGTERM/SIGINT; SIGHUP syncs now.
 */
import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import { DEFAULT_CONFIG_PATH, loadAgentConfig, type ResolvedAgentConfig } from '../agent/config/load-config.js';
import { buildReconciler } from '../agent/reconcile/gitops-loop.js';
import { startSyncServer, syncSocketPath } from '../agent/reconcile/triggers.js';
import { parseMetricsListen } from '../agent/metrics/metrics-listen.js';
import { EXIT } from './exit-codes.js';

interface RunFlags {
  config: string;
  once?: boolean;
  nvidiaSmi?: string;
  metricsListen?: string;
}

/** The agent's logger: structured JSON lines on stdout, never secrets (URLs are logged without credentials). */
export function agentLogger(config: ResolvedAgentConfig): Logger {
  return pino({ level: config.logLevel, base: { node: config.node }, timestamp: pino.stdTimeFunctions.isoTime });
}

async function runOnce(config: ResolvedAgentConfig, logger: Logger): Promise<number> {
  const reconciler = buildReconciler(config, logger);
  // Hold the state dir like a running agent does, so `--once` never races a running loop.
  const server = await startSyncServer(syncSocketPath(config.stateDir), async () => {
    const r = await reconciler.trigger('sync');
    return { converged: r.converged, observedRevision: r.status.observedRevision, lastAppliedRevision: r.status.lastAppliedRevision, message: '' };
  });
  try {
    const result = await reconciler.trigger('once', { ignoreBackoff: true });
    const ready = result.status.conditions.find((c) => c.type === 'Ready');
    process.stderr.write(`${result.converged ? 'converged' : 'not converged'}: ${ready?.reason ?? ''} ${ready?.message ?? ''}\n`);
    return result.converged ? EXIT.OK : EXIT.FAILED;
  } finally {
    await server.stop();
    for (const d of reconciler.deps.drivers) await d.close?.();
  }
}

async function runLoop(config: ResolvedAgentConfig, logger: Logger, flags: RunFlags): Promise<number> {
  // The full node agent: the loop, plus the hub link and telemetry when the node is enrolled. Loaded here:
  // `--once` needs none of it (WebSocket, outbox store, host metrics), so its peak memory stays low.
  const { startNodeAgent } = await import('../agent/node-agent.js');
  const node = await startNodeAgent(config, logger, { nvidiaSmi: flags.nvidiaSmi });
  const { agent } = node;
  const onHup = (): void => void agent.syncNow('signal');
  process.on('SIGHUP', onHup);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  process.off('SIGHUP', onHup);
  logger.info({ event: 'agent-stopping', signal }, 'agent stopping');
  await node.stop();
  return EXIT.OK;
}

/** Registers `agent run`. */
export function registerAgentRun(agent: Command): void {
  agent
    .command('run')
    .description('run the GitOps loop: fetch the infra repo, render this node, converge Podman (exit codes with --once: 0 converged, 1 not converged)')
    .option('-c, --config <path>', 'agent configuration file', DEFAULT_CONFIG_PATH)
    .option('--once', 'reconcile once and exit: 0 when converged, 1 otherwise')
    .option('--nvidia-smi <path>', 'nvidia-smi to run for GPU telemetry (default: the one on PATH)')
    .option('--metrics-listen <host:port>', 'serve the agent\'s Prometheus metrics at GET /metrics on this address (default: config metrics.listen, else off; PORT alone binds the loopback)')
    .action(async (flags: RunFlags) => {
      // A bad flag is refused before anything starts (CONFIG_INVALID naming the flag).
      const listen = flags.metricsListen === undefined ? undefined : parseMetricsListen(flags.metricsListen, '--metrics-listen');
      const loaded = await loadAgentConfig(flags.config);
      const config = listen === undefined ? loaded : { ...loaded, metrics: { listen } };
      const logger = agentLogger(config);
      process.exitCode = flags.once === true ? await runOnce(config, logger) : await runLoop(config, logger, flags);
    });
}
