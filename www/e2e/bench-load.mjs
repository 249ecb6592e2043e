// Load benchmark of the playground page (issue 4, item 9): how many bytes the
// page transfers before it is ready to run, and how long from navigation until
// it says so (body[data-ready="1"]), in headless Chromium.
//
//   node www/e2e/bench-load.mjs [--runs N] [--http-cache]   (scripts/bench-page.sh builds first)
//
// Each run is a cold load: a fresh browser context (no storage, no service
// worker) with the HTTP cache disabled (or, with --http-cache, on and empty). Sizes are response bodies as sent
// (encoded), counted for every request the page and its workers started before
// ready, by type. The time is performance.now() in the page when data-ready
// turned "1" (performance.now() counts from navigation start), recorded by a
// MutationObserver installed before the page's scripts run.
// Not a test: it prints a markdown table and the two target lines.

import os from 'node:os';
import { launchBrowser, recordReadyTime, startServer, waitInPage, withTimeout } from './harness.mjs';

const runsArg = process.argv.indexOf('--runs');
const RUNS = Number(runsArg > 0 ? process.argv[runsArg + 1] : process.env.RUNS || 5);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs wants a positive integer, got ${RUNS}`);
// --http-cache: keep Chromium's HTTP cache on (still empty in each fresh
// context), as on a real first visit, where a file the page and its worker
// both fetch may come over the wire once.
const HTTP_CACHE = process.argv.includes('--http-cache');

const TYPES = ['wasm', 'js', 'css', 'html', 'other'];
const SIZE_TARGET_KIB = 2048;
const READY_LIMIT_MS = 30_000; // a load not ready by then counts as stalled
const READY_TARGET_MS = 1000;

function typeOf(url, contentType) {
  const path = new URL(url).pathname;
  if (/\.wasm$/.test(path) || /application\/wasm/.test(contentType)) return 'wasm';
  if (/\.m?js$/.test(path) || /javascript/.test(contentType)) return 'js';
  if (/\.css$/.test(path) || /text\/css/.test(contentType)) return 'css';
  if (/\.html?$/.test(path) || path.endsWith('/') || /text\/html/.test(contentType)) return 'html';
  return 'other';
}

async function loadOnce(browser, url) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: !HTTP_CACHE });
    await page.addInitScript(recordReadyTime);

    const requests = [];
    const unanswered = new Set();
    let ready = false;
    context.on('request', (req) => {
      if (!ready) requests.push(req);
      unanswered.add(req);
    });
    context.on('requestfinished', (req) => unanswered.delete(req));
    context.on('requestfailed', (req) => unanswered.delete(req));

    // A load that never gets ready is recorded as stalled (with what it was
    // waiting for), not timed.
    try {
      await page.goto(url, { waitUntil: 'commit', timeout: READY_LIMIT_MS });
      await waitInPage(page, () => window.__e2eReadyAt !== undefined, null, {
        timeout: READY_LIMIT_MS,
        message: 'the page never set body[data-ready="1"]',
      });
    } catch (e) {
      const waiting = [...unanswered].map((r) => new URL(r.url()).pathname).join(', ') || 'nothing';
      return { stalled: `${e.message.split('\n')[0]}; unanswered requests: ${waiting}` };
    }
    ready = true;
    const readyMs = await page.evaluate(() => window.__e2eReadyAt);
    // The page's own performance marks (if any), for where the time went.
    const marks = await page.evaluate(() => performance.getEntriesByType('mark')
      .map((m) => ({ name: m.name, ms: m.startTime })));

    const files = [];
    for (const req of requests) {
      const res = await withTimeout(req.response(), 10_000, `no response for ${req.url()}`);
      if (!res) continue; // failed or aborted
      // CDP reports 0 for a worker's own script: fall back on the body itself.
      let bytes = (await req.sizes()).responseBodySize;
      if (bytes === 0 && res.status() === 200) {
        bytes = Number(res.headers()['content-length']) || (await res.body().catch(() => Buffer.alloc(0))).length;
      }
      files.push({
        path: new URL(req.url()).pathname,
        type: typeOf(req.url(), res.headers()['content-type'] || ''),
        bytes,
        status: res.status(),
      });
    }
    const bytes = Object.fromEntries(TYPES.map((t) => [t, 0]));
    for (const f of files) bytes[f.type] += f.bytes;
    return { readyMs, bytes, files, marks };
  } finally {
    await context.close();
  }
}

const kib = (b) => b / 1024;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const loadStart = os.loadavg()[0];
const server = await startServer();
const browser = await launchBrowser();
const version = browser.version();
const runs = [];
const stalled = [];
try {
  for (let i = 0; i < RUNS; i += 1) {
    const r = await loadOnce(browser, server.url);
    if (r.stalled) {
      process.stderr.write(`run ${i + 1}/${RUNS}: STALLED: ${r.stalled}\n`);
      stalled.push(r.stalled);
      continue;
    }
    process.stderr.write(`run ${i + 1}/${RUNS}: ready in ${r.readyMs.toFixed(0)} ms, `
      + `${kib(r.bytes.wasm + r.bytes.js + r.bytes.css).toFixed(0)} KiB wasm+JS+CSS\n`);
    runs.push(r);
  }
} finally {
  await browser.close();
  await server.stop();
}

if (runs.length === 0) {
  console.log(`all ${RUNS} loads stalled:\n${stalled.join('\n')}`);
  process.exit(1);
}
const rows = [
  ...TYPES.map((t) => [`${t} (KiB)`, runs.map((r) => kib(r.bytes[t])), 1]),
  ['**wasm + JS + CSS (KiB)**', runs.map((r) => kib(r.bytes.wasm + r.bytes.js + r.bytes.css)), 1],
  ['all (KiB)', runs.map((r) => kib(TYPES.reduce((s, t) => s + r.bytes[t], 0))), 1],
  ['**navigation -> ready (ms)**', runs.map((r) => r.readyMs), 0],
];
const out = [];
const mode = HTTP_CACHE ? 'HTTP cache on but empty' : 'HTTP cache disabled';
out.push(`Page load, ${runs.length} cold loads (fresh context each, ${mode}), Chromium ${version}, ${server.url}`);
if (stalled.length) {
  out.push('');
  out.push(`${stalled.length} more load(s) STALLED (not ready after ${READY_LIMIT_MS} ms; left out of the table):`);
  for (const why of stalled) out.push(`- ${why}`);
}
out.push('');
out.push('| figure | median | min | max |');
out.push('|---|---:|---:|---:|');
for (const [name, xs, digits] of rows) {
  out.push(`| ${name} | ${median(xs).toFixed(digits)} | ${Math.min(...xs).toFixed(digits)} | ${Math.max(...xs).toFixed(digits)} |`);
}
out.push('');
out.push('Files of the first load before ready:');
out.push('');
out.push('| file | type | KiB |');
out.push('|---|---|---:|');
for (const f of [...runs[0].files].sort((a, b) => b.bytes - a.bytes)) {
  out.push(`| ${f.path}${f.status === 200 ? '' : ` (${f.status})`} | ${f.type} | ${kib(f.bytes).toFixed(1)} |`);
}
const marks = runs[0].marks.filter((m) => m.ms <= runs[0].readyMs + 1);
if (marks.length) {
  out.push('');
  out.push(`The page's performance marks in the first load (ms since navigation): ${
    marks.map((m) => `${m.name} ${m.ms.toFixed(0)}`).join(', ')}`);
}
out.push('');
out.push(`Load average (1 min) at start / end: ${loadStart.toFixed(2)} / ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs`);
out.push('');
const size = median(runs.map((r) => kib(r.bytes.wasm + r.bytes.js + r.bytes.css)));
const ready = median(runs.map((r) => r.readyMs));
out.push(`transfer size ${size.toFixed(0)} KiB (target < ${SIZE_TARGET_KIB} KiB): ${size < SIZE_TARGET_KIB ? 'met' : 'NOT met'}`);
out.push(`ready in ${ready.toFixed(0)} ms (target < ${READY_TARGET_MS} ms): ${ready < READY_TARGET_MS ? 'met' : 'NOT met'}`);
console.log(out.join('\n'));
if (stalled.length) process.exitCode = 1;
