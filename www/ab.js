// A/B: the summary table and the overlay chart of two finished runs.
// The runs themselves are driven by app.js (load A, run to the end, load B, ...).

import { uPlot } from './charts.js';
import { t } from './i18n.js';
import { get } from './dom.js';


const fixed = (d) => (v) => v.toFixed(d);
const pct = (v) => `${(v * 100).toFixed(1)} %`;
const ms = (v) => `${(v / 1e6).toFixed(2)} ms`;
const count = (v) => Math.round(v).toLocaleString('en');
const kib = (v) => `${(v / 1024).toFixed(1)} KiB`;

// Compiling's share of the run (what the compile-time lessons are about,
// beside the per-unit p50/p99).
const compileShare = (r) => {
  const total = get(r, 'jit.compile_ns.total');
  const wall = get(r, 'wall_ns');
  return typeof total === 'number' && typeof wall === 'number' && wall > 0 ? total / wall : null;
};

// [i18n key of the label (or the label itself), report path (or a name for
//  a figure computed by the fifth element from the report), format,
//  higher is better?, compute?]
const FIGURES = [
  ['MIPS', 'mips', fixed(1), true],
  ['fig_wall', 'wall_ns', (v) => `${(v / 1e9).toFixed(3)} s`, false],
  ['fig_instructions', 'instructions', count, null],
  ['fig_interp', 'tiers.interpreter.instructions', count, null],
  ['fig_baseline', 'tiers.baseline.instructions', count, null],
  ['fig_optimizing', 'tiers.optimizing.instructions', count, null],
  ['fig_compile_share', 'compile_share', pct, false, compileShare],
  ['fig_compile_total', 'jit.compile_ns.total', ms, false],
  ['fig_p50', 'jit.compile_ns.p50', ms, false],
  ['fig_p99', 'jit.compile_ns.p99', ms, false],
  ['fig_cache_hit', 'code_cache.hit_rate', pct, true],
  ['fig_evictions', 'code_cache.evictions', count, false],
  ['fig_tlb_hit', 'tlb.hit_rate', pct, true],
  ['fig_walks', 'tlb.walks', count, false],
  ['fig_units', 'jit.units_compiled', count, null],
  ['fig_code_bytes', 'code_cache.bytes', kib, false],
  ['fig_exit', 'exit_code', String, null],
];

const mib = (v) => `${(v / 2 ** 20).toFixed(1)} MiB`;

// The GC's figures, shown when either side used the GC heap (gc.used).
const GC_FIGURES = [
  ['fig_gc_p99', 'gc.pause_ns.p99', ms, false],
  ['fig_gc_total', 'gc.pause_ns.total', ms, false],
  ['fig_gc_pauses', 'gc.pause_ns.count', count, null],
  ['fig_gc_collections', 'gc.collections', count, null],
  ['fig_gc_committed', 'gc.heap_committed_bytes', mib, false],
];

/** How far a figure moved between the runs of one side: (max - min) /
 *  |mean|, or 0 with fewer than two runs or no numbers. */
function spread(runs, value) {
  const xs = (runs || []).map(value).filter((v) => typeof v === 'number');
  if (xs.length < 2) return 0;
  const mean = xs.reduce((x, y) => x + y, 0) / xs.length;
  return mean === 0 ? 0 : (Math.max(...xs) - Math.min(...xs)) / Math.abs(mean);
}

/** Fills #ab-table: figure, A, B, change (relative, B against A). `a` and
 *  `b` are the reports shown (each side's faster run); `runs` ({a, b}: every
 *  run's report per side) gives the spread between a side's runs: it is shown
 *  beside a value that moved, and a change no larger than the two sides'
 *  spreads together (or 2 %) is noise and gets no colour. */
export function renderAbTable(table, a, b, runs = null) {
  const head = document.createElement('tr');
  for (const h of [t('figure'), 'A', 'B', t('change')]) head.append(Object.assign(document.createElement('th'), { textContent: h }));
  const rows = [head];
  const gcUsed = get(a, 'gc.used') === true || get(b, 'gc.used') === true;
  for (const [label, path, fmt, higherBetter, compute] of gcUsed ? [...FIGURES.slice(0, -1), ...GC_FIGURES, ...FIGURES.slice(-1)] : FIGURES) {
    const value = (r) => (compute ? compute(r) : get(r, path));
    const va = value(a);
    const vb = value(b);
    const sa = spread(runs?.a, value);
    const sb = spread(runs?.b, value);
    const tr = document.createElement('tr');
    tr.dataset.figure = path;
    const cell = (text) => Object.assign(document.createElement('td'), { textContent: text });
    const plusMinus = (sp) => (sp >= 0.005 ? ` ±${((sp / 2) * 100).toFixed(1)} %` : '');
    const show = (v, sp) => (typeof v === 'number' ? fmt(v) + plusMinus(sp) : v == null ? '–' : String(v));
    let change = '–';
    let cls = '';
    if (typeof va === 'number' && typeof vb === 'number' && path !== 'exit_code') {
      if (va !== 0) {
        const rel = (vb - va) / Math.abs(va);
        change = `${rel >= 0 ? '+' : ''}${(rel * 100).toFixed(1)} %`;
        const noise = Math.max(0.02, sa + sb);
        if (higherBetter != null && Math.abs(rel) > noise) cls = (rel > 0) === higherBetter ? 'better' : 'worse';
        else if (higherBetter != null && Math.abs(rel) > 0.02) change += ` (${t('within_noise')})`;
      } else if (vb !== 0) {
        change = t('change_new');
      } else {
        change = '0 %';
      }
    }
    const changeCell = cell(change);
    if (cls) changeCell.className = cls;
    tr.append(cell(label.startsWith('fig_') ? t(label) : label), cell(show(va, sa)), cell(show(vb, sb)), changeCell);
    rows.push(tr);
  }
  table.replaceChildren(...rows);
}

/** Points of one report series ([[instructions, ratio], ...]) as uPlot columns in %. */
function seriesColumns(report, name) {
  const pts = (report?.series?.[name] || []).filter((p) => Array.isArray(p) && typeof p[0] === 'number');
  return [pts.map((p) => p[0] / 1e6), pts.map((p) => (typeof p[1] === 'number' ? p[1] * 100 : null))];
}

function overlay(host, data, xLabel, yLabel, labels, scales) {
  host.replaceChildren();
  if (!data[0].length) return null;
  const colors = ['#1f6feb', '#d9480f', '#74a9f7', '#f4a361'];
  const width = Math.max(280, Math.floor(host.clientWidth || 600) - 4);
  return new uPlot(
    {
      width,
      height: 220,
      scales: { x: { time: false }, ...scales },
      series: [
        { label: xLabel },
        ...labels.map((label, i) => ({ label, stroke: colors[i], width: 1.5, spanGaps: true, dash: i >= 2 ? [4, 4] : undefined })),
      ],
      axes: [{ label: xLabel }, { label: yLabel }],
    },
    data,
    host,
  );
}

/** The overlay charts: MIPS of A and B over run time; their code-cache and
 *  TLB hit rates over guest instructions (the report's series). */
export class AbChart {
  constructor(mipsHost, ratesHost) {
    this.mipsHost = mipsHost;
    this.ratesHost = ratesHost;
    this.mips = [[]];
    this.rates = [[]];
    this.plots = [];
  }

  /** a, b: {mips: [[seconds...], [MIPS...]], report: the full report (parsed)} */
  show(a, b) {
    this.mips = uPlot.join([a.mips, b.mips]);
    this.rates = uPlot.join([
      seriesColumns(a.report, 'code_cache_hit_rate'),
      seriesColumns(b.report, 'code_cache_hit_rate'),
      seriesColumns(a.report, 'tlb_hit_rate'),
      seriesColumns(b.report, 'tlb_hit_rate'),
    ]);
    this.draw();
  }

  draw() {
    for (const u of this.plots) u?.destroy();
    this.plots = [
      overlay(this.mipsHost, this.mips, t('seconds'), 'MIPS', ['A MIPS', 'B MIPS'], {}),
      overlay(this.ratesHost, this.rates, t('axis_m_insns'), t('axis_hit_rate'),
        [`A ${t('s_code_cache')}`, `B ${t('s_code_cache')}`, 'A TLB', 'B TLB'], {
        y: { range: [0, 100] },
      }),
    ];
  }
}
