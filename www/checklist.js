// The guide's target checklist. Rows live in index.html
// (li[data-target=NAME] with a .value child); this module sets each row's
// data-status ("pass" | "fail" | "na") and figure from the latest report.

import { t } from './i18n.js';

const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const pct = (x) => `${(x * 100).toFixed(1)} %`;

// Each target: where its figure is in the report, how it is shown, and the test.
const TARGETS = {
  compile_time: {
    figure: (r) => get(r, 'jit.compile_ns.p99'),
    show: (ns) => `p99 ${(ns / 1e6).toFixed(2)} ms`,
    pass: (ns) => ns < 10e6,
  },
  tlb_hit_rate: {
    figure: (r) => get(r, 'tlb.hit_rate'),
    show: pct,
    pass: (x) => x > 0.9,
  },
  cache_hit_rate: {
    figure: (r) => get(r, 'code_cache.hit_rate'),
    show: pct,
    pass: (x) => x > 0.85,
  },
};

export class Checklist {
  constructor(root) {
    this.root = root;
    this.native = null;
    this.reset();
  }

  row(name) {
    return this.root.querySelector(`[data-target="${name}"]`);
  }

  set(name, status, text) {
    const row = this.row(name);
    if (!row) return;
    row.dataset.status = status;
    row.querySelector('.value').textContent = text;
  }

  /** Every row back to "na" (a new run starts). */
  reset() {
    for (const name of Object.keys(TARGETS)) this.set(name, 'na', t('na'));
    this.clearNative();
    this.set('gc_pause', 'na', t('target_gc_pause_why'));
  }

  /** Figures from a live or final report (parsed). */
  update(report) {
    this.report = report;
    for (const [name, target] of Object.entries(TARGETS)) {
      const v = target.figure(report);
      if (isNum(v)) this.set(name, target.pass(v) ? 'pass' : 'fail', target.show(v));
      else this.set(name, 'na', t('na'));
    }
  }

  clearNative() {
    this.native = null;
    this.set('native_speed', 'na', t('na'));
  }

  measuring() {
    this.set('native_speed', 'na', t('measuring'));
  }

  /** nativeMs: the second cpubench_run(600) in the worker; vmWallNs: the VM
   *  run's wall_ns; cold: the page had run little guest code before this
   *  run, so the browser was still compiling and optimizing what it needs
   *  (up to about half the speed of later runs in the same page,
   *  BENCHMARKS.md "The page's first run"). */
  setNative(nativeMs, vmWallNs, checksumOk, cold = false) {
    if (!checksumOk) {
      this.set('native_speed', 'na', 'native cpubench.wasm gave a wrong checksum');
      return;
    }
    const vmMs = vmWallNs / 1e6;
    const speed = nativeMs / vmMs;
    this.native = { nativeMs, vmMs, speed, cold };
    const figure = `${(speed * 100).toFixed(1)} % (${t('native_time')} ${nativeMs.toFixed(0)} ms, ${t('vm_time')} ${vmMs.toFixed(0)} ms)`;
    this.set('native_speed', speed > 0.7 ? 'pass' : 'fail', cold ? `${figure} ${t('cold_run')}` : figure);
  }

  /** Redraws texts in the current language. */
  relabel() {
    if (this.report) this.update(this.report);
    else for (const name of Object.keys(TARGETS)) this.set(name, 'na', t('na'));
    this.set('gc_pause', 'na', t('target_gc_pause_why'));
    const n = this.native;
    if (n) this.setNative(n.nativeMs, n.vmMs * 1e6, true, n.cold);
  }
}
