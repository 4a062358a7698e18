/* global FormData */
// API tokens for automation: create (shown once), list, revoke. An admin makes admin tokens or tokens of
// any tenant; a tenant user only tokens of its own tenant (the hub enforces both). A session user (single
// sign-on users above all: they have no other secret) can also get a token of its own that lasts 1 hour.
// Scopes: the hub's API and/or workspace apps (a key for scripts that call an app, e.g. Ollama's API, through the ingress).
import { api } from '../api.js';
import { h, fill, table, badge, ago, errorBox } from '../dom.js';

/** Renders the API tokens page. */
export async function render(main, { me }) {
  const result = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  const catalog = me.role === 'admin' ? await api('/api/v1/catalog') : { tenants: [] };
  const scope = me.role === 'admin'
    ? h('div.field', {}, h('label', { for: 't-scope' }, 'Scope'), h('select#t-scope', { name: 'scope' }, h('option', { value: '' }, 'admin (everything)'), catalog.tenants.map((t) => h('option', { value: t.name }, `tenant ${t.name}`))))
    : null;
  const form = h('form.card.inline', { 'aria-labelledby': 'h-newtoken' },
    h('h2#h-newtoken', {}, 'New API token'),
    me.role === 'admin' ? null : h('p.muted', {}, `Tokens act as tenant ${me.tenant}, with the same rights as you.`),
    h('div.row', {}, h('div.field', {}, h('label', { for: 't-label' }, 'Label'), h('input#t-label', { name: 'label', required: true, maxlength: 64, placeholder: 'ci-pipeline' })), scope),
    h('fieldset.scopes', {}, h('legend', {}, 'Works for'),
      h('label', {}, h('input', { type: 'checkbox', name: 'scope-api', checked: true }), ' the hub API'),
      h('label', {}, h('input', { type: 'checkbox', name: 'scope-apps' }), ' workspace apps (Authorization: Bearer to an app URL)')),
    h('button', { type: 'submit' }, 'Create token'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const d = Object.fromEntries(new FormData(form));
    const body = { label: d.label, scopes: ['api', 'apps'].filter((x) => d[`scope-${x}`] === 'on') };
    if (body.scopes.length === 0) {
      fill(result, errorBox('Choose at least one: the hub API or workspace apps.'));
      return;
    }
    if (me.role === 'admin') Object.assign(body, d.scope ? { role: 'tenant', tenant: d.scope } : { role: 'admin' });
    try {
      const r = await api('/api/v1/api-tokens', { method: 'POST', body });
      fill(result, h('section.card', { 'aria-labelledby': 'h-secret' }, h('h3#h-secret', {}, `Token ${r.label}`),
        h('p.muted', {}, 'Shown only now. Use it as "Authorization: Bearer <token>".'),
        h('pre', {}, h('code', { 'data-testid': 'api-token' }, r.token))));
      form.reset();
      await refresh();
    } catch (err) {
      fill(result, errorBox(err.message));
    }
  });
  const short = me.via === 'session'
    ? h('section.card.inline', { 'aria-labelledby': 'h-short' }, h('h2#h-short', {}, 'Short-lived token'),
      h('p.muted', {}, 'A token that acts as you for one hour, for the CLI or a script.'),
      h('button', { type: 'button', onclick: async () => {
        try {
          const r = await api('/api/v1/auth/token', { method: 'POST', body: {} });
          fill(result, h('section.card', { 'aria-labelledby': 'h-secret' }, h('h3#h-secret', {}, 'Your 1-hour token'),
            h('p.muted', {}, `Shown only now; valid until ${new Date(r.expiresAt).toLocaleString()}. Use it as "Authorization: Bearer <token>".`),
            h('pre', {}, h('code', { 'data-testid': 'api-token' }, r.token))));
          await refresh();
        } catch (err) {
          fill(result, errorBox(err.message));
        }
      } }, 'Get a 1-hour token'))
    : null;
  fill(main, h('h1', {}, 'API tokens'), form, short, result, list);

  async function refresh() {
    const { tokens } = await api('/api/v1/api-tokens');
    const revoke = (t) => h('button.small.danger', { type: 'button', 'aria-label': `Revoke token ${t.label}`, onclick: async () => {
      try {
        await api(`/api/v1/api-tokens/${encodeURIComponent(t.id)}/revoke`, { method: 'POST', body: {} });
        await refresh();
      } catch (err) {
        fill(result, errorBox(err.message));
      }
    } }, 'Revoke');
    fill(list, h('section', { 'aria-labelledby': 'h-tokenlist' }, h('h2#h-tokenlist', {}, 'Tokens'),
      table('API tokens', ['Label', 'Acts as', 'Works for', 'Created by', 'Created', 'Last used', 'State', ''],
        tokens.map((t) => [t.label, t.role === 'admin' ? 'admin' : `tenant ${t.tenant}`, h('span', { 'data-testid': `scopes-${t.label}` }, (t.scopes ?? ['api']).map((x) => (x === 'apps' ? 'apps' : 'API')).join(', ')), t.createdBy, ago(t.createdAt), ago(t.lastUsedAt), badge(state(t)), state(t) === 'active' ? revoke(t) : '']),
        'No API tokens yet.')));
  }
  await refresh();
  return { topics: ['audit'], refresh };
}

function state(t) {
  if (t.revoked) return 'revoked';
  return t.expiresAt !== null && t.expiresAt !== undefined && Date.parse(t.expiresAt) <= Date.now() ? 'expired' : 'active';
}
