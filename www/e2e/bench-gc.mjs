// GC benchmark of the playground page: the browser counterpart of
// `tunevm bench --only gc` (src/cli/bench.rs gc_section). For each workload
// (gc-binary-trees-large, gc-graph-large) x heap (64 MiB, 256 MiB) x mode
// (stop-the-world, incremental, incremental + concurrent) it runs the ELF to
// its end in the real page (upload through #elf-file, the knobs typed into
// #knobs, Run), checks the console ends with "gc-binary-trees: ok" /
// "gc-graph: ok" and exit 0, takes the final report the page keeps
// (window.tunevmPage.lastReport(): the live report the worker sends at the
// end, which holds the whole gc section) and prints a markdown table with the
// native table's columns, plus what the page did with concurrent marking
// (report.gc.concurrent, gc.concurrent_reason: the threads build marks on the
// marker worker; the plain build would fall back to incremental slices).
//
//   node www/e2e/bench-gc.mjs [--repeat N] [--workloads a,b] [--heaps 67108864,268435456]
//                             [--modes stw,incremental,concurrent] [--no-warmup] [--json FILE]
//   (scripts/bench-gc-web.sh builds first)
//
// Rounds are interleaved by mode (for each workload and heap: round 1 of
// every mode, then round 2, ...), figures are medians over the rounds, and
// throughput vs STW = the median STW wall / the mode's median wall, wall
// being the report's wall_ns (time spent running guest code in the worker,
// not the pauses between the page's 20 ms slices). Collections and pauses are
// the first round's, as in gc_section.
//
// One page per workload: the ELF is uploaded once and each run rebuilds the
// machine with its knobs (the page builds a new machine when a knob changed
// or the last run is over). Before the measured runs of a page, one run of
// the workload (stop-the-world, the first heap) is made and thrown away: the
// first long run in a page pays V8's warm-up of tunevm's own code and of the
// generated modules (www/README.md, "Native speed"), which would otherwise
// fall on whichever mode happens to go first. --no-warmup skips it.

import os from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { DIST_DIR, launchBrowser, startServer, waitInPage } from './harness.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const REPEAT = Number(arg('--repeat', process.env.REPEAT || 1));
if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`--repeat wants a positive integer, got ${REPEAT}`);
const WORKLOADS = arg('--workloads', 'gc-binary-trees-large,gc-graph-large').split(',');
const HEAPS = arg('--heaps', '67108864,268435456').split(',').map(Number);
// In the order they are typed: the page checks the cross-knob rule
// (concurrent marking needs incremental) as each entry is made.
const ALL_MODES = {
  stw: { label: 'stop-the-world', sets: { 'gc.concurrent_marking': 'false', 'gc.incremental': 'false' } },
  incremental: { label: 'incremental', sets: { 'gc.incremental': 'true', 'gc.concurrent_marking': 'false' } },
  concurrent: { label: 'incremental + concurrent', sets: { 'gc.incremental': 'true', 'gc.concurrent_marking': 'true' } },
};
const MODE_KEYS = arg('--modes', 'stw,incremental,concurrent').split(',');
for (const m of MODE_KEYS) if (!ALL_MODES[m]) throw new Error(`--modes: unknown mode ${m} (stw, incremental, concurrent)`);
const WARMUP = !process.argv.includes('--no-warmup');
const JSON_OUT = arg('--json', null);
const RUN_LIMIT_MS = Number(arg('--run-limit-ms', 600_000));
let isolation = null; // what #isolation says (the threads build and 5 µs timers need cross-origin isolation)

/** What the page shows right now, for failure messages. */
function pageSummary() {
  const text = (sel) => document.querySelector(sel)?.textContent?.trim().slice(0, 300) ?? '(missing)';
  return JSON.stringify({
    state: text('#state'), loadError: text('#load-error'), console: text('#console').slice(-200),
  });
}

/** The input (or select) of a knob in the main panel #knobs. */
const knob = (page, key) => page.locator(
  `#knobs :is(input, select, textarea)[data-key="${key}"], #knobs [data-key="${key}"] :is(input, select, textarea)`,
).first();

/** Enters `value` the way a user would and leaves the field; throws if the page refuses it. */
async function setKnob(page, key, value) {
  const input = knob(page, key);
  const kind = await input.evaluate((e) => (e.tagName === 'SELECT' ? 'select' : e.type));
  if (kind === 'checkbox') await input.setChecked(String(value) === 'true');
  else if (kind === 'select') await input.selectOption(String(value));
  else {
    await input.fill(String(value));
    await input.press('Tab');
  }
  const refused = (await page.locator(`[data-error-for="${key}"]`).first().textContent().catch(() => '')).trim();
  if (refused) throw new Error(`the page refused ${key}=${value}: ${refused}`);
}

async function openPage(browser, url, workload) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
  page.on('crash', () => process.stderr.write('the page crashed\n'));
  await page.goto(url);
  await waitInPage(page, () => document.body?.dataset.ready === '1', null, {
    timeout: 30_000, message: 'the page never got ready', describe: pageSummary,
  });
  // The large workloads are not in the picker: upload the ELF as a user would.
  const file = resolve(DIST_DIR, 'workloads', `${workload}.elf`);
  await page.setInputFiles('#elf-file', {
    name: basename(file), mimeType: 'application/octet-stream', buffer: readFileSync(file),
  });
  await waitInPage(page, () => document.querySelector('#workload').value.startsWith('file:'), null, {
    timeout: 15_000, message: `the uploaded ${workload}.elf did not become the program`, describe: pageSummary,
  });
  isolation ??= (await page.locator('#isolation').textContent()).trim();
  return { context, page };
}

/** Sets the knobs, clicks Run, waits for the end; returns the final report and what the page showed. */
async function runOnce(page, workload, heap, modeKey) {
  const mode = ALL_MODES[modeKey];
  const sets = { ...mode.sets, 'gc.heap_size_limit': String(heap) };
  for (const [k, v] of Object.entries(sets)) await setKnob(page, k, v);
  const t0 = await page.evaluate(() => {
    window.__benchEnd = undefined;
    window.__benchStates = [];
    window.__benchWatch?.disconnect();
    const state = document.querySelector('#state');
    window.__benchWatch = new MutationObserver(() => {
      const s = state.textContent.trim();
      window.__benchStates.push(s);
      if (window.__benchEnd === undefined && !['', 'idle', 'running', 'paused'].includes(s)) {
        window.__benchEnd = performance.now();
      }
    });
    window.__benchWatch.observe(state, { childList: true, characterData: true, subtree: true });
    const start = performance.now();
    document.querySelector('#run').click();
    return start;
  });
  await waitInPage(page, () => window.__benchEnd !== undefined, null, {
    timeout: RUN_LIMIT_MS, message: `${workload} (${mode.label}, heap ${heap}) did not end`, describe: pageSummary,
  });
  const pageMs = (await page.evaluate(() => window.__benchEnd)) - t0;
  const state = (await page.locator('#state').textContent()).trim();
  const consoleText = (await page.locator('#console').textContent()).trim();
  const report = await page.evaluate(() => window.tunevmPage.lastReport());
  const want = `${workload.replace(/-large$/, '')}: ok`;
  if (state !== 'exit 0') throw new Error(`${workload} (${mode.label}, heap ${heap}) ended "${state}"; console: ${consoleText.slice(-300)}`);
  if (!consoleText.endsWith(want)) {
    throw new Error(`${workload} (${mode.label}, heap ${heap}): the console does not end with "${want}": ${consoleText.slice(-300)}`);
  }
  if (!report?.gc) throw new Error(`${workload}: the final report has no gc section`);
  // The knobs the machine was built with, if the report carries them.
  const cfg = report.config?.gc;
  if (cfg) {
    const bad = Object.entries(sets).filter(([k, v]) => {
      const got = cfg[k.slice(3)];
      return got !== undefined && String(got) !== String(v);
    });
    if (bad.length) throw new Error(`the report's config differs from the knobs set: ${JSON.stringify(bad)} vs ${JSON.stringify(cfg)}`);
  }
  const g = report.gc;
  return {
    workload, heap, mode: modeKey, state, pageMs,
    instructions: report.instructions,
    wallNs: report.wall_ns,
    collections: g.collections,
    pauses: g.pause_ns?.count ?? 0,
    p50: g.pause_ns?.p50 ?? 0,
    p99: g.pause_ns?.p99 ?? 0,
    max: g.pause_ns?.max ?? 0,
    pauseTotal: g.pause_ns?.total ?? 0,
    markerNs: g.marker_ns ?? 0,
    concurrent: g.concurrent,
    concurrentReason: g.concurrent_reason ?? '',
    configSeen: !!cfg,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]; // as gc_section: the upper median for an even count
};
const ms = (ns) => `${(ns / 1e6).toFixed(3)} ms`;

const loadAtStart = os.loadavg()[0];
const started = new Date();
const server = await startServer();
const browser = await launchBrowser();
const results = [];
try {
  for (const workload of WORKLOADS) {
    const { context, page } = await openPage(browser, server.url, workload);
    try {
      if (WARMUP) {
        const t = Date.now();
        const r = await runOnce(page, workload, HEAPS[0], MODE_KEYS[0]);
        process.stderr.write(`${workload}: warm-up run (${ALL_MODES[MODE_KEYS[0]].label}, ${HEAPS[0] >> 20} MiB, not counted): `
          + `${(r.wallNs / 1e6).toFixed(0)} ms running, ${((Date.now() - t) / 1e3).toFixed(0)} s in all\n`);
      }
      for (const heap of HEAPS) {
        for (let round = 0; round < REPEAT; round += 1) {
          for (const modeKey of MODE_KEYS) {
            const r = await runOnce(page, workload, heap, modeKey);
            r.round = round;
            results.push(r);
            process.stderr.write(`${workload} ${heap >> 20} MiB ${ALL_MODES[modeKey].label} round ${round + 1}/${REPEAT}: `
              + `${r.state}, ${r.collections} collections, ${r.pauses} pauses, p99 ${ms(r.p99)}, max ${ms(r.max)}, `
              + `${(r.wallNs / 1e6).toFixed(0)} ms running, ${(r.pageMs / 1e3).toFixed(1)} s in the page, `
              + `concurrent ${r.concurrent} (${r.concurrentReason}), load ${os.loadavg()[0].toFixed(2)}\n`);
          }
        }
      }
    } finally {
      await context.close();
    }
  }
} finally {
  await browser.close();
  await server.stop();
}

const rows = [];
for (const workload of WORKLOADS) {
  for (const heap of HEAPS) {
    const of = (m) => results.filter((r) => r.workload === workload && r.heap === heap && r.mode === m);
    const stwRuns = of('stw');
    const stwWall = stwRuns.length ? median(stwRuns.map((r) => r.wallNs)) : NaN;
    for (const m of MODE_KEYS) {
      const rs = of(m);
      const q = (f) => median(rs.map(f));
      const wall = q((r) => r.wallNs);
      rows.push({
        workload, heap_bytes: heap, mode: ALL_MODES[m].label,
        collections: rs[0].collections, pauses: rs[0].pauses,
        pause_p50_ns: q((r) => r.p50), pause_p99_ns: q((r) => r.p99), pause_max_ns: q((r) => r.max),
        pause_total_ns: q((r) => r.pauseTotal), marker_ns: q((r) => r.markerNs), wall_ns: wall,
        throughput_vs_stw: stwWall / wall,
        concurrent: rs.map((r) => r.concurrent), concurrent_reason: [...new Set(rs.map((r) => r.concurrentReason))],
        page_ms: q((r) => r.pageMs), instructions: rs[0].instructions,
      });
    }
  }
}

const end = os.loadavg()[0];
console.log(`## GC: pause times and throughput in the page (headless Chromium ${browser.version()}, `
  + `${REPEAT} round${REPEAT > 1 ? 's' : ''} interleaved by mode, medians)\n`);
console.log(`${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} cores, `
  + `load average ${loadAtStart.toFixed(2)} at the start, ${end.toFixed(2)} at the end; `
  + `${WARMUP ? 'one discarded warm-up run per page' : 'no warm-up run'}; #isolation: ${isolation}\n`);
console.log('| workload | heap | mode | collections | pauses | p50 | p99 | max | GC pause total | marker thread | wall ms | throughput vs STW | concurrent? |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const conc = r.concurrent.every((c) => c === true) ? 'yes' : r.concurrent.every((c) => c === false) ? 'no' : 'mixed';
  console.log(`| ${r.workload} | ${r.heap_bytes >> 20} MiB | ${r.mode} | ${r.collections} | ${r.pauses} | ${ms(r.pause_p50_ns)} | `
    + `${ms(r.pause_p99_ns)} | ${ms(r.pause_max_ns)} | ${ms(r.pause_total_ns)} | ${ms(r.marker_ns)} | `
    + `${(r.wall_ns / 1e6).toFixed(0)} | ${Number.isFinite(r.throughput_vs_stw) ? r.throughput_vs_stw.toFixed(2) : '-'} | ${conc} |`);
}
const reasons = [...new Set(rows.flatMap((r) => r.concurrent_reason.map((why) => `${r.mode}: ${why}`)))];
console.log('\ngc.concurrent_reason by mode:');
for (const why of reasons) console.log(`- ${why}`);
if (!results.some((r) => r.configSeen)) console.log('\n(the report carries no config: the knobs were checked only as the page accepted them)');
if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify({ started: started.toISOString(), repeat: REPEAT, rows, runs: results }, null, 2)}\n`);
