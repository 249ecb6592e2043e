// Live charts (uPlot), fed from successive live() reports. Each chart is made
// once by one helper and fed columns; the page redraws dirty charts once per
// animation frame. Rates are computed from the difference between two
// snapshots, so the charts show what happened in each interval (40 ms for
// the first ~2 s of a machine's running, then 150 ms; see worker.js).
//
// x axis: seconds of run time (report wall_ns, which does not count pauses),
// except compile_time, whose x is the histogram bucket.
//
// Live knobs: every time chart draws a dashed vertical line at each retune
// mark (report.retunes: {wall_ns, instructions, changes}, the moment knobs
// changed while the guest ran), labelled with the changed knobs' short names
// when the label fits. The marks live in the charts' state, so each redraw
// keeps them; a new machine clears them.

import uPlot from './vendor/uPlot.esm.js';
import { t } from './i18n.js';
import { get, num } from './dom.js';

export const CHART_NAMES = ['mips', 'tiers', 'compile_time', 'code_churn', 'code_cache', 'tlb_levels', 'threshold', 'memory'];
const MAX_POINTS = 2400; // beyond this every other point is dropped (about 6 minutes at 150 ms)
// While live reports stream in (every 40 ms early in a run), the charts take
// every point but redraw at most this often. Drawing eight charts for each
// report kept the page's main thread busy most of a run (layout, paint and
// uPlot: about 1 s of a 2.6 s run), and on a 2-core machine that is the time
// the guest's Web Workers needed (BENCHMARKS.md "The page draws less while
// it runs").
const DRAW_EVERY_MS = 250;
const COLORS = ['#1f6feb', '#d9480f', '#2f9e44', '#9c36b5', '#e8590c', '#0c8599', '#c2255c', '#5c940d'];
const TIERS = ['interpreter', 'baseline', 'optimizing'];
// A live report less than this much run time after the one before, with no
// instruction run in between, is the run ending, not an interval.
const END_SNAPSHOT_NS = 1e6;
const MIB = 2 ** 20;


function fmtNs(ns) {
  if (ns == null || !Number.isFinite(ns) || ns >= 1e15) return '∞'; // the last bucket's bound is u64::MAX
  if (ns >= 1e9) return `${+(ns / 1e9).toPrecision(3)} s`;
  if (ns >= 1e6) return `${+(ns / 1e6).toPrecision(3)} ms`;
  if (ns >= 1e3) return `${+(ns / 1e3).toPrecision(3)} µs`;
  return `${ns} ns`;
}

/** One series description for uPlot, colour by position. */
function line(label, i, extra = {}) {
  return { label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false, ...extra };
}

/** Two retune marks are the same mark (two can share a moment while paused). */
const same = (a, b) =>
  a.wall_ns === b.wall_ns && a.instructions === b.instructions && JSON.stringify(a.changes) === JSON.stringify(b.changes);

/** The knobs of a mark as a short label: the last part of each key. */
function markLabel(mark) {
  return Object.keys(mark.changes || {})
    .map((k) => k.slice(k.lastIndexOf('.') + 1))
    .join(', ');
}

/**
 * A uPlot draw hook: a dashed vertical line at each mark of marks(), at
 * x = xOf(mark) (null: not on this chart), with its label when it fits
 * inside the plot. gc-charts.js uses it too (x = guest instructions).
 */
export function markHook(marks, xOf) {
  return (u) => {
    const list = marks();
    if (!list.length) return;
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const ratio = u.pxRatio ?? devicePixelRatio ?? 1;
    const min = u.scales.x.min;
    const max = u.scales.x.max;
    ctx.save();
    ctx.lineWidth = ratio;
    ctx.strokeStyle = '#495057';
    ctx.fillStyle = '#495057';
    ctx.font = `${Math.round(10 * ratio)}px sans-serif`;
    ctx.textBaseline = 'top';
    for (const mark of list) {
      const x = xOf(mark);
      if (x == null || !Number.isFinite(x) || min == null || x < min || x > max) continue;
      const px = Math.round(u.valToPos(x, 'x', true)) + 0.5;
      ctx.setLineDash([4 * ratio, 3 * ratio]);
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, top + height);
      ctx.stroke();
      const label = markLabel(mark);
      if (!label) continue;
      const w = ctx.measureText(label).width;
      const pad = 3 * ratio;
      let tx = px + pad;
      if (tx + w > left + width) tx = px - pad - w; // to the left of the line
      if (tx < left) continue; // fits on neither side
      ctx.fillText(label, tx, top + pad);
    }
    ctx.restore();
  };
}

/** The definition of each chart: its y axis/axes and series, made in the current language. */
function definition(name, state) {
  const secs = { label: t('seconds'), runTime: true }; // runTime: x is seconds of run time
  switch (name) {
    case 'mips':
      return {
        x: secs,
        axes: [{ label: 'MIPS' }],
        series: [line(t('s_mips_interval'), 0), line(t('s_mips_average'), 1, { dash: [4, 4] })],
      };
    case 'tiers':
      return { x: secs, axes: [{ label: 'MIPS' }], series: TIERS.map((n, i) => line(t(`tier_${n}`), i)) };
    case 'compile_time':
      return {
        x: { label: t('axis_compile_time'), values: (u, splits) => splits.map((i) => state.bucketLabels[i] ?? '') },
        axes: [{ label: t('axis_units') }],
        series: [
          line(t('s_units_compiled'), 0, {
            fill: 'rgba(31,111,235,0.35)',
            paths: uPlot.paths.bars({ size: [0.7, 60] }),
            points: { show: false },
          }),
        ],
        xIncrs: [1, 2, 3, 4, 6, 8, 12, 16],
        scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] } },
      };
    case 'code_churn':
      return {
        x: secs,
        axes: [{ label: t('axis_per_second') }],
        series: [
          line(t('s_invalidations'), 0),
          line(t('s_compiles'), 1),
          line(t('s_quarantines'), 2, { paths: uPlot.paths.stepped({ align: 1 }) }),
        ],
      };
    case 'code_cache':
      return {
        x: secs,
        axes: [{ label: t('axis_entries_kib') }, { label: t('axis_hit_rate'), scale: '%', side: 1 }],
        series: [
          line(t('s_entries'), 0),
          line('KiB', 1),
          line(t('s_hit_interval'), 2, { scale: '%' }),
          line(t('s_hit_whole'), 3, { scale: '%', dash: [4, 4] }),
        ],
        scales: { '%': { range: [0, 100] } },
      };
    case 'tlb_levels':
      return {
        x: secs,
        axes: [{ label: t('axis_hit_rate') }],
        series: [
          line(t('s_total'), 0, { width: 2.5 }),
          ...state.levels.map((n, i) => line(n, i + 1)),
        ],
        scales: { y: { range: [0, 100] } },
      };
    case 'threshold':
      return { x: secs, axes: [{ label: t('axis_executions') }], series: [line('jit.threshold', 0, { paths: uPlot.paths.stepped({ align: 1 }) })] };
    case 'memory':
      return {
        x: secs,
        axes: [{ label: t('axis_mib_log') }],
        series: [
          line(t('s_guest_ram'), 0),
          line(t('s_generated_code'), 1),
          line(t('s_decode_cache'), 2),
          line(t('s_jit_tables'), 3),
          line(t('s_total'), 4, { width: 2.5, dash: [4, 4] }),
        ],
        scales: { y: { distr: 3 } },
      };
  }
  throw new Error(`no chart ${name}`);
}

function makePlot(el, def, data, width, state) {
  const axes = [
    { label: def.x.label, values: def.x.values, ...(def.xIncrs ? { incrs: def.xIncrs, space: 34 } : {}) },
    ...def.axes.map((a) => ({ label: a.label, scale: a.scale || 'y', side: a.side ?? 3, grid: { show: !a.side } })),
  ];
  const opts = {
    width,
    height: 200,
    scales: { x: { time: false }, ...(def.scales || {}) },
    series: [{ label: def.x.label }, ...def.series],
    axes,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
  };
  // the time charts mark the moments knobs changed while the guest ran
  if (def.x.runTime) opts.hooks = { draw: [markHook(() => state.marks, (m) => (num(m.wall_ns) == null ? null : m.wall_ns / 1e9))] };
  return new uPlot(opts, data, el);
}

export class Charts {
  /** root: #charts; each chart goes into root's [data-chart=NAME] .plot element. */
  /** The uPlot instances are made by rebuildAll() (the page calls it once it is
   *  ready to run, so that drawing does not delay that); data is kept before. */
  constructor(root) {
    this.root = root;
    this.plots = new Map();
    this.state = { levels: [], bucketLabels: [], marks: [] };
    this.dirty = new Set();
    this.drawnAt = -Infinity; // performance.now() of the last redraw
    this.timer = 0; // a redraw waiting for DRAW_EVERY_MS to pass
    this.clear();
    addEventListener('resize', () => this.resize());
  }

  /** Empty columns for every chart (the x column first). */
  clear() {
    this.prev = null;
    this.data = {
      mips: [[], [], []],
      tiers: [[], [], [], []],
      compile_time: [[], []],
      code_churn: [[], [], [], []],
      code_cache: [[], [], [], [], []],
      tlb_levels: [[], []],
      threshold: [[], []],
      memory: [[], [], [], [], [], []],
    };
    this.state.levels = [];
    this.state.bucketLabels = [];
    this.state.marks = [];
    for (const name of CHART_NAMES) this.dirty.add(name);
    if (this.plots.size) this.rebuild('tlb_levels');
    this.schedule();
  }

  widthOf(el) {
    return Math.max(280, Math.floor(el.clientWidth || 420) - 4);
  }

  rebuild(name) {
    if (!this.built) return;
    const host = this.root.querySelector(`[data-chart="${name}"] .plot`);
    this.plots.get(name)?.destroy();
    host.replaceChildren();
    this.plots.set(name, makePlot(host, definition(name, this.state), this.data[name], this.widthOf(host), this.state));
  }

  rebuildAll() {
    this.built = true;
    for (const name of CHART_NAMES) this.rebuild(name);
  }

  resize() {
    for (const [name, u] of this.plots) {
      const host = this.root.querySelector(`[data-chart="${name}"] .plot`);
      u.setSize({ width: this.widthOf(host), height: 200 });
    }
  }

  /** Redraws the dirty charts at the next frame, or, if they were drawn
   *  less than DRAW_EVERY_MS ago, once that has passed. */
  schedule() {
    if (this.frame || this.timer) return;
    const wait = this.drawnAt + DRAW_EVERY_MS - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.schedule();
      }, wait);
      return;
    }
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.drawnAt = performance.now();
      for (const name of this.dirty) {
        this.plots.get(name)?.setData(this.data[name]);
        // Before the first point a chart says what will appear, not a blank box.
        const empty = this.root.querySelector(`[data-chart="${name}"] .chart-empty`);
        if (empty) empty.hidden = this.data[name][0].length > 0;
      }
      this.dirty.clear();
    });
  }

  append(name, row) {
    const cols = this.data[name];
    row.forEach((v, i) => cols[i].push(v));
    if (cols[0].length > MAX_POINTS) {
      for (let i = 0; i < cols.length; i++) cols[i] = cols[i].filter((_, j) => j % 2 === 0);
      this.data[name] = cols;
    }
    this.dirty.add(name);
  }

  /** The retune marks of this machine's run (report.retunes, oldest first):
   *  every time chart draws them again. */
  setMarks(marks) {
    const old = this.state.marks;
    if (marks.length === old.length && marks.every((m, i) => same(m, old[i]))) return;
    this.state.marks = marks.slice();
    for (const name of CHART_NAMES) if (name !== 'compile_time') this.dirty.add(name);
    this.schedule();
  }

  /** One mark just made (session.js, before a live report carries it). */
  addMark(mark) {
    if (!this.state.marks.some((m) => same(m, mark))) this.setMarks([...this.state.marks, mark]);
  }

  /** The retune marks the charts hold. */
  marks() {
    return this.state.marks.slice();
  }

  /** Feeds one live() report (parsed). */
  push(r) {
    if (Array.isArray(r.retunes)) this.setMarks(r.retunes);
    const wall = num(r.wall_ns);
    const insns = num(r.instructions);
    if (wall == null || insns == null) return;
    const prev = this.prev;
    // No run time passed (a snapshot while paused), or only the moment it
    // took to end the run (Stop: a few microseconds and no instruction,
    // which would draw the MIPS line down to 0): only the histogram may differ.
    const ending = prev && wall - prev.wall_ns < END_SNAPSHOT_NS && insns === num(prev.instructions);
    if (prev && (wall <= prev.wall_ns || ending)) {
      this.pushHistogram(r);
      return;
    }
    const x = wall / 1e9;
    const dt = prev ? wall - prev.wall_ns : wall;
    const rate = (now, before) => (dt > 0 && now != null ? ((now - (before ?? 0)) * 1e3) / dt : null);
    const ratio = (hits, lookups, hits0, lookups0) => {
      if (hits == null || lookups == null) return null;
      const dl = lookups - (lookups0 ?? 0);
      return dl > 0 ? (100 * (hits - (hits0 ?? 0))) / dl : null;
    };

    this.append('mips', [x, rate(insns, prev?.instructions), num(r.mips)]);
    this.append('tiers', [
      x,
      ...TIERS.map((n) => rate(num(get(r, `tiers.${n}.instructions`)), num(get(prev, `tiers.${n}.instructions`)))),
    ]);

    const cc = r.code_cache || {};
    const ccp = prev?.code_cache || {};
    const ccTotal = num(cc.hit_rate);
    let ccInterval = ratio(num(cc.hits), num(cc.lookups), num(ccp.hits), num(ccp.lookups));
    if (ccInterval == null && cc.hits == null && ccTotal != null) ccInterval = ccTotal * 100;
    this.append('code_cache', [x, num(cc.entries), cc.bytes != null ? cc.bytes / 1024 : null, ccInterval, ccTotal != null ? ccTotal * 100 : null]);

    this.pushTlb(x, r, prev);
    // With the JIT off there is no threshold: no point rather than a 0.
    this.append('threshold', [x, get(r, 'jit.enabled') === false ? null : num(get(r, 'jit.threshold'))]);
    // Code that keeps changing: invalidations and compiles per second, and
    // the pages put aside so far (jit.invalidation_limit).
    this.append('code_churn', [
      x,
      rate(num(get(r, 'jit.invalidations')), num(get(prev, 'jit.invalidations'))),
      rate(num(get(r, 'jit.units_compiled')), num(get(prev, 'jit.units_compiled'))),
      num(get(r, 'jit.quarantines')),
    ]);
    const mib = (v) => (num(v) != null && v > 0 ? v / MIB : null);
    this.append('memory', [
      x,
      mib(get(r, 'memory.guest_ram_bytes')),
      mib(get(r, 'memory.code_bytes')),
      mib(get(r, 'memory.decode_cache_bytes')),
      mib(get(r, 'memory.jit_tables_bytes')),
      mib(get(r, 'memory.total_bytes')),
    ]);
    this.pushHistogram(r);
    this.prev = r;
    this.schedule();
  }

  pushTlb(x, r, prev) {
    const levels = Array.isArray(get(r, 'tlb.levels')) ? r.tlb.levels : [];
    const names = levels.map((l) => l.name);
    if (names.join() !== this.state.levels.join()) {
      // a new set of levels: one column per level, earlier points left empty
      const old = this.data.tlb_levels;
      const cols = [old[0], old[1]];
      for (const n of names) {
        const i = this.state.levels.indexOf(n);
        cols.push(i >= 0 ? old[i + 2] : old[0].map(() => null));
      }
      this.data.tlb_levels = cols;
      this.state.levels = names;
      this.rebuild('tlb_levels');
    }
    const strategyLine = this.root.querySelector('[data-chart="tlb_levels"] .tlb-strategy');
    const reason = get(r, 'tlb.strategy_reason');
    if (strategyLine) {
      // The reason text comes from the VM (English only), with the figures.
      strategyLine.hidden = !reason || !(get(r, 'tlb.lookups') > 0);
      if (reason) {
        strategyLine.textContent = t('tlb_strategy')
          .replace('{strategy}', get(r, 'tlb.strategy_chosen') ?? '?')
          .replace('{reason}', reason)
          .replace('{locks}', String(get(r, 'tlb.lock_acquisitions') ?? 0))
          .replace('{contended}', String(get(r, 'tlb.lock_contended') ?? 0));
      }
    }
    const note = this.root.querySelector('[data-chart="tlb_levels"] .chart-note');
    if (note) note.hidden = !(get(r, 'tlb.lookups') === 0 || (get(r, 'tlb.hit_rate') === null && !levels.some((l) => l.lookups > 0)));
    const prevLevels = new Map((get(prev, 'tlb.levels') || []).map((l) => [l.name, l]));
    const pct = (now, before) => {
      const dl = (now.lookups ?? 0) - (before?.lookups ?? 0);
      if (dl > 0) return (100 * ((now.hits ?? 0) - (before?.hits ?? 0))) / dl;
      return null;
    };
    let total = null;
    if (get(r, 'tlb.lookups') != null) {
      total = pct({ lookups: r.tlb.lookups, hits: r.tlb.hits }, prev?.tlb ? { lookups: prev.tlb.lookups, hits: prev.tlb.hits } : null);
    } else if (num(get(r, 'tlb.hit_rate')) != null) {
      total = r.tlb.hit_rate * 100;
    }
    this.append('tlb_levels', [x, total, ...levels.map((l) => pct(l, prevLevels.get(l.name)))]);
  }

  pushHistogram(r) {
    const hist = get(r, 'jit.compile_ns_histogram');
    if (!Array.isArray(hist)) return;
    const labels = hist.map((b) => fmtNs(b.le_ns));
    const relabel = labels.join() !== this.state.bucketLabels.join();
    this.state.bucketLabels = labels;
    this.data.compile_time = [hist.map((_, i) => i), hist.map((b) => b.count ?? 0)];
    if (relabel) this.rebuild('compile_time');
    this.dirty.add('compile_time');
    this.schedule();
  }

  chartData(name) {
    return this.data[name] ?? null;
  }
}

export { uPlot };
