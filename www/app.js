// The playground page's wiring: the main-thread wasm (schema, presets,
// validation only), the worker that runs the machine, and the views.
// The machine never runs on this thread.

import { t, pick, setLang, getLang, onLangChange, applyStatic } from './i18n.js';
import { KnobPanel } from './knobs.js';
import { Charts } from './charts.js';
import { Checklist } from './checklist.js';
import { renderAbTable, AbChart } from './ab.js';
import { VmWorker } from './worker-client.js';
import { WORKLOADS, WORKLOAD_NAMES, DEFAULT_WORKLOAD, fetchWorkload } from './workloads.js';
import { download, reportToCsv, shareUrl, parseShareUrl } from './report.js';

const $ = (sel) => document.querySelector(sel);
const reason = (e) => (e && e.message ? e.message : String(e));
const FILE_PREFIX = 'file:';
const CONSOLE_MAX = 200_000; // characters kept in #console
const WARM_INSNS = 200e6; // guest instructions after which the VM's own code counts as warmed up
const ABI = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7',
  's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];

// ---------------------------------------------------------------- errors
// The page must never go blank: every error ends up in #page-error.
function showPageError(text) {
  const el = $('#page-error');
  if (!el) return;
  el.hidden = !text;
  el.textContent = text ? `${t('error_prefix')}: ${text}` : '';
}
addEventListener('error', (ev) => showPageError(ev.message || 'script error'));
addEventListener('unhandledrejection', (ev) => showPageError(reason(ev.reason)));

// ---------------------------------------------------------------- state
const page = {
  vm: null, // main-thread wasm module: knob_schema, presets, check_setting, effective_config
  presets: [],
  panelA: null,
  panelB: null,
  charts: null,
  checklist: null,
  worker: null,
  build: '',
  custom: null, // {name, bytes} of an uploaded ELF
  elfCache: new Map(),
  loadedKey: null, // settings + program of the machine in the worker, null if none
  phase: 'idle', // idle | running | paused | ended
  pendingLoad: null,
  endWaiter: null, // A/B: resolves when the current run ends
  lastReport: null, // latest live report (parsed)
  finalReport: null, // full report text of the last finished run
  ab: null,
  actions: Promise.resolve(), // the control action under way (see exclusive)
  gen: 0, // number of the machine last asked of the worker (see worker.js)
  insnsRun: 0, // guest instructions run in this page so far (how warmed up V8 is)
};

// ---------------------------------------------------------------- small views
function setState(text) {
  $('#state').textContent = text;
  $('#state').dataset.phase = page.phase;
  updateButtons();
}

function statusText(st) {
  if (!st) return 'idle';
  if (st.state === 'exit') return `exit ${st.exit_code}`;
  // A run that can make no progress ends with its reason, not just a name.
  if (st.state === 'asleep' || st.state === 'trap_loop') {
    return `${st.state}: ${t(`why_${st.state}`)}${st.detail ? ` (${st.detail})` : ''}`;
  }
  return st.state;
}

function updateButtons() {
  const running = page.phase === 'running';
  const ab = !!page.ab;
  $('#run').disabled = running || ab;
  $('#pause').disabled = !running;
  $('#step').disabled = running || ab;
  $('#step-block').disabled = running || ab;
  $('#stop').disabled = !(running || page.phase === 'paused');
  $('#reset').disabled = ab;
  $('#ab-run').disabled = ab || running;
}

function setLoadError(text) {
  $('#load-error').textContent = text || '';
}

function appendConsole(text) {
  const el = $('#console');
  let all = el.textContent + text;
  if (all.length > CONSOLE_MAX) all = all.slice(all.length - CONSOLE_MAX);
  el.textContent = all;
  el.scrollTop = el.scrollHeight;
}

function showProgress(status, report) {
  const insns = report?.instructions ?? status?.instructions;
  const parts = [];
  if (insns != null) parts.push(`${Number(insns).toLocaleString('en')} ${t('instructions')}`);
  if (report?.mips != null) parts.push(`${report.mips.toFixed(1)} MIPS`);
  if (status?.pc) parts.push(`pc ${status.pc}`);
  $('#progress').textContent = parts.join(' · ');
}

function showRegs(regs) {
  const el = $('#regs');
  if (!regs) {
    el.hidden = true;
    return;
  }
  const lines = [`pc ${regs.pc}   privilege ${regs.privilege}`];
  for (let i = 0; i < 32; i += 4) {
    lines.push(
      [0, 1, 2, 3]
        .map((j) => `${`x${i + j}`.padStart(3)} ${ABI[i + j].padEnd(4)}${String(regs.x[i + j]).padStart(18)}`)
        .join(' '),
    );
  }
  el.textContent = lines.join('\n');
  el.hidden = false;
}

function showIsolation() {
  const isolated = window.crossOriginIsolated === true;
  const el = $('#isolation');
  el.textContent = `${isolated ? t('isolation_ok') : t('isolation_no')} (${t('build')}: ${page.build || '…'})`;
  el.dataset.isolated = isolated ? '1' : '0';
}

// ---------------------------------------------------------------- workloads
function fillWorkloads() {
  const sel = $('#workload');
  const keep = sel.value || DEFAULT_WORKLOAD;
  sel.replaceChildren(...WORKLOAD_NAMES.map((n) => new Option(n, n)));
  if (page.custom) sel.append(new Option(`${page.custom.name} (ELF)`, FILE_PREFIX + page.custom.name));
  sel.value = [...sel.options].some((o) => o.value === keep) ? keep : DEFAULT_WORKLOAD;
}

function showWalkthrough() {
  const name = $('#workload').value;
  const w = WORKLOADS[name];
  const box = $('#walkthrough');
  if (!w) {
    box.replaceChildren();
    return;
  }
  const item = (label, text) => {
    const p = document.createElement('p');
    const b = document.createElement('b');
    b.textContent = `${label}: `;
    p.append(b, text);
    return p;
  };
  box.replaceChildren(item(name, pick(w.does)), item(t('try_it'), pick(w.try)), item(t('see_it'), pick(w.see)));
}

function currentProgram() {
  const v = $('#workload').value;
  if (v.startsWith(FILE_PREFIX) && page.custom) return { id: v, name: page.custom.name, custom: true };
  return { id: v, name: v, custom: false };
}

async function programBytes(prog) {
  if (prog.custom) return page.custom.bytes;
  if (!page.elfCache.has(prog.name)) page.elfCache.set(prog.name, await fetchWorkload(prog.name));
  return page.elfCache.get(prog.name);
}

// ---------------------------------------------------------------- presets
function fillPresetSelects() {
  const groups = [
    ['defaults', t('preset_defaults')],
    ['problem', t('preset_problem')],
    ['fix', t('preset_fix')],
  ];
  const label = (p) => (p.problem ? `${pick(p.problem)} — ${pick(p.title)}` : pick(p.title));
  for (const sel of [$('#preset'), $('#ab-preset-b')]) {
    const keep = sel.value;
    sel.replaceChildren();
    if (sel.id === 'ab-preset-b') sel.append(new Option(t('ab_custom'), ''));
    for (const [kind, name] of groups) {
      const list = page.presets.filter((p) => p.kind === kind);
      if (!list.length) continue;
      const og = document.createElement('optgroup');
      og.label = name;
      for (const p of list) og.append(new Option(label(p), p.id));
      sel.append(og);
    }
    const other = page.presets.filter((p) => !groups.some(([k]) => k === p.kind));
    for (const p of other) sel.append(new Option(label(p), p.id));
    if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
  }
  showPresetDescription();
}

function showPresetDescription() {
  const p = page.presets.find((x) => x.id === $('#preset').value);
  const el = $('#preset-description');
  if (!p) {
    el.textContent = '';
    return;
  }
  const settings = Object.entries(p.settings || {}).map(([k, v]) => `${k}=${v}`);
  el.textContent = `${pick(p.description)} [${p.workload}${settings.length ? '; ' + settings.join(', ') : ''}]`;
}

function applyPreset() {
  const p = page.presets.find((x) => x.id === $('#preset').value);
  if (!p) return;
  const refused = page.panelA.load(p.settings || {});
  if (p.workload && WORKLOAD_NAMES.includes(p.workload)) {
    $('#workload').value = p.workload;
    showWalkthrough();
  }
  setLoadError(refused.length ? refused.map((r) => `${r.key}=${r.value}: ${r.error}`).join('\n') : '');
  updateShareLink();
}

// ---------------------------------------------------------------- share link
function updateShareLink() {
  const prog = currentProgram();
  const href = shareUrl(prog.custom ? null : prog.name, page.panelA.settings(), getLang());
  $('#share-link').href = href;
}

/** Applies a share link's workload and knobs; true when it also asks for a
 *  run and everything in it was taken (a link with refused parts only
 *  restores, and says what it refused). */
function restoreFromUrl() {
  const want = parseShareUrl(location.href);
  const problems = [...want.bad];
  if (want.workload != null) {
    if (WORKLOAD_NAMES.includes(want.workload)) $('#workload').value = want.workload;
    else problems.push(`workload=${want.workload}: ${t('unknown_workload')}`);
  }
  if (want.settings.length) {
    const refused = page.panelA.load(Object.fromEntries(want.settings));
    for (const r of refused) problems.push(`${r.key}=${r.value}: ${r.error}`);
  }
  if (problems.length) setLoadError(`${t('restore_bad')}:\n${problems.join('\n')}`);
  return want.run && problems.length === 0;
}

// ---------------------------------------------------------------- the worker
// Messages about a machine that has since been replaced are dropped.
const PER_MACHINE = new Set(['status', 'console', 'live', 'ended']);

function onWorkerMessage(msg) {
  if (PER_MACHINE.has(msg.type) && msg.gen !== page.gen) return;
  switch (msg.type) {
    case 'ready':
      page.build = msg.build;
      showIsolation();
      return;
    case 'loaded':
      page.phase = 'idle';
      page.pendingLoad?.resolve();
      page.pendingLoad = null;
      setState('idle');
      return;
    case 'load-error':
      page.loadedKey = null;
      page.phase = 'idle';
      page.pendingLoad?.reject(new Error(msg.message));
      page.pendingLoad = null;
      setState('idle');
      return;
    case 'status':
      if (msg.paused) {
        page.phase = 'paused';
        setState('paused');
      } else if (msg.status.state === 'running') {
        page.phase = 'running';
        setState('running');
      }
      if (msg.regs) showRegs(msg.regs);
      showProgress(msg.status, page.lastReport);
      if (msg.paused) refreshCodeUnits();
      return;
    case 'console':
      appendConsole(msg.text);
      return;
    case 'live': {
      let report;
      try {
        report = JSON.parse(msg.report);
      } catch (e) {
        showPageError(`live report: ${reason(e)}`);
        return;
      }
      page.lastReport = report;
      page.charts.push(report);
      page.checklist.update(report);
      if (page.ab) page.ab.current.push(report);
      showProgress(msg.status, report);
      return;
    }
    case 'ended':
      onRunEnded(msg.status, msg.report);
      return;
    case 'stopped':
      return; // 'ended' follows with the final figures
    case 'crash':
      onCrash(msg.message);
      return;
  }
}

function onCrash(message) {
  page.phase = 'ended';
  page.loadedKey = null;
  page.pendingLoad?.reject(new Error(message));
  page.pendingLoad = null;
  setState(`error: ${message}`);
  page.endWaiter?.({ status: { state: 'error' }, error: message });
}

function onRunEnded(status, reportText) {
  page.phase = 'ended';
  page.finalReport = reportText;
  setState(statusText(status));
  showProgress(status, page.lastReport);
  refreshCodeUnits();
  page.worker.request('regs').then(showRegs, () => {});
  const prog = currentProgram();
  // Guest instructions this page had run before this run: until about
  // 200 M, V8 is still compiling and optimizing the code runs need: tunevm's
  // own, and generated modules (byte-identical ones it reuses) (BENCHMARKS.md).
  const warmBefore = page.insnsRun;
  page.insnsRun += page.lastReport?.instructions ?? 0;
  if (!page.ab && !prog.custom && prog.name === 'cpubench' && status.state === 'exit' && status.exit_code === 0) {
    measureNative(page.lastReport?.wall_ns, warmBefore < WARM_INSNS);
  }
  page.endWaiter?.({ status, report: reportText });
}

async function measureNative(vmWallNs, cold) {
  if (!vmWallNs) return;
  page.checklist.measuring();
  try {
    const r = await page.worker.request('native');
    page.checklist.setNative(r.ms, vmWallNs, r.ok, cold);
  } catch (e) {
    page.checklist.clearNative();
    showPageError(`native cpubench: ${reason(e)}`);
  }
}

function configKey(settings, prog) {
  return `${prog.id}|${JSON.stringify(settings)}`;
}

/** Builds a fresh machine in the worker for the current program; throws with a reason. */
async function loadMachine(settings) {
  setLoadError('');
  const json = JSON.stringify(settings);
  try {
    page.vm.effective_config(json); // cross-knob rules (e.g. min <= max threshold)
  } catch (e) {
    throw new Error(reason(e));
  }
  const prog = currentProgram();
  const bytes = await programBytes(prog);
  // A worker replaced by the Stop watchdog while the load was on its way
  // never answers it: the load goes again, once, to the new worker.
  for (let attempt = 1; ; attempt += 1) {
    await page.worker.usable();
    const done = new Promise((resolve, reject) => {
      page.pendingLoad = { resolve, reject };
    });
    page.loadedKey = null;
    page.gen += 1;
    page.worker.send({ type: 'load', gen: page.gen, settings: json, elf: bytes.slice() });
    // the worker drops its old machine now, whether or not the new one builds
    page.finalReport = null;
    clearRunViews();
    try {
      await done;
      break;
    } catch (e) {
      if (!(e instanceof WorkerReplaced) || attempt >= 2) throw e;
    }
  }
  page.loadedKey = configKey(settings, prog);
}

/** A load that went to a worker the Stop watchdog has since replaced. */
class WorkerReplaced extends Error {}

/** Empties what the page shows of a run: a new or reset machine starts blank. */
function clearRunViews() {
  page.lastReport = null;
  page.charts.clear();
  page.checklist.reset();
  $('#console').textContent = '';
  showRegs(null);
  showProgress(null, null);
  clearCodeView();
}

async function guarded(fn) {
  try {
    await fn();
  } catch (e) {
    setLoadError(reason(e));
  }
}

/** Runs control actions one at a time, in the order they were asked for (a
 *  double click never builds two machines at once): a Run clicked while a
 *  chosen file is still loading runs once the load is done, not dropped. */
function exclusive(fn) {
  const next = page.actions.then(fn);
  page.actions = next.catch(() => {}); // a failed action does not block the next
  return next;
}

function panelSettingsOrThrow(panel) {
  if (panel.hasErrors()) {
    const keys = [...panel.errors.keys()].join(', ');
    throw new Error(`fix the refused values first: ${keys}`);
  }
  return panel.settings();
}

async function ensureFresh() {
  await loadMachine(panelSettingsOrThrow(page.panelA));
}

/** True when the machine in the worker is the one the knobs and the program
 *  ask for and it can go on (idle or paused); else Run/Step build a new one. */
function canContinue(settings) {
  const same = page.loadedKey === configKey(settings, currentProgram());
  return same && !page.worker.dead && (page.phase === 'paused' || page.phase === 'idle');
}

async function run() {
  if (page.phase === 'running' || page.ab) return;
  const settings = panelSettingsOrThrow(page.panelA);
  if (!canContinue(settings)) await ensureFresh();
  page.phase = 'running';
  setState('running');
  page.worker.send({ type: 'run' });
}

function pause() {
  if (page.phase !== 'running') return;
  page.worker.send({ type: 'pause' });
}

async function step(block) {
  if (page.phase === 'running' || page.ab) return;
  if (!canContinue(panelSettingsOrThrow(page.panelA))) await ensureFresh();
  page.worker.send({ type: 'step', block });
}

function stop() {
  if (page.phase !== 'running' && page.phase !== 'paused') return;
  page.worker.stop();
}

function onWorkerKilled() {
  // the Stop watchdog replaced a worker that did not answer in time
  page.pendingLoad?.reject(new WorkerReplaced('the worker did not answer and was replaced'));
  page.pendingLoad = null;
  page.loadedKey = null;
  page.phase = 'ended';
  setState('stopped');
  page.endWaiter?.({ status: { state: 'stopped' }, report: null });
}

async function reset() {
  if (page.ab) return;
  const settings = panelSettingsOrThrow(page.panelA);
  if (page.phase === 'running') page.worker.stop();
  if (page.loadedKey === configKey(settings, currentProgram()) && !page.worker.dead && page.phase !== 'running') {
    const done = new Promise((resolve, reject) => {
      page.pendingLoad = { resolve, reject };
    });
    page.worker.send({ type: 'reset' });
    await done;
    clearRunViews();
  } else {
    await ensureFresh();
  }
  setState('idle');
}

// ---------------------------------------------------------------- code view
function clearCodeView() {
  $('#code-units').replaceChildren(new Option(t('code_none'), ''));
  $('#code-guest').textContent = '';
  $('#code-wat').textContent = '';
}

async function refreshCodeUnits() {
  if (!page.loadedKey) return;
  let units;
  try {
    units = await page.worker.request('hot_units', 20);
  } catch {
    return; // no machine (crashed or replaced): nothing to show
  }
  const sel = $('#code-units');
  const keep = sel.value;
  if (!units.length) {
    clearCodeView();
    return;
  }
  sel.replaceChildren(
    ...units.map((u) => new Option(`${u.vpc}  ${u.tier}  ×${Number(u.executions).toLocaleString('en')}`, String(u.index))),
  );
  sel.value = units.some((u) => String(u.index) === keep) ? keep : String(units[0].index);
  showCodeUnit();
}

async function showCodeUnit() {
  const v = $('#code-units').value;
  if (v === '') return;
  try {
    const view = await page.worker.request('code_view', Number(v));
    $('#code-guest').textContent = view ? view.guest.join('\n') : '';
    $('#code-wat').textContent = view ? view.wat : '';
  } catch (e) {
    $('#code-guest').textContent = reason(e);
    $('#code-wat').textContent = '';
  }
}

// ---------------------------------------------------------------- export
async function currentReportText() {
  if (page.loadedKey && !page.worker.dead) {
    try {
      return await page.worker.request('report');
    } catch {
      /* fall back to the last finished run */
    }
  }
  if (page.finalReport) return page.finalReport;
  throw new Error('no report yet: run a workload first');
}

function reportName(ext) {
  const prog = currentProgram();
  return `tunevm-${prog.name.replace(/[^\w.-]+/g, '_')}.${ext}`;
}

async function exportJson() {
  const text = await currentReportText();
  download(reportName('json'), JSON.stringify(JSON.parse(text), null, 2) + '\n', 'application/json');
}

async function exportCsv() {
  const text = await currentReportText();
  download(reportName('csv'), reportToCsv(JSON.parse(text)), 'text/csv');
}

// ---------------------------------------------------------------- A/B
function runToEnd() {
  return new Promise((resolve) => {
    page.endWaiter = (result) => {
      page.endWaiter = null;
      resolve(result);
    };
    page.phase = 'running';
    setState('running');
    page.worker.send({ type: 'run' });
  });
}

async function abRun() {
  if (page.ab || page.phase === 'running') return;
  const status = $('#ab-status');
  let settingsA;
  let settingsB;
  try {
    settingsA = panelSettingsOrThrow(page.panelA);
    settingsB = panelSettingsOrThrow(page.panelB);
    page.vm.effective_config(JSON.stringify(settingsB));
  } catch (e) {
    status.textContent = `B: ${reason(e)}`;
    return;
  }
  // A B B A: a browser warms up over the first runs (V8 tiers the VM's own
  // code up while it runs), so whichever side ran first alone would pay it.
  // Each side keeps its faster run.
  const order = [['A', settingsA], ['B', settingsB], ['B', settingsB], ['A', settingsA]];
  const best = {};
  const walls = { A: [], B: [] };
  page.ab = { current: [] };
  updateButtons();
  try {
    for (const [i, [name, settings]] of order.entries()) {
      status.textContent = `${name} (${i + 1}/${order.length}): ${t('ab_running')}…`;
      await loadMachine(settings);
      page.ab.current = [];
      const end = await runToEnd();
      if (end.error || !end.report) throw new Error(`${name}: ${end.error || 'the run was killed'}`);
      const report = JSON.parse(end.report);
      walls[name].push(report.wall_ns);
      if (!best[name] || report.wall_ns < best[name].report.wall_ns) {
        const series = page.charts.chartData('mips');
        best[name] = { report, mips: [series[0].slice(), series[1].slice()] };
      }
    }
    renderAbTable($('#ab-table'), best.A.report, best.B.report);
    page.abChart.show(best.A, best.B);
    const secs = (ns) => `${(ns / 1e9).toFixed(3)} s`;
    status.textContent = `${t('ab_runs')}: A ${walls.A.map(secs).join(', ')}; B ${walls.B.map(secs).join(', ')}`;
  } catch (e) {
    status.textContent = reason(e);
  } finally {
    page.ab = null;
    page.endWaiter = null;
    updateButtons();
  }
}

function fillBFromPreset() {
  const p = page.presets.find((x) => x.id === $('#ab-preset-b').value);
  if (!p) return;
  const refused = page.panelB.load(p.settings || {});
  $('#knobs-b-box').open = true;
  $('#ab-status').textContent = refused.map((r) => `${r.key}: ${r.error}`).join('; ');
}

// ---------------------------------------------------------------- start
// Which build runs: the threads build needs cross-origin isolation.
const PKG = window.crossOriginIsolated === true ? './pkg/' : './pkg-st/';

/** Downloads and compiles tunevm_bg.wasm once, for this thread and the workers. */
async function compileWasm() {
  const url = new URL(`${PKG}tunevm_bg.wasm`, location.href);
  let module;
  try {
    module = await WebAssembly.compileStreaming(fetch(url));
  } catch {
    const res = await fetch(url); // e.g. a host that does not send application/wasm
    if (!res.ok) throw new Error(`${url.pathname}: HTTP ${res.status}`);
    module = await WebAssembly.compile(await res.arrayBuffer());
  }
  return { module, pkg: PKG };
}

/** The main thread's own instance: schema, presets and validation only. */
async function loadMainWasm(wasm) {
  const [mod, { module }] = await Promise.all([import(`${PKG}tunevm.js`), wasm]);
  await mod.default({ module_or_path: module });
  return mod;
}

function wire() {
  const on = (sel, ev, fn) => $(sel).addEventListener(ev, (e) => guarded(() => fn(e)));
  on('#run', 'click', () => exclusive(run));
  on('#pause', 'click', pause);
  on('#step', 'click', () => exclusive(() => step(false)));
  on('#step-block', 'click', () => exclusive(() => step(true)));
  on('#stop', 'click', stop);
  on('#reset', 'click', () => exclusive(reset));
  on('#preset', 'change', showPresetDescription);
  on('#apply-preset', 'click', applyPreset);
  on('#knobs-defaults', 'click', () => page.panelA.resetAll());
  on('#workload', 'change', () => {
    setLoadError('');
    showWalkthrough();
    updateShareLink();
  });
  on('#elf-file', 'change', async (e) => {
    const file = e.target.files?.[0];
    if (!file) return;
    // Over the loader's size cap: refused before it is read, with the
    // reason the machine would give (shown by guarded).
    page.vm.check_elf_size(file.size);
    page.custom = { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
    fillWorkloads();
    $('#workload').value = FILE_PREFIX + file.name;
    showWalkthrough();
    updateShareLink();
    if (page.phase === 'running') page.worker.stop();
    await exclusive(ensureFresh); // a bad file is refused here, with the constructor's reason
  });
  $('#console-input').addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    const text = e.target.value + '\n';
    e.target.value = '';
    if (page.loadedKey) page.worker.send({ type: 'console', text });
  });
  on('#export-json', 'click', exportJson);
  on('#export-csv', 'click', exportCsv);
  on('#copy-link', 'click', async () => {
    await navigator.clipboard.writeText($('#share-link').href);
    $('#copy-link').textContent = t('copied');
    setTimeout(() => ($('#copy-link').textContent = t('copy_link')), 1500);
  });
  on('#code-refresh', 'click', refreshCodeUnits);
  on('#code-units', 'change', showCodeUnit);
  on('#ab-run', 'click', abRun);
  on('#ab-preset-b', 'change', fillBFromPreset);
  $('#knobs-b-box').addEventListener('toggle', (e) => {
    if (e.target.open && !page.panelB.rendered) page.panelB.render();
  });
  $('#lang').addEventListener('change', (e) => setLang(e.target.value));
  onLangChange(() => {
    page.panelA.render();
    if (page.panelB.rendered) page.panelB.render();
    fillPresetSelects();
    showWalkthrough();
    showIsolation();
    page.checklist.relabel();
    page.charts.rebuildAll();
    page.abChart.draw();
    updateShareLink();
  });
}

async function start() {
  // first the slow parts, in parallel: the wasm and the worker
  performance.mark('tunevm:start');
  const wasm = compileWasm();
  wasm.then(() => performance.mark('tunevm:wasm-compiled'), () => {});
  page.worker = new VmWorker(
    {
      message: onWorkerMessage,
      crash: (m) => onCrash(m),
      killed: onWorkerKilled,
    },
    wasm,
  );
  const mainWasm = loadMainWasm(wasm);
  mainWasm.catch(() => {}); // awaited below
  const params = new URLSearchParams(location.search);
  if (params.get('lang') === 'zh') $('#lang').value = 'zh';
  setLang($('#lang').value);
  applyStatic(document);
  fillWorkloads();
  showWalkthrough();
  page.checklist = new Checklist($('#checklist'));
  page.charts = new Charts($('#charts'));
  page.abChart = new AbChart($('#ab-chart'), $('#ab-rates'));
  clearCodeView();
  updateButtons();

  performance.mark('tunevm:views');
  page.vm = await mainWasm;
  performance.mark('tunevm:main-wasm');
  page.build = page.vm.build_name();
  showIsolation();
  const schema = JSON.parse(page.vm.knob_schema());
  page.presets = JSON.parse(page.vm.presets());
  page.panelA = new KnobPanel($('#knobs'), page.vm, schema, { attr: 'key', idPrefix: 'knob', onChange: updateShareLink });
  page.panelB = new KnobPanel($('#knobs-b'), page.vm, schema, { attr: 'b-key', idPrefix: 'knob-b', lazy: true });
  fillPresetSelects();
  performance.mark('tunevm:knobs');
  wire();
  const autorun = restoreFromUrl();
  showWalkthrough();
  updateShareLink();
  const info = await page.worker.ready;
  page.build = info.build;
  showIsolation();
  document.body.dataset.ready = '1';
  performance.mark('tunevm:ready'); // navigation -> here is the "page ready" time
  page.charts.rebuildAll();
  if (autorun) guarded(() => exclusive(run));
}

window.tunevmPage = {
  chartData: (name) => page.charts?.chartData(name) ?? null,
  lastReport: () => page.lastReport,
};

start().catch((e) => {
  showPageError(`the page could not start: ${reason(e)}`);
  $('#isolation').textContent = `${t('error_prefix')}: ${reason(e)}`;
});
