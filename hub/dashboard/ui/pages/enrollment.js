/* global navigator, FormData */
// Enrollment: create a join token and copy the exact install command; tokens with their uses and
// state; nodes that are pending (never connected), active or revoked.
import { api } from '../api.js';
import { h, fill, table, badge, ago, errorBox } from '../dom.js';

function copyButton(text) {
  const b = h('button.small', { type: 'button' }, 'Copy');
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = 'Copied';
    } catch {
      // Clipboard refused (no permission): select the text so the user copies it by hand.
      const sel = window.getSelection();
      sel.selectAllChildren(b.previousElementSibling);
      b.textContent = 'Selected: press Ctrl+C';
    }
  });
  return b;
}

/** Renders the enrollment page. */
export async function render(main) {
  const result = h('div', { 'aria-live': 'polite' });
  const lists = h('div');
  const form = h('form.card.inline', { 'aria-labelledby': 'h-token' },
    h('h2#h-token', {}, 'New join token'),
    h('div.row', {},
      h('div.field', {}, h('label', { for: 'j-profile' }, 'Profile'), h('select#j-profile', { name: 'profile' }, ['gpu-node', 'ceph-node', 'service-node'].map((p) => h('option', { value: p }, p)))),
      h('div.field', {}, h('label', { for: 'j-ttl' }, 'Valid for'), h('select#j-ttl', { name: 'ttl' }, [['1h', '1 hour'], ['24h', '1 day'], ['168h', '7 days']].map(([v, t]) => h('option', { value: v }, t)))),
      h('div.field', {}, h('label', { for: 'j-uses' }, 'Uses'), h('input#j-uses', { name: 'uses', type: 'number', min: 1, max: 1000, value: 1 })),
      h('div.field', {}, h('label', { for: 'j-labels' }, 'Labels (k=v, comma separated)'), h('input#j-labels', { name: 'labels', placeholder: 'zone=fra1' }))),
    h('button', { type: 'submit' }, 'Create token'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const d = Object.fromEntries(new FormData(form));
    const labels = Object.fromEntries(String(d.labels).split(',').map((p) => p.trim()).filter(Boolean).map((p) => p.split('=').map((s) => s.trim())));
    try {
      const r = await api('/api/v1/join-tokens', { method: 'POST', body: { profile: d.profile, ttl: d.ttl, uses: Number(d.uses), labels } });
      fill(result, h('section.card', { 'aria-labelledby': 'h-cmd' }, h('h3#h-cmd', {}, 'Run this on the new node'),
        h('p.muted', {}, `Token ${r.id} for ${r.profile}, ${r.maxUses} use${r.maxUses === 1 ? '' : 's'}, valid until ${new Date(r.expiresAt).toLocaleString()}. It is shown only now.`),
        h('div.cmd', {}, h('pre', {}, h('code', { 'data-testid': 'install-command' }, r.installCommand)), copyButton(r.installCommand))));
      await refresh();
    } catch (err) {
      fill(result, errorBox(err.message));
    }
  });
  fill(main, h('h1', {}, 'Enrollment'), form, result, lists);

  async function refresh() {
    const [{ tokens }, { nodes }] = await Promise.all([api('/api/v1/join-tokens'), api('/api/v1/fleet/enrollments')]);
    const revoke = (t) => h('button.small.danger', { type: 'button', 'aria-label': `Revoke token ${t.id}`, onclick: async () => {
      try {
        await api(`/api/v1/join-tokens/${encodeURIComponent(t.id)}/revoke`, { method: 'POST', body: {} });
        await refresh();
      } catch (err) {
        fill(result, errorBox(err.message));
      }
    } }, 'Revoke');
    fill(lists,
      h('section', { 'aria-labelledby': 'h-tokens' }, h('h2#h-tokens', {}, 'Join tokens'),
        table('Join tokens', ['Token', 'Profile', 'Uses', 'Expires', 'State', 'Nodes', 'Created by', ''],
          tokens.map((t) => [h('code', {}, t.id), t.profile, `${t.uses} / ${t.maxUses}`, new Date(t.expiresAt).toLocaleString(), badge(t.state), t.nodes.join(', ') || '—', t.createdBy, t.state === 'active' ? revoke(t) : '']),
          'No join tokens yet.')),
      h('section', { 'aria-labelledby': 'h-enrolled' }, h('h2#h-enrolled', {}, 'Nodes'),
        table('Nodes by enrollment state', ['Node', 'State', 'Connected', 'Last seen', 'Profile', 'Joined with'],
          nodes.map((n) => [n.name, badge(n.state), n.connected ? 'yes' : 'no', ago(n.lastSeenAt), n.enrollment?.profile ?? '—', n.enrollment ? h('code', {}, n.enrollment.tokenId) : 'added by hand']),
          'No nodes yet.')));
  }
  await refresh();
  return { topics: ['enrollment', 'nodes'], refresh };
}
