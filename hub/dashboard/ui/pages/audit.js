// Audit log: every state-changing action, newest first: who, what, on what, when, from where (IP).
import { api } from '../api.js';
import { h, fill, table } from '../dom.js';

const PAGE = 100;

/** Renders the audit log page. */
export async function render(main) {
  const body = h('div');
  let entries = [];
  let more = false;
  fill(main, h('h1', {}, 'Audit log'), body);

  function draw() {
    const older = h('button', { type: 'button', onclick: async () => {
      const r = await api(`/api/v1/audit?limit=${PAGE}&before=${entries.at(-1).id}`);
      entries = entries.concat(r.entries);
      more = r.entries.length === PAGE;
      draw();
    } }, 'Load older entries');
    fill(body,
      table('Audit log, newest first', ['When (UTC)', 'Who', 'Action', 'Target', 'From', 'Details'],
        entries.map((e) => [e.at.replace('T', '\u00a0').replace(/\.\d+Z$/, ''), e.actor, h('code', {}, e.action), e.target ?? '—', e.ip ?? '—', Object.keys(e.details).length === 0 ? '' : h('code.details', {}, JSON.stringify(e.details))]),
        'No entries yet.'),
      more ? older : null);
  }
  async function refresh() {
    const r = await api(`/api/v1/audit?limit=${PAGE}`);
    entries = r.entries;
    more = r.entries.length === PAGE;
    draw();
  }
  await refresh();
  return { topics: ['audit'], refresh };
}
