// Nodes: per node its profile, labels, agent version, last seen, desired vs applied revision, node and
// per-resource conditions with reasons, and per GPU its health (docs/gpu-health.md), utilization, memory,
// power and temperature with sparklines of the last hour.
import { api } from '../api.js';
import { h, fill, table, badge, ago, bytes } from '../dom.js';
import { sparkline } from '../charts.js';

const short = (rev) => (rev ? rev.slice(0, 12) : '—');
const num = (v, unit) => (typeof v === 'number' ? `${Math.round(v * 10) / 10} ${unit}` : '—');

function conditionList(conds) {
  if (conds.length === 0) return h('span.muted', {}, 'none reported');
  // Stalled=True is bad; Reconciling is neither; any other condition False (Ready, PodmanCapabilities...) is bad.
  const kind = (c) => (c.type === 'Stalled' ? (c.status === 'True' ? 'bad' : 'neutral') : c.type === 'Reconciling' ? 'neutral' : c.status === 'True' ? 'good' : c.status === 'False' ? 'bad' : 'neutral');
  return h('ul.conds', {}, conds.map((c) => h('li', {}, badge(`${c.type}=${c.status}`, kind(c)), ' ', c.reason, c.message ? h('span.muted', {}, ` — ${c.message}`) : null)));
}

const HEALTH_KIND = { healthy: 'good', degraded: 'warn', unhealthy: 'bad', unknown: 'neutral' };

/** The agent's health verdict and its problem codes; unknown when the agent sends none (older agents). */
function health(g) {
  const hl = g.health ?? { state: 'unknown', problems: [] };
  return h('span', { 'data-testid': `health-${g.uuid}` }, badge(hl.state, HEALTH_KIND[hl.state] ?? 'neutral'),
    hl.problems.length > 0 ? h('span.muted', {}, ` ${hl.problems.join(', ')}`) : null);
}

function gpuRows(n) {
  return n.gpus.map((g) => {
    const col = (i) => g.history.map((p) => p[i]);
    const cell = (v, unit, i, label, max) => h('div.metric', {}, h('span', {}, num(v, unit)), sparkline(col(i), { label: `${label} of ${g.uuid}`, max }));
    return [
      h('span', {}, h('code', {}, g.uuid), h('br'), h('span.muted', {}, g.model ?? 'unknown model'), g.error ? h('br') : null, g.error ? badge(g.error, 'bad') : null),
      health(g),
      g.workspace ?? h('span.muted', {}, 'free'),
      cell(g.utilizationPct, '%', 1, 'utilization', 100),
      cell(g.memoryUsedMiB, 'MiB', 2, 'memory used', g.memoryTotalMiB ?? undefined),
      cell(g.powerW, 'W', 3, 'power'),
      cell(g.temperatureC, '°C', 4, 'temperature', 100),
    ];
  });
}

/** Connection and readiness are separate facts: an agent may be connected and not Ready. */
function connection(n) {
  if (n.connected) return 'connected now';
  if (n.lastSeenAt === null) return 'never connected';
  return `not connected (last seen ${ago(n.lastSeenAt)})`;
}

function readiness(n) {
  if (n.ready === null) return h('span.muted', { 'data-testid': `ready-${n.name}` }, 'not reported');
  const kind = n.ready.status === 'True' ? 'good' : n.ready.status === 'False' ? 'bad' : 'neutral';
  return h('span', { 'data-testid': `ready-${n.name}` }, badge(`Ready=${n.ready.status}`, kind), ' ', n.ready.reason,
    n.ready.message ? h('span.muted', {}, ` — ${n.ready.message}`) : null, !n.connected ? h('span.muted', {}, ' (last report; the agent is not connected)') : null);
}

/** The applied revision; when none was applied completely yet, the one the agent works on. */
function applied(n) {
  if (n.appliedRevision) return h('code', {}, short(n.appliedRevision));
  if (n.observedRevision) return h('span', {}, 'none completely yet (working on ', h('code', {}, short(n.observedRevision)), ')');
  return h('code', {}, '—');
}

function nodeSection(n) {
  const labels = Object.entries(n.labels);
  const revs = n.desiredRevision && n.appliedRevision && n.desiredRevision !== n.appliedRevision ? badge('behind', 'warn') : null;
  return h('section.card.node', { 'aria-labelledby': `n-${n.name}`, 'data-node': n.name },
    h('h2', { id: `n-${n.name}` }, n.name, ' ', badge(n.state)),
    n.reasons.length > 0 ? h('p.muted', {}, n.reasons.join('; ')) : null,
    h('dl.facts', {},
      h('dt', {}, 'Profile'), h('dd', {}, n.profile ?? '—'),
      h('dt', {}, 'Labels'), h('dd', {}, labels.length === 0 ? '—' : labels.map(([k, v]) => h('code.label', {}, `${k}=${v}`))),
      h('dt', {}, 'Agent'), h('dd', {}, n.agentVersion ?? '—'),
      h('dt', {}, 'Connection'), h('dd', { 'data-testid': `connection-${n.name}` }, connection(n)),
      h('dt', {}, 'Readiness'), h('dd', {}, readiness(n)),
      h('dt', {}, 'Revision'), h('dd', { 'data-testid': `revision-${n.name}` }, 'desired ', h('code', {}, short(n.desiredRevision)), ', applied ', applied(n), ' ', revs),
      n.storage ? h('dt', {}, 'Storage') : null,
      n.storage ? h('dd', { 'data-testid': `storage-${n.name}` }, `${bytes(n.storage.usedBytes)} used of ${bytes(n.storage.totalBytes)}, ${bytes(n.storage.availableBytes)} free (${n.storage.source === 'ceph' ? 'ceph df, whole cluster' : 'mounts'})`, n.storage.error ? h('span.muted', {}, ` — ${n.storage.error}`) : null) : null),
    h('h3', {}, 'Conditions'),
    conditionList(n.conditions),
    n.resources.length === 0 ? null : h('details', {}, h('summary', {}, `Resources (${n.resources.length})`),
      // The kind tells apart a container and a network that share a display id (a container called `net`).
      table(`Resources of ${n.name}`, ['Resource', 'Conditions'], n.resources.map((r) => [h('span', {}, r.kind ? h('span.muted', {}, `${r.kind} `) : null, h('code', {}, r.id)), conditionList(r.conditions)]))),
    h('h3', {}, `GPUs (${n.gpus.length})`),
    table(`GPUs of ${n.name}`, ['GPU', 'Health', 'Workspace', 'Utilization', 'Memory', 'Power', 'Temperature'], gpuRows(n), 'No GPUs reported.'));
}

/** Renders the nodes page. */
export async function render(main) {
  const body = h('div');
  fill(main, h('h1', {}, 'Nodes'), body);
  async function refresh() {
    const { nodes } = await api('/api/v1/fleet/nodes');
    // Keep which resource lists are open across live refreshes.
    const open = new Set([...body.querySelectorAll('details[open]')].map((d) => d.closest('[data-node]')?.dataset.node));
    fill(body, nodes.length === 0 ? h('p.muted', {}, 'No nodes yet.') : nodes.map(nodeSection));
    for (const d of body.querySelectorAll('[data-node] details')) if (open.has(d.closest('[data-node]').dataset.node)) d.open = true;
  }
  await refresh();
  return { topics: ['nodes', 'telemetry', 'workspaces'], refresh };
}
