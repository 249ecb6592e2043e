// The GC charts (the "Garbage collector" group under the live charts,
// #gc-charts): what the guest's garbage-collected heap did, from the report's
// `gc` section and the series gc.heap_bytes, gc.alloc_rate and
// gc.mark_progress (docs/DESIGN.md "Report JSON"). live_json() carries them
// whenever the guest used the gc.* instructions; every report holds the whole
// (bounded) history, so each redraw replaces the data instead of appending.
//
//   pauses      every pause (report gc.pauses: [guest instructions, ns]) as a
//               point, with the guide's 1 ms target as a line
//   pause_hist  gc.pause_ns_histogram as bars
//   heap        gc.heap_bytes over guest instructions, the heap target and
//               limit as reference lines (the limit when it is on the same
//               scale), the allocation rate on a second axis
//   marking     gc.mark_progress, and the mark quota over the run
//               (gc.quota_series) when gc.adaptive_quota is on
// and a line of figures under them (#gc-summary) with the marking mode and
// why (#gc-mode: in the threads build the marker worker marks concurrently;
// the plain build has none, so there concurrent marking falls back to
// incremental slices and says so).
//
// A program that never used the GC heap leaves every chart with a note
// (.gc-none) instead of an empty box. The charts over guest instructions
// mark the moments knobs changed while the guest ran (report.retunes, at the
// mark's instructions; charts.js markHook).

import { uPlot, markHook } from './charts.js';
import { t } from './i18n.js';
import { get, num } from './dom.js';

export const GC_CHART_NAMES = ['pauses', 'pause_hist', 'heap', 'marking'];
const HEIGHT = 200;
const DRAW_EVERY_MS = 250; // at most this often while a run goes on (the final report always)
const COLORS = ['#1f6feb', '#d9480f', '#2f9e44', '#9c36b5', '#c2255c'];
const MIB = 2 ** 20;
const TARGET_MS = 1; // the guide's pause target (GUIDE_TARGETS gc_pause)

function fmtNs(ns) {
  if (ns == null || !Number.isFinite(ns) || ns >= 1e15) return '∞'; // the last bucket's bound is u64::MAX
  if (ns >= 1e9) return `${+(ns / 1e9).toPrecision(3)} s`;
  if (ns >= 1e6) return `${+(ns / 1e6).toPrecision(3)} ms`;
  if (ns >= 1e3) return `${+(ns / 1e3).toPrecision(3)} µs`;
  return `${ns} ns`;
}

const ms = (ns) => (num(ns) == null ? '–' : `${(ns / 1e6).toFixed(ns >= 1e8 ? 0 : 2)} ms`);
const mib = (b) => (num(b) == null ? '–' : `${+(b / MIB).toFixed(b >= 100 * MIB ? 0 : 1)} MiB`);
const count = (v) => (num(v) == null ? '–' : Math.round(v).toLocaleString('en'));

/** Points of one report series ([[instructions, value], ...]) as two columns, x in M instructions. */
function columns(series, scale = 1) {
  const pts = (Array.isArray(series) ? series : []).filter((p) => Array.isArray(p) && typeof p[0] === 'number');
  return [pts.map((p) => p[0] / 1e6), pts.map((p) => (num(p[1]) == null ? null : p[1] * scale))];
}

/** uPlot.join of two-column tables, where an empty table gives a column of nulls. */
function join(parts) {
  const full = parts.filter((p) => p[0].length);
  if (!full.length) return [[], ...parts.map(() => [])];
  const joined = full.length > 1 ? uPlot.join(full) : full[0].map((c) => c.slice());
  const out = [joined[0]];
  let k = 1;
  for (const p of parts) out.push(p[0].length ? joined[k++] : joined[0].map(() => null));
  return out;
}

const line = (label, i, extra = {}) => ({ label, stroke: COLORS[i % COLORS.length], width: 1.5, ...extra });
const flat = (label, i) => line(label, i, { dash: [5, 4], width: 1, points: { show: false } });

/** The chart's uPlot options and data for `report` (null: nothing to draw). */
function build(name, report) {
  const gc = report.gc;
  const mInsns = { label: t('axis_m_insns'), insns: true }; // insns: x is M guest instructions
  switch (name) {
    case 'pauses': {
      const pts = (gc.pauses || []).filter((p) => Array.isArray(p));
      if (!pts.length) return null;
      const x = pts.map((p) => p[0] / 1e6);
      return {
        data: [x, pts.map((p) => p[1] / 1e6), x.map(() => TARGET_MS)],
        axes: [mInsns, { label: t('gc_axis_pause_ms') }],
        series: [
          line(t('gc_s_pause'), 0, { paths: () => null, points: { show: true, size: 4, fill: COLORS[0] } }),
          flat(t('gc_s_target'), 1),
        ],
        scales: { y: { range: (u, min, max) => [0, Math.max(max ?? 0, TARGET_MS * 1.2) * 1.05] } },
      };
    }
    case 'pause_hist': {
      const hist = Array.isArray(gc.pause_ns_histogram) ? gc.pause_ns_histogram : [];
      if (!hist.length || !(num(get(gc, 'pause_ns.count')) > 0)) return null;
      const labels = hist.map((b) => fmtNs(b.le_ns));
      return {
        data: [hist.map((_, i) => i), hist.map((b) => b.count ?? 0)],
        axes: [{ label: t('gc_axis_pause_le'), values: (u, splits) => splits.map((i) => labels[i] ?? '') }, { label: t('gc_axis_pauses') }],
        series: [
          line(t('gc_s_pauses'), 0, {
            fill: 'rgba(31,111,235,0.35)',
            paths: uPlot.paths.bars({ size: [0.7, 60] }),
            points: { show: false },
          }),
        ],
        xIncrs: [1, 2, 3, 4, 6, 8, 12, 16],
        xSpace: 44,
        scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] } },
      };
    }
    case 'heap': {
      const heap = columns(report.series?.['gc.heap_bytes'], 1 / MIB);
      if (!heap[0].length) return null;
      const rate = columns(report.series?.['gc.alloc_rate']);
      const data = join([heap, rate]);
      const series = [line(t('gc_s_heap'), 0), line(t('gc_s_alloc_rate'), 1, { scale: 'rate' })];
      const peak = Math.max(0, ...heap[1].filter((v) => v != null));
      const target = num(gc.heap_target_bytes);
      const limit = num(gc.heap_limit_bytes);
      if (target) {
        data.push(data[0].map(() => target / MIB));
        series.push(flat(t('gc_s_target_now'), 2));
      }
      // The limit only when it is on the heap's scale (else it flattens the curve; the caption has it).
      if (limit && limit <= 4 * Math.max(peak * MIB, target ?? 0)) {
        data.push(data[0].map(() => limit / MIB));
        series.push(flat(t('gc_s_limit'), 4));
      }
      return {
        data,
        axes: [mInsns, { label: 'MiB' }, { label: t('gc_axis_mb_s'), scale: 'rate', side: 1 }],
        series,
        scales: { y: { range: (u, min, max) => [0, Math.max(max ?? 0, 0.001) * 1.05] }, rate: { range: (u, min, max) => [0, Math.max(max ?? 0, 0.001) * 1.05] } },
      };
    }
    case 'marking': {
      const progress = columns(report.series?.['gc.mark_progress'], 100);
      const adaptive = get(report, 'config.gc.adaptive_quota') !== false;
      const quota = adaptive ? columns(gc.quota_series) : [[], []];
      if (!progress[0].length && !quota[0].length) return null;
      const series = [line(t('gc_s_mark_progress'), 0)];
      const parts = [progress];
      const axes = [mInsns, { label: t('gc_axis_progress') }];
      if (adaptive) {
        parts.push(quota);
        series.push(line(t('gc_s_mark_quota'), 1, { scale: 'us', paths: uPlot.paths.stepped({ align: 1 }) }));
        axes.push({ label: 'µs', scale: 'us', side: 1 });
      }
      return {
        data: join(parts),
        axes,
        series,
        scales: { y: { range: [0, 100] }, us: { range: (u, min, max) => [0, Math.max(max ?? 0, 1) * 1.1] } },
      };
    }
  }
  throw new Error(`no GC chart ${name}`);
}

function makePlot(host, def, width, marks = []) {
  const [x, ...ys] = def.axes;
  const hooks = x.insns ? { draw: [markHook(() => marks, (m) => (num(m.instructions) == null ? null : m.instructions / 1e6))] } : {};
  const axes = [
    { label: x.label, values: x.values, ...(def.xIncrs ? { incrs: def.xIncrs, space: def.xSpace ?? 34 } : {}) },
    ...ys.map((a) => ({ label: a.label, scale: a.scale || 'y', side: a.side ?? 3, grid: { show: !a.side } })),
  ];
  return new uPlot(
    {
      width,
      height: HEIGHT,
      scales: { x: { time: false }, ...(def.scales || {}) },
      series: [{ label: x.label }, ...def.series],
      axes,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks,
    },
    def.data,
    host,
  );
}

export class GcCharts {
  /** root: #gc-charts ([data-gc-chart=NAME] figures with .plot, .chart-empty and .gc-none). */
  constructor(root, summary, mode) {
    this.root = root;
    this.summary = summary; // #gc-summary
    this.mode = mode; // #gc-mode
    this.plots = new Map();
    this.report = null;
    this.drawnAt = -Infinity;
    this.timer = 0;
    addEventListener('resize', () => this.resize());
    this.clear();
  }

  figure(name) {
    return this.root.querySelector(`[data-gc-chart="${name}"]`);
  }

  widthOf(el) {
    return Math.max(280, Math.floor(el.clientWidth || 420) - 4);
  }

  /** A new machine: no report, every chart says that it waits for a run. */
  clear() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.drawnAt = -Infinity;
    this.report = null;
    for (const name of GC_CHART_NAMES) this.show(name, null);
    this.root.dataset.used = '';
    this.summary.hidden = true;
    this.summary.textContent = '';
    this.mode.hidden = true;
    this.mode.textContent = '';
  }

  /** A live or final report; drawn at most every DRAW_EVERY_MS while running. */
  update(report) {
    if (!report || !report.gc) return;
    this.report = report;
    const final = report.stop_reason && report.stop_reason !== 'running';
    const wait = this.drawnAt + DRAW_EVERY_MS - performance.now();
    if (final || wait <= 0) {
      clearTimeout(this.timer);
      this.timer = 0;
      this.draw();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = 0;
        if (this.report) this.draw();
      }, wait);
    }
  }

  relabel() {
    if (this.report) this.draw();
    else this.clear();
  }

  /** One chart: `def` null = nothing to plot (the note says why). */
  show(name, def, used = null, marks = []) {
    const fig = this.figure(name);
    if (!fig) return;
    const host = fig.querySelector('.plot');
    this.plots.get(name)?.destroy();
    this.plots.delete(name);
    host.replaceChildren();
    fig.querySelector('.chart-empty').hidden = used !== null; // no report yet
    fig.querySelector('.gc-none').hidden = used !== false; // the program does not use the GC
    const waiting = fig.querySelector('.gc-waiting');
    if (waiting) waiting.hidden = !(used === true && !def);
    fig.dataset.points = '0';
    if (!def) return;
    this.plots.set(name, makePlot(host, def, this.widthOf(host), marks));
    fig.dataset.points = String(def.data[0].length);
  }

  draw() {
    const r = this.report;
    this.drawnAt = performance.now();
    const used = r.gc.used === true;
    this.root.dataset.used = used ? '1' : '0';
    const marks = Array.isArray(r.retunes) ? r.retunes : [];
    for (const name of GC_CHART_NAMES) this.show(name, used ? build(name, r) : null, used, marks);
    this.drawText(r, used);
  }

  drawText(r, used) {
    const gc = r.gc;
    this.summary.hidden = !used;
    this.mode.hidden = !used;
    const heapCaption = this.figure('heap')?.querySelector('.gc-heap-caption');
    if (heapCaption) {
      heapCaption.hidden = !used;
      heapCaption.textContent = used
        ? t('gc_heap_caption')
            .replace('{limit}', mib(gc.heap_limit_bytes))
            .replace('{target}', mib(gc.heap_target_bytes))
            .replace('{committed}', mib(gc.heap_committed_bytes))
            .replace('{note}', gc.heap_note ? ` (${gc.heap_note})` : '')
        : '';
    }
    if (!used) return;
    const p = gc.pause_ns || {};
    const shards = Array.isArray(gc.barrier_hits) ? gc.barrier_hits : [];
    const parts = [
      t('gc_sum_collections')
        .replace('{n}', count(gc.collections))
        .replace('{started}', count(gc.cycles_started))
        .replace('{threshold}', count(get(gc, 'triggers.threshold')))
        .replace('{exhausted}', count(get(gc, 'triggers.exhausted')))
        .replace('{explicit}', count(get(gc, 'triggers.explicit'))),
      t('gc_sum_pauses')
        .replace('{n}', count(p.count))
        .replace('{p50}', ms(p.p50))
        .replace('{p99}', ms(p.p99))
        .replace('{max}', ms(p.max))
        .replace('{total}', ms(p.total)),
      t('gc_sum_barrier')
        .replace('{hits}', shards.length ? shards.map(count).join(' · ') : '–')
        .replace('{contended}', count(gc.barrier_contended)),
      t('gc_sum_behind').replace('{n}', count(gc.marking_fell_behind)),
      t('gc_sum_remark_cuts').replace('{n}', count(gc.remark_cuts)),
    ];
    if (num(gc.allocations_unlocked) > 0) {
      const share = (100 * num(gc.allocations_unlocked)) / Math.max(1, num(gc.allocations));
      parts.push(t('gc_sum_unlocked').replace('{n}', count(gc.allocations_unlocked)).replace('{share}', share.toFixed(1)));
    }
    if (num(gc.alloc_failures) > 0) parts.push(t('gc_sum_alloc_failures').replace('{n}', count(gc.alloc_failures)));
    if (num(gc.verify_failures) > 0) parts.push(t('gc_sum_verify').replace('{n}', count(gc.verify_failures)).replace('{first}', gc.verify_first || ''));
    this.summary.textContent = parts.join(' · ');
    this.mode.textContent = modeText(r);
  }

  resize() {
    for (const [name, u] of this.plots) {
      const host = this.figure(name).querySelector('.plot');
      u.setSize({ width: this.widthOf(host), height: HEIGHT });
    }
  }

  /** Points a chart holds (the end-to-end test reads it). */
  points(name) {
    return Number(this.figure(name)?.dataset.points ?? 0);
  }
}

/** How the collector marks, and why (the VM's reason is English only). */
function modeText(r) {
  const gc = r.gc;
  const reason = gc.concurrent_reason || '';
  if (gc.concurrent) return t('gc_mode_concurrent').replace('{reason}', reason);
  const asked = get(r, 'config.gc.concurrent_marking') === true && get(r, 'config.gc.incremental') !== false;
  if (asked) return t('gc_mode_not_in_page').replace('{reason}', reason);
  const incremental = get(r, 'config.gc.incremental') !== false;
  return t(incremental ? 'gc_mode_incremental' : 'gc_mode_stw').replace('{reason}', reason);
}
