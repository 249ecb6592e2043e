// View: the SMP card (#smp-card), shown while the latest report has an `smp`
// section (runtime.vcpus > 1; docs/DESIGN.md "Report JSON") and hidden for
// one hart. Per vCPU: instructions, and its wall time split into running,
// parked in wfi and waiting for a worker (a table with bars); per worker:
// busy %; and a line chart of the series smp.run_queue and smp.busy_vcpus
// over guest instructions. A line says how the run placed the vCPUs: tasks
// on helper Web Workers that share the guest's memory (the threads build,
// runtime.pool_size of them, at most MAX_PAGE_WORKERS), or all on the
// machine's one worker (runtime.pool_size 1, or the plain build, which has
// no shared memory).
//
// Also the knob panel's notes for the runtime knobs (SMP_KNOB_NOTES).

import { uPlot } from './charts.js';
import { t } from './i18n.js';
import { $, el, num } from './dom.js';

const HEIGHT = 200;
const DRAW_EVERY_MS = 250; // redraw at most this often while a run goes on (the final report always)
const COLORS = ['#1f6feb', '#d9480f'];

/** Most helper workers the page starts (src/runtime/smp.rs MAX_PAGE_WORKERS). */
const MAX_PAGE_WORKERS = 16;

/** A value of runtime.pool_size that the page cannot follow as set: above 1
 *  without shared memory (the plain build runs every vCPU on its one
 *  worker), or above MAX_PAGE_WORKERS; as a number, else null. */
function foreignPoolSize(value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 1) return null;
  return window.crossOriginIsolated !== true || n > MAX_PAGE_WORKERS ? n : null;
}

const poolNote = (key, n) =>
  t(window.crossOriginIsolated === true ? `${key}_cap` : key)
    .replaceAll('{n}', n)
    .replaceAll('{max}', MAX_PAGE_WORKERS);

/** Notes under knobs of the panels (KnobPanel's opts.notes): what the page
 *  does with a runtime.pool_size it cannot follow as set. */
export const SMP_KNOB_NOTES = {
  'runtime.pool_size': (text) => {
    const n = foreignPoolSize(text);
    return n == null ? '' : poolNote('smp_pool_knob_note', n);
  },
};

const count = (v) => (num(v) == null ? '–' : Math.round(v).toLocaleString('en'));
const mips = (v) => (num(v) == null ? '–' : v.toFixed(1));

function ms(ns) {
  if (num(ns) == null) return '–';
  const v = ns / 1e6;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ms`;
}

/** A bar of segments [{cls, value, title}] whose widths are value / total. */
function bar(total, segments) {
  const box = el('div', { className: 'smp-bar' });
  for (const s of segments) {
    const share = total > 0 ? Math.max(0, Math.min(1, s.value / total)) : 0;
    if (share <= 0) continue;
    const seg = el('span', { className: `smp-seg ${s.cls}`, title: s.title });
    seg.style.width = `${(share * 100).toFixed(2)}%`;
    box.append(seg);
  }
  return box;
}

/** uPlot columns of one report series ([[instructions, value], ...]): x in M instructions. */
function columns(series) {
  const pts = (Array.isArray(series) ? series : []).filter((p) => Array.isArray(p) && typeof p[0] === 'number');
  return [pts.map((p) => p[0] / 1e6), pts.map((p) => num(p[1]))];
}

export class SmpCard {
  /** root: #smp-card (index.html holds its skeleton). */
  constructor(root) {
    this.root = root;
    this.report = null; // the latest report with an smp section
    this.plot = null;
    this.data = [[], [], []];
    this.drawnAt = -Infinity;
    this.timer = 0;
    addEventListener('resize', () => this.resize());
  }

  clear() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.drawnAt = -Infinity;
    this.report = null;
    this.root.hidden = true;
    this.root.dataset.vcpus = '0';
    this.plot?.destroy();
    this.plot = null;
    $('#smp-chart').replaceChildren();
  }

  /** A live or final report; the card shows only while it has an smp section. */
  update(report) {
    const smp = report?.smp;
    if (!smp || !Array.isArray(smp.vcpus)) {
      if (this.report) this.clear();
      return;
    }
    this.report = report;
    this.root.hidden = false;
    this.root.dataset.vcpus = String(smp.vcpus.length);
    const final = report.stop_reason && report.stop_reason !== 'running';
    const wait = this.drawnAt + DRAW_EVERY_MS - performance.now();
    if (final || wait <= 0) {
      clearTimeout(this.timer);
      this.timer = 0;
      this.draw();
    } else if (!this.timer) {
      // the latest report is drawn a little later, even if no other comes
      this.timer = setTimeout(() => {
        this.timer = 0;
        if (this.report) this.draw();
      }, wait);
    }
  }

  relabel() {
    if (this.report) {
      this.plot?.destroy();
      this.plot = null;
      this.draw();
    }
  }

  draw() {
    this.drawnAt = performance.now();
    const r = this.report;
    const smp = r.smp;
    const workers = Array.isArray(smp.workers) ? smp.workers : [];
    const pool = num(smp.pool_size) ?? workers.length;
    const n = smp.vcpus.length;
    $('#smp-how').textContent = (pool === 1 ? t('smp_how_one') : t('smp_how_many'))
      .replaceAll('{n}', n)
      .replaceAll('{w}', pool);
    const asked = foreignPoolSize(r.config?.runtime?.pool_size);
    const note = $('#smp-pool-note');
    note.hidden = asked == null || pool === asked;
    note.textContent = note.hidden ? '' : poolNote('smp_pool_card_note', asked).replaceAll('{w}', pool);
    this.drawVcpus(smp.vcpus, num(r.wall_ns));
    this.drawWorkers(workers);
    this.drawChart(r.series);
  }

  drawVcpus(vcpus, wall) {
    const maxInsns = Math.max(1, ...vcpus.map((v) => num(v.instructions) ?? 0));
    const head = el('tr', {},
      ...['smp_hart', 'smp_instructions', 'smp_time', 'MIPS', 'smp_quanta', 'smp_switches', 'smp_parks', 'smp_pauses', 'smp_ipis']
        .map((k) => el('th', {
          textContent: k === 'MIPS' ? k : t(k),
          className: k === 'smp_instructions' || k === 'smp_time' ? 'smp-cell-bar' : '',
        })));
    const rows = vcpus.map((v) => {
      const running = num(v.running_ns) ?? 0;
      const parked = num(v.parked_ns) ?? 0;
      // the rest of the run's wall time: ready, waiting for a worker
      const waiting = wall != null ? Math.max(0, wall - running - parked) : 0;
      const total = running + parked + waiting;
      const tr = el('tr', {},
        el('td', { className: 'smp-hart', textContent: String(v.hart) }),
        el('td', { className: 'smp-cell-bar' },
          el('span', { className: 'smp-num', textContent: count(v.instructions) }),
          bar(maxInsns, [{ cls: 'insns', value: num(v.instructions) ?? 0, title: count(v.instructions) }])),
        el('td', { className: 'smp-cell-bar' },
          el('span', { className: 'smp-num', textContent: `${ms(running)} / ${ms(parked)}` }),
          bar(total, [
            { cls: 'running', value: running, title: `${t('smp_running')} ${ms(running)}` },
            { cls: 'parked', value: parked, title: `${t('smp_parked')} ${ms(parked)}` },
            { cls: 'waiting', value: waiting, title: `${t('smp_waiting')} ${ms(waiting)}` },
          ])),
        el('td', { textContent: mips(v.mips) }),
        el('td', { textContent: count(v.quanta) }),
        el('td', { textContent: count(v.task_switches) }),
        el('td', { textContent: count(v.parks) }),
        el('td', { textContent: count(v.pauses) }),
        el('td', { textContent: `${count(v.ipis_sent)} / ${count(v.ipis_received)}` }),
      );
      tr.dataset.hart = String(v.hart);
      return tr;
    });
    $('#smp-vcpus').replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
    const legend = (cls, key) => el('span', { className: 'smp-key' }, el('span', { className: `smp-swatch ${cls}` }), t(key));
    $('#smp-legend').replaceChildren(legend('running', 'smp_running'), legend('parked', 'smp_parked'), legend('waiting', 'smp_waiting'));
  }

  drawWorkers(workers) {
    const rows = workers.map((w) => {
      const u = num(w.utilisation);
      const pct = u == null ? '–' : `${(u * 100).toFixed(1)} %`;
      const row = el('div', { className: 'smp-worker' },
        el('span', { className: 'smp-worker-name', textContent: `${t('smp_worker')} ${w.worker}` }),
        bar(1, [{ cls: 'busy', value: u ?? 0, title: pct }]),
        el('span', { className: 'smp-num', textContent: `${t('smp_busy')} ${pct}` }),
        el('span', { className: 'smp-worker-extra hint', textContent: `${count(w.polls)} ${t('smp_polls')}, ${count(w.task_switches)} ${t('smp_switches_lc')}` }),
      );
      row.dataset.worker = String(w.worker);
      return row;
    });
    $('#smp-workers').replaceChildren(...rows);
  }

  drawChart(series) {
    const q = columns(series?.['smp.run_queue']);
    const b = columns(series?.['smp.busy_vcpus']);
    this.data = uPlot.join([q, b]);
    const empty = this.data[0].length === 0;
    $('#smp-chart-none').hidden = !empty;
    $('#smp-chart').hidden = empty;
    if (empty) return; // drawn once there are points (a hidden host has no width)
    if (!this.plot) {
      const host = $('#smp-chart');
      host.replaceChildren();
      this.plot = new uPlot(
        {
          width: this.width(),
          height: HEIGHT,
          scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(1, Math.ceil((max ?? 0) + 0.5))] } },
          series: [
            { label: t('axis_m_insns') },
            { label: t('smp_run_queue'), stroke: COLORS[0], width: 1.5, paths: uPlot.paths.stepped({ align: 1 }) },
            { label: t('smp_busy_vcpus'), stroke: COLORS[1], width: 1.5 },
          ],
          axes: [{ label: t('axis_m_insns') }, { label: t('smp_axis_vcpus') }],
          legend: { live: true },
          cursor: { drag: { x: false, y: false } },
        },
        this.data,
        host,
      );
    } else {
      this.plot.setData(this.data);
    }
  }

  width() {
    const host = $('#smp-chart');
    return Math.max(260, Math.floor(host.clientWidth || 420) - 4);
  }

  resize() {
    this.plot?.setSize({ width: this.width(), height: HEIGHT });
  }
}
