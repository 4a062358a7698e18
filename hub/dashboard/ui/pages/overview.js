// Overview: nodes by profile and state, GPUs total/allocated/free/busy, fleet GPU utilization of the
// last hour (measured), storage from Ceph nodes, and alerts.
import { api } from '../api.js';
import { h, fill, table, badge, bytes } from '../dom.js';
import { lineChart } from '../charts.js';

// never-connected: declared in Git (or enrolled) but no agent connected yet; the scheduler counts them too.
const STATES = ['online', 'degraded', 'offline', 'never-connected', 'draining'];
const stateTitle = (s) => (s[0].toUpperCase() + s.slice(1)).replace('-', ' ');

function storageSection(s) {
  const nodes = `${s.cephNodes} Ceph node${s.cephNodes === 1 ? '' : 's'}`;
  const errors = s.errors.length === 0 ? null : h('ul.alerts', {}, s.errors.map((e) => h('li.alert-warning', {}, badge('warning'), ` ${e.node}: ${e.error}`)));
  if (!s.reported) return h('div', {}, h('p.muted', {}, `${nodes}; no storage capacity reported recently.`), errors);
  const pct = s.totalBytes > 0 ? ` (${Math.round((s.usedBytes / s.totalBytes) * 1000) / 10} %)` : '';
  const tiles = h('ul.tiles', { 'aria-label': 'Storage' },
    [['total', 'Total', s.totalBytes], ['used', 'Used', s.usedBytes], ['free', 'Free', s.availableBytes]].map(([id, k, v]) =>
      h('li.tile', {}, h('span.tile-v', { 'data-testid': `storage-${id}` }, bytes(v)), h('span.tile-k', {}, k))));
  const from = s.source === 'ceph' ? `cluster capacity from ceph df (${nodes}; ${s.nodes.length} reporting)` : `sum of the storage mounts of ${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'} (ceph df unavailable)`;
  const pools = s.pools.length === 0 ? null : table('Ceph pools', ['Pool', 'Stored', 'Max available'], s.pools.map((p) => [p.name, bytes(p.storedBytes), bytes(p.maxAvailableBytes)]));
  return h('div', {}, tiles, h('p.muted', {}, `${bytes(s.usedBytes)} used${pct}: ${from}.`), pools, errors);
}

/** Renders the overview page. */
export async function render(main) {
  const body = h('div');
  const chartBox = h('div.chart', { role: 'img', 'aria-label': 'Fleet GPU utilization, last hour' });
  let chart = null;
  fill(main, h('h1', {}, 'Overview'), body);

  async function refresh() {
    const o = await api('/api/v1/overview');
    const profiles = Object.entries(o.nodes.byProfile).sort(([a], [b]) => a.localeCompare(b));
    const g = o.gpus;
    const tiles = h('ul.tiles', { 'aria-label': 'GPUs' },
      [['Total', g.total], ['Allocated', g.allocated], ['Free', g.free], ['Busy (measured)', g.busy]].map(([k, v]) =>
        h('li.tile', {}, h('span.tile-v', { 'data-testid': `gpus-${k.split(' ')[0].toLowerCase()}` }, String(v)), h('span.tile-k', {}, `${k} GPUs`))));
    const alerts = o.alerts.length === 0
      ? h('p.ok', {}, 'No alerts.')
      : h('ul.alerts', {}, o.alerts.map((a) => h(`li.alert-${a.severity}`, {}, badge(a.severity), ' ', a.message)));
    const storage = storageSection(o.storage);
    fill(body,
      h('section', { 'aria-labelledby': 'h-alerts' }, h('h2#h-alerts', {}, `Alerts (${o.alerts.length})`), alerts),
      h('section', { 'aria-labelledby': 'h-gpus' }, h('h2#h-gpus', {}, 'GPUs'), tiles),
      h('section', { 'aria-labelledby': 'h-util' }, h('h2#h-util', {}, 'Fleet GPU utilization, last hour (measured)'),
        o.utilization.points.length === 0 ? h('p.muted', {}, 'No samples in the last hour.') : chartBox),
      h('section', { 'aria-labelledby': 'h-nodes' }, h('h2#h-nodes', {}, `Nodes (${o.nodes.total})`),
        table('Nodes by profile and state', ['Profile', ...STATES.map(stateTitle)], profiles.map(([p, c]) => [p, ...STATES.map((s) => String(c[s]))]), 'No nodes yet: enroll one on the Enrollment page.')),
      h('section', { 'aria-labelledby': 'h-storage' }, h('h2#h-storage', {}, 'Storage'), storage));
    if (o.utilization.points.length > 0) {
      chart?.dispose();
      chart = lineChart(chartBox, o.utilization.points, { label: 'GPU utilization' });
    }
  }
  await refresh();
  return { topics: ['nodes', 'telemetry', 'workspaces', 'refused'], refresh, dispose: () => chart?.dispose() };
}
