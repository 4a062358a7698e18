// Billing: per tenant and month, the invoice lines and totals (allocated GPU time; measured
// utilization shown beside it, labelled, never in the amount), the running cost of the month so far,
// and the CSV download. GPU time without a price shows as an unpriced line (amount 0, the reason);
// admins also see the invoice's alerts (unpriced lines, usage records excluded from the amount) and the
// usage records the hub refused (node, seq, workspace, reason, field, received at).
import { api } from '../api.js';
import { h, fill, table, errorBox } from '../dom.js';

const thisMonth = () => new Date().toISOString().slice(0, 7);

/** Renders the billing page. */
export async function render(main, { me }) {
  const catalog = await api('/api/v1/catalog');
  const tenants = me.role === 'admin' ? catalog.tenants : catalog.tenants.filter((t) => t.name === me.tenant);
  const body = h('div', { 'aria-live': 'polite' });
  const tenantSel = h('select#b-tenant', { name: 'tenant' }, tenants.map((t) => h('option', { value: t.name }, t.displayName ? `${t.displayName} (${t.name})` : t.name)));
  const monthIn = h('input#b-month', { type: 'month', name: 'month', value: thisMonth(), required: true });
  const form = h('form.card.inline', { 'aria-label': 'Invoice selection' },
    h('div.row', {}, h('div.field', {}, h('label', { for: 'b-tenant' }, 'Tenant'), tenantSel), h('div.field', {}, h('label', { for: 'b-month' }, 'Month'), monthIn)),
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void refresh().catch((err) => fill(body, errorBox(err.message)));
  });
  fill(main, h('h1', {}, 'Billing'), form, body);

  async function refresh() {
    const tenant = tenantSel.value;
    const month = monthIn.value;
    if (!tenant) return fill(body, h('p.muted', {}, 'No tenants in the infra repo.'));
    const t = encodeURIComponent(tenant);
    const [inv, usage] = await Promise.all([api(`/api/v1/tenants/${t}/invoices/${month}`), api(`/api/v1/tenants/${t}/usage?month=${month}`)]);
    const csvHref = `/api/v1/tenants/${t}/invoices/${month}?format=csv`;
    fill(body,
      h('section', { 'aria-labelledby': 'h-running' }, h('h2#h-running', {}, inv.frozen ? `Closed month ${month}` : `Running cost, ${month} so far`),
        h('ul.tiles', {},
          h('li.tile', {}, h('span.tile-v', { 'data-testid': 'running-total' }, `${usage.total} ${usage.currency}`), h('span.tile-k', {}, inv.frozen ? 'total (frozen)' : `as of ${new Date(usage.asOf).toLocaleTimeString()}`)),
          h('li.tile', {}, h('span.tile-v', {}, usage.gpuHours), h('span.tile-k', {}, 'GPU-hours allocated')),
          h('li.tile', {}, h('span.tile-v', {}, `${usage.quota.gpusHeld}${usage.quota.maxGpus === null ? '' : ` / ${usage.quota.maxGpus}`}`), h('span.tile-k', {}, 'GPUs held / quota')))),
      ...(inv.alerts ?? []).map((a) => h('p.error', { role: 'alert', 'data-testid': `alert-${a.code}` }, `${a.code}: ${a.message}`,
        ...(a.records ?? []).map((r) => h('span', {}, h('br'), `${r.node} #${r.seq}: ${r.reason}`)))),
      h('section', { 'aria-labelledby': 'h-invoice' }, h('h2#h-invoice', {}, `Invoice ${inv.displayName ?? inv.tenant}, ${inv.month}`),
        h('p', {}, h('a.button', { href: csvHref, download: `invoice-${tenant}-${month}.csv`, 'data-testid': 'csv-link' }, 'Download CSV')),
        table(`Invoice lines of ${tenant} for ${month}`, ['Workspace', 'Resource', 'Price from', 'Quantity', 'Unit price', 'Amount', 'Measured utilization (not billed)'],
          inv.lines.map((l) => [l.workspace, resourceLabel(l), l.periodFrom.replace('T', ' ').replace('Z', ' UTC'), `${l.quantity ?? l.gpuHours} ${l.unit ?? 'GPU-hour'}s`, l.unpriced ? '—' : `${l.unitPrice} / ${l.unit ?? 'GPU-hour'}`, l.unpriced ? `${l.amount} (unpriced: ${l.unpriced})` : l.amount, l.measuredUtilization ? `${l.measuredUtilization.percent}%` : '—']),
          inv.emptyReason ? `Nothing billed in this month: ${inv.emptyReason}.` : 'Nothing billed in this month.'),
        h('p.total', {}, 'Total: ', h('strong', { 'data-testid': 'invoice-total' }, `${inv.totals.amount} ${inv.currency}`), ` (GPU time: ${inv.totals.gpuHours} GPU-hours)`)));
  }
  // Admins only (the API answers a tenant 403): usage records the hub refused, never billed, of every tenant.
  const refusedBox = me.role === 'admin' ? h('section', { 'aria-labelledby': 'h-refused' }) : null;
  if (refusedBox) main.append(refusedBox);

  async function refreshRefused() {
    if (!refusedBox) return;
    const r = await api('/api/v1/usage/refused?limit=100');
    const counts = Object.entries(r.byReason).map(([k, n]) => `${k} ${n}`).join(', ');
    fill(refusedBox, h('h2#h-refused', {}, `Refused usage (${r.refused.length}${r.refused.length === 100 ? '+' : ''})`),
      h('p.muted', {}, 'Usage records the hub refused: acked so the node\'s outbox drains, never billed.', counts ? ` All time by reason: ${counts}.` : ''),
      table('Refused usage records, newest first', ['Node', 'Seq', 'Workspace', 'Reason', 'Field', 'Received at', 'Message'],
        r.refused.map((x) => [x.node, String(x.seq), x.workspace ?? '—', h('span', { 'data-testid': `refused-${x.node}-${x.seq}` }, x.reason), x.field ?? '—', x.receivedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'), x.message]),
        'No usage record was refused.'));
  }
  const refreshAll = () => Promise.all([refresh(), refreshRefused()]);
  await refreshAll();
  return { topics: ['billing', 'refused'], refresh: refreshAll };
}

const RESOURCE_NAMES = { vcpu: 'vCPUs', memory: 'Memory', storage: 'Storage' };

/** What a line bills: the GPU model for GPU time, else the resource; late records (after the month closed) say so. */
function resourceLabel(l) {
  const what = l.resource === undefined || l.resource === 'gpu' ? l.gpuModel || 'GPU (model unknown)' : RESOURCE_NAMES[l.resource] ?? l.resource;
  return l.late ? `${what} (late)` : what;
}
