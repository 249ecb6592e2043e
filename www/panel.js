// The report panel: the live charts (and the GC group, gc-charts.js), the guide's checklist (with the
// native-speed comparison after a cpubench run), the SMP card (several
// harts only), the A/B overlay chart, and the JSON/CSV export, and the
// tuning advisor. Fed with live reports; keeps the latest one and the last
// finished run's full report.

import { Charts } from './charts.js';
import { GcCharts } from './gc-charts.js';
import { Checklist } from './checklist.js';
import { AdvisorView } from './advisor.js';
import { AbChart } from './ab.js';
import { SmpCard } from './smp-view.js';
import { $, reason } from './dom.js';
import { download, reportToCsv } from './report.js';

// While a run streams live reports (every 40 ms early on), the views other
// than the charts' data (checklist, advisor, SMP card, GC group, the progress
// line) show the latest report at most this often; a run's last report shows
// at once. See charts.js DRAW_EVERY_MS for why.
const SHOW_EVERY_MS = 250;

export class ReportPanel {
  constructor() {
    this.checklist = new Checklist($('#checklist'));
    this.charts = new Charts($('#charts'));
    this.gc = new GcCharts($('#gc-charts'), $('#gc-summary'), $('#gc-mode'));
    this.abChart = new AbChart($('#ab-chart'), $('#ab-rates'));
    this.advisor = new AdvisorView($('#advisor'));
    this.smp = new SmpCard($('#smp-card'));
    this.lastReport = null; // latest live report (an object)
    this.finalReport = null; // full report text of the last finished run
    this.shownAt = -Infinity; // performance.now() when the views last showed a report
    this.showTimer = 0;
    this.alsoShow = null;
  }

  /** A live report (the report without its series). The charts take every
   *  one; the other views, and `alsoShow` (the caller's own view of it, e.g.
   *  the progress line), show the latest at most every SHOW_EVERY_MS. */
  push(report, alsoShow = null) {
    this.lastReport = report;
    this.charts.push(report);
    this.alsoShow = alsoShow;
    const final = report.stop_reason && report.stop_reason !== 'running';
    const wait = this.shownAt + SHOW_EVERY_MS - performance.now();
    if (final || wait <= 0) {
      this.show();
    } else if (!this.showTimer) {
      this.showTimer = setTimeout(() => this.show(), wait);
    }
  }

  /** Shows the latest report in the views (see push). */
  show() {
    clearTimeout(this.showTimer);
    this.showTimer = 0;
    const report = this.lastReport;
    if (!report) return;
    this.shownAt = performance.now();
    this.gc.update(report);
    this.checklist.update(report);
    this.advisor.update(report);
    this.smp.update(report);
    const also = this.alsoShow;
    this.alsoShow = null;
    also?.(report);
  }

  /** A new or reset machine starts blank. */
  clear() {
    clearTimeout(this.showTimer);
    this.showTimer = 0;
    this.alsoShow = null;
    this.lastReport = null;
    this.charts.clear();
    this.gc.clear();
    this.checklist.reset();
    this.advisor.clear();
    this.smp.clear();
  }

  /** Times cpubench.wasm in the worker against the VM run's wall_ns; cold:
   *  the page had run little guest code before (see Checklist.setNative). */
  async measureNative(worker, vmWallNs, cold, onError) {
    if (!vmWallNs) return;
    this.checklist.measuring();
    try {
      const r = await worker.native();
      this.checklist.setNative(r.ms, vmWallNs, r.ok, cold);
    } catch (e) {
      this.checklist.clearNative();
      onError(`native cpubench: ${reason(e)}`);
    }
  }

  /** The current machine's full report (JSON text), else the last finished run's. */
  async reportText(worker, hasMachine) {
    if (hasMachine) {
      try {
        return await worker.report();
      } catch {
        /* fall back to the last finished run */
      }
    }
    if (this.finalReport) return this.finalReport;
    throw new Error('no report yet: run a workload first');
  }

  /** The report with the program it ran first (`workload`: a built-in
   *  workload's name or an uploaded file's), as the exports hold it. */
  async exportedReport(worker, hasMachine, workload) {
    const report = JSON.parse(await this.reportText(worker, hasMachine));
    return { workload, ...report };
  }

  async exportJson(worker, hasMachine, name, workload) {
    const report = await this.exportedReport(worker, hasMachine, workload);
    download(`${name}.json`, JSON.stringify(report, null, 2) + '\n', 'application/json');
  }

  async exportCsv(worker, hasMachine, name, workload) {
    const report = await this.exportedReport(worker, hasMachine, workload);
    download(`${name}.csv`, reportToCsv(report), 'text/csv');
  }

  /** Texts and charts again in the current language. */
  relabel() {
    this.checklist.relabel();
    this.advisor.relabel();
    this.charts.rebuildAll();
    this.gc.relabel();
    this.smp.relabel();
    this.abChart.draw();
  }
}
