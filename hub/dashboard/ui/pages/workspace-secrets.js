/* global FormData */
// A workspace's tenant secrets on the workspaces page: names, versions and when they changed; set or
// replace one (the value goes into a password field, is sent once and the field is cleared: the hub never
// shows it again) and delete. The hub decides who may (a tenant only its own workspaces).
import { api } from '../api.js';
import { h, fill, table, ago, errorBox } from '../dom.js';

/** A panel for the secrets of workspace `name`; `onClose` removes it. */
export function secretsPanel(name, onClose) {
  const base = `/api/v1/workspaces/${encodeURIComponent(name)}/secrets`;
  const list = h('div');
  const msg = h('div', { 'aria-live': 'polite' });
  const report = (err) => fill(msg, errorBox(err.message));

  async function refresh() {
    const { secrets } = await api(base);
    const rows = secrets.map((s) => [
      s.name,
      String(s.version),
      h('span', { title: s.updatedAt }, ago(s.updatedAt)),
      s.updatedBy,
      h('button.small.danger', { type: 'button', 'aria-label': `Delete secret ${s.name}`, onclick: async () => {
        if (!window.confirm(`Delete secret ${s.name} of ${name}? Containers that use it are recreated without it.`)) return;
        try {
          await api(`${base}/${encodeURIComponent(s.name)}`, { method: 'DELETE' });
          fill(msg, h('p.ok', { role: 'status' }, `Deleted ${s.name}.`));
          await refresh();
        } catch (err) {
          report(err);
        }
      } }, 'Delete'),
    ]);
    fill(list, table(`Secrets of ${name}`, ['Name', 'Version', 'Changed', 'By', 'Actions'], rows, 'No secrets yet.'));
  }

  const form = h('form.inline', { 'aria-label': `Set a secret of ${name}`, autocomplete: 'off' },
    h('div.row', {},
      h('div.field', {}, h('label', { for: `s-name-${name}` }, 'Secret name'), h('input', { id: `s-name-${name}`, name: 'secret', required: true, pattern: '[a-z0-9]([-a-z0-9]*[a-z0-9])?', maxlength: 63 })),
      h('div.field', {}, h('label', { for: `s-value-${name}` }, 'Value (write-only)'), h('input', { id: `s-value-${name}`, name: 'value', type: 'password', required: true, autocomplete: 'new-password', maxlength: 65536 }))),
    h('button', { type: 'submit' }, 'Set secret'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const d = Object.fromEntries(new FormData(form));
    // The value leaves the page once; the field is emptied whatever the answer.
    form.elements.value.value = '';
    try {
      const r = await api(`${base}/${encodeURIComponent(d.secret)}`, { method: 'PUT', body: { value: d.value } });
      fill(msg, h('p.ok', { role: 'status' }, `Secret ${r.name} set (version ${r.version}). It is not shown again.`));
      form.elements.secret.value = '';
      await refresh();
    } catch (err) {
      report(err);
    }
  });

  const panel = h('section.card', { 'aria-labelledby': `h-secrets-${name}`, 'data-testid': `secrets-${name}` },
    h('h2', { id: `h-secrets-${name}` }, `Secrets of ${name}`),
    h('p.muted', {}, 'Delivered, encrypted, only to the node that runs this workspace; containers read them as Podman secrets. Values are never shown again.'),
    msg, list, form,
    h('button.small', { type: 'button', onclick: onClose }, 'Close'));
  refresh().catch(report);
  return panel;
}
