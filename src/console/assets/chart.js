// chart.js — a horizontal bar chart in SVG (no library): one bar per group,
// its label and value beside it. Sizes are SVG attributes, not inline styles,
// so the strict Content-Security-Policy holds.
const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** items: [{label, value}] → an <svg> with role=img and a text title. */
export function barChart(items, title) {
  const rowHeight = 22;
  const labelWidth = 160;
  const valueWidth = 90;
  const width = 640;
  const barSpace = width - labelWidth - valueWidth;
  const max = Math.max(0, ...items.map((i) => Number(i.value) || 0));
  const height = Math.max(rowHeight, items.length * rowHeight);
  const root = svg('svg', {viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', class: 'chart',
    preserveAspectRatio: 'xMinYMin meet', 'aria-label': title});
  root.append(svg('title', {}, title));
  items.forEach((item, i) => {
    const y = i * rowHeight;
    const value = Number(item.value) || 0;
    const w = max > 0 ? Math.max(1, (value / max) * barSpace) : 0;
    const label = String(item.label);
    root.append(
      svg('text', {x: labelWidth - 6, y: y + rowHeight / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle',
        class: 'chart-label'}, label.length > 24 ? label.slice(0, 23) + '…' : label),
      svg('rect', {x: labelWidth, y: y + 3, width: w, height: rowHeight - 6, rx: 2, class: 'chart-bar'}),
      svg('text', {x: labelWidth + w + 6, y: y + rowHeight / 2, 'dominant-baseline': 'middle', class: 'chart-value'},
        Number.isFinite(value) ? value.toLocaleString('en-US') : String(item.value)));
  });
  return root;
}
