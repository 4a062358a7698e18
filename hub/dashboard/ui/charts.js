// Charts: uPlot for the fleet utilization chart, and tiny inline SVG sparklines for per-GPU series
// (dozens per page; an SVG polyline each is far lighter than a chart instance each).
import uPlot from '/ui/vendor/uPlot.esm.js';

const NS = 'http://www.w3.org/2000/svg';

/** A sparkline of `values` (nulls are gaps) scaled to [min, max]; `label` names it for screen readers. */
export function sparkline(values, { min = 0, max, label, width = 120, height = 28 } = {}) {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  const nums = values.filter((v) => typeof v === 'number');
  const last = nums.at(-1);
  svg.setAttribute('aria-label', `${label}: ${nums.length} samples${last === undefined ? '' : `, latest ${last}`}`);
  const hi = max ?? Math.max(1, ...nums);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (typeof v !== 'number') {
      pen = false;
      return;
    }
    const y = height - 2 - ((Math.min(Math.max(v, min), hi) - min) / (hi - min || 1)) * (height - 4);
    d += `${pen ? 'L' : 'M'}${(i * step).toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  });
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', d === '' ? `M0,${height - 2}L${width},${height - 2}` : d);
  path.setAttribute('class', d === '' ? 'spark-empty' : 'spark-line');
  svg.append(path);
  return svg;
}

/** A uPlot line chart of [[unixSeconds, value]...] into `el`, resized with its container; returns a disposer. */
export function lineChart(el, points, { label, unit = '%', max = 100 } = {}) {
  const data = [points.map((p) => p[0]), points.map((p) => p[1])];
  const width = () => Math.max(240, el.clientWidth);
  const opts = {
    width: width(),
    height: 200,
    // The last hour, always: one sample must not stretch the axis over years.
    scales: { x: { time: true, range: () => [Math.floor(Date.now() / 1000) - 3600, Math.floor(Date.now() / 1000)] }, y: { range: [0, max] } },
    axes: [{ stroke: '#555' }, { stroke: '#555', values: (_u, vals) => vals.map((v) => `${v}${unit}`) }],
    series: [{}, { label, stroke: '#1f5fbf', width: 2, fill: 'rgba(31,95,191,0.12)', value: (_u, v) => (v === null || v === undefined ? '—' : `${v}${unit}`) }],
    legend: { show: true },
  };
  const plot = new uPlot(opts, data, el);
  const onResize = () => plot.setSize({ width: width(), height: 200 });
  window.addEventListener('resize', onResize);
  return { update: (pts) => plot.setData([pts.map((p) => p[0]), pts.map((p) => p[1])]), dispose: () => { window.removeEventListener('resize', onResize); plot.destroy(); } };
}
