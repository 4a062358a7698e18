/* global Node */
// Tiny DOM helpers: elements are built with textContent only, never innerHTML, so data cannot inject markup.

/** h('tag.class#id', {attrs}, ...children): builds an element; strings become text nodes. */
export function h(spec, attrs = {}, ...children) {
  const [, tag = 'div', rest = ''] = /^([a-z0-9]+)?(.*)$/.exec(spec) ?? [];
  const el = document.createElement(tag);
  for (const m of rest.matchAll(/([.#])([\w-]+)/g)) {
    if (m[1] === '.') el.classList.add(m[2]);
    else el.id = m[2];
  }
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table with a caption, header row and body rows (cells: strings or nodes). */
export function table(caption, headers, rows, empty = 'Nothing yet.') {
  if (rows.length === 0) return h('p.muted', {}, empty);
  return h('div.scroll', { role: 'region', 'aria-label': caption, tabindex: '0' },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', { 'data-label': headers[i] }, c))))))));
}

/** Relative age of an ISO time ("3 min ago"). */
export function ago(iso, now = Date.now()) {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Duration since an ISO time ("2 h 5 min"). */
export function since(iso, now = Date.now()) {
  if (!iso) return '—';
  const m = Math.max(0, Math.floor((now - Date.parse(iso)) / 60000));
  if (m < 60) return `${m} min`;
  if (m < 1440) return `${Math.floor(m / 60)} h ${m % 60} min`;
  return `${Math.floor(m / 1440)} d ${Math.floor((m % 1440) / 60)} h`;
}

/** A state badge with text (colour is never the only signal). */
export function badge(text, kind = text) {
  return h(`span.badge.b-${String(kind).toLowerCase().replace(/[^a-z-]/g, '')}`, {}, text);
}

/** An error message box. */
export function errorBox(message) {
  return h('p.error', { role: 'alert' }, message);
}

/** A byte count in SI units ("2.4 TB"); '—' when absent. */
export function bytes(n) {
  if (typeof n !== 'number') return '—';
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
