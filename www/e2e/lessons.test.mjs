// Every lesson the page teaches, checked in the page: each walkthrough of
// www/workloads.js that states a figure or a direction, and each problem/fix
// preset pair (src/config/presets.rs), is done here the way the text tells
// the student (pick the workload, set the knobs it names, Run, compare), and
// the figure must move as the text says.
//
//   node --test --test-reporter=spec www/e2e/lessons.test.mjs   (after scripts/e2e-env.sh)
//
// page.test.mjs already checks the walkthroughs of paging, paging-random,
// smc, selftime, gc-lru and gc-exhaust, the basics of gc-graph and
// smp-paging, and the TLB preset pair; this file checks the rest.
//
// Each check first asserts that the text (en and zh) still states the figure
// checked (`says`), so a text and its check change together. Figures that
// count things (instructions, walks, units, evictions) are checked near the
// stated value; figures that time things (wall time, pauses, MIPS) only by
// direction and by a factor well inside the one the text states, since CI is
// a noisy 2-core machine. Lessons that share a page share a test, to keep the
// file under about two minutes.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startServer, waitInPage, withTimeout } from './harness.mjs';
import { WORKLOADS } from '../workloads.js';

const TEST_TIMEOUT = 180_000; // a backstop per test; each wait below has its own bound
const READY_MS = 20_000;
const RUN_MS = 90_000;

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ---------------------------------------------------------------------------
// Helpers

/** The walkthrough of `name` still says `en` (English) and `zh` (Chinese) in `part` (does/try/see). */
function says(name, part, en, zh) {
  const text = WORKLOADS[name]?.[part];
  assert.ok(text, `no walkthrough text ${name}.${part}`);
  assert.ok(text.en.includes(en), `the ${name} walkthrough (${part}, en) no longer says "${en}": update this check with it`);
  assert.ok(text.zh.includes(zh), `the ${name} walkthrough (${part}, zh) no longer says "${zh}": update this check with it`);
}

/** A preset's description still says `en` and `zh`. */
function presetSays(preset, en, zh) {
  assert.ok(preset.description.en.includes(en), `preset ${preset.id} (en) no longer says "${en}": update this check with it`);
  assert.ok(preset.description.zh.includes(zh), `preset ${preset.id} (zh) no longer says "${zh}": update this check with it`);
}

function pageSummary() {
  const text = (sel) => document.querySelector(sel)?.textContent?.trim().slice(0, 300) ?? '(missing)';
  return JSON.stringify({ state: text('#state'), loadError: text('#load-error'), console: text('#console').slice(-200) });
}

/** A fresh context and page, ready; `problems` collects page errors from then on. */
async function openPage(t) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  t.after(() => context.close());
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('crash', () => problems.push('the page crashed'));
  await withTimeout(page.goto(server.url, { timeout: READY_MS + 1_000 }), READY_MS, `navigation to ${server.url} did not finish`);
  await waitInPage(page, () => document.body?.dataset.ready === '1', null, {
    timeout: READY_MS, message: 'the page never set body[data-ready="1"]', describe: pageSummary,
  });
  const presets = await page.evaluate(async () => {
    const vm = await import(new URL('pkg-st/tunevm.js', document.baseURI).href);
    await vm.default();
    return JSON.parse(vm.presets());
  });
  return { page, problems, presets };
}

function knob(page, key) {
  return page.locator(
    `#knobs :is(input, select, textarea)[data-key="${key}"], #knobs [data-key="${key}"] :is(input, select, textarea)`,
  ).first();
}

/** Enters `value` as a user would and checks the page took it (no reason under the knob). */
async function setKnob(page, key, value) {
  const input = knob(page, key);
  const kind = await input.evaluate((e) => (e.tagName === 'SELECT' ? 'select' : e.type));
  if (kind === 'checkbox') await input.setChecked(String(value) === 'true');
  else if (kind === 'select') await input.selectOption(String(value));
  else {
    await input.fill(String(value));
    await input.press('Tab');
  }
  const refused = await page.locator(`[data-error-for="${key}"]`).evaluateAll((els) => els.map((e) => e.textContent.trim()).join(''));
  assert.equal(refused, '', `the page refused ${key}=${value}`);
}

async function applyPreset(page, id) {
  await page.selectOption('#preset', id);
  await page.click('#apply-preset');
}

const UNFINISHED = ['', 'idle', 'running', 'paused'];

/** Clicks Run and records #state, so the wait below sees this run's states only. */
async function clickRun(page) {
  await page.evaluate(() => {
    window.__lessonWatch?.disconnect();
    const el = document.querySelector('#state');
    window.__lessonStates = [];
    window.__lessonPrev = window.tunevmPage.lastReport();
    const watch = new MutationObserver(() => window.__lessonStates.push(el.textContent.trim()));
    watch.observe(el, { childList: true, characterData: true, subtree: true });
    window.__lessonWatch = watch;
  });
  await page.click('#run');
}

/**
 * Picks `workload` (if given), sets the knobs of `set` in order, runs to the
 * end and returns the final report; the run must end in `want`.
 */
async function run(page, { workload, set = {}, want = 'exit 0', timeout = RUN_MS } = {}) {
  if (workload) await page.selectOption('#workload', workload);
  for (const [key, value] of Object.entries(set)) await setKnob(page, key, value);
  await clickRun(page);
  // This run's own end: a state it went through before, then a final one, and a new report.
  await waitInPage(page, (unfinished) => {
    const log = window.__lessonStates;
    const r = window.tunevmPage.lastReport();
    return log.length > 0 && !unfinished.includes(log[log.length - 1]) && log.some((s) => unfinished.includes(s))
      && r && r !== window.__lessonPrev;
  }, UNFINISHED, {
    timeout,
    message: `the run of ${workload || 'the selected workload'} with ${JSON.stringify(set)} never ended`,
    describe: pageSummary,
  });
  const state = (await page.locator('#state').textContent()).trim();
  const loadError = (await page.locator('#load-error').textContent()).trim();
  assert.equal(state, want, `${workload || 'the selected workload'} with ${JSON.stringify(set)} (#load-error: "${loadError}")`);
  return page.evaluate(() => window.tunevmPage.lastReport());
}

/**
 * Clicks Run, waits until `ok(arg)` (a page function that reads
 * window.tunevmPage.lastReport()) holds for this run's live report, then
 * Stops the guest and returns its last report.
 */
async function runUntil(page, ok, arg, message, timeout = 60_000) {
  await clickRun(page);
  await waitInPage(page, () => {
    const r = window.tunevmPage.lastReport();
    return r && r !== window.__lessonPrev && document.querySelector('#state').textContent.trim() === 'running';
  }, null, { timeout: 20_000, message: 'the run never started', describe: pageSummary });
  await waitInPage(page, ok, arg, { timeout, message, describe: pageSummary });
  await page.click('#stop');
  await waitInPage(page, () => document.querySelector('#state').textContent.trim() === 'stopped', null, {
    timeout: 10_000, message: '#state never read "stopped" after Stop', describe: pageSummary,
  });
  return page.evaluate(() => window.tunevmPage.lastReport());
}

/** The console's text once it contains `needle` (output may land just after the final state). */
async function consoleWith(page, needle, timeout = 5_000) {
  await waitInPage(page, (n) => document.querySelector('#console').textContent.includes(n), needle, {
    timeout, message: `#console never showed ${JSON.stringify(needle)}`, describe: pageSummary,
  });
  return page.locator('#console').textContent();
}

async function checklistRow(page, target) {
  const sel = `#checklist [data-target="${target}"]`;
  await waitInPage(page, (s) => {
    const e = document.querySelector(s);
    return e && e.dataset.status && (e.querySelector('.value')?.textContent.trim() ?? '') !== '';
  }, sel, { timeout: 10_000, message: `checklist row ${target} never filled`, describe: pageSummary });
  return page.locator(sel).evaluate((e) => ({ status: e.dataset.status, value: e.querySelector('.value').textContent.trim() }));
}

const compiled = (r) => r.tiers.baseline.instructions + r.tiers.optimizing.instructions;
const mib = (bytes) => bytes / 2 ** 20;
const ms = (ns) => ns / 1e6;
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const near = (x, want, rel) => Math.abs(x - want) <= rel * want;

// ---------------------------------------------------------------------------
// Single-hart walkthroughs

test('the short programs do what their walkthroughs say: hello stays in the interpreter, htif-hello and htif-fail exit 0 and 5, traps counts each trap and skips the timer waits', { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, problems } = await openPage(t);

  says('hello', 'see', 'everything runs in the interpreter tier', '全部在解释器层执行');
  const hello = await run(page, { workload: 'hello' });
  const text = await consoleWith(page, 'Hello from tunevm!\n');
  assert.equal(text.trimEnd().split('\n').length, 2, `hello prints two lines: ${JSON.stringify(text)}`);
  assert.equal(hello.tiers.interpreter.instructions, hello.instructions, `hello: every instruction interpreted: ${JSON.stringify(hello.tiers)}`);
  assert.ok(hello.instructions < 10_000, `"a few thousand instructions": ${hello.instructions}`);

  says('htif-hello', 'see', 'state "exit 0"', '状态 "exit 0"');
  await run(page, { workload: 'htif-hello' });
  await consoleWith(page, 'hello via htif');
  says('htif-fail', 'see', '"exit 5"', '"exit 5"');
  await run(page, { workload: 'htif-fail', want: 'exit 5' });

  says('traps', 'see', 'counts them by cause', '按原因计数');
  says('traps', 'see', 'skips ahead', '直接跳到下一次中断');
  const traps = await run(page, { workload: 'traps' });
  const out = await consoleWith(page, 'summary: timer interrupts 10');
  t.diagnostic(`traps: ${JSON.stringify(traps.traps)}, ${traps.instructions} instructions, ${ms(traps.wall_ns).toFixed(1)} ms`);
  assert.match(out, /illegal instruction .* in M/);
  assert.match(out, /ebreak in M/);
  assert.deepEqual(traps.traps, {
    breakpoint: 1, ecall_from_s: 2, ecall_from_u: 5, illegal_instruction: 3,
    machine_software_interrupt: 1, machine_timer_interrupt: 10,
  }, 'the report counts the traps the console lists, by cause');
  // Ten timer interrupts 10 000 mtime ticks apart are 100 000 ticks of
  // waiting, a million instructions' worth of guest time (one tick per 10
  // instructions); the whole run is a few tens of thousands: the waits were skipped.
  assert.ok(traps.instructions < 100_000, `traps: ${traps.instructions} instructions`);
  assert.deepEqual(problems, [], 'errors during the short programs');
});

test('cpubench walkthrough: the MIPS chart climbs as loops get compiled and the work ends in the optimizing tier; a higher jit.tier_up_threshold keeps it in the baseline tier longer', { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, problems } = await openPage(t);
  says('cpubench', 'does', 'about 500 M instructions', '约 5 亿条指令');
  says('cpubench', 'see', 'The MIPS chart climbs', 'MIPS 曲线上升');
  says('cpubench', 'see', 'the optimizing tier', '优化层');
  const base = await run(page, { workload: 'cpubench' });
  await consoleWith(page, 'checksum: 0x3b83ab4b1a61130d');
  const mips = await page.evaluate(() => window.tunevmPage.chartData('mips')?.[1] ?? []);
  const ys = mips.filter((y) => Number.isFinite(y));
  t.diagnostic(`cpubench defaults: ${base.instructions} instructions, tiers ${JSON.stringify(base.tiers)}, MIPS chart ${ys.slice(0, 4).map((y) => y.toFixed(0))} .. max ${Math.max(...ys).toFixed(0)}`);
  assert.ok(near(base.instructions, 500e6, 0.1), `about 500 M instructions: ${base.instructions}`);
  assert.ok(base.tiers.optimizing.instructions > 0.99 * base.instructions, `the work moves to the optimizing tier: ${JSON.stringify(base.tiers)}`);
  // The first point is the first live report's interval: how much of it ran
  // compiled code is timing (206 -> 1 891 and 441 -> 1 746 in two CI runs).
  assert.ok(ys.length >= 3 && Math.max(...ys) > 2.5 * ys[0], `the MIPS chart climbs: first ${ys[0]}, max ${Math.max(...ys)}`);

  says('cpubench', 'try', 'raise jit.tier_up_threshold so code stays in the baseline tier longer', '提高 jit.tier_up_threshold，让代码更久地停留在基础层');
  const late = await run(page, { set: { 'jit.tier_up_threshold': '100000' } });
  t.diagnostic(`jit.tier_up_threshold 100000: tiers ${JSON.stringify(late.tiers)}, ${late.mips.toFixed(0)} MIPS (defaults ${base.mips.toFixed(0)})`);
  assert.ok(late.tiers.baseline.instructions > 100 * base.tiers.baseline.instructions,
    `baseline-tier instructions ${base.tiers.baseline.instructions} -> ${late.tiers.baseline.instructions}`);
  assert.ok(late.tiers.optimizing.instructions > 0, 'the hot loops still reach the optimizing tier');
  assert.deepEqual(problems, [], 'errors during the cpubench lesson');
});

test('echo and spin walkthroughs: a guest polling for input keeps running compiled code; a high jit.min_threshold keeps spin\'s loop interpreted longer, then the MIPS chart jumps', { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, problems } = await openPage(t);
  says('echo', 'see', 'the MIPS chart stays high and that loop is compiled', 'MIPS 曲线保持在高位，这个循环也会被编译');
  await page.selectOption('#workload', 'echo');
  const waiting = await runUntil(page, () => window.tunevmPage.lastReport().wall_ns > 1e9, null, 'echo never ran for a second while waiting for input');
  t.diagnostic(`echo waiting: ${waiting.instructions} instructions in ${ms(waiting.wall_ns).toFixed(0)} ms, ${waiting.mips.toFixed(0)} MIPS, ${waiting.jit.units_compiled} units compiled, tiers ${JSON.stringify(waiting.tiers)}`);
  assert.ok(waiting.jit.units_compiled > 0, 'the polling loop is compiled');
  assert.ok(compiled(waiting) > 0.5 * waiting.instructions, `most of the waiting runs compiled code: ${JSON.stringify(waiting.tiers)}`);
  assert.ok(waiting.mips > 10, `MIPS stays high while waiting: ${waiting.mips}`);

  says('spin', 'try', 'a high jit.min_threshold', '调高 jit.min_threshold');
  says('spin', 'see', 'the MIPS chart jumps once the loop is compiled', '循环被编译后 MIPS 曲线会跳升');
  await page.selectOption('#workload', 'spin');
  const quick = await runUntil(page, () => window.tunevmPage.lastReport().wall_ns > 3e8, null, 'spin never ran for 0.3 s');
  // The highest threshold the knob takes: a million executions of the loop.
  await setKnob(page, 'jit.max_threshold', '1000000');
  await setKnob(page, 'jit.min_threshold', '1000000');
  const slow = await runUntil(page, () => {
    const r = window.tunevmPage.lastReport();
    return r.wall_ns > 3e8 && r.tiers.optimizing.instructions + r.tiers.baseline.instructions > 0;
  }, null,
    'spin with jit.min_threshold 1000000 never got its loop compiled');
  const ys = (await page.evaluate(() => window.tunevmPage.chartData('mips')?.[1] ?? [])).filter((y) => Number.isFinite(y));
  t.diagnostic(`spin: interpreted ${quick.tiers.interpreter.instructions} instructions at the defaults, ${slow.tiers.interpreter.instructions} at jit.min_threshold 1000000; MIPS chart ${ys.map((y) => y.toFixed(0)).join(' ')}`);
  assert.ok(slow.tiers.interpreter.instructions > 100 * quick.tiers.interpreter.instructions, 'the loop stays interpreted longer');
  assert.ok(ys.length >= 2 && Math.max(...ys) > 3 * ys[0], `the MIPS chart jumps once the loop is compiled: ${ys.map((y) => y.toFixed(0))}`);
  assert.deepEqual(problems, [], 'errors during the echo and spin lessons');
});

test('paging-stride walkthrough: the prefetcher predicts the stride (tlb.prefetch.issued and used), and without it the MMU walks far more', { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, problems } = await openPage(t);
  says('paging-stride', 'does', 'a regular pattern that a prefetcher can predict', '预取器可以预测的规则访问模式');
  says('paging-stride', 'see', 'tlb.prefetch.issued and used', 'tlb.prefetch.issued 和 used');
  const on = await run(page, { workload: 'paging-stride', set: { 'jit.enabled': 'false' } });
  const off = await run(page, { set: { 'mmu.enable_prefetch': 'false' } });
  const l2 = (r) => r.tlb.levels.find((l) => l.name === 'l2')?.hit_rate;
  t.diagnostic(`paging-stride, JIT off: prefetch on ${JSON.stringify(on.tlb.prefetch)}, ${on.tlb.walks} walks, l2 ${l2(on)}; off: ${JSON.stringify(off.tlb.prefetch)}, ${off.tlb.walks} walks, l2 ${l2(off)}`);
  assert.ok(on.tlb.prefetch.issued > 100, `prefetches issued: ${on.tlb.prefetch.issued}`);
  assert.ok(on.tlb.prefetch.used > 0.9 * on.tlb.prefetch.issued, `a stride the prefetcher predicts: ${JSON.stringify(on.tlb.prefetch)}`);
  assert.equal(off.tlb.prefetch.issued, 0, 'no prefetch with mmu.enable_prefetch off');
  assert.ok(off.tlb.walks > 5 * on.tlb.walks, `page walks: ${on.tlb.walks} with prefetch, ${off.tlb.walks} without`);
  assert.deepEqual(problems, [], 'errors during the paging-stride lesson');
});

test('phases walkthrough: the defaults keep about 1 050 units with no eviction; at 950 entries lru and lru_lfu evict hundreds to thousands, lfu thrashes and runs many times slower', { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, problems } = await openPage(t);
  says('phases', 'try', 'about 1 050 units, no eviction', '约 1050 个单元，没有淘汰');
  const defaults = await run(page, { workload: 'phases' });
  const cc = (r) => ({ entries: r.code_cache.entries, evictions: r.code_cache.evictions, hit: r.code_cache.hit_rate, units: r.jit.units_compiled, wall_ms: Math.round(ms(r.wall_ns)), mips: Math.round(r.mips) });
  t.diagnostic(`phases defaults: ${JSON.stringify(cc(defaults))}`);
  // 1 045 to 1 164 in nine CI runs (the adaptive threshold follows compile
  // time, so the count is timing's).
  assert.ok(near(defaults.code_cache.entries, 1050, 0.15), `about 1 050 units: ${defaults.code_cache.entries}`);
  assert.equal(defaults.code_cache.evictions, 0, 'no eviction at the defaults');

  says('phases', 'see', 'lru evicts a few hundred units and recovers at once (hit rate 99.9 %)', 'lru 淘汰几百个单元，并立刻恢复（命中率 99.9%）');
  says('phases', 'see', 'lru_lfu from a few hundred to over ten thousand', 'lru_lfu 从几百到一万多个');
  const lru = await run(page, { set: { 'code_cache.max_entries': '950', 'code_cache.eviction_policy': 'lru' } });
  const lruLfu = await run(page, { set: { 'code_cache.eviction_policy': 'lru_lfu' } });
  t.diagnostic(`phases at 950 entries: lru ${JSON.stringify(cc(lru))}, lru_lfu ${JSON.stringify(cc(lruLfu))}`);
  // lru 256 to 322, lru_lfu 2 694 to 7 693 in the runs measured for the
  // text (jit.stop_at_units on; at 900 entries lru_lfu thrashed too, 13 122);
  // both far below lfu's 20 000 in under half the run below. The text gives
  // lru's hit rate (99.9 %); lru_lfu's was 99.77-99.83 % in CI runs.
  // lru_lfu: 368 to 7 080 in eight CI runs, then 12 607 in a run whose
  // defaults made 1 164 units (the most seen): 950 entries sit near its
  // thrashing point, so its check allows up to 16 000 (lfu's 20 000 come in
  // under half the run).
  for (const [name, r, most, hit] of [['lru', lru, 1000, 0.998], ['lru_lfu', lruLfu, 16000, 0.995]]) {
    assert.equal(r.code_cache.entries, 950, `${name}: entries stay at the cap`);
    assert.ok(r.code_cache.evictions >= 150 && r.code_cache.evictions <= most, `${name}: a few hundred evictions (up to several thousand for lru_lfu): ${r.code_cache.evictions}`);
    assert.ok(r.code_cache.hit_rate >= hit, `${name}: hit rate ${r.code_cache.hit_rate}`);
  }

  // lfu's whole run takes about half a minute in the page: the cheaper
  // variant of the same claim runs it until it has evicted 20 000 units
  // (about 5 s in; lru evicts a few hundred in its whole run), stops it, and
  // compares its speed so far with that of lru's whole run.
  assert.ok(lru.code_cache.evictions * 20 <= 20_000);
  says('phases', 'see', 'lfu over a hundred thousand, and the run takes more than ten times as long', 'lfu 则超过十万次淘汰，整次运行慢十倍以上');
  await setKnob(page, 'code_cache.eviction_policy', 'lfu');
  const lfu = await runUntil(page, () => window.tunevmPage.lastReport().code_cache.evictions >= 20_000, null,
    'phases with lfu never evicted 20 000 units');
  t.diagnostic(`phases, lfu stopped after ${lfu.instructions} of ${lru.instructions} instructions: ${JSON.stringify(cc(lfu))}`);
  assert.ok(lfu.instructions < lru.instructions, 'lfu had that many evictions before the end of the run');
  // The text's "more than ten times as long" is against lru. lru_lfu at
  // 950 entries sits near its own thrashing point: at 12 498 evictions it
  // ran at 19.8 MIPS against lru's 48.9 and lfu's 7.6 (a CI run, 2026-12-07),
  // so against it lfu is only asked to be slower.
  assert.ok(lfu.mips * 3 < lru.mips && lfu.mips < lruLfu.mips, `lfu runs many times slower: ${lfu.mips.toFixed(1)} MIPS against lru ${lru.mips.toFixed(1)}, lru_lfu ${lruLfu.mips.toFixed(1)}`);
  assert.deepEqual(problems, [], 'errors during the phases lesson');
});

// ---------------------------------------------------------------------------
// SMP walkthroughs (every vCPU a task on the page's one worker)

test('smp-hello, smp-sum and smp-sum-small walkthroughs: waiting harts hand over at a pause, or spin out their quantum without runtime.pause_yields; more vCPUs are no faster on one worker, and a small quantum means about a hundred times as many switches', { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, problems } = await openPage(t);
  says('smp-hello', 'see', 'with 4 vCPUs the whole run is about 3 000 instructions', '4 个 vCPU 时整次运行约 3000 条指令');
  says('smp-hello', 'see', 'With runtime.pause_yields off a waiting hart spins until its quantum ends: with 4 vCPUs about 300 000 instructions at the default quantum, about 4 000 with runtime.quantum_insns 1000', '关掉 runtime.pause_yields 后，等待的 hart 会一直空转到时间片结束：4 个 vCPU 时，默认时间片下约 30 万条指令，runtime.quantum_insns 为 1000 时约 4000 条');
  says('smp-hello', 'see', 'the run-queue chart has no points', '运行队列图没有数据点');
  says('smp-hello', 'try', 'First set runtime.pool_size to 1', '先把 runtime.pool_size 设为 1');
  const hello = await run(page, { workload: 'smp-hello', set: { 'runtime.pool_size': '1', 'runtime.vcpus': '4' } });
  const helloSpin = await run(page, { set: { 'runtime.pause_yields': 'false' } });
  const helloSmall = await run(page, { set: { 'runtime.quantum_insns': '1000' } });
  t.diagnostic(`smp-hello on 4 vCPUs: ${hello.instructions} instructions with pause_yields (${hello.smp.vcpus.map((v) => v.pauses)} pauses); without: ${helloSpin.instructions} at the default quantum, ${helloSmall.instructions} at 1000`);
  assert.ok(near(hello.instructions, 3_000, 0.3), `about 3 000 instructions: ${hello.instructions}`);
  assert.ok(sum(hello.smp.vcpus.map((v) => v.pauses)) > 0, 'pauses counted');
  assert.ok(near(helloSpin.instructions, 300_000, 0.2), `about 300 000 instructions: ${helloSpin.instructions}`);
  assert.ok(near(helloSmall.instructions, 4_000, 0.3), `about 4 000 instructions: ${helloSmall.instructions}`);
  assert.equal((hello.series?.['smp.run_queue'] ?? []).length, 0, 'no run-queue points under a million instructions');

  says('smp-sum', 'see', 'the SMP card shows that worker busy nearly 100 % of the time, each vCPU running about 1/N of the run', 'SMP 卡片显示该工作线程几乎 100 % 忙碌，每个 vCPU 大约只有 1/N 的时间在运行');
  says('smp-sum', 'see', 'the run queue near the number of vCPUs and busy vCPUs near 1', '运行队列接近 vCPU 数，忙碌的 vCPU 接近 1');
  says('smp-sum', 'see', 'It takes about as long or longer', '耗时大致相同甚至更长');
  says('smp-sum', 'see', 'units compiled grow with the vCPUs', '已编译单元数随 vCPU 数增加');
  // Twice each, alternating, and the faster run of each kept: the runs are short (~0.1 s).
  const sums = { 1: [], 4: [] };
  for (const vcpus of [1, 4, 1, 4]) {
    const r = await run(page, { workload: 'smp-sum', set: { 'runtime.vcpus': String(vcpus), 'runtime.quantum_insns': '100000' } });
    const out = await consoleWith(page, 'checksum: ');
    sums[vcpus].push({ r, checksum: /checksum: (0x[0-9a-f]+)/.exec(out)?.[1] });
  }
  const best = (runs) => runs.reduce((a, b) => (b.r.wall_ns < a.r.wall_ns ? b : a)).r;
  const one = best(sums[1]);
  const four = best(sums[4]);
  const smp = four.smp;
  const busy = smp.workers[0].busy_ns;
  const rq = four.series?.['smp.run_queue']?.map(([, y]) => y) ?? [];
  const bv = four.series?.['smp.busy_vcpus']?.map(([, y]) => y) ?? [];
  t.diagnostic(`smp-sum: wall ${sums[1].map((s) => ms(s.r.wall_ns).toFixed(0))} ms on 1 vCPU, ${sums[4].map((s) => ms(s.r.wall_ns).toFixed(0))} ms on 4; units ${one.jit.units_compiled} -> ${four.jit.units_compiled}; worker busy ${(smp.workers[0].utilisation * 100).toFixed(1)} %; vCPU running shares ${smp.vcpus.map((v) => (v.running_ns / busy).toFixed(2))}; run queue ${rq}; busy vCPUs mean ${(sum(bv) / bv.length).toFixed(2)}`);
  assert.equal(new Set([...sums[1], ...sums[4]].map((s) => s.checksum)).size, 1, 'the same checksum line on any number of harts');
  // A parallel speed-up would halve the time or better; one worker gives none.
  assert.ok(four.wall_ns > 0.7 * one.wall_ns, `4 vCPUs take about as long or longer: ${ms(one.wall_ns).toFixed(0)} ms -> ${ms(four.wall_ns).toFixed(0)} ms`);
  assert.ok(four.jit.units_compiled > one.jit.units_compiled, `units compiled grow with the vCPUs: ${one.jit.units_compiled} -> ${four.jit.units_compiled}`);
  assert.equal(smp.workers.length, 1, 'one worker');
  assert.ok(smp.workers[0].utilisation > 0.8, `the worker is busy nearly all the time: ${smp.workers[0].utilisation}`);
  // Each vCPU does a quarter of the work and runs only while the others
  // wait: the vCPUs' running times add up to the worker's busy time (one at a
  // time), and none runs for most of the run. (How the time splits varies
  // from run to run: each hart also compiles its own loop.)
  assert.ok(sum(smp.vcpus.map((v) => v.running_ns)) <= 1.05 * busy, 'the vCPUs take turns on the worker');
  for (const v of smp.vcpus) {
    assert.ok(near(v.instructions, four.instructions / 4, 0.2), `vCPU ${v.hart} runs about 1/4 of the instructions: ${v.instructions} of ${four.instructions}`);
    assert.ok(v.running_ns < 0.6 * four.wall_ns, `vCPU ${v.hart} waits for the worker most of the run: running ${v.running_ns} of ${four.wall_ns} ns`);
  }
  assert.ok(rq.length > 0 && sum(rq) / rq.length >= 3, `the run queue near 4: ${rq}`);
  assert.ok(bv.length > 0 && sum(bv) / bv.length <= 1.01 && sum(bv) / bv.length > 0.5, `busy vCPUs near 1: ${bv}`);

  // The quantum on smp-sum-small (the same kernel, a twentieth of the work):
  // smp-sum with runtime.quantum_insns 1000 takes seconds.
  says('smp-sum', 'see', 'runtime.quantum_insns 1000 means about a hundred times as many switches and a run many times slower', 'runtime.quantum_insns 为 1000 时切换次数约多一百倍，运行会慢很多倍');
  says('smp-sum-small', 'see', 'about ten points in the run-queue chart (one per million instructions), one worker near 100 % busy', '运行队列图约有十个点（每百万条指令一个），一个工作线程接近 100 % 忙碌');
  const small = await run(page, { workload: 'smp-sum-small', set: { 'runtime.vcpus': '4', 'runtime.quantum_insns': '100000' } });
  const tiny = await run(page, { set: { 'runtime.quantum_insns': '1000' } });
  const switches = (r) => r.smp.workers[0].task_switches;
  t.diagnostic(`smp-sum-small on 4 vCPUs: quantum 100000: ${switches(small)} switches, ${ms(small.wall_ns).toFixed(0)} ms, ${small.series?.['smp.run_queue']?.length} run-queue points, busy ${(small.smp.workers[0].utilisation * 100).toFixed(1)} %; quantum 1000: ${switches(tiny)} switches, ${ms(tiny.wall_ns).toFixed(0)} ms`);
  const ratio = switches(tiny) / switches(small);
  assert.ok(ratio > 50 && ratio < 200, `about a hundred times as many switches: ${switches(small)} -> ${switches(tiny)}`);
  // Wall times of runs this short (5-20 ms) are noisy: each quantum twice
  // more, alternating, and the fastest run of each compared.
  const smalls = [small];
  const tinies = [tiny];
  for (let i = 0; i < 2; i++) {
    smalls.push(await run(page, { set: { 'runtime.quantum_insns': '100000' } }));
    tinies.push(await run(page, { set: { 'runtime.quantum_insns': '1000' } }));
  }
  const [smallMs, tinyMs] = [smalls, tinies].map((rs) => Math.min(...rs.map((r) => ms(r.wall_ns))));
  t.diagnostic(`smp-sum-small wall: ${smalls.map((r) => ms(r.wall_ns).toFixed(0))} ms at 100000, ${tinies.map((r) => ms(r.wall_ns).toFixed(0))} ms at 1000`);
  assert.ok(tinyMs > 3 * smallMs, `many times slower: ${smallMs.toFixed(0)} ms -> ${tinyMs.toFixed(0)} ms`);
  const points = small.series?.['smp.run_queue']?.length ?? 0;
  assert.ok(points >= 7 && points <= 13, `about ten run-queue points: ${points}`);
  assert.ok(small.smp.workers[0].utilisation > 0.8, `one worker near 100 % busy: ${small.smp.workers[0].utilisation}`);

  // Two workers (the threads build's helper Web Workers), interpreted: the
  // vCPUs really run at once. Their running times add up to more than the
  // wall time (impossible one at a time), and 2 vCPUs beat 1.
  says('smp-sum', 'see', 'Then set runtime.pool_size to 2 and untick jit.enabled', '然后把 runtime.pool_size 设为 2，并取消勾选 jit.enabled');
  says('smp-sum', 'see', '2 vCPUs finish sooner than 1 (1.1x to 1.5x on a 2-core machine, where drawing the page and the other threads of the browser take part of the second core)', '2 个 vCPU 比 1 个更快完成（在双核机器上约 1.1 到 1.5 倍，因为页面自身的绘制和浏览器的线程也要占用第二个核的一部分）');
  says('smp-sum', 'see', "the vCPUs' running times adding up to more than the wall time", '各 vCPU 的运行时间之和超过墙钟时间');
  // Two runs of each, alternating, and the faster of each pair compared:
  // one run's wall time in a browser varies by a quarter or more. Measured
  // here 1.09x to 1.52x (the text says 1.1x to 1.5x); the check asks for
  // clearly sooner.
  const soloSet = { 'runtime.vcpus': '1', 'runtime.pool_size': '1', 'jit.enabled': 'false', 'runtime.quantum_insns': '100000' };
  const duoSet = { 'runtime.vcpus': '2', 'runtime.pool_size': '2' };
  const solos = [await run(page, { workload: 'smp-sum', set: soloSet })];
  const duo = await run(page, { set: duoSet });
  const duoOut = await consoleWith(page, 'checksum: ');
  solos.push(await run(page, { set: soloSet }));
  const duos = [duo, await run(page, { set: duoSet })];
  const [solo, fast] = [solos, duos].map((rs) => rs.reduce((a, b) => (b.wall_ns < a.wall_ns ? b : a)));
  const running = sum(duo.smp.vcpus.map((v) => v.running_ns));
  t.diagnostic(`smp-sum interpreted: 1 vCPU ${solos.map((r) => ms(r.wall_ns).toFixed(0))} ms; 2 vCPUs on ${duo.smp.pool_size} workers ${duos.map((r) => ms(r.wall_ns).toFixed(0))} ms (${(solo.wall_ns / fast.wall_ns).toFixed(2)}x), running ${ms(running).toFixed(0)} ms in all, workers ${JSON.stringify(duo.smp.workers.map((w) => [Math.round(w.busy_ns / 1e6), w.polls]))}`);
  assert.match(duoOut, /checksum: 0x[0-9a-f]+/, 'the checksum line on 2 workers');
  assert.equal(duo.smp.pool_size, 2, 'two workers ran');
  assert.ok(duo.smp.workers.every((w) => w.polls > 0 && w.utilisation > 0.5), `both workers busy: ${JSON.stringify(duo.smp.workers)}`);
  assert.ok(running > 1.25 * duo.wall_ns, `the vCPUs ran at once: ${ms(running).toFixed(0)} ms of running in ${ms(duo.wall_ns).toFixed(0)} ms`);
  assert.ok(fast.wall_ns < solo.wall_ns / 1.05, `2 vCPUs on 2 workers finish sooner: ${ms(solo.wall_ns).toFixed(0)} -> ${ms(fast.wall_ns).toFixed(0)} ms`);
  assert.deepEqual(problems, [], 'errors during the smp-hello and smp-sum lessons');
});

test('smp-locks, smp-ring and smp-litmus walkthroughs: a pause hands the worker over; without runtime.pause_yields spinning for a lock costs hundreds of millions of instructions at the default quantum; ring harts park hundreds of times, hardly ever with a small quantum; litmus never sees a relaxed outcome', { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, problems } = await openPage(t);
  const parks = (r) => r.smp.vcpus.map((v) => v.parks);

  says('smp-locks', 'see', 'with 2 harts the whole run is about 350 000 instructions', '2 个 hart 时整次运行约 35 万条指令');
  says('smp-locks', 'see', 'With runtime.pause_yields off a waiter spins until its quantum ends: at the default quantum that is hundreds of millions of instructions', '关掉 runtime.pause_yields 后，等待者会一直空转到自己的时间片结束：默认时间片下这会多出数亿条指令');
  says('smp-locks', 'see', 'the run needs about ten million', '整次运行只需约一千万条指令');
  says('smp-locks', 'see', 'With 4 harts the ticket lock makes a waiter far back in the queue sleep', '4 个 hart 时，排号锁会让排在后面的等待者休眠');
  const locks = {};
  for (const [name, set] of [
    ['2 harts', { 'runtime.pool_size': '1', 'runtime.vcpus': '2', 'runtime.quantum_insns': '100000', 'runtime.pause_yields': 'true' }],
    ['2 harts, no pause yields', { 'runtime.pause_yields': 'false' }],
    ['2 harts, quantum 1000', { 'runtime.quantum_insns': '1000' }],
    ['4 harts, quantum 1000', { 'runtime.vcpus': '4' }],
  ]) {
    locks[name] = await run(page, { workload: 'smp-locks', set });
    const out = await consoleWith(page, 'ticket lock (amoadd)');
    const n = Number(set['runtime.vcpus'] ?? (name.startsWith('4') ? 4 : 2));
    assert.match(out, new RegExp(`spinlock \\(lr/sc\\): (\\d+) \\(expected \\1\\)\\nticket lock \\(amoadd\\): (\\d+) \\(expected \\2\\)`), `${name}: exact counts`);
    assert.match(out, new RegExp(`smp-locks: ${n} harts`), `${name}: ${n} harts`);
  }
  t.diagnostic(`smp-locks: ${Object.entries(locks).map(([k, r]) => `${k}: ${(r.instructions / 1e6).toFixed(2)} M instructions, ${ms(r.wall_ns).toFixed(0)} ms, parks ${parks(r)}, pauses ${r.smp.vcpus.map((v) => v.pauses)}`).join('; ')}`);
  assert.ok(near(locks['2 harts'].instructions, 350_000, 0.3), `about 350 000 with pause_yields: ${locks['2 harts'].instructions}`);
  assert.ok(locks['2 harts'].smp.vcpus.every((v) => v.pauses > 0), `pauses on both harts: ${locks['2 harts'].smp.vcpus.map((v) => v.pauses)}`);
  assert.ok(locks['2 harts, no pause yields'].instructions > 100e6, `hundreds of millions at the default quantum: ${locks['2 harts, no pause yields'].instructions}`);
  assert.ok(locks['2 harts, quantum 1000'].instructions < 15e6, `about ten million with quantum 1000: ${locks['2 harts, quantum 1000'].instructions}`);
  assert.ok(sum(parks(locks['2 harts, quantum 1000'])) <= 2, `2 harts hardly park: ${parks(locks['2 harts, quantum 1000'])}`);
  assert.ok(sum(parks(locks['4 harts, quantum 1000'])) > 100, `4 harts: waiters far back sleep: ${parks(locks['4 harts, quantum 1000'])}`);

  says('smp-ring', 'see', 'so at either quantum harts hardly ever sleep', '所以无论时间片长短 hart 几乎都不休眠');
  says('smp-ring', 'see', 'harts park hundreds of times', '各 hart 会休眠数百次');
  says('smp-ring', 'see', 'harts hardly ever sleep', 'hart 几乎不休眠');
  const ringYields = await run(page, { workload: 'smp-ring', set: { 'runtime.vcpus': '2', 'runtime.quantum_insns': '100000', 'runtime.pause_yields': 'true' } });
  const ring = await run(page, { set: { 'runtime.pause_yields': 'false' } });
  const ringOut = await consoleWith(page, '~ hart 1:');
  const ringSmall = await run(page, { set: { 'runtime.quantum_insns': '1000' } });
  const ringSmallOut = await consoleWith(page, '~ hart 1:');
  const checksum = (s) => /checksum: (0x[0-9a-f]+)/.exec(s)?.[1];
  t.diagnostic(`smp-ring on 2 vCPUs: with pause_yields parks ${parks(ringYields)}, pauses ${ringYields.smp.vcpus.map((v) => v.pauses)}; without: parks ${parks(ring)}, IPIs sent ${ring.smp.vcpus.map((v) => v.ipis_sent)} at the default quantum; parks ${parks(ringSmall)} at 1000`);
  assert.ok(checksum(ringOut) && checksum(ringOut) === checksum(ringSmallOut), 'the same checksum line each time');
  assert.ok(sum(parks(ringYields)) <= 10, `hardly any parks with pause_yields: ${parks(ringYields)}`);
  assert.ok(parks(ring).every((p) => p >= 100), `hundreds of parks per hart at the default quantum: ${parks(ring)}`);
  assert.ok(ring.smp.vcpus.every((v) => v.ipis_sent > 0 && v.ipis_received > 0), 'IPIs sent and received');
  assert.ok(sum(parks(ringSmall)) <= 10, `hardly any parks with quantum 1000: ${parks(ringSmall)}`);

  says('smp-litmus', 'see', 'relaxed 0/2000', 'relaxed 0/2000');
  says('smp-litmus', 'see', 'so the test takes about 1.8 M instructions at either quantum', '整个测试都约需 180 万条指令');
  says('smp-litmus', 'see', 'about ten times as many instructions (240 M instead of 24 M)', '指令数约为十倍（2.4 亿而不是 2400 万）');
  const litmusYields = await run(page, { workload: 'smp-litmus', set: { 'runtime.vcpus': '2', 'runtime.quantum_insns': '1000', 'runtime.pause_yields': 'true' } });
  await consoleWith(page, 'smp-litmus: no forbidden outcome');
  const litmusYieldsLong = await run(page, { set: { 'runtime.quantum_insns': '10000' } });
  await consoleWith(page, 'smp-litmus: no forbidden outcome');
  const litmus = await run(page, { set: { 'runtime.quantum_insns': '1000', 'runtime.pause_yields': 'false' } });
  const lit = await consoleWith(page, 'smp-litmus: no forbidden outcome');
  const relaxed = [...lit.matchAll(/~ (\w+) no fence: relaxed (\d+)\/2000/g)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(relaxed, ['MP 0', 'SB 0', 'LB 0'], 'no relaxed outcome on one worker');
  // "~ " outcome lines: one outcome per test (every run sees one interleaving).
  const outcomes = [...lit.matchAll(/^~ [\w+]+: r1r2=00 (\d+), 10 (\d+), 01 (\d+), 11 (\d+)$/gm)].map((m) => m.slice(1).map(Number));
  assert.equal(outcomes.length, 6, `six outcome lines: ${lit}`);
  for (const counts of outcomes) assert.equal(counts.filter((c) => c > 0).length, 1, `a single outcome per test: ${counts}`);
  const litmusLong = await run(page, { set: { 'runtime.quantum_insns': '10000' } });
  await consoleWith(page, 'smp-litmus: no forbidden outcome');
  t.diagnostic(`smp-litmus: with pause_yields ${(litmusYields.instructions / 1e6).toFixed(2)} M instructions at quantum 1000, ${(litmusYieldsLong.instructions / 1e6).toFixed(2)} M at 10000; without ${(litmus.instructions / 1e6).toFixed(1)} M at quantum 1000, ${(litmusLong.instructions / 1e6).toFixed(1)} M at 10000`);
  assert.ok(near(litmusYields.instructions, 1.8e6, 0.25), `about 1.8 M instructions at quantum 1000 with pause_yields: ${litmusYields.instructions}`);
  assert.ok(near(litmusYieldsLong.instructions, 1.8e6, 0.25), `about 1.8 M instructions at quantum 10000 with pause_yields: ${litmusYieldsLong.instructions}`);
  assert.ok(near(litmus.instructions, 24e6, 0.25), `about 24 M instructions at quantum 1000: ${litmus.instructions}`);
  assert.ok(near(litmusLong.instructions, 240e6, 0.25), `about 240 M instructions at quantum 10000: ${litmusLong.instructions}`);
  assert.deepEqual(problems, [], 'errors during the smp-locks, smp-ring and smp-litmus lessons');
});

test('smp-paging walkthrough: on 4 vCPUs with prefetch and the JIT off, private multi_level TLBs walk about 262 000 times, the shared concurrent one about 67 000 with shard locks; hybrid keeps it shared; with the JIT on about a quarter as many lookups reach the MMU', { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, problems } = await openPage(t);
  says('smp-paging', 'see', 'with prefetch off and jit.enabled off, so that every load reaches the MMU: about 262 000 walks against 67 000', '关掉预取和 jit.enabled、让每次读取都到达 MMU 时，约 26.2 万次对 6.7 万次');
  says('smp-paging', 'see', 'hybrid keeps the shared TLB', 'hybrid 保持共用');
  says('smp-paging', 'see', 'so only about a quarter as many lookups reach the MMU', '到达 MMU 的查找只有约四分之一');
  const reports = {};
  for (const strategy of ['multi_level', 'concurrent']) {
    reports[strategy] = await run(page, {
      workload: 'smp-paging',
      set: { 'runtime.pool_size': '1', 'runtime.vcpus': '4', 'mmu.enable_prefetch': 'false', 'jit.enabled': 'false', 'mmu.strategy': strategy },
    });
  }
  reports.hybrid = await run(page, { set: { 'mmu.strategy': 'hybrid', 'jit.enabled': 'true' } });
  const tlb = Object.fromEntries(Object.entries(reports).map(([k, r]) => [k, r.tlb]));
  const mmuLookups = (r) => r.tlb.levels.find((l) => l.name !== 'inline').lookups;
  const inline = reports.hybrid.tlb.levels.find((l) => l.name === 'inline');
  t.diagnostic(`smp-paging, 4 vCPUs, prefetch off: ${Object.entries(tlb).map(([k, v]) => `${k}: ${v.walks} walks, ${v.lock_acquisitions} shard locks (${v.lock_contended} waited), chose ${v.strategy_chosen}`).join('; ')}; MMU lookups ${mmuLookups(reports.concurrent)} with the JIT off, ${mmuLookups(reports.hybrid)} with it on (inline hit rate ${inline?.hit_rate})`);
  assert.ok(near(tlb.multi_level.walks, 262_000, 0.1), `multi_level: about 262 000 walks: ${tlb.multi_level.walks}`);
  assert.ok(near(tlb.concurrent.walks, 67_000, 0.1), `concurrent: about 67 000 walks: ${tlb.concurrent.walks}`);
  assert.equal(tlb.multi_level.lock_acquisitions, 0, 'private TLBs take no lock');
  assert.ok(tlb.concurrent.lock_acquisitions > tlb.concurrent.walks, `the shared TLB takes a shard lock per lookup: ${tlb.concurrent.lock_acquisitions}`);
  assert.equal(tlb.hybrid.strategy_chosen, 'concurrent', 'hybrid keeps the shared TLB');
  assert.equal(tlb.hybrid.lock_contended, 0, 'no lock ever waits on one worker');
  assert.ok(inline && near(inline.hit_rate, 0.75, 0.15), `about three loads in four hit the inline TLB: ${JSON.stringify(inline)}`);
  const share = mmuLookups(reports.hybrid) / mmuLookups(reports.concurrent);
  assert.ok(near(share, 0.25, 0.35), `about a quarter as many lookups reach the MMU with the JIT on: ${share}`);
  assert.deepEqual(problems, [], 'errors during the smp-paging lesson');
});

// ---------------------------------------------------------------------------
// GC walkthroughs

test('gc-binary-trees and gc-graph walkthroughs: 8 MiB makes binary-trees collect 5 times and commit about 6 MiB; gc-graph: the marker worker keeps p99 under 1 ms, hundreds of incremental pauses, 34 stop-the-world ones, and a 5000 µs quota that keeps up where 100 µs falls behind', { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, problems } = await openPage(t);
  const gcOf = (r) => ({
    collections: r.gc.collections, cycles: r.gc.cycles_started, pauses: r.gc.pause_ns.count,
    p50_ms: r.gc.pause_ns.p50 && +ms(r.gc.pause_ns.p50).toFixed(3), p99_ms: r.gc.pause_ns.p99 && +ms(r.gc.pause_ns.p99).toFixed(3),
    fell_behind: r.gc.marking_fell_behind, committed_mib: +mib(r.gc.heap_committed_bytes).toFixed(2),
  });

  says('gc-binary-trees', 'see', '0 collections, no pause, and the checklist\'s GC row stays grey', '回收 0 次，没有停顿，检查表中的 GC 一行保持灰色');
  says('gc-binary-trees', 'see', 'With 8 MiB it collects 5 times', '设为 8 MiB 后会回收 5 次');
  says('gc-binary-trees', 'see', '15 to about 300 in the runs measured', '实测 15 到约 300 次');
  says('gc-binary-trees', 'see', 'falls from about 20 MiB to about 6 MiB', '从约 20 MiB 降到约 6 MiB');
  const roomy = await run(page, { workload: 'gc-binary-trees' });
  const roomyOut = await consoleWith(page, 'gc-binary-trees: ok');
  const roomyRow = await checklistRow(page, 'gc_pause');
  const tight = await run(page, { set: { 'gc.heap_size_limit': String(8 << 20) } });
  const tightOut = await consoleWith(page, 'gc-binary-trees: ok');
  t.diagnostic(`gc-binary-trees: 256 MiB ${JSON.stringify(gcOf(roomy))} (GC row ${roomyRow.status}); 8 MiB ${JSON.stringify(gcOf(tight))}`);
  assert.equal(roomy.gc.collections, 0, 'the default heap never fills');
  assert.equal(roomy.gc.pause_ns.count, 0, 'no pause');
  assert.equal(roomyRow.status, 'na', `the GC row stays grey: ${JSON.stringify(roomyRow)}`);
  assert.ok(tight.gc.collections >= 4 && tight.gc.collections <= 6, `about 5 collections at 8 MiB: ${tight.gc.collections}`);
  // 15, 16, 219, 225, 271 and 311 in the runs measured: whether allocations meet the
  // marker worker at its lock is timing.
  assert.ok(tight.gc.pause_ns.count >= 10 && tight.gc.pause_ns.count <= 600, `15 to about 300 pauses: ${tight.gc.pause_ns.count}`);
  assert.ok(mib(roomy.gc.heap_committed_bytes) > 16 && mib(roomy.gc.heap_committed_bytes) < 24, `about 20 MiB committed at 256 MiB: ${mib(roomy.gc.heap_committed_bytes)}`);
  assert.ok(mib(tight.gc.heap_committed_bytes) > 4.5 && mib(tight.gc.heap_committed_bytes) < 8, `about 6 MiB committed at 8 MiB: ${mib(tight.gc.heap_committed_bytes)}`);
  assert.equal(tightOut, roomyOut, 'the output is the same: the collector frees only garbage');

  // Concurrent p99 is a timing figure: on two busy cores the system may stop
  // the marker worker while it holds the collector's lock (1.2 and 1.7-2.0 ms
  // in some runs measured, 0.3-0.7 ms in most). As the presets' timing pairs
  // keep the better of two runs, the first of up to three runs with p99
  // under 1 ms is kept, with its own GC row.
  let conc;
  let concRow;
  const concP99s = [];
  for (let i = 0; i < 3; i += 1) {
    conc = await run(page, i === 0 ? { workload: 'gc-graph', set: { 'gc.heap_size_limit': String(8 << 20) } } : {});
    concRow = await checklistRow(page, 'gc_pause');
    concP99s.push(conc.gc.pause_ns.p99);
    if (conc.gc.pause_ns.p99 < 1e6) break;
  }
  const inc = await run(page, { set: { 'gc.concurrent_marking': 'false' } });
  const incRow = await checklistRow(page, 'gc_pause');
  const stw = await run(page, { set: { 'gc.incremental': 'false' } });
  const q100 = await run(page, { set: { 'gc.incremental': 'true', 'gc.adaptive_quota': 'false', 'gc.mark_quota_us': '100' } });
  const q5000 = await run(page, { set: { 'gc.mark_quota_us': '5000' } });
  t.diagnostic(`gc-graph, 8 MiB: concurrent ${JSON.stringify(gcOf(conc))} marker ${conc.gc.marker_ns} ns ${conc.gc.concurrent}, p99 of the tries ${concP99s.join(', ')} ns (GC row ${concRow.status}); incremental ${JSON.stringify(gcOf(inc))} (GC row ${incRow.status}); stop-the-world ${JSON.stringify(gcOf(stw))}; fixed quota 100 µs ${JSON.stringify(gcOf(q100))}; 5000 µs ${JSON.stringify(gcOf(q5000))}`);
  says('gc-graph', 'see', 'the marker worker, a second Web Worker on the same shared memory, marks while the guest runs', '标记 Worker（同一块共享内存上的第二个 Web Worker）在客户机运行的同时标记');
  says('gc-graph', 'see', 'p99 a fraction of a millisecond (0.14 to 0.7 ms in most runs measured), so the checklist\'s GC row (p99 < 1 ms) is green', 'p99 不到一毫秒（多数实测为 0.14 到 0.7 ms），所以检查表的 GC 一行（p99 < 1 ms）为绿色');
  says('gc-graph', 'see', 'an occasional run passes 1 ms', '偶尔会有一次运行超过 1 ms');
  assert.equal(conc.gc.concurrent, true, `the marker worker marked: ${conc.gc.concurrent_reason}`);
  assert.ok(conc.gc.marker_ns > 0, `the marker worker's time: ${conc.gc.marker_ns} ns`);
  assert.ok(conc.gc.pause_ns.count > inc.gc.pause_ns.count, `thousands of short pauses against hundreds: ${conc.gc.pause_ns.count} and ${inc.gc.pause_ns.count}`);
  assert.ok(conc.gc.pause_ns.p50 < inc.gc.pause_ns.p50, `concurrent p50 below the slices': ${conc.gc.pause_ns.p50} and ${inc.gc.pause_ns.p50} ns`);
  assert.ok(conc.gc.pause_ns.p99 < 1e6, `concurrent p99 under 1 ms in one of three runs: ${concP99s.join(', ')} ns`);
  assert.equal(concRow.status, 'pass', `the GC row is green: ${JSON.stringify(concRow)}`);
  assert.equal(inc.gc.concurrent, false, 'gc.concurrent_marking=false marks in slices');
  says('gc-graph', 'see', 'several hundred pauses to about a thousand (the count depends on timing: 400 to 1,200', '几百到约一千次停顿（次数取决于时序：实测 400 到 1200 次');
  // 859 and 920 on an idle machine, 399 in one CI run, 1022 to 1145 in the
  // runs of 2026-12-07 (1 079 to 1 165 in seven CI runs): timing decides.
  assert.ok(inc.gc.pause_ns.count >= 250 && inc.gc.pause_ns.count <= 2000, `several hundred to about a thousand incremental pauses: ${inc.gc.pause_ns.count}`);
  assert.ok(inc.gc.pause_ns.p50 < 1e6, `incremental p50 under a millisecond: ${inc.gc.pause_ns.p50} ns`);
  says('gc-graph', 'see', 'marking can fall behind the allocations', '标记可能跟不上分配');
  says('gc-graph', 'see', 'the pause that ends each cycle lasts about a millisecond or more, so p99 sits near or above the 1 ms limit', '结束每个周期的停顿约一毫秒或更长，所以 p99 落在检查表 GC 一行的界限（p99 < 1 ms）附近或之上');
  // p99 0.92 to 6 ms in the runs measured for the text: red or green
  // depends on the machine's load, so only "near the limit" is checked.
  assert.ok(inc.gc.pause_ns.max > 1e6, `the pauses that end the cycles last a millisecond or more: max ${inc.gc.pause_ns.max} ns`);
  assert.ok(inc.gc.pause_ns.p99 > 0.5e6, `p99 near the 1 ms limit: ${inc.gc.pause_ns.p99} ns`);
  assert.equal(incRow.status, inc.gc.pause_ns.p99 < 1e6 ? 'pass' : 'fail', `the GC row follows p99: ${JSON.stringify(incRow)}`);
  assert.ok(stw.gc.pause_ns.count >= 28 && stw.gc.pause_ns.count <= 40, `about 34 stop-the-world pauses: ${stw.gc.pause_ns.count}`);
  assert.equal(stw.gc.pause_ns.count, stw.gc.cycles_started, 'one pause per collection');
  assert.ok(stw.gc.pause_ns.p50 > 1e6, `each stop-the-world pause lasts milliseconds: p50 ${stw.gc.pause_ns.p50} ns`);
  assert.ok(stw.gc.pause_ns.p50 > 5 * inc.gc.pause_ns.p50, 'stop-the-world pauses are far longer than incremental slices');
  // 9 to 12 of 17 or 18 cycles in the runs measured (timing-dependent): the
  // text says "many", checked here as at least a third and well above 5000 µs.
  says('gc-graph', 'see', '100 µs slices mark too slowly and fall behind in many cycles', '100 µs 的切片标记太慢，很多周期都跟不上');
  assert.ok(3 * q100.gc.marking_fell_behind >= q100.gc.cycles_started, `100 µs slices fall behind in many cycles: ${q100.gc.marking_fell_behind} of ${q100.gc.cycles_started}`);
  assert.ok(q100.gc.marking_fell_behind >= q5000.gc.marking_fell_behind + 4, `100 µs falls behind far more often than 5000 µs: ${q100.gc.marking_fell_behind} against ${q5000.gc.marking_fell_behind}`);
  assert.ok(q5000.gc.marking_fell_behind <= 1, `5000 µs slices keep up: fell behind ${q5000.gc.marking_fell_behind} times`);
  says('gc-graph', 'see', 'fell behind 0 times) with well under half as many pauses', '跟不上 0 次），停顿次数远少于一半');
  // 276 to 408 against 996 to 1014 in the runs measured (0.28 to 0.41): the
  // 5000 µs count moves with timing, the 100 µs one hardly.
  assert.ok(q5000.gc.pause_ns.count < 0.5 * q100.gc.pause_ns.count, `well under half as many pauses: ${q100.gc.pause_ns.count} -> ${q5000.gc.pause_ns.count}`);
  assert.deepEqual(problems, [], 'errors during the GC lessons');
});

// ---------------------------------------------------------------------------
// Problem/fix presets: each pair run on its own workload, its figure compared

const figure = (r, path) => path.split('.').reduce((o, k) => o?.[k], r);

/**
 * Applies the problem preset and its fix in turn, runs each, returns both
 * reports. With `twice` (for a timing figure) it runs problem, fix, fix,
 * problem, as A/B does, and keeps each side's run with the smaller figure.
 */
async function runPair(page, presets, problemId, { twice = false } = {}) {
  const problem = presets.find((p) => p.id === problemId);
  const fix = presets.find((p) => p.id === problemId.replace('-problem', '-fix'));
  assert.ok(problem && fix, `presets ${problemId} and its fix`);
  assert.equal(fix.figure, problem.figure, `${problemId}: the pair is about one figure`);
  const runs = { [problem.id]: [], [fix.id]: [] };
  for (const preset of twice ? [problem, fix, fix, problem] : [problem, fix]) {
    await applyPreset(page, preset.id);
    assert.equal(await page.locator('#workload').inputValue(), preset.workload, `${preset.id} picks its workload`);
    const report = await run(page);
    // The memory chart's generated-code line (MiB), from this run's live reports.
    report.codeLine = (await page.evaluate(() => window.tunevmPage.chartData('memory')?.[2] ?? [])).filter((y) => Number.isFinite(y));
    runs[preset.id].push(report);
  }
  const best = (rs) => rs.reduce((a, b) => (figure(b, problem.figure) < figure(a, problem.figure) ? b : a));
  return { problem, fix, p: best(runs[problem.id]), f: best(runs[fix.id]), runs };
}

test('presets compile-time-problem/fix and memory-problem/fix: the fix makes units five times smaller and keeps about half of the generated code without evicting', { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, problems, presets } = await openPage(t);
  {
    const { problem, fix, p, f, runs } = await runPair(page, presets, 'compile-time-problem', { twice: true });
    assert.equal(problem.figure, 'jit.compile_ns.total');
    const c = (r) => r.jit.compile_ns;
    const perUnit = (r) => r.memory.code_bytes / r.jit.units_compiled;
    t.diagnostic(`compile time, each run: ${Object.entries(runs).map(([id, rs]) => `${id} ${rs.map((r) => ms(c(r).total).toFixed(0)).join(', ')} ms`).join('; ')}`);
    t.diagnostic(`compile time: problem ${ms(c(p).total).toFixed(0)} ms of ${ms(p.wall_ns).toFixed(0)} ms, ${c(p).count} units, p50 ${ms(c(p).p50).toFixed(2)} ms, p99 ${ms(c(p).p99).toFixed(2)} ms, ${perUnit(p).toFixed(0)} bytes per unit; fix ${ms(c(f).total).toFixed(0)} ms of ${ms(f.wall_ns).toFixed(0)} ms, ${c(f).count} units, p50 ${ms(c(f).p50).toFixed(2)} ms, p99 ${ms(c(f).p99).toFixed(2)} ms, ${perUnit(f).toFixed(0)} bytes per unit`);
    presetSays(problem, 'In the page the figure is smaller: it counts the code generator and V8\'s module creation, while V8 compiles each function lazily at its first call', '网页中这个数字小一些：它只算代码生成器和 V8 创建模块的时间');
    presetSays(fix, 'Units are about five times smaller; natively compile time drops to about a fifth of the problem preset\'s', '编译单元小了约五倍；本机上编译时间降到“问题”预设的约五分之一');
    // The native figures (compile time, p99 per unit) are checked by
    // tests/suite/presets.rs; here what V8 does not hide: the size of
    // the units.
    assert.ok(perUnit(p) > 4 * perUnit(f), `the fix's units are about five times smaller: ${perUnit(p).toFixed(0)} -> ${perUnit(f).toFixed(0)} bytes of generated code per unit`);
    assert.ok(compiled(f) > 0.99 * f.instructions, `the hot loops still run compiled under the fix: ${JSON.stringify(f.tiers)}`);
  }
  {
    const { problem, fix, p, f } = await runPair(page, presets, 'memory-problem');
    assert.equal(problem.figure, 'memory.code_bytes');
    presetSays(problem, 'only grows', '只增不减');
    presetSays(fix, 'about 1 200 units instead of 3 800', '约 1200 个单元');
    presetSays(fix, 'ends at about half of the problem preset\'s', '最后约为“问题”预设的一半');
    presetSays(fix, 'code_cache.evictions stays 0', 'code_cache.evictions 保持为 0');
    t.diagnostic(`generated code: problem ${p.memory.code_bytes} bytes, ${p.jit.units_compiled} units; fix ${f.memory.code_bytes} bytes, ${f.jit.units_compiled} units, ${f.code_cache.evictions} evictions, hit rate ${f.code_cache.hit_rate}`);
    assert.ok(figure(f, fix.figure) < 0.6 * figure(p, problem.figure), `${problem.figure}: problem ${p.memory.code_bytes}, fix ${f.memory.code_bytes}`);
    assert.ok(f.memory.code_bytes <= 1 << 20, 'under the 1 MiB cap');
    assert.ok(near(p.jit.units_compiled, 3800, 0.15) && near(f.jit.units_compiled, 1200, 0.15), `about 1 200 units instead of 3 800: ${f.jit.units_compiled}, ${p.jit.units_compiled}`);
    assert.equal(f.code_cache.evictions, 0, 'the fix never has to evict');
    assert.ok(f.code_cache.hit_rate > 0.85, `the hit rate stays above 85 %: ${f.code_cache.hit_rate}`);
    // The problem run's generated-code line only grows (nothing is evicted).
    const line = p.codeLine;
    assert.equal(p.code_cache.evictions, 0, 'the problem preset never evicts');
    assert.ok(line.length >= 5 && line.every((y, i) => i === 0 || y >= line[i - 1]) && line[line.length - 1] > 2 * line[0],
      `the generated-code line only grows: ${line.map((y) => y.toFixed(2))}`);

    // "Try 384 KiB": the whole run takes about 15 s in the page; the cheaper
    // variant runs it until 20 000 evictions and checks that compiling has
    // taken over the run by then.
    presetSays(fix, 'Try 384 KiB: smaller than the hot code, the cache thrashes (tens of thousands of evictions natively, over a hundred thousand in the page; compile time soars)',
      '也可以试试 384 KiB：它比热代码还小，缓存会来回颠簸（本机上几万次淘汰，网页中超过十万次；编译时间急剧上升）');
    await setKnob(page, 'code_cache.max_memory_bytes', String(384 << 10));
    const thrash = await runUntil(page, () => window.tunevmPage.lastReport().code_cache.evictions >= 20_000, null,
      'phases under memory-fix with a 384 KiB cache never evicted 20 000 units');
    t.diagnostic(`384 KiB: stopped after ${thrash.instructions} of ${f.instructions} instructions, ${thrash.code_cache.evictions} evictions, compiling ${ms(thrash.jit.compile_ns.total).toFixed(0)} of ${ms(thrash.wall_ns).toFixed(0)} ms (1 MiB: ${ms(f.jit.compile_ns.total).toFixed(0)} of ${ms(f.wall_ns).toFixed(0)} ms)`);
    assert.ok(thrash.instructions < 0.8 * f.instructions, 'the thrashing goes on: most of the run is still ahead');
    assert.ok(thrash.jit.compile_ns.total > 0.5 * thrash.wall_ns, 'compile time soars: most of the run so far is compiling');
    assert.ok(thrash.jit.compile_ns.total > 3 * f.jit.compile_ns.total, `compile time: ${f.jit.compile_ns.total} ns for the whole run at 1 MiB, ${thrash.jit.compile_ns.total} ns so far at 384 KiB`);
  }
  assert.deepEqual(problems, [], 'errors during the compile-time and memory presets');
});

test('presets gc-pause-problem/fix and gc-memory-problem/fix: incremental slices cut the median pause and p99; a lower trigger keeps the heap far smaller at the price of about forty collections', { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, problems, presets } = await openPage(t);
  {
    const { problem, fix, p, f } = await runPair(page, presets, 'gc-pause-problem');
    const pRow = await checklistRow(page, 'gc_pause'); // the fix's run
    assert.equal(problem.figure, 'gc.pause_ns.p99');
    presetSays(problem, 'about twenty pauses', '约二十次停顿');
    presetSays(fix, 'the median pause falls from several milliseconds to a few tenths of a millisecond and p99 falls several-fold', '停顿中位数从几毫秒降到零点几毫秒，p99 降到几分之一');
    presetSays(fix, 'it stops at the mark quota and hands the rest back to marking (gc.remark_cuts)', '它在标记配额处停下，把剩下的工作交回给标记（gc.remark_cuts）');
    presetSays(fix, 'p99 lands near the 1 ms target or above it (0.8 to 2.2 ms in the runs measured) and the longest pause is a few ms', 'p99 落在 1 ms 目标附近或高于它（测量的几次运行中为 0.8 到 2.2 ms），最长的停顿有几毫秒');
    const g = (r) => `${r.gc.pause_ns.count} pauses, p50 ${ms(r.gc.pause_ns.p50).toFixed(3)} ms, p99 ${ms(r.gc.pause_ns.p99).toFixed(3)} ms, max ${ms(r.gc.pause_ns.max).toFixed(3)} ms, ${r.gc.collections} collections, mark quota ${r.gc.mark_quota_us} µs, ${r.gc.remark_cuts} remarks cut, fell behind ${r.gc.marking_fell_behind}, histogram ${r.gc.pause_ns_histogram.filter((b) => b.count).map((b) => `${b.le_ns / 1e3}µs:${b.count}`).join(' ')}`;
    t.diagnostic(`gc pauses: problem ${g(p)}; fix ${g(f)} (GC row ${JSON.stringify(pRow)})`);
    assert.ok(p.gc.pause_ns.count >= 12 && p.gc.pause_ns.count <= 35, `about twenty stop-the-world pauses: ${p.gc.pause_ns.count}`);
    assert.ok(p.gc.pause_ns.p99 > 1e6 && p.gc.pause_ns.p50 > 1e6, 'the problem misses the 1 ms target');
    assert.ok(f.gc.pause_ns.p50 < 1e6 && 4 * f.gc.pause_ns.p50 < p.gc.pause_ns.p50, `the fix's median pause: ${f.gc.pause_ns.p50} ns (problem ${p.gc.pause_ns.p50} ns)`);
    // a few tenths of a millisecond (0.13 to 0.41 ms in the runs measured)
    assert.ok(f.gc.pause_ns.p50 < 0.6e6, `the fix's median pause a few tenths of a millisecond: ${f.gc.pause_ns.p50} ns`);
    assert.ok(figure(f, fix.figure) < 0.5 * figure(p, problem.figure), `${problem.figure}: problem ${p.gc.pause_ns.p99}, fix ${f.gc.pause_ns.p99}`);
    // The ends of the cycles: p99 0.83 to 2.22 ms in the runs measured for
    // the text (over or under 1 ms with the machine's load and where the
    // adaptive quota settles), the longest pause 2.6 to 5.0 ms; remarks were
    // cut 7 to 18 times a run. (Before remarks kept to the quota: p99 1.1 to
    // 6 ms.)
    assert.ok(f.gc.pause_ns.max > 0.7e6, `the ends of the cycles take a millisecond or more: max ${f.gc.pause_ns.max} ns`);
    // (Whether a remark is cut depends on the machine's speed and where
    // the adaptive quota settles: 0 to 35 cuts a run, so not asserted.)
    assert.ok(f.gc.pause_ns.p99 < 3.5e6, `p99 near the 1 ms target or above it: ${f.gc.pause_ns.p99} ns`);
    assert.equal(pRow.status, f.gc.pause_ns.p99 < 1e6 ? 'pass' : 'fail', `the GC row follows p99: ${JSON.stringify(pRow)}`);
  }
  {
    const { problem, fix, p, f } = await runPair(page, presets, 'gc-memory-problem');
    assert.equal(problem.figure, 'gc.heap_committed_bytes');
    presetSays(problem, 'the heap takes 49 MiB of RAM', '堆占用了 49 MiB 内存');
    presetSays(fix, 'stays near 19 MiB instead of 49 MiB, at the price of about forty collections', '保持在 19 MiB 左右而不是 49 MiB，代价是约四十次回收');
    t.diagnostic(`GC heap committed: problem ${mib(p.gc.heap_committed_bytes).toFixed(1)} MiB, ${p.gc.collections} collections; fix ${mib(f.gc.heap_committed_bytes).toFixed(1)} MiB, ${f.gc.collections} collections`);
    assert.equal(p.gc.collections, 0, 'the late trigger never fires');
    assert.ok(near(mib(p.gc.heap_committed_bytes), 49, 0.1), `about 49 MiB: ${mib(p.gc.heap_committed_bytes)}`);
    assert.ok(near(mib(f.gc.heap_committed_bytes), 19, 0.2), `about 19 MiB: ${mib(f.gc.heap_committed_bytes)}`);
    assert.ok(figure(p, problem.figure) > 2 * figure(f, fix.figure), `${problem.figure}: problem ${p.gc.heap_committed_bytes}, fix ${f.gc.heap_committed_bytes}`);
    assert.ok(f.gc.collections >= 25 && f.gc.collections <= 60, `about forty collections: ${f.gc.collections}`);
  }
  assert.deepEqual(problems, [], 'errors during the GC presets');
});

test('presets smp-threads-problem/fix: 8 vCPUs passing a token by IPI finish far sooner as tasks on 2 workers than with a worker each', { timeout: TEST_TIMEOUT }, async (t) => {
  const { page, problems, presets } = await openPage(t);
  const { problem, fix, p, f, runs } = await runPair(page, presets, 'smp-threads-problem', { twice: true });
  presetSays(problem, 'every hand-off wakes a sleeping worker', '每次交接都要唤醒一个正在休眠的工作线程');
  presetSays(fix, 'Wall time about halves in the page', '页面里墙钟时间约减半');
  const walls = (id) => runs[id].map((r) => ms(r.wall_ns).toFixed(0)).join(', ');
  t.diagnostic(`smp-ring on 8 vCPUs: 8 workers ${walls(problem.id)} ms (worker installs ${p.jit.worker_installs}); 2 workers ${walls(fix.id)} ms (${f.jit.worker_installs})`);
  assert.equal(p.smp.pool_size, 8, 'the problem runs 8 workers');
  assert.equal(f.smp.pool_size, 2, 'the fix runs 2 workers');
  assert.ok(p.wall_ns > 1.3 * f.wall_ns, `the fix is much faster: ${ms(p.wall_ns).toFixed(0)} -> ${ms(f.wall_ns).toFixed(0)} ms`);
  assert.ok(p.jit.worker_installs > f.jit.worker_installs, `vCPUs move more between 8 workers: installs ${p.jit.worker_installs} -> ${f.jit.worker_installs}`);
  assert.deepEqual(problems, [], 'errors during the SMP presets');
});
