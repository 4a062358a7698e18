/* global history, location, EventSource, sessionStorage */
// The dashboard shell: who is logged in, the hash router (#/overview, #/nodes...), the live-update
// stream (Server-Sent Events) that tells the current page which topics changed, and logout.
import { api, setCsrf, ApiError } from './api.js';
import { h, fill, errorBox } from './dom.js';
import { renderLogin } from './pages/login.js';
import { nextUrl } from './next-url.js';

const PAGES = {
  overview: { title: 'Overview', admin: true, load: () => import('./pages/overview.js') },
  nodes: { title: 'Nodes', admin: true, load: () => import('./pages/nodes.js') },
  workspaces: { title: 'Workspaces', load: () => import('./pages/workspaces.js') },
  billing: { title: 'Billing', load: () => import('./pages/billing.js') },
  enrollment: { title: 'Enrollment', admin: true, load: () => import('./pages/enrollment.js') },
  audit: { title: 'Audit log', admin: true, load: () => import('./pages/audit.js') },
  tokens: { title: 'API tokens', load: () => import('./pages/tokens.js') },
  // Not in the menu: opened from a workspace's "Open desktop" (#/desktop?workspace=NAME).
  desktop: { title: 'Desktop', load: () => import('./pages/desktop.js') },
};

const main = document.getElementById('main');
const live = document.getElementById('live');
let me = null;
let current = null;
let events = null;
let pending = new Set();
let timer = null;
// Focus moves to the new page's content on navigation, but not on the first load (Tab reaches the skip link first).
let firstPage = true;

function routeName() {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0];
  if (name in PAGES && (!PAGES[name].admin || me?.role === 'admin')) return name;
  return me?.role === 'admin' ? 'overview' : 'workspaces';
}

function showChrome() {
  document.getElementById('nav').hidden = me === null;
  document.getElementById('who').hidden = me === null;
  if (me === null) return;
  const role = me.role === 'admin' ? 'admin' : `tenant ${me.tenant}${me.tenantRole === 'admin' ? ', tenant admin' : ''}`;
  fill(document.getElementById('who-name'), `${me.subject} (${role})`);
  for (const li of document.querySelectorAll('#nav li[data-role="admin"]')) li.hidden = me.role !== 'admin';
}

// Navigations run one after the other: a page still loading when the hash changes again must not paint
// itself over the newer page when it finishes (each run reads the hash when it starts).
let navigating = Promise.resolve();
function navigate() {
  navigating = navigating.then(renderRoute, renderRoute);
  return navigating;
}

async function renderRoute() {
  if (me === null) return;
  const name = routeName();
  // A page's own query (#/desktop?workspace=...) stays; an unknown or forbidden route becomes the default page.
  if (location.hash.replace(/^#\/?/, '').split('?')[0] !== name) history.replaceState(null, '', `#/${name}`);
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  current?.dispose?.();
  current = null;
  document.title = `${PAGES[name].title} · FoundryCloud hub`;
  fill(main, h('h1', {}, PAGES[name].title), h('p.muted', {}, 'Loading…'));
  try {
    const mod = await PAGES[name].load();
    current = await mod.render(main, { me });
    if (!firstPage) main.focus({ preventScroll: true });
    firstPage = false;
  } catch (err) {
    handleError(err);
  }
}

/** Handles an error of a page: back to login on 401, a message otherwise. */
export function handleError(err) {
  if (err instanceof ApiError && err.status === 401) {
    logoutLocal();
    return;
  }
  main.append(errorBox(err instanceof Error ? err.message : String(err)));
}

function connectEvents() {
  events?.close();
  events = new EventSource('/api/v1/events');
  events.addEventListener('change', (e) => {
    for (const t of JSON.parse(e.data).topics) pending.add(t);
    clearTimeout(timer);
    timer = setTimeout(flush, 150);
  });
  events.addEventListener('open', () => (live.textContent = ''));
  events.addEventListener('error', () => (live.textContent = 'Live updates interrupted; reconnecting…'));
}

async function flush() {
  const topics = pending;
  pending = new Set();
  if (current?.topics?.some((t) => topics.has(t))) {
    try {
      await current.refresh();
    } catch (err) {
      handleError(err);
    }
  }
}

function logoutLocal() {
  events?.close();
  events = null;
  current?.dispose?.();
  current = null;
  me = null;
  setCsrf(null);
  showChrome();
  renderLogin(main, { onLogin });
}

/** Goes to `next` unless this tab was sent there a moment ago (then the hub did not see the session: say so instead of looping). */
function followNext(next) {
  const KEY = 'foundry-next';
  const last = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
  if (last !== null && last.next === next && Date.now() - last.at < 15_000) {
    sessionStorage.removeItem(KEY);
    history.replaceState(null, '', location.pathname + location.hash);
    return false;
  }
  sessionStorage.setItem(KEY, JSON.stringify({ next, at: Date.now() }));
  // Back to the app: this navigation starts on the hub's own page, so the browser sends the session cookie.
  location.replace(next);
  return true;
}

async function onLogin(session) {
  const next = nextUrl();
  if (next !== null && followNext(next)) return;
  const looped = next !== null;
  setCsrf(session.csrfToken);
  me = await api('/api/v1/auth/me');
  setCsrf(me.csrfToken);
  showChrome();
  connectEvents();
  await navigate();
  if (looped) main.prepend(errorBox('The app could not be opened: the hub did not receive your session. Open the app again; if this repeats, allow cookies for this site.'));
}

document.getElementById('logout').addEventListener('click', async () => {
  let next = '/ui/';
  try {
    next = (await api('/api/v1/auth/logout', { method: 'POST', body: {} })).redirect ?? next;
  } finally {
    logoutLocal();
  }
  // A single sign-on session also ends at the identity provider, which then sends the browser back here.
  if (next !== '/ui/') location.assign(next);
});
window.addEventListener('hashchange', () => void navigate());

try {
  const s = await api('/api/v1/auth/session');
  if (s.loggedIn) await onLogin(s);
  else logoutLocal();
} catch (err) {
  fill(main, errorBox(`the hub is not answering: ${err.message}`));
}
