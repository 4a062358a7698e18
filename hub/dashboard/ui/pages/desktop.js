/* global location, WebSocket, URLSearchParams */
// A VM workspace's screen in the browser: noVNC (served by the hub from its npm package) over the hub's
// console WebSocket. Each connection needs a one-time ticket (POST, bound to this session, valid ~30 s),
// sent in the WebSocket subprotocol header, never in the URL. When the connection drops (the hub
// restarted, the node reconnected) the page asks for a new ticket and reconnects on its own.
import RFB from '../vendor/novnc/core/rfb.js';
import { api, ApiError } from '../api.js';
import { h, fill, errorBox } from '../dom.js';

const MAX_DELAY_MS = 5000;
// Connections in a row that closed before the VNC handshake (the VM is not running, no console...): then stop asking.
const MAX_FAILED = 5;

/** Renders the desktop page of the workspace named in the hash (#/desktop?workspace=NAME). */
export async function render(main) {
  const name = new URLSearchParams(location.hash.split('?')[1] ?? '').get('workspace') ?? '';
  const status = h('span', { role: 'status', 'data-testid': 'desktop-status' }, 'Connecting…');
  const screen = h('div.desktop-screen', { 'data-testid': 'desktop-screen', 'data-state': 'connecting' });
  const extra = h('span');
  const msg = h('div', { 'aria-live': 'polite' });
  fill(main, h('h1', {}, `Desktop of ${name}`),
    h('p.desktop-bar', {}, h('a', { href: '#/workspaces' }, 'Back to workspaces'), status, extra),
    msg, screen);

  let rfb = null;
  let disposed = false;
  let attempt = 0;
  let timer = null;
  let connections = 0;
  let failed = 0;

  const setState = (state, text) => {
    screen.dataset.state = state;
    status.textContent = text;
  };

  function retry(text) {
    if (disposed) return;
    const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** attempt++);
    setState('reconnecting', `${text} Reconnecting in ${Math.round(delay / 100) / 10} s…`);
    timer = setTimeout(() => void connect(), delay);
  }

  function guacamoleButton() {
    const b = h('button.small', { type: 'button', 'data-testid': 'open-guacamole' }, 'Open in Guacamole');
    b.addEventListener('click', async () => {
      try {
        const link = await api(`/api/v1/workspaces/${encodeURIComponent(name)}/desktop/guacamole`, { method: 'POST', body: {} });
        window.open(link.url, '_blank', 'noopener');
      } catch (err) {
        fill(msg, errorBox(err.message));
      }
    });
    return b;
  }

  function giveUp() {
    setState('failed', 'The desktop does not answer.');
    const again = h('button.small', { type: 'button' }, 'Try again');
    again.addEventListener('click', () => {
      failed = 0;
      attempt = 0;
      fill(msg);
      void connect();
    });
    fill(msg, errorBox('The console closed before it showed anything: is the VM running? The audit log of the hub (desktop.close) records why the node closed it.'), again);
  }

  async function connect() {
    if (disposed) return;
    let t;
    try {
      t = await api(`/api/v1/workspaces/${encodeURIComponent(name)}/desktop/ticket`, { method: 'POST', body: {} });
    } catch (err) {
      // Not found, not a desktop, not allowed: say so and stop. Anything else (hub restarting, node offline): retry.
      if (err instanceof ApiError && [400, 403, 404, 409].includes(err.status)) {
        setState('failed', 'Not available.');
        fill(msg, errorBox(err.message));
        return;
      }
      retry(err instanceof ApiError ? `${err.message}.` : 'The hub is not answering.');
      return;
    }
    fill(msg);
    if (t.guacamole && extra.childElementCount === 0) extra.append(guacamoleButton());
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${t.path}`;
    const ws = new WebSocket(url, ['binary', `${t.protocolPrefix}${t.ticket}`]);
    rfb = new RFB(screen, ws);
    rfb.scaleViewport = true;
    rfb.focusOnClick = true;
    let shown = false;
    rfb.addEventListener('connect', () => {
      shown = true;
      attempt = 0;
      failed = 0;
      connections += 1;
      screen.dataset.connections = String(connections);
      setState('connected', `Connected to ${name} on ${t.node}.`);
      rfb.focus();
    });
    rfb.addEventListener('disconnect', () => {
      rfb = null;
      if (!shown && ++failed >= MAX_FAILED) giveUp();
      else retry('Disconnected.');
    });
  }

  await connect();
  return {
    topics: [],
    refresh() {},
    dispose() {
      disposed = true;
      clearTimeout(timer);
      rfb?.disconnect();
    },
  };
}
