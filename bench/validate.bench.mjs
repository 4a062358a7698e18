#!/usr/bin/env node
// Benchmark of the infra-repo pipeline on a synthetic repo of 1,000 workspaces over 100 GPU nodes:
// load + validate + cross-check (what `foundry validate` does), the `foundry validate` process end to
// end, and render + plan of one node's ~200 resources. Targets from issue 2: validate < 500 ms, plan < 20 ms.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));

/** Runs `fn` `runs` times (after one warm-up) and returns the median in ms. */
async function time(fn, runs) {
  await fn();
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await fn();
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(xs);
}

const doc = (kind, name, spec) => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
const uuid = (n, g) => `GPU-${String(n).padStart(8, '0')}-0000-4000-8000-${String(g).padStart(12, '0')}`;

/** Writes a valid synthetic repo: `nodes` GPU nodes with `perNode` GPUs each, one workspace per GPU. */
export async function writeSyntheticRepo(dir, nodes, perNode) {
  const put = async (rel, text) => {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), text);
  };
  await put('cluster.yaml', doc('Cluster', 'bench', '  hubUrl: https://hub.example.eu\n  allowedHostPaths: [/srv/foundry]\n'));
  await put('pricing.yaml', doc('PriceList', 'default', '  currency: EUR\n  periods:\n    - effectiveFrom: "2026-01-01T00:00:00Z"\n      gpuHour: { NVIDIA H100 80GB HBM3: "2.49" }\n'));
  for (let t = 0; t < 50; t++) await put(`tenants/t${t}.yaml`, doc('Tenant', `t${t}`, `  displayName: Tenant ${t}\n  quota: { maxGpus: 40 }\n`));
  // 8 containers and 10 named volumes: 19 resources per workspace, ~190 per node of 10 workspaces.
  const containers = Array.from({ length: 8 }, (_, i) => `    - name: c${i}\n      image: docker.io/library/app${i}:1.0.${i}\n      env: { ROLE: c${i}, LEVEL: "${i}" }\n      ports: [{ containerPort: ${8000 + i} }]\n      resources: { cpus: 1, memory: 2Gi }\n      volumes:\n        - { name: data-${i}, mountPath: /data }\n${i < 2 ? `        - { name: extra-${i}, mountPath: /extra }\n` : ''}      healthcheck: { command: [sh, -c, "true"], interval: 30s }\n`).join('');
  await put('templates/bench.yaml', doc('WorkspaceTemplate', 'bench', `  containers:\n${containers}`));
  for (let n = 0; n < nodes; n++) {
    const gpus = Array.from({ length: perNode }, (_, g) => `    - { uuid: ${uuid(n, g)}, model: NVIDIA H100 80GB HBM3, pciAddress: "0000:${(16 + g).toString(16).padStart(2, '0')}:00.0" }\n`).join('');
    await put(`nodes/gpu-${n}.yaml`, doc('Node', `gpu-${n}`, `  profile: gpu-node\n  labels: { zone: z${n % 3} }\n  gpus:\n${gpus}`));
    for (let g = 0; g < perNode; g++) {
      const name = `ws-${n}-${g}`;
      await put(`workspaces/t${(n * perNode + g) % 50}/${name}.yaml`, doc('Workspace', name, `  tenant: t${(n * perNode + g) % 50}\n  template: bench\n  node: gpu-${n}\n  gpus:\n    count: 1\n    uuids: [${uuid(n, g)}]\n`));
    }
  }
}

/** The benchmark: returns rows for bench/run.mjs. */
export async function run({ quick = false } = {}) {
  const { loadInfraDir } = await dist('common/infra/load.js');
  const { renderNodeState } = await dist('agent/render.js');
  const { planActions } = await dist('agent/plan.js');
  const nodes = quick ? 20 : 100;
  const workspaces = nodes * 10;
  const dir = await mkdtemp(join(tmpdir(), 'foundry-bench-infra-'));
  try {
    await writeSyntheticRepo(dir, nodes, 10);
    const repo = await loadInfraDir(dir);
    if (repo.issues.length > 0) throw new Error(`synthetic repo is invalid: ${repo.issues.length} issues, first: ${JSON.stringify(repo.issues[0])}`);
    const validateMs = await time(() => loadInfraDir(dir), quick ? 3 : 10);
    const desired = renderNodeState(repo, 'gpu-0');
    const renderMs = await time(() => renderNodeState(repo, 'gpu-0'), quick ? 20 : 200);
    const empty = await time(() => planActions(desired, []), quick ? 20 : 200);
    // Everything already running with the right hash: the steady state of a converged node.
    const converged = desired.resources.map((r) => ({ kind: r.kind, id: r.id, name: r.name, runtimeId: r.id, owner: r.owner, specHash: r.specHash, state: 'running', reclaimPolicy: r.reclaimPolicy, facts: {} }));
    const steady = await time(() => planActions(desired, converged), quick ? 20 : 200);
    const cli = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [join(root, 'bin', 'foundry.js'), 'validate', dir], { encoding: 'utf8' });
      cli.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (r.status !== 0) throw new Error(`foundry validate exited ${r.status}: ${r.stdout.slice(0, 200)}${r.stderr.slice(0, 200)}`);
    }
    const n = desired.resources.length;
    return {
      title: `infra pipeline (${workspaces} workspaces, ${nodes} nodes)`,
      rows: [
        { figure: `load + validate + cross-check, ${workspaces} workspaces`, median: validateMs, unit: 'ms', runs: quick ? 3 : 10, target: '< 500 ms', met: validateMs < 500 },
        { figure: '`foundry validate` process, end to end', median: median(cli), unit: 'ms', runs: cli.length },
        { figure: `render one node (${n} resources)`, median: renderMs, unit: 'ms', runs: quick ? 20 : 200 },
        { figure: `plan one node, ${n} resources vs empty`, median: empty, unit: 'ms', runs: quick ? 20 : 200, target: '< 20 ms', met: empty < 20 },
        { figure: `plan one node, ${n} resources vs converged`, median: steady, unit: 'ms', runs: quick ? 20 : 200, target: '< 20 ms', met: steady < 20 },
      ],
      notes: ['synthetic repo: 8-container template with 10 named volumes, one 1-GPU workspace per GPU, 10 GPUs per node, 50 tenants; written to a temp dir each run'],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table, machineLabel } = await import('./run.mjs');
  const res = await run({ quick: process.argv.includes('--quick') });
  console.log(`Absolute figures from ${machineLabel()}.\n\n${table([res])}`);
}
