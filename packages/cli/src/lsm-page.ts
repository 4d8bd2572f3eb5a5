/**
 * `strata lsm`: one self-contained HTML page (inline CSS, script and data; no network) that
 * draws the tree as Pebble's `tool lsm` does. Levels are horizontal bands, L0 on top; each table
 * is a box placed by its key range and as tall as its bytes (relative to the largest table of
 * the step); L0's overlapping tables get rows of their own, newest on top. The manifest's edits
 * are steps: a slider and the arrow keys move through them; the tables an edit added are
 * outlined; hovering a box shows its details.
 *
 * The x axis is key ORDER, not key value: every distinct boundary key of every table in the
 * history gets a rank, so a range of a few keys is as visible as a wide one.
 */
import { compareKeys } from '@strata-db/memtable';
import type { ManifestHistory } from '@strata-db/engine';
import { printableKey } from './formats.js';

export interface LsmData {
  readonly title: string;
  readonly numLevels: number;
  readonly keys: readonly string[];
  /** fileNumber → [size, level when added, rank of smallest, rank of largest, minSeq, maxSeq, entries, tombstones] */
  readonly tables: Readonly<Record<number, readonly number[]>>;
  /** One per manifest edit: tables added [level, fileNumber] and deleted fileNumbers, and scalars. */
  readonly steps: readonly { readonly add: readonly (readonly [number, number])[]; readonly del: readonly number[]; readonly logNumber?: number; readonly lastSequence?: number }[];
}

export function lsmData(history: ManifestHistory, title: string, numLevels: number): LsmData {
  const boundaries: Uint8Array[] = [];
  for (const r of history.records) for (const a of r.added) boundaries.push(a.file.smallestKey, a.file.largestKey);
  boundaries.sort(compareKeys);
  const distinct: Uint8Array[] = [];
  for (const k of boundaries) if (distinct.length === 0 || compareKeys(distinct[distinct.length - 1]!, k) !== 0) distinct.push(k);
  const rank = (k: Uint8Array): number => {
    let lo = 0;
    let hi = distinct.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(distinct[mid]!, k) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const tables: Record<number, number[]> = {};
  let levels = numLevels;
  const steps = history.records.map((r) => {
    for (const a of r.added) {
      const f = a.file;
      levels = Math.max(levels, a.level + 1);
      tables[f.fileNumber] = [f.fileSize, a.level, rank(f.smallestKey), rank(f.largestKey), f.minSeq, f.maxSeq, f.entryCount, f.tombstoneCount];
    }
    return {
      add: r.added.map((a) => [a.level, a.file.fileNumber] as const),
      del: r.deleted.map((d) => d.fileNumber),
      ...(r.logNumber === undefined ? {} : { logNumber: r.logNumber }),
      ...(r.lastSequence === undefined ? {} : { lastSequence: r.lastSequence }),
    };
  });
  return { title, numLevels: levels, keys: distinct.map(printableKey), tables, steps };
}

/** Live tables per step (fileNumber → level), as the page computes them: for tests and tools. */
export function liveTablesPerStep(data: LsmData): Map<number, number>[] {
  const out: Map<number, number>[] = [];
  let live = new Map<number, number>();
  for (const s of data.steps) {
    live = new Map(live);
    for (const d of s.del) live.delete(d);
    for (const [level, n] of s.add) live.set(n, level);
    out.push(live);
  }
  return out;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function lsmPage(data: LsmData): string {
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)} — Strata LSM</title>
<style>
  body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #1d2330; background: #fbfbfd; }
  h1 { font-size: 16px; margin: 0 0 8px; }
  #controls { display: flex; gap: 12px; align-items: center; margin-bottom: 8px; }
  #step { width: 480px; }
  #info { color: #4a5163; }
  svg { background: #fff; border: 1px solid #d8dbe3; }
  .band { fill: #f3f5f9; }
  .band.odd { fill: #eaeef5; }
  .label { font-size: 12px; fill: #4a5163; }
  rect.table { fill: #6c8ebf; stroke: #2f4f7f; stroke-width: 0.5; }
  rect.table.l0 { fill: #d79b00; stroke: #8a6400; }
  rect.table.added { stroke: #1b8a3a; stroke-width: 2; }
  rect.table:hover { fill: #b85450; }
  #tip { position: fixed; pointer-events: none; background: #1d2330; color: #fff; padding: 6px 8px; border-radius: 4px; font: 12px/1.4 ui-monospace, monospace; white-space: pre; display: none; }
  .axis { font: 11px ui-monospace, monospace; fill: #6b7280; }
</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<div id="controls">
  <input id="step" type="range" min="0" value="0" aria-label="manifest edit">
  <span id="info"></span>
</div>
<svg id="lsm" width="1000" height="100" role="img" aria-label="LSM tree"></svg>
<div id="tip"></div>
<p id="help" style="color:#6b7280">Left/right arrow keys or the slider: move through the manifest's edits (step 0 is the manifest's snapshot). Boxes: tables by key range (x) and size (height); outlined: added by this edit.</p>
<script id="data" type="application/json">${json}</script>
<script>
(() => {
  const data = JSON.parse(document.getElementById('data').textContent);
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.getElementById('lsm');
  const slider = document.getElementById('step');
  const info = document.getElementById('info');
  const tip = document.getElementById('tip');
  const W = 1000, LEFT = 48, RIGHT = 12, TOP = 8, BAND = 72, L0ROW = 28, GAP = 6;
  const nKeys = Math.max(1, data.keys.length - 1);
  const x = (r) => LEFT + (r / nKeys) * (W - LEFT - RIGHT);
  const lives = [];
  let live = new Map();
  for (const s of data.steps) {
    live = new Map(live);
    for (const d of s.del) live.delete(d);
    for (const [level, n] of s.add) live.set(n, level);
    lives.push(live);
  }
  slider.max = String(Math.max(0, data.steps.length - 1));
  const bytes = (n) => n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(2) + ' MiB';
  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    parent.appendChild(e);
    return e;
  }
  function draw(i) {
    const step = data.steps[i];
    const tables = lives[i] || new Map();
    const added = new Set(step ? step.add.map((a) => a[1]) : []);
    const byLevel = [];
    for (let l = 0; l < data.numLevels; l++) byLevel.push([]);
    let maxSize = 1;
    for (const [n, level] of tables) {
      byLevel[level].push(n);
      maxSize = Math.max(maxSize, data.tables[n][0]);
    }
    // L0 rows: newest (largest maxSeq) on top, each table in the first row where it overlaps nothing.
    const l0 = byLevel[0].slice().sort((a, b) => data.tables[b][5] - data.tables[a][5]);
    const rows = [];
    const rowOf = new Map();
    for (const n of l0) {
      const t = data.tables[n];
      let r = 0;
      while (rows[r] && rows[r].some((m) => !(data.tables[m][3] < t[2] || data.tables[m][2] > t[3]))) r++;
      (rows[r] = rows[r] || []).push(n);
      rowOf.set(n, r);
    }
    const heights = byLevel.map((_, l) => (l === 0 ? Math.max(1, rows.length) * L0ROW : BAND));
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    let y = TOP;
    const tops = [];
    heights.forEach((h, l) => {
      tops.push(y);
      el('rect', { class: 'band' + (l % 2 ? ' odd' : ''), x: 0, y: y, width: W, height: h }, svg);
      const label = el('text', { class: 'label', x: 6, y: y + 16 }, svg);
      label.textContent = 'L' + l;
      const count = el('text', { class: 'label', x: 6, y: y + 30 }, svg);
      count.textContent = byLevel[l].length ? byLevel[l].length + '' : '';
      y += h + GAP;
    });
    const axisY = y + 12;
    if (data.keys.length) {
      const a = el('text', { class: 'axis', x: LEFT, y: axisY }, svg);
      a.textContent = data.keys[0];
      const b = el('text', { class: 'axis', x: W - RIGHT, y: axisY, 'text-anchor': 'end' }, svg);
      b.textContent = data.keys[data.keys.length - 1];
    }
    svg.setAttribute('height', String(axisY + 8));
    for (let l = 0; l < data.numLevels; l++) {
      for (const n of byLevel[l]) {
        const t = data.tables[n];
        const rowH = l === 0 ? L0ROW : BAND;
        const base = l === 0 ? tops[0] + rowOf.get(n) * L0ROW : tops[l];
        const h = Math.max(3, (rowH - 6) * (t[0] / maxSize));
        const x0 = x(t[2]);
        const w = Math.max(3, x(t[3]) - x0);
        const r = el('rect', { class: 'table' + (l === 0 ? ' l0' : '') + (added.has(n) ? ' added' : ''), x: x0, y: base + rowH - 3 - h, width: w, height: h, 'data-file': n }, svg);
        r.addEventListener('mousemove', (ev) => {
          tip.style.display = 'block';
          tip.style.left = ev.clientX + 12 + 'px';
          tip.style.top = ev.clientY + 12 + 'px';
          tip.textContent = 'table ' + String(n).padStart(6, '0') + '.sst  L' + l + '\\n' + bytes(t[0]) + '  ' + t[6] + ' entries, ' + t[7] + ' range tombstones\\nkeys ' + data.keys[t[2]] + ' .. ' + data.keys[t[3]] + '\\nseq ' + t[4] + '..' + t[5];
        });
        r.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
      }
    }
    let total = 0;
    for (const [n] of tables) total += data.tables[n][0];
    info.textContent = 'edit ' + i + ' of ' + (data.steps.length - 1) + (step ? ': +' + step.add.length + ' −' + step.del.length + ' tables' : '') +
      ' · ' + tables.size + ' live tables, ' + bytes(total) + (step && step.lastSequence !== undefined ? ' · last seq ' + step.lastSequence : '');
    slider.value = String(i);
  }
  let current = Math.max(0, data.steps.length - 1);
  slider.addEventListener('input', () => { current = Number(slider.value); draw(current); });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowLeft' && current > 0) current--;
    else if (ev.key === 'ArrowRight' && current < data.steps.length - 1) current++;
    else return;
    ev.preventDefault();
    draw(current);
  });
  draw(current);
})();
</script>
</body>
</html>
`;
}
