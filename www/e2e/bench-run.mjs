// Run benchmark of the playground page: cpubench at the defaults, run to its
// end in the page's worker (the real page, its Run button and its run loop),
// then the checklist's direct-wasm comparison, in headless Chromium.
//
//   node www/e2e/bench-run.mjs [--runs N] [--workload NAME] [--same-page] [--idle-ms MS]
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

import os from 'node:os';
import { launchBrowser, startServer, waitInPage } from './harness.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const RUNS = Number(arg('--runs', process.env.RUNS || 3));
const WORKLOAD = arg('--workload', 'cpubench');
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs wants a positive integer, got ${RUNS}`);
const SAME_PAGE = process.argv.includes('--same-page');
// How long a fresh page sits idle before its first run (the worker's warm-up
// runs meanwhile; 0 starts at once, as a quick user or a test would).
const IDLE_MS = Number(arg('--idle-ms', 0));
const RUN_LIMIT_MS = 120_000;

async function openPage(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(url);
  await waitInPage(page, () => document.body?.dataset.ready === '1', null, {
    timeout: 30_000, message: 'the page never got ready',
  });
  await page.selectOption('#workload', WORKLOAD);
  if (IDLE_MS > 0) await page.waitForTimeout(IDLE_MS);
  return { context, page };
}

async function runOnce(browser, url, shared) {
  const { context, page } = shared ?? await openPage(browser, url);
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
    if (WORKLOAD === 'cpubench') {
      const row = '#checklist [data-target="native_speed"]';
      await waitInPage(page, (sel) => ['pass', 'fail'].includes(document.querySelector(sel)?.dataset.status), row, {
        timeout: 30_000, message: 'the checklist never measured native speed',
      });
      native = (await page.locator(`${row} .value`).textContent()).trim();
    }
    return {
      state, mips: report.mips, wallMs: report.wall_ns / 1e6, pageMs, native, build: report.engine,
      compileMs: (report.jit?.compile_ns?.total ?? 0) / 1e6, units: report.jit?.units_compiled ?? 0,
      codegenMs: (report.jit?.codegen_ns?.total ?? 0) / 1e6, engineMs: (report.jit?.engine_ns?.total ?? 0) / 1e6,
      calls: report.jit?.calls ?? 0,
    };
  } finally {
    if (!shared) await context.close();
  }
}

const load = os.loadavg()[0];
const server = await startServer();
const browser = await launchBrowser();
const runs = [];
try {
  const shared = SAME_PAGE ? await openPage(browser, server.url) : null;
  for (let i = 0; i < RUNS; i += 1) {
    const r = await runOnce(browser, server.url, shared);
    process.stderr.write(`run ${i + 1}/${RUNS}: ${r.state}, ${r.mips.toFixed(1)} MIPS, `
      + `${r.wallMs.toFixed(0)} ms running (${r.compileMs.toFixed(0)} ms compiling ${r.units} units: `
      + `${r.codegenMs.toFixed(0)} ms generating, ${r.engineMs.toFixed(0)} ms in the engine), `
      + `${r.calls} calls into generated code, ${r.pageMs.toFixed(0)} ms in the page; native: ${r.native}\n`);
    runs.push(r);
  }
} finally {
  await browser.close();
  await server.stop();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
console.log(`${WORKLOAD} in the page, ${RUNS} runs ${SAME_PAGE ? 'in one page' : 'in fresh pages'}, ${IDLE_MS} ms idle after loading, Chromium ${browser.version()}, load average ${load.toFixed(2)} at the start\n`);
console.log('| figure | median | min | max |');
console.log('|---|---:|---:|---:|');
for (const [label, pick] of [
  ['MIPS (report)', (r) => r.mips],
  ['running (ms, report wall_ns)', (r) => r.wallMs],
  ['click -> end state (ms)', (r) => r.pageMs],
  ['of the running: JIT compile (ms, total)', (r) => r.compileMs],
  ['units compiled', (r) => r.units],
]) {
  const xs = runs.map(pick);
  console.log(`| ${label} | ${median(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`);
}
if (runs[0].native) console.log(`\nchecklist, native speed: ${runs.map((r) => r.native).join('; ')}`);
