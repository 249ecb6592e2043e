// Run benchmark of the playground page: cpubench at the defaults, run to its
// end in the page's worker (the real page, its Run button and its run loop),
// then the checklist's direct-wasm comparison, in headless Chromium.
//
//   node www/e2e/bench-run.mjs [--runs N] [--workload NAME | --elf PATH] [--same-page] [--idle-ms MS]
//        [--wire object|json|both] [--set KEY=VALUE]... [--ab KEY=VALUE] [--dist-b DIR] [--before NAME]
//        [--warmup MS | --no-warmup]
//   (scripts/bench-page.sh --run builds first)
//
// Every run is a fresh page, or with --same-page all runs are in one page,
// one after another (the browser has then compiled the VM's own hot code
// with its optimizing tier: the first run in a page pays that warm-up). MIPS and wall time come from the run's final
// report (wall time counts only time spent running guest code, not the
// pauses between the page's slices); "page wall" is from the click on Run to
// the final state, so the gap between the two is what the page's own
// slicing, live reports and messages cost. Not a test: it prints a markdown
// table.
//
// The worker's own timings of the run (window.tunevmPage.workerTimings):
// per-slice overhead = (time from the first run_for call to the end of the
// last one - the report's wall_ns) / slices, i.e. what each 20 ms slice costs
// besides running guest code (the status crossing from Rust, console, live
// reports, messages, the yield); per live report = the live() call (Rust
// builds it and it crosses); and, on the finished machine, 200 calls each of
// status and live through both paths. --wire json runs the page with
// ?wire=json: status and live reports cross as JSON text parsed in the worker
// (the path before serde-wasm-bindgen, kept for this comparison only);
// --wire both alternates object and json runs (N each) in one browser.
// --set KEY=VALUE (repeatable) runs with that knob (the page's ?set=, as a
// share link carries it); --ab KEY=VALUE alternates runs at the defaults and
// runs with that knob (N each), for a before/after in one browser.
// --dist-b DIR alternates runs of the page built in dist/ and of another
// build of it in DIR (e.g. a copy of dist/ made before a change).

import os from 'node:os';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { launchBrowser, startServer, waitInPage } from './harness.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const RUNS = Number(arg('--runs', process.env.RUNS || 3));
// --elf PATH: upload that ELF through the page's file input, as a user runs
// a program of their own (any program, e.g. workloads/bin/mixbench.elf,
// which is not in the picker), instead of picking a built-in workload.
const ELF = arg('--elf', null);
const WORKLOAD = ELF ? basename(ELF, '.elf') : arg('--workload', 'cpubench');
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs wants a positive integer, got ${RUNS}`);
const SAME_PAGE = process.argv.includes('--same-page');
// --warmup MS: the worker's engine warm-up runs this long (?warmup=MS; 0:
// none); --no-warmup is --warmup 0.
const WARMUP = process.argv.includes('--no-warmup') ? '0' : arg('--warmup', null);
// How long a fresh page sits idle before its first run (the worker's warm-up
// runs meanwhile; 0 starts at once, as a quick user or a test would).
const IDLE_MS = Number(arg('--idle-ms', 0));
const RUN_LIMIT_MS = 120_000;
const WIRE = arg('--wire', 'object');
if (!['object', 'json', 'both'].includes(WIRE)) throw new Error(`--wire wants object, json or both, got ${WIRE}`);
const SETS = process.argv.flatMap((a, i) => (a === '--set' ? [process.argv[i + 1]] : []));
const AB = arg('--ab', null);
const DIST_B = arg('--dist-b', null);
// --before NAME: in each page, run NAME to its end first (not timed), so the
// timed run finds the VM's own code warmed up by another program.
const BEFORE = arg('--before', null);
if (AB && WIRE === 'both') throw new Error('--ab and --wire both cannot go together');
// The variants the runs alternate between: how status crosses, and the knobs.
const VARIANTS = DIST_B
  ? [{ label: 'dist', wire: WIRE, sets: SETS }, { label: DIST_B, wire: WIRE, sets: SETS, dist: DIST_B }]
  : AB
  ? [{ label: 'defaults', wire: WIRE, sets: SETS }, { label: AB, wire: WIRE, sets: [...SETS, AB] }]
  : (WIRE === 'both' ? ['object', 'json'] : [WIRE]).map((w) => ({
      label: w === 'json' ? 'JSON text (before)' : 'objects, serde-wasm-bindgen', wire: w, sets: SETS,
    }));

async function openPage(browser, url, { wire, sets }) {
  const q = new URLSearchParams();
  if (wire === 'json') q.set('wire', 'json');
  if (WARMUP != null) q.set('warmup', WARMUP);
  for (const s of sets) q.append('set', s);
  if (q.size) url = `${url}?${q}`;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(url);
  await waitInPage(page, () => document.body?.dataset.ready === '1', null, {
    timeout: 30_000, message: 'the page never got ready',
  });
  if (BEFORE) {
    await page.selectOption('#workload', BEFORE);
    await page.evaluate(() => document.querySelector('#run').click());
    await waitInPage(page, () => !['', 'idle', 'running', 'paused'].includes(document.querySelector('#state').textContent.trim()), null, {
      timeout: RUN_LIMIT_MS, message: `${BEFORE} did not end`,
    });
  }
  if (ELF) {
    await page.setInputFiles('#elf-file', {
      name: basename(ELF), mimeType: 'application/octet-stream', buffer: readFileSync(ELF),
    });
    await waitInPage(page, () => document.querySelector('#workload').value.startsWith('file:'), null, {
      timeout: 15_000, message: `the uploaded ${ELF} did not become the program`,
    });
  } else {
    await page.selectOption('#workload', WORKLOAD);
  }
  if (IDLE_MS > 0) await page.waitForTimeout(IDLE_MS);
  return { context, page };
}

async function runOnce(browser, url, shared, variant) {
  const { wire } = variant;
  const { context, page } = shared ?? await openPage(browser, url, variant);
  try {
    const t0 = await page.evaluate(() => {
      window.__benchEnd = undefined;
      const state = document.querySelector('#state');
      new MutationObserver(() => {
        const s = state.textContent.trim();
        if (window.__benchEnd === undefined && !['', 'idle', 'running', 'paused'].includes(s)) {
          window.__benchEnd = performance.now();
        }
      }).observe(state, { childList: true, characterData: true, subtree: true });
      const start = performance.now();
      document.querySelector('#run').click();
      return start;
    });
    await waitInPage(page, () => window.__benchEnd !== undefined, null, {
      timeout: RUN_LIMIT_MS, message: `${WORKLOAD} did not end`,
    });
    const pageMs = (await page.evaluate(() => window.__benchEnd)) - t0;
    const state = (await page.locator('#state').textContent()).trim();
    const report = await page.evaluate(() => window.tunevmPage.lastReport());
    let native = null;
    if (!ELF && WORKLOAD === 'cpubench') {
      const row = '#checklist [data-target="native_speed"]';
      await waitInPage(page, (sel) => ['pass', 'fail'].includes(document.querySelector(sel)?.dataset.status), row, {
        timeout: 30_000, message: 'the checklist never measured native speed',
      });
      native = (await page.locator(`${row} .value`).textContent()).trim();
    }
    const w = await page.evaluate(() => window.tunevmPage.workerTimings(200));
    const warm = await page.evaluate(() => window.tunevmPage.warmUp?.() ?? null);
    if (w.wire !== wire) throw new Error(`the worker took the ${w.wire} path, not ${wire}`);
    const wallMs = report.wall_ns / 1e6;
    return {
      wire,
      variant: variant.label,
      slices: w.slices,
      sliceOverheadUs: ((w.loopMs - wallMs) * 1000) / w.slices,
      liveUs: (w.liveMs * 1000) / w.lives,
      lives: w.lives,
      statusObjectUs: w.perCallUs.status_object,
      statusJsonUs: w.perCallUs.status_json,
      liveObjectUs: w.perCallUs.live_object,
      liveJsonUs: w.perCallUs.live_json,
      state, mips: report.mips, wallMs: report.wall_ns / 1e6, pageMs, native, build: report.engine,
      compileMs: (report.jit?.compile_ns?.total ?? 0) / 1e6, units: report.jit?.units_compiled ?? 0,
      codegenMs: (report.jit?.codegen_ns?.total ?? 0) / 1e6, engineMs: (report.jit?.engine_ns?.total ?? 0) / 1e6,
      calls: report.jit?.calls ?? 0,
      waitedMs: (report.jit?.compile_waited_ns ?? 0) / 1e6,
      loadMs: w.loadMs,
      runToFirstSliceMs: w.firstSlice - w.runAt,
      endReportMs: w.endReportMs,
      latencyP50Ms: (report.jit?.compile_latency_ns?.p50 ?? 0) / 1e6,
      warmUpMs: warm?.ms ?? 0,
      warmUpUnits: warm?.units ?? 0,
      gc: report.gc?.used ? {
        pauses: report.gc.pause_ns.count, p50Ms: report.gc.pause_ns.p50 / 1e6, p99Ms: report.gc.pause_ns.p99 / 1e6,
        maxMs: report.gc.pause_ns.max / 1e6, cycles: report.gc.cycles_started, fellBehind: report.gc.marking_fell_behind,
        concurrent: report.gc.concurrent,
      } : null,
    };
  } finally {
    if (!shared) await context.close();
  }
}

const load = os.loadavg()[0];
const server = await startServer();
const serverB = DIST_B ? await startServer({ dir: DIST_B }) : null;
const urlOf = (v) => (v.dist ? serverB.url : server.url);
const browser = await launchBrowser();
const runs = [];
try {
  const shared = {};
  if (SAME_PAGE) for (const v of VARIANTS) shared[v.label] = await openPage(browser, urlOf(v), v);
  for (let i = 0; i < RUNS * VARIANTS.length; i += 1) {
    const v = VARIANTS[i % VARIANTS.length];
    const r = await runOnce(browser, urlOf(v), shared[v.label], v);
    process.stderr.write(`run ${i + 1}/${RUNS * VARIANTS.length} (${v.label}): ${r.state}, ${r.mips.toFixed(1)} MIPS, `
      + `${r.slices} slices, ${r.sliceOverheadUs.toFixed(0)} µs overhead per slice, ${r.liveUs.toFixed(0)} µs per live report, `
      + `${r.wallMs.toFixed(0)} ms running (${r.compileMs.toFixed(0)} ms compiling ${r.units} units: `
      + `${r.codegenMs.toFixed(0)} ms generating, ${r.engineMs.toFixed(0)} ms in the engine), `
      + `${r.calls} calls into generated code, ${r.waitedMs.toFixed(0)} ms waited for compiles, `
      + `background compile to install p50 ${r.latencyP50Ms.toFixed(2)} ms, ${r.pageMs.toFixed(0)} ms in the page; native: ${r.native}; `
      + `engine warm-up before it: ${r.warmUpMs.toFixed(0)} ms, ${r.warmUpUnits} units`
      + `${r.gc ? `; GC: ${r.gc.pauses} pauses, p50 ${r.gc.p50Ms.toFixed(3)} ms, p99 ${r.gc.p99Ms.toFixed(3)} ms, max ${r.gc.maxMs.toFixed(2)} ms, `
        + `fell behind in ${r.gc.fellBehind} of ${r.gc.cycles} cycles${r.gc.concurrent ? ', marker worker' : ''}` : ''}\n`);
    runs.push(r);
  }
} finally {
  await browser.close();
  await server.stop();
  await serverB?.stop();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
console.log(`${WORKLOAD} in the page, ${RUNS} runs ${VARIANTS.length > 1 ? 'of each variant, alternating, ' : ''}${SETS.length ? `with ${SETS.join(' ')}, ` : ''}${BEFORE ? `each after a run of ${BEFORE}, ` : ''}${SAME_PAGE ? 'in one page' : 'in fresh pages'}, ${IDLE_MS} ms idle after loading, Chromium ${browser.version()}, load average ${load.toFixed(2)} at the start\n`);
const FIGURES = [
  ['MIPS (report)', (r) => r.mips],
  ['running (ms, report wall_ns)', (r) => r.wallMs],
  ['click -> end state (ms)', (r) => r.pageMs],
  ['of the running: JIT compile (ms, total)', (r) => r.compileMs],
  ['of the running: waited for compiles (ms)', (r) => r.waitedMs],
  ['background compile, start to install (ms, p50)', (r) => r.latencyP50Ms],
  ['worker: building the machine (ms)', (r) => r.loadMs],
  ['worker: Run message to the first slice (ms)', (r) => r.runToFirstSliceMs],
  ['worker: the final report (ms)', (r) => r.endReportMs],
  ['units compiled', (r) => r.units],
  ['the engine warm-up before the run (ms of worker time)', (r) => r.warmUpMs],
  ['units the warm-up compiled', (r) => r.warmUpUnits],
  ['calls into generated code', (r) => r.calls],
  ['slices', (r) => r.slices],
  ['per-slice overhead (µs, worker: loop time - wall_ns, / slices)', (r) => r.sliceOverheadUs],
  ['per live report in the run (µs, live() and its crossing)', (r) => r.liveUs],
  ['status, one call on the ended machine (µs, 200 calls)', (r) => (r.wire === 'json' ? r.statusJsonUs : r.statusObjectUs)],
  ['live report, one call on the ended machine (µs, 200 calls)', (r) => (r.wire === 'json' ? r.liveJsonUs : r.liveObjectUs)],
];
// A guest that used the GC heap: its pause figures too.
if (runs.every((r) => r.gc)) {
  FIGURES.push(
    ['GC pauses', (r) => r.gc.pauses],
    ['GC pause p50 (ms)', (r) => r.gc.p50Ms],
    ['GC pause p99 (ms)', (r) => r.gc.p99Ms],
    ['GC pause max (ms)', (r) => r.gc.maxMs],
    ['GC cycles in which marking fell behind', (r) => r.gc.fellBehind],
    ['GC cycles', (r) => r.gc.cycles],
  );
}
const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 || x === 0 ? x.toFixed(1) : x.toFixed(3));
const stats = (xs) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))})`;
console.log(`| figure, median (min..max) | ${VARIANTS.map((v) => v.label).join(' | ')} |`);
console.log(`|---|${VARIANTS.map(() => '---:').join('|')}|`);
for (const [label, pick] of FIGURES) {
  const cells = VARIANTS.map((v) => stats(runs.filter((r) => r.variant === v.label).map(pick)));
  console.log(`| ${label} | ${cells.join(' | ')} |`);
}
// Both paths measured on the same machine, in the same worker, back to back.
const side = (key) => stats(runs.map((r) => r[key]));
console.log('\nside by side on each ended machine (µs per call, 200 calls each):\n');
console.log('| call | objects, serde-wasm-bindgen | JSON text + JSON.parse |');
console.log('|---|---:|---:|');
console.log(`| status | ${side('statusObjectUs')} | ${side('statusJsonUs')} |`);
console.log(`| live report | ${side('liveObjectUs')} | ${side('liveJsonUs')} |`);
if (runs[0].native) console.log(`\nchecklist, native speed: ${runs.map((r) => r.native).join('; ')}`);
