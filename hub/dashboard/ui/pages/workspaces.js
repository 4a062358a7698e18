/* global FormData, navigator */
// Workspaces: tenant, template, node, GPUs, state, uptime and cost so far this month; create (with the
// placement's explanation when it fails), stop, start, delete; and each workspace's apps with an Open
// button and, for APIs, a copyable curl example whose key is a placeholder. A tenant user sees only its
// own (the hub enforces it; this page only asks).
import { api } from '../api.js';
import { h, fill, table, badge, since, errorBox } from '../dom.js';
import { secretsPanel } from './workspace-secrets.js';

function createForm(catalog, me, onDone) {
  const msg = h('div', { 'aria-live': 'polite' });
  const tenants = me.role === 'admin' ? catalog.tenants : catalog.tenants.filter((t) => t.name === me.tenant);
  const select = (name, label, options) => h('div.field', {}, h('label', { for: `c-${name}` }, label),
    h('select', { id: `c-${name}`, name, required: name !== 'model' }, options.map(([v, text]) => h('option', { value: v }, text))));
  const form = h('form.card.inline', { 'aria-labelledby': 'h-create' },
    h('h2#h-create', {}, 'Create a workspace'),
    h('div.row', {},
      select('tenant', 'Tenant', tenants.map((t) => [t.name, t.displayName ? `${t.displayName} (${t.name})` : t.name])),
      select('template', 'Template', catalog.templates.map((t) => [t, t])),
      h('div.field', {}, h('label', { for: 'c-count' }, 'GPUs'), h('input', { id: 'c-count', name: 'count', type: 'number', min: 0, max: 16, value: 1, required: true })),
      select('model', 'GPU model', [['', 'any'], ...catalog.gpuModels.map((m) => [m, m])]),
      h('div.field', {}, h('label', { for: 'c-name' }, 'Name (optional)'), h('input', { id: 'c-name', name: 'name', pattern: '[a-z0-9]+(-[a-z0-9]+)*', maxlength: 63 }))),
    h('button', { type: 'submit' }, 'Create'),
    msg);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const d = Object.fromEntries(new FormData(form));
    const body = { tenant: d.tenant, template: d.template, gpus: d.model ? { count: Number(d.count), model: d.model } : { count: Number(d.count) } };
    if (d.name) body.name = d.name;
    fill(msg, h('p.muted', {}, 'Placing…'));
    try {
      const r = await api('/api/v1/workspaces', { method: 'POST', body });
      fill(msg, h('p.ok', { role: 'status' }, `Created ${r.name} on ${r.node}.`), h('pre.explain', {}, r.explanation));
      await onDone();
    } catch (err) {
      // A refused placement explains itself: show the scheduler's reasons as sent.
      fill(msg, errorBox(err.code === 'PLACEMENT_NONE' ? 'No node can take this workspace:' : err.message), err.code === 'PLACEMENT_NONE' ? h('pre.explain', { 'data-testid': 'placement-explanation' }, err.message) : null);
    }
  });
  return form;
}

function actions(w, refresh, report, openSecrets) {
  const act = (label, fn, cls = '') => h(`button.small${cls}`, { type: 'button', 'aria-label': `${label} ${w.name}`, onclick: async (e) => {
    e.currentTarget.disabled = true;
    try {
      await fn();
      await refresh();
    } catch (err) {
      report(err);
    }
  } }, label);
  const name = encodeURIComponent(w.name);
  return h('span.actions', {},
    // A VM workspace's screen opens in the browser (noVNC over the agent's outbound tunnel).
    w.desktop && w.state !== 'stopped' ? h('a.button.small', { href: `#/desktop?workspace=${name}`, 'aria-label': `Open desktop ${w.name}` }, 'Open desktop') : null,
    w.state === 'stopped' ? act('Start', () => api(`/api/v1/workspaces/${name}/start`, { method: 'POST', body: {} })) : act('Stop', () => api(`/api/v1/workspaces/${name}/stop`, { method: 'POST', body: {} })),
    h('button.small', { type: 'button', 'aria-label': `Secrets of ${w.name}`, onclick: () => openSecrets(w.name) }, 'Secrets'),
    act('Delete', async () => {
      if (!window.confirm(`Delete workspace ${w.name}? Its containers are removed; volumes follow its reclaim policy.`)) throw new Error('cancelled');
      await api(`/api/v1/workspaces/${name}`, { method: 'DELETE' });
    }, '.danger'));
}

function copyButton(label, value) {
  return h('button.small', { type: 'button', 'aria-label': label, onclick: async (e) => {
    const b = e.currentTarget;
    try {
      await navigator.clipboard.writeText(value);
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Select and copy';
    }
  } }, 'Copy');
}

/** The apps of the listed workspaces (those with none are left out). */
async function appsSection(workspaces) {
  const found = await Promise.all(workspaces.map(async (w) => {
    try {
      return await api(`/api/v1/workspaces/${encodeURIComponent(w.name)}/apps`);
    } catch {
      return null; // removed from Git while listed: no apps to open
    }
  }));
  const withApps = found.filter((f) => f !== null && f.apps.length > 0);
  if (withApps.length === 0) return null;
  const hasApi = withApps.some((f) => f.apps.some((a) => a.api));
  return h('section', { 'aria-labelledby': 'h-apps' }, h('h2#h-apps', {}, 'Apps'),
    h('p.muted', {}, 'Each app opens with your dashboard login. Scripts send an API token with the apps scope (page API tokens).'),
    hasApi ? h('p.muted', {}, 'The curl examples read the token from the variable FOUNDRY_APPS_KEY: export FOUNDRY_APPS_KEY=… first.') : null,
    withApps.map((f) => h('div', { 'data-testid': `apps-${f.workspace}` },
      table(`Apps of ${f.workspace}`, ['App', 'Address', 'State', ''], f.apps.map((a) => [
        a.name,
        h('div', {}, h('code.break', {}, a.url), a.example ? h('div.example', {}, h('pre', {}, h('code', { 'data-testid': `example-${f.workspace}-${a.name}` }, a.example)), copyButton(`Copy the curl example of ${a.name}`, a.example)) : null),
        h('span', {}, badge(a.state === 'routable' ? 'Routable' : 'Unavailable', a.state === 'routable' ? 'running' : 'stopped'), a.state === 'routable' ? null : h('span.muted', {}, ` ${a.reason}`)),
        h('a.button', { href: a.url, target: '_blank', rel: 'noopener', 'aria-label': `Open ${a.name} of ${f.workspace}`, 'data-testid': `open-${f.workspace}-${a.name}` }, 'Open'),
      ])))));
}

/** Renders the workspaces page. */
export async function render(main, { me }) {
  const list = h('div');
  const msg = h('div', { 'aria-live': 'polite' });
  const secrets = h('div');
  const catalog = await api('/api/v1/catalog');
  const report = (err) => err.message !== 'cancelled' && fill(msg, errorBox(err.message));
  const openSecrets = (name) => fill(secrets, secretsPanel(name, () => fill(secrets)));
  fill(main, h('h1', {}, 'Workspaces'), msg, list, secrets);

  async function refresh() {
    const { workspaces } = await api('/api/v1/workspaces');
    const tenants = [...new Set(workspaces.map((w) => w.tenant))];
    const usage = new Map();
    await Promise.all(tenants.map(async (t) => {
      try {
        usage.set(t, await api(`/api/v1/tenants/${encodeURIComponent(t)}/usage`));
      } catch {
        usage.set(t, null);
      }
    }));
    const cost = (w) => {
      const u = usage.get(w.tenant);
      return u ? `${u.byWorkspace[w.name] ?? '0.00'} ${u.currency}` : '—';
    };
    const rows = workspaces.map((w) => [
      w.name,
      w.tenant,
      h('span', {}, w.template ?? '—', encryptionNote(w)),
      w.node ?? h('span.muted', {}, 'not placed'),
      `${w.gpus.uuids.length || w.gpus.count}${w.gpus.model ? ` × ${w.gpus.model}` : ''}`,
      h('span', { 'data-testid': `phase-${w.name}` }, badge(w.status?.phase ?? w.state ?? 'unknown'), w.status?.reason ? h('span.muted', {}, ` ${w.status.reason}`) : null,
        // Removed from Git but still running: say why, and for a refused prune how to allow it.
        w.status?.reason === 'PruneRefused' || w.status?.reason === 'AwaitingRemoval' ? h('p.muted', { 'data-testid': `removal-${w.name}` }, w.status.message) : null),
      w.status?.phase === 'Running' ? since(w.status.runningAt) : '—',
      h('span', { 'data-testid': `cost-${w.name}` }, cost(w)),
      actions(w, refresh, report, openSecrets),
    ]);
    fill(list, h('section', { 'aria-labelledby': 'h-list' }, h('h2#h-list', {}, `Workspaces (${workspaces.length})`),
      table('Workspaces', ['Name', 'Tenant', 'Template', 'Node', 'GPUs', 'State', 'Uptime', 'Cost this month', 'Actions'], rows, 'No workspaces yet.')),
    await appsSection(workspaces));
  }
  main.append(createForm(catalog, me, refresh));
  await refresh();
  return { topics: ['workspaces', 'billing'], refresh };
}

/** Whether the workspace's data is encrypted at rest (docs/volumes.md): shown under its template. */
function encryptionNote(w) {
  const e = w.encryption;
  if (!e || e.atRest === 'no-data') return null;
  const text = e.atRest === 'encrypted' ? 'volumes encrypted'
    : e.atRest === 'partly' ? `volumes encrypted except ${e.optedOut.join(', ')}`
      : 'volumes not encrypted (template opts out)';
  return h(`p.${e.atRest === 'encrypted' ? 'muted' : 'warn'}`, { 'data-testid': `encryption-${w.name}`, title: `data on move: ${e.dataOnMove}` }, text);
}
