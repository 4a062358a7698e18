/** `foundry agent gpus`: the node's GPU inventory and one sample with attribution, for admins. */
import type { Command } from 'commander';
import { NvidiaGpuPlugin } from '../agent/gpu/nvidia-plugin.js';
import { buildGpuReport, formatGpuReport } from '../agent/gpu/gpu-report.js';
import { podmanLabelsLookup, podmanReachable } from '../agent/gpu/podman-labels.js';
import { FoundryError } from '../common/errors.js';

/** Rootful Podman's API socket (`podman system service` / podman.socket). */
export const DEFAULT_PODMAN_SOCKET = '/run/podman/podman.sock';

/** Registers `agent gpus`. */
export function registerAgentGpus(agent: Command): void {
  agent
    .command('gpus')
    .description('print the GPU inventory and one sample, with each process attributed to its workspace')
    .option('--json', 'print JSON instead of text')
    .option('--nvidia-smi <path>', 'nvidia-smi to run', 'nvidia-smi')
    .option('--podman-socket <path>', 'Podman API socket for container labels', DEFAULT_PODMAN_SOCKET)
    .option('--timeout <ms>', 'timeout of each nvidia-smi call in ms', '5000')
    .action(async (opts: { json?: boolean; nvidiaSmi: string; podmanSocket: string; timeout: string }) => {
      const timeoutMs = Number(opts.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new FoundryError('CLI_USAGE', `--timeout must be a positive integer (ms), got ${opts.timeout}`);
      const plugin = new NvidiaGpuPlugin({ command: opts.nvidiaSmi, timeoutMs });
      const reachable = await podmanReachable(opts.podmanSocket);
      const report = await buildGpuReport({
        plugin,
        ...(reachable ? { labelsOf: podmanLabelsLookup(opts.podmanSocket) } : { unavailableReason: `podman unavailable at ${opts.podmanSocket}` }),
      });
      process.stdout.write(opts.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatGpuReport(report));
    });
}
