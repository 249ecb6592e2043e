// The guide's target checklist. Rows live in index.html
// (li[data-target=NAME] with a .value child); this module sets each row's
// data-status ("pass" | "fail" | "na") and figure from the latest report.
// The targets (which figure, the limit, the comparison) come from the wasm
// (guide_targets(), src/web/mod.rs GUIDE_TARGETS); only their labels are here.

import { t } from './i18n.js';
import { get, num } from './dom.js';

const pct = (x) => `${(x * 100).toFixed(1)} %`;
const limitText = (target) => (target.unit === 'ns' ? `${target.limit / 1e6} ms` : `${+(target.limit * 100).toFixed(1)} %`);

/** How a report figure of `target` is shown: ns in ms (a quantile named
 *  first, e.g. "p99 1.20 ms"), ratios in %. */
function show(target, v) {
  if (target.unit !== 'ns') return pct(v);
  const q = target.figure.split('.').pop();
  return `${/^p\d+$/.test(q) ? `${q} ` : ''}${(v / 1e6).toFixed(2)} ms`;
}

// The code cache thrashes when at least this many evictions are half or
// more of the units compiled (most compiles replace code it threw away).
const THRASH_MIN_EVICTIONS = 100;

const passes = (target, v) => (target.op === '<' ? v < target.limit : v > target.limit);

export class Checklist {
  constructor(root) {
    this.root = root;
    this.native = null;
    this.targets = []; // the guide's targets, from the wasm (guide_targets())
    this.reset();
  }

  /** targets: [{name, figure, op, limit, unit}] (src/web/mod.rs GUIDE_TARGETS). */
  setTargets(targets) {
    this.targets = targets;
    this.relabel();
  }

  target(name) {
    return this.targets.find((x) => x.name === name);
  }

  /** Targets whose figure is in the report. */
  reportTargets() {
    return this.targets.filter((x) => x.figure);
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
    this.report = null;
    for (const { name } of this.reportTargets()) this.set(name, 'na', t('na'));
    this.clearNative();
  }

  /** Figures from a live or final report (parsed). */
  update(report) {
    this.report = report;
    for (const target of this.reportTargets()) {
      if (target.name === 'gc_pause' && get(report, 'gc.used') !== true) {
        // Only a program that uses the GC heap pauses for it.
        this.set(target.name, 'na', `${t('na')} · ${t('gc_pause_not_used')}`);
        continue;
      }
      const v = num(get(report, target.figure));
      if (v == null) {
        this.set(target.name, 'na', target.name === 'gc_pause' ? `${t('na')} · ${t('gc_pause_none_yet')}` : t('na'));
        continue;
      }
      let ok = passes(target, v);
      let text = show(target, v);
      if (target.name === 'compile_time') {
        // The guide's figure is per unit; what a run pays is the share:
        // from the advisor's critical share on, the row fails whatever
        // p99 says (many small units, e.g. a thrashing code cache).
        const total = num(get(report, 'jit.compile_ns.total'));
        const wall = num(get(report, 'wall_ns'));
        if (total != null && wall) {
          const share = total / wall;
          text += ` · ${t('compile_share_of_run').replace('{share}', pct(share))}`;
          if (target.share_limit != null && share >= target.share_limit) {
            ok = false;
            text += ` · ${t('compile_share_too_high').replace('{limit}', pct(target.share_limit))}`;
          }
        }
      }
      if (target.name === 'cache_hit_rate') {
        // A hit rate can look fine while the cache throws away and
        // recompiles most of what it compiles: then it is not healthy.
        const evictions = num(get(report, 'code_cache.evictions'));
        const units = num(get(report, 'jit.units_compiled'));
        if (evictions != null && units && evictions >= THRASH_MIN_EVICTIONS && evictions * 2 >= units) {
          ok = false;
          text += ` · ${t('cache_thrashing').replace('{evictions}', evictions.toLocaleString('en')).replace('{units}', units.toLocaleString('en'))}`;
        }
      }
      if (target.name === 'gc_pause') {
        const n = num(get(report, 'gc.pause_ns.count'));
        const max = num(get(report, 'gc.pause_ns.max'));
        if (n != null) text += ` · ${t('gc_pause_count').replace('{n}', n.toLocaleString('en')).replace('{max}', max == null ? '–' : `${(max / 1e6).toFixed(2)} ms`)}`;
      }
      this.set(target.name, ok ? 'pass' : 'fail', text);
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
    const target = this.target('native_speed');
    const ok = target ? passes(target, speed) : false;
    this.set('native_speed', ok ? 'pass' : 'fail', cold ? `${figure} ${t('cold_run')}` : figure);
  }

  /** Redraws texts in the current language: each row's name is its label
   *  with the target's comparison and limit put in ({op}, {limit}). */
  relabel() {
    for (const target of this.targets) {
      const name = this.row(target.name)?.querySelector('.name');
      if (name) {
        name.textContent = t(`target_${target.name}`).replace('{op}', target.op).replace('{limit}', limitText(target));
      }
    }
    if (this.report) this.update(this.report);
    else for (const { name } of this.reportTargets()) this.set(name, 'na', t('na'));
    const n = this.native;
    if (n) this.setNative(n.nativeMs, n.vmMs * 1e6, true, n.cold);
  }
}
