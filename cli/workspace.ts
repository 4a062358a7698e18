/** `foundry workspace create|list|stop|start|delete`: workspaces through the hub API (placed and committed to Git by the hub). */
import type { Command } from 'commander';
import { FoundryError } from '../common/errors.js';
import { callHub, keyValues, withHubOptions, type HubClientOptions } from './hub-client.js';
import { registerWorkspaceSecret } from './workspace-secret.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

interface CreateOptions extends HubClientOptions {
  tenant: string;
  template: string;
  gpus: string;
  model?: string;
  name?: string;
  label?: string[];
  nodeSelector?: string[];
  json?: boolean;
}

function row(w: Record<string, unknown>): string {
  const status = (w.status ?? {}) as Record<string, unknown>;
  const gpus = (w.gpus ?? {}) as { count?: number; uuids?: string[] };
  return [w.name, w.tenant, w.node ?? '-', `${gpus.count ?? 0}`, w.state ?? '-', status.phase ?? '-', status.reason ?? ''].join('\t');
}

/** Registers the workspace sub-commands. */
export function registerWorkspace(program: Command): void {
  const ws = program.command('workspace').description('request, list, stop, start and delete workspaces through the hub (placement is committed to the infra repo)');

  withHubOptions(ws.command('create'))
    .description('request a workspace: the hub places it, commits it to Git and prints where it went (exit 1 with the reasons when nothing fits)')
    .requiredOption('--tenant <tenant>', 'tenant')
    .requiredOption('--template <template>', 'workspace template')
    .option('--gpus <count>', 'number of GPUs', '1')
    .option('--model <model>', 'GPU model as nvidia-smi names it')
    .option('--name <name>', 'workspace name (default: <tenant>-<random>)')
    .option('--label <key=value>', 'workspace label (repeatable)', collect)
    .option('--node-selector <key=value>', 'node label the workspace needs (repeatable)', collect)
    .option('--json', 'print the hub\'s answer as JSON')
    .action(async (o: CreateOptions) => {
      const count = Number(o.gpus);
      if (!Number.isInteger(count) || count < 0) throw new FoundryError('CLI_USAGE', `--gpus must be a whole number ≥ 0, got ${o.gpus}`);
      const body: Record<string, unknown> = { tenant: o.tenant, template: o.template, gpus: o.model === undefined ? { count } : { count, model: o.model } };
      if (o.name !== undefined) body.name = o.name;
      const labels = keyValues(o.label, '--label');
      if (labels !== undefined) body.labels = labels;
      const selector = keyValues(o.nodeSelector, '--node-selector');
      if (selector !== undefined) body.nodeSelector = selector;
      const r = await callHub(o, 'POST', '/api/v1/workspaces', body, [409]);
      if (o.json === true) process.stdout.write(`${JSON.stringify(r.body, null, 2)}\n`);
      if (r.status === 409) {
        if (o.json !== true) process.stderr.write(`foundry: ${String(r.body.message)}\n`);
        process.exitCode = 1;
        return;
      }
      if (o.json !== true) {
        const gpus = r.body.gpus as { uuids: string[] };
        process.stdout.write(`workspace ${String(r.body.name)} placed on ${String(r.body.node)}${gpus.uuids.length > 0 ? ` with ${gpus.uuids.join(', ')}` : ''} (revision ${String(r.body.revision).slice(0, 12)})\n`);
      }
    });

  withHubOptions(ws.command('list'))
    .description('list workspaces with node, GPUs, state and lifecycle phase')
    .option('--tenant <tenant>', 'only this tenant')
    .option('--json', 'print JSON')
    .action(async (o: HubClientOptions & { tenant?: string; json?: boolean }) => {
      const r = await callHub(o, 'GET', `/api/v1/workspaces${o.tenant === undefined ? '' : `?tenant=${encodeURIComponent(o.tenant)}`}`);
      const items = (r.body.workspaces ?? []) as Array<Record<string, unknown>>;
      if (o.json === true) process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
      else process.stdout.write(['NAME\tTENANT\tNODE\tGPUS\tSTATE\tPHASE\tREASON', ...items.map(row)].join('\n') + '\n');
    });

  for (const [verb, what] of [['stop', 'stop a workspace (spec.state: stopped; it keeps node, GPUs and volumes; not billed)'], ['start', 'start a stopped workspace'], ['delete', 'delete a workspace (its file leaves Git; volumes kept unless reclaimPolicy: Delete)']] as const) {
    withHubOptions(ws.command(`${verb} <name>`))
      .description(what)
      .action(async (name: string, o: HubClientOptions) => {
        const path = `/api/v1/workspaces/${encodeURIComponent(name)}`;
        const r = verb === 'delete' ? await callHub(o, 'DELETE', path) : await callHub(o, 'POST', `${path}/${verb}`);
        const changed = verb === 'delete' || r.body.changed === true;
        process.stdout.write(`workspace ${name}: ${changed ? `${verb === 'stop' ? 'stopped' : verb === 'start' ? 'started' : 'deleted'}` : `already ${verb === 'stop' ? 'stopped' : 'running'}`}\n`);
      });
  }

  registerWorkspaceSecret(ws);
}
