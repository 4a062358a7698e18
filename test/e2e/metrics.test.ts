/**
 * Issue 24 end to end: a real hub (hosted repo, admission gate, billing) and a real `foundry agent run
 * --metrics-listen 127.0.0.1:0` process (real git over the hub's smart HTTP, real Podman, the fake
 * nvidia-smi replaying real captures). A workspace is requested through the API; after the agent has
 * reconciled it and its usage has been billed, both /metrics are fetched and the series checked by value:
 * the agent's reconcile, actions, link, revision and nvidia-smi series, and the hub's node, GPU, workspace,
 * usage and cost series; then the hub drops the link and the agent counts its reconnect. Needs `npm run build` (the CLI and the pre-receive hook run from dist/).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { parsePromText, sampleValue, samples, type PromSample } from '../support/prom-text.js';
import { managedContainers } from '../agent/agent-harness.js';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { fleetFiles } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';

const NODE = 'gpu-01';
const GPU = 'GPU-00000000-0000-0000-0000-000000000000';
const MODEL = 'NVIDIA H100 80GB HBM3';
const CDI_FILE = '/var/run/cdi/foundry-e2e-metrics.json';
const CLI = join(PACKAGE_ROOT, 'bin', 'foundry.js');
const built = existsSync(join(PACKAGE_ROOT, 'dist', 'cli', 'agent-run.js')) && existsSync(join(PACKAGE_ROOT, 'dist', 'hub', 'git', 'pre-receive-hook.js'));

/** The agent's output so far (its last lines go into a timeout's message). */
let out = '';

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the agent's last output:\n${out.split('\n').slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeIf(podmanAvailable() && built, 'podman and a build (npm run build)', PODMAN_HOW)('metrics end to end: hub and `foundry agent run --metrics-listen`', () => {
  let hub: WsHub;
  let pm: PrivatePodman;
  let dir: string;
  let agent: ChildProcess | undefined;
  let agentMetricsUrl: string;

  beforeAll(async () => {
    mkdirSync('/var/run/cdi', { recursive: true });
    writeFileSync(CDI_FILE, JSON.stringify({ cdiVersion: '0.3.0', kind: 'nvidia.com/gpu', devices: [{ name: GPU, containerEdits: { deviceNodes: [{ path: '/dev/fake-nvidia-metrics0', hostPath: '/dev/null' }] } }] }));
    const files = fleetFiles({ nodes: 1, gpus: 0 });
    files['cluster.yaml'] = 'apiVersion: foundry.cloud/v1\nkind: Cluster\nmetadata:\n  name: main\nspec:\n  telemetryInterval: 1s\n';
    files['templates/tiny.yaml'] = `apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata:\n  name: tiny\nspec:\n  containers:\n    - name: main\n      image: ${TEST_IMAGE}\n      pullPolicy: Never\n      command: [sleep, "600"]\n      gpus: true\n`;
    files['profiles/e2e-gpu.yaml'] = 'apiVersion: foundry.cloud/v1\nkind: NodeProfile\nmetadata:\n  name: e2e-gpu\nspec:\n  description: gpu node without the exporter\n  hostsWorkspaces: true\n';
    files[`nodes/${NODE}.yaml`] = `apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: ${NODE}\nspec:\n  profile: e2e-gpu\n  gpus:\n    - uuid: ${GPU}\n      model: ${MODEL}\n`;
    // One euro a second: a few billed seconds make an amount the invoice shows in cents.
    files['pricing.yaml'] = `apiVersion: foundry.cloud/v1\nkind: PriceList\nmetadata:\n  name: default\nspec:\n  currency: EUR\n  periods:\n    - effectiveFrom: "2026-01-01T00:00:00Z"\n      gpuHour:\n        ${MODEL}: "3600.00"\n`;
    hub = await startWsHub(files);
    pm = await startPrivatePodman();
    dir = mkdtempSync(join(tmpdir(), 'foundry-e2e-metrics-'));
    const credentialFile = join(dir, 'credential');
    writeFileSync(credentialFile, `${(await hub.store.issueNodeCredential(NODE))}\n`, { mode: 0o600 });
    const config = join(dir, 'agent.yaml');
    writeFileSync(config, [
      `node: ${NODE}`,
      `repo: { url: "${hub.url}/git/infra.git", branch: main }`,
      `stateDir: ${join(dir, 'state')}`,
      `cacheDir: ${join(dir, 'cache')}`,
      `podman: { socketPath: ${pm.socketPath}, stopTimeout: 0s }`,
      `hub: { url: "${hub.url}", credentialFile: ${credentialFile} }`,
      '',
    ].join('\n'));
    agent = spawn(process.execPath, [CLI, 'agent', 'run', '--config', config, '--metrics-listen', '127.0.0.1:0', '--nvidia-smi', join(PACKAGE_ROOT, 'scripts', 'fake-nvidia-smi')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FAKE_NVIDIA_SMI_SCENARIO: 'h100-idle' },
    });
    agent.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    agent.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    // The port the system chose is in the agent's log line (event metrics-listening).
    const port = await until('the metrics endpoint', () => /"event":"metrics-listening".*?"port":(\d+)/.exec(out)?.[1], 30_000);
    agentMetricsUrl = `http://127.0.0.1:${port}/metrics`;
    await until('the agent to connect', () => (hub.app.hub.gateway.connectedNodes().includes(NODE) ? true : undefined), 30_000);
  }, 600_000);

  afterAll(async () => {
    if (agent !== undefined && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (agent.exitCode === null) agent.kill('SIGKILL');
    }
    await pm?.stop();
    await hub?.close();
    rmSync(CDI_FILE, { force: true });
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('after a reconcile and billed usage, both /metrics show the fleet by value', async () => {
    const scrapeAgent = async (): Promise<PromSample[]> => {
      const res = await fetch(agentMetricsUrl);
      expect(res.status).toBe(200);
      return parsePromText(await res.text());
    };
    const scrapeHub = async (): Promise<PromSample[]> => {
      const res = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${hub.admin}` } });
      expect(res.status).toBe(200);
      return parsePromText(await res.text());
    };
    const started = Math.floor(Date.now() / 1000);
    // Before anything is placed: the agent is connected and has reconciled its (empty) node.
    await until('a first reconcile', async () => ((sampleValue(await scrapeAgent(), 'foundry_agent_reconcile_total', { result: 'unchanged' }) ?? 0) >= 1 ? true : undefined));
    expect(sampleValue(await scrapeAgent(), 'foundry_agent_hub_connected')).toBe(1);
    // The hub's /metrics is for admins only.
    expect((await fetch(`${hub.url}/metrics`)).status).toBe(401);

    const created = await hub.call('POST', '/api/v1/workspaces', { tenant: 'acme', body: { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: 'acme-metrics' } });
    expect(created.status).toBe(201);
    await until('the container to run', async () => ((await managedContainers(pm, NODE)).lines.includes('fc-ws-acme-metrics-main running') ? true : undefined), 120_000);
    const month = new Date().toISOString().slice(0, 7);
    const invoiced = async (): Promise<number> => Number((await hub.call('GET', `/api/v1/tenants/acme/invoices/${month}`, { tenant: 'acme' })).json.totals.amount);
    await until('usage billed', async () => ((await invoiced()) >= 2 ? true : undefined), 90_000);

    // The agent: the pass that created the workspace, its actions by reason code, the applied revision, the link, nvidia-smi.
    const a = await scrapeAgent();
    expect(sampleValue(a, 'foundry_agent_reconcile_total', { result: 'applied' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(a, 'foundry_agent_reconcile_total', { result: 'failed' })).toBe(0);
    expect(sampleValue(a, 'foundry_agent_actions_total', { kind: 'container', action: 'create', reason: 'Missing', result: 'ok' })).toBe(1);
    expect(sampleValue(a, 'foundry_agent_actions_total', { kind: 'network', action: 'create', reason: 'Missing', result: 'ok' })).toBe(1);
    expect(samples(a, 'foundry_agent_actions_total', { result: 'failed' })).toEqual([]);
    expect(samples(a, 'foundry_agent_drift_repaired_total')).toEqual([]);
    const tipRevision = execFileSync('git', ['--git-dir', hub.repoDir, 'rev-parse', 'refs/heads/main'], { encoding: 'utf8' }).trim();
    expect(samples(a, 'foundry_agent_applied_revision_info').map((s) => [s.labels.revision, s.value])).toEqual([[tipRevision, 1]]);
    expect(sampleValue(a, 'foundry_agent_last_reconcile_success_timestamp_seconds')).toBeGreaterThanOrEqual(started);
    expect(sampleValue(a, 'foundry_agent_reconcile_duration_seconds_count', { step: 'apply', result: 'ok' })).toBeGreaterThanOrEqual(2);
    expect(sampleValue(a, 'foundry_agent_hub_connected')).toBe(1);
    expect(sampleValue(a, 'foundry_agent_hub_reconnects_total')).toBe(0);
    expect(sampleValue(a, 'foundry_agent_nvidia_smi_duration_seconds_count', { query: 'gpu' })).toBeGreaterThanOrEqual(2);
    expect(sampleValue(a, 'foundry_agent_nvidia_smi_failures_total', { query: 'gpu' })).toBe(0);
    expect(sampleValue(a, 'foundry_agent_outbox_records')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(a, 'foundry_agent_outbox_oldest_record_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(samples(a, 'foundry_agent_build_info')).toHaveLength(1);

    // The hub: the node, its one GPU allocated, the workspace's GPU and last usage, what acme costs.
    const before = await invoiced();
    const h = await scrapeHub();
    const after = await invoiced();
    const now = Math.floor(Date.now() / 1000);
    expect(sampleValue(h, 'foundry_hub_node_connected', { node: NODE })).toBe(1);
    expect(sampleValue(h, 'foundry_hub_node_last_seen_timestamp_seconds', { node: NODE })).toBeGreaterThanOrEqual(started);
    expect(samples(h, 'foundry_hub_gpus').map((s) => `${s.labels.node} ${s.labels.model} ${s.labels.state} ${s.value}`)).toEqual([
      `${NODE} ${MODEL} free 0`, `${NODE} ${MODEL} allocated 1`, `${NODE} ${MODEL} unhealthy 0`,
    ]);
    expect(samples(h, 'foundry_hub_workspace_gpus')).toEqual([{ name: 'foundry_hub_workspace_gpus', labels: { tenant: 'acme', workspace: 'acme-metrics', node: NODE, state: 'running' }, value: 1 }]);
    const lastUsage = sampleValue(h, 'foundry_hub_workspace_last_usage_timestamp_seconds', { tenant: 'acme', workspace: 'acme-metrics' });
    expect(lastUsage).toBeGreaterThanOrEqual(started);
    expect(lastUsage).toBeLessThanOrEqual(now);
    expect(sampleValue(h, 'foundry_hub_tenant_cost_per_hour', { tenant: 'acme', currency: 'EUR' })).toBe(3600);
    expect(sampleValue(h, 'foundry_hub_tenant_cost_per_hour', { tenant: 'globex', currency: 'EUR' })).toBe(0);
    const mtd = sampleValue(h, 'foundry_hub_tenant_month_to_date_cost', { tenant: 'acme', currency: 'EUR' })!;
    expect(mtd).toBeGreaterThanOrEqual(before);
    expect(mtd).toBeLessThanOrEqual(after);
    expect(sampleValue(h, 'foundry_hub_tenant_month_to_date_cost', { tenant: 'globex', currency: 'EUR' })).toBe(0);
    expect(sampleValue(h, 'foundry_hub_git_pushes_total', { result: 'refused' })).toBe(0);
    expect(sampleValue(h, 'foundry_hub_connected_agents')).toBe(1);

    // The hub drops the link: the agent dials again (jittered back-off, about 1 s) and counts one reconnect.
    hub.app.hub.gateway.disconnect(NODE, 'test drops the link');
    await until('the agent to reconnect', async () => {
      const x = await scrapeAgent();
      return sampleValue(x, 'foundry_agent_hub_reconnects_total') === 1 && sampleValue(x, 'foundry_agent_hub_connected') === 1 ? true : undefined;
    }, 30_000);
    await until('the hub to see it again', () => (hub.app.hub.gateway.connectedNodes().includes(NODE) ? true : undefined), 10_000);
  }, 300_000);
});
