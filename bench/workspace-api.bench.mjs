// Workspace API: time from POST /api/v1/workspaces to the answer, which comes after the placement is
// committed and pushed to the hosted repo (pre-receive validation included). Not to containers running:
// that needs a real agent and Podman (test/e2e/workspace-lifecycle.test.ts covers the path, untimed).
// Peer in the same run: an admin's own `git commit` + `git push` of one workspace file through the same hook.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const doc = (kind, name, spec) => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
const uuid = (n, i) => `GPU-aaaaaaaa-${String(n).padStart(4, '0')}-${String(i).padStart(4, '0')}`;

function fleet(dir, nodes, gpus) {
  const files = {
    'cluster.yaml': doc('Cluster', 'main', '  hubUrl: http://127.0.0.1:1\n'),
    'tenants/acme.yaml': doc('Tenant', 'acme', '  displayName: ACME\n'),
    'templates/tiny.yaml': doc('WorkspaceTemplate', 'tiny', '  containers:\n    - name: main\n      image: localhost/foundry-test:1\n      gpus: true\n'),
    'pricing.yaml': doc('PriceList', 'default', '  currency: EUR\n  periods:\n    - effectiveFrom: "2026-01-01T00:00:00Z"\n      gpuHour:\n        NVIDIA H100 80GB HBM3: "2.49"\n'),
  };
  for (let n = 1; n <= nodes; n++) {
    const list = Array.from({ length: gpus }, (_, i) => `    - uuid: ${uuid(n, i)}\n      model: NVIDIA H100 80GB HBM3\n`).join('');
    files[`nodes/gpu-${n}.yaml`] = doc('Node', `gpu-${n}`, `  profile: gpu-node\n  gpus:\n${list}`);
  }
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
}

const git = (args, cwd) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x' } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** @returns {Promise<{ title: string, rows: object[], notes?: string[] }>} */
export async function run({ quick }) {
  const { buildApp } = await import(join(dist, 'hub', 'app.js'));
  const { HubStore } = await import(join(dist, 'hub', 'store', 'hub-store.js'));
  const { ensureHostedRepo, seedHostedRepo } = await import(join(dist, 'hub', 'git', 'hosted-repo.js'));
  const { HubLink } = await import(join(dist, 'agent', 'link', 'hub-link.js'));
  const dir = mkdtempSync(join(tmpdir(), 'foundry-bench-ws-'));
  const nodes = 5;
  const runs = quick ? 3 : 15;
  const links = [];
  let app;
  let store;
  try {
    const src = join(dir, 'src');
    fleet(src, nodes, 8);
    const repoDir = join(dir, 'infra.git');
    await ensureHostedRepo(repoDir);
    await seedHostedRepo(repoDir, src);
    store = new HubStore(join(dir, 'hub.db'));
    app = await buildApp({ store, repoDir });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${app.server.address().port}`;
    const admin = (await store.createAdminToken('bench'));
    for (let n = 1; n <= nodes; n++) {
      const link = new HubLink({ hubUrl: url, node: `gpu-${n}`, credential: (await store.issueNodeCredential(`gpu-${n}`)), stateDir: join(dir, 'agents', String(n)), hello: () => ({ appliedRevision: null, inventory: { gpus: [], resources: [] } }) }).start();
      links.push(link);
    }
    while (app.hub.gateway.connectedNodes().length < nodes) await new Promise((r) => setTimeout(r, 20));
    const post = async (body) => {
      const t = process.hrtime.bigint();
      const res = await fetch(`${url}/api/v1/workspaces`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body: JSON.stringify(body) });
      await res.text();
      return { ms: Number(process.hrtime.bigint() - t) / 1e6, status: res.status };
    };
    const placed = [];
    for (let i = 0; i < runs + 1; i++) {
      const r = await post({ tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: `bench-${i}` });
      if (r.status !== 201) throw new Error(`placement answered ${r.status}`);
      if (i > 0) placed.push(r.ms); // the first request also loads the repo: warm-up
    }
    const refused = [];
    for (let i = 0; i < runs; i++) {
      const r = await post({ tenant: 'acme', template: 'tiny', gpus: { count: 9 }, name: `none-${i}` });
      if (r.status !== 409) throw new Error(`refusal answered ${r.status}`);
      refused.push(r.ms);
    }
    const clone = join(dir, 'admin');
    git(['clone', '--quiet', repoDir, clone], dir);
    const pushes = [];
    for (let i = 0; i < runs; i++) {
      mkdirSync(join(clone, 'workspaces', 'acme'), { recursive: true });
      writeFileSync(join(clone, 'workspaces', 'acme', `admin-${i}.yaml`), doc('Workspace', `admin-${i}`, `  tenant: acme\n  template: tiny\n  node: gpu-5\n  gpus:\n    count: 1\n    uuids: [${uuid(5, 7 - (i % 2))}]\n`));
      const t = process.hrtime.bigint();
      git(['pull', '--quiet', '--rebase', 'origin', 'main'], clone);
      git(['add', '-A'], clone);
      git(['commit', '--quiet', '-m', `admin ${i}`], clone);
      git(['push', '--quiet', 'origin', 'HEAD:main'], clone);
      pushes.push(Number(process.hrtime.bigint() - t) / 1e6);
      git(['rm', '--quiet', join('workspaces', 'acme', `admin-${i}.yaml`)], clone);
      git(['commit', '--quiet', '-m', `admin ${i} undo`], clone);
      git(['push', '--quiet', 'origin', 'HEAD:main'], clone);
    }
    const m = median(placed);
    const p = median(pushes);
    return {
      title: `workspace API (${nodes} nodes × 8 GPUs, hosted repo)`,
      rows: [
        { figure: 'POST /api/v1/workspaces → 201, placement committed and pushed', median: m, unit: 'ms', runs: placed.length, peer: 'admin git pull+commit+push of one file', peerMedian: p, ratio: `${(m / p).toFixed(2)}×` },
        { figure: 'POST /api/v1/workspaces → 409 with reasons (nothing fits)', median: median(refused), unit: 'ms', runs: refused.length },
      ],
      notes: [
        'measured to the push (pre-receive validation included), not to containers running: that needs an agent on Podman',
        'both the API and the admin push pay the pre-receive hook (a node process validating the revision); that dominates',
      ],
    };
  } finally {
    for (const l of links) await l.close();
    await app?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table, machineLabel } = await import('./run.mjs');
  const res = await run({ quick: process.argv.includes('--quick') });
  console.log(`Absolute figures from ${machineLabel()}.\n\n${table([res])}`);
}
