/** `foundry node drain|undrain NAME`: mark a node in Git (spec.drain) through the hub, which commits it. */
import type { Command } from 'commander';
import { callHub, withHubOptions, type HubClientOptions } from './hub-client.js';

/** Registers the node sub-commands. */
export function registerNode(program: Command): void {
  const node = program.command('node').description('node operations committed to the infra repo by the hub');
  for (const [verb, drain] of [['drain', true], ['undrain', false]] as const) {
    withHubOptions(node.command(`${verb} <name>`))
      .description(drain ? 'stop placing new workspaces on a node (spec.drain: true); existing ones stay until moved or deleted' : 'let a drained node take new workspaces again')
      .action(async (name: string, o: HubClientOptions) => {
        const r = await callHub(o, 'POST', `/api/v1/nodes/${encodeURIComponent(name)}/${verb}`);
        process.stdout.write(`node ${name}: ${r.body.changed === true ? (drain ? 'drained' : 'undrained') : drain ? 'already draining' : 'not draining'}\n`);
      });
  }
}
