// The playground page's wiring: starts the main-thread wasm (schema, presets,
// validation, ABI names and the guide's targets only), the worker that runs
// the machine, and the views, and connects the controls to the session.
// The machine never runs on this thread. www/README.md maps the modules.

import { t, setLang, onLangChange, applyStatic } from './i18n.js';
import { $, reason } from './dom.js';
import { KnobPanel } from './knobs.js';
import { Phase } from './phase.js';
import { RunControls } from './controls.js';
import { ConsoleView } from './console-view.js';
import { CodeView } from './code-view.js';
import { ReportPanel } from './panel.js';
import { Program } from './program.js';
import { Session } from './session.js';
import { VmWorker } from './worker-client.js';
import { SMP_KNOB_NOTES } from './smp-view.js';

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

/** cause 'refused': the message is about refused knob values, and goes as
 *  soon as panel A has none. */
const setLoadError = (text, cause = '') => {
  const el = $('#load-error');
  el.textContent = text || '';
  el.dataset.cause = text ? cause : '';
};

let build = '';
function showIsolation() {
  const isolated = window.crossOriginIsolated === true;
  const el = $('#isolation');
  el.textContent = `${isolated ? t('isolation_ok') : t('isolation_no')} (${t('build')}: ${build || '…'})`;
  el.dataset.isolated = isolated ? '1' : '0';
}

// ---------------------------------------------------------------- wasm
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

// ---------------------------------------------------------------- wiring
/** Errors of a control's handler go to #load-error. */
async function guarded(fn) {
  try {
    await fn();
  } catch (e) {
    setLoadError(reason(e), e && e.refusedValues ? 'refused' : '');
  }
}

function wire(s) {
  const { program, panel } = s;
  const on = (sel, ev, fn) => $(sel).addEventListener(ev, (e) => guarded(() => fn(e)));
  on('#run', 'click', () => s.exclusive(() => s.run()));
  on('#pause', 'click', () => s.pause());
  on('#step', 'click', () => s.exclusive(() => s.step(false)));
  on('#step-block', 'click', () => s.exclusive(() => s.step(true)));
  on('#stop', 'click', () => s.stop());
  on('#reset', 'click', () => s.exclusive(() => s.reset()));
  on('#preset', 'change', () => program.showPresetDescription());
  on('#apply-preset', 'click', () => program.applyPreset());
  on('#knobs-defaults', 'click', () => program.panelA.resetAll());
  on('#workload', 'change', () => {
    setLoadError('');
    program.showWalkthrough();
    program.updateShareLink();
    // The console, registers and "exit 0" of the last run belong to the
    // program before: clear them (a paused run stays until Run or Reset).
    if (s.phase.phase === 'ended') {
      s.clearRunViews();
      s.phase.transition('cleared');
    }
  });
  on('#elf-file', 'change', async (e) => {
    const file = e.target.files?.[0];
    if (file) await s.loadFile(file); // a bad file is refused there, with the constructor's reason
  });
  const reportName = () => program.reportName();
  const programName = () => program.current().name;
  on('#export-json', 'click', () => panel.exportJson(s.worker, s.hasMachine(), reportName(), programName()));
  on('#export-csv', 'click', () => panel.exportCsv(s.worker, s.hasMachine(), reportName(), programName()));
  on('#copy-link', 'click', async () => {
    await navigator.clipboard.writeText($('#share-link').href);
    $('#copy-link').textContent = t('copied');
    setTimeout(() => ($('#copy-link').textContent = t('copy_link')), 1500);
  });
  on('#code-refresh', 'click', () => s.code.refresh());
  on('#code-units', 'change', () => s.code.show());
  on('#ab-run', 'click', () => s.abRun());
  on('#ab-preset-b', 'change', () => program.fillBFromPreset());
  $('#knobs-b-box').addEventListener('toggle', (e) => {
    if (e.target.open && !program.panelB.rendered) program.panelB.render();
  });
  $('#lang').addEventListener('change', (e) => setLang(e.target.value));
  onLangChange(() => {
    program.panelA.render();
    if (program.panelB.rendered) program.panelB.render();
    program.fillPresetSelects();
    program.showWalkthrough();
    showIsolation();
    panel.relabel();
    s.controls.relabel();
    s.relabel();
    program.updateShareLink();
  });
}

/** The advisor's fix buttons: a fix's settings over panel A's current
 *  values go into A ("Apply") or into B ("Set as B", for an A/B run of the
 *  fix against the current knobs). Returns the refused values' text or ''. */
function wireAdvisor(advisor, program, phase) {
  const into = (panel, settings) => {
    const merged = { ...program.panelA.settings() };
    for (const { key, value } of settings) merged[key] = value;
    const refused = panel.load(merged);
    return refused.map((r) => `${r.key}=${r.value}: ${r.error}`).join('; ');
  };
  advisor.onApply = (settings) => into(program.panelA, settings);
  advisor.onSetB = (settings) => {
    const refused = into(program.panelB, settings);
    $('#knobs-b-box').open = true;
    return refused;
  };
  phase.subscribe((s) => advisor.setEnabled(!s.ab));
}

// ---------------------------------------------------------------- start
let session = null;

async function start() {
  // first the slow parts, in parallel: the wasm and the worker
  performance.mark('tunevm:start');
  const params = new URLSearchParams(location.search);
  const wasm = compileWasm();
  wasm.then(() => performance.mark('tunevm:wasm-compiled'), () => {});
  const phase = new Phase();
  const worker = new VmWorker(
    {
      message: (msg) => {
        if (msg.type === 'ready') {
          build = msg.build;
          showIsolation();
        }
        session?.onMessage(msg);
      },
      crash: (m) => session?.onCrash(m),
      killed: () => session?.onKilled(),
    },
    wasm,
    {
      wire: params.get('wire'), // 'json': the benchmark's JSON-text path (www/e2e/bench-run.mjs)
      // ?warmup=MS: the engine warm-up's length in worker ms (worker.js; 0: none), for comparisons and tests
      warmUpMs: params.has('warmup') ? Number(params.get('warmup')) : undefined,
    },
  );
  const mainWasm = loadMainWasm(wasm);
  mainWasm.catch(() => {}); // awaited below
  if (params.get('lang') === 'zh') $('#lang').value = 'zh';
  setLang($('#lang').value);
  applyStatic(document);
  const program = new Program(setLoadError);
  program.fillWorkloads();
  program.showWalkthrough();
  const panel = new ReportPanel();
  const controls = new RunControls(phase);
  session = new Session({ phase, worker, program, panel, controls, setLoadError, showPageError, vm: null });
  session.console = new ConsoleView((text) => session.consoleLine(text));
  session.code = new CodeView(worker, () => session.hasMachine());
  session.code.clear();

  performance.mark('tunevm:views');
  const vm = await mainWasm;
  session.vm = vm;
  performance.mark('tunevm:main-wasm');
  build = vm.build_name();
  showIsolation();
  controls.setAbiNames(vm.abi_names());
  panel.checklist.setTargets(vm.guide_targets());
  panel.advisor.setVm(vm);
  const schema = JSON.parse(vm.knob_schema());
  program.presets = JSON.parse(vm.presets());
  program.panelA = new KnobPanel($('#knobs'), vm, schema, {
    attr: 'key',
    idPrefix: 'knob',
    notes: SMP_KNOB_NOTES,
    onChange: (p) => {
      program.updateShareLink();
      if (!p.hasErrors() && $('#load-error').dataset.cause === 'refused') setLoadError('');
      // live knobs: a change while the guest runs or is paused goes to its machine
      session.knobsChanged(p).catch((e) => showPageError(reason(e)));
    },
  });
  program.panelB = new KnobPanel($('#knobs-b'), vm, schema, { attr: 'b-key', idPrefix: 'knob-b', lazy: true, notes: SMP_KNOB_NOTES });
  program.fillPresetSelects();
  wireAdvisor(panel.advisor, program, phase);
  performance.mark('tunevm:knobs');
  wire(session);
  const autorun = program.restoreFromUrl();
  program.showWalkthrough();
  program.updateShareLink();
  const info = await worker.ready;
  build = info.build;
  showIsolation();
  document.body.dataset.ready = '1';
  performance.mark('tunevm:ready'); // navigation -> here is the "page ready" time
  panel.charts.rebuildAll();
  if (autorun) guarded(() => session.exclusive(() => session.run()));
}

// Hooks for the end-to-end test and the benchmarks.
window.tunevmPage = {
  chartData: (name) => session?.panel.charts.chartData(name) ?? null,
  /** Points drawn in one GC chart (gc-charts.js GC_CHART_NAMES). */
  gcPoints: (name) => session?.panel.gc.points(name) ?? 0,
  lastReport: () => session?.panel.lastReport ?? null,
  /** The retune marks the time charts hold ({wall_ns, instructions, changes}, oldest first). */
  retuneMarks: () => session?.panel.charts.marks() ?? [],
  /** Benchmark only: the worker's timings of the current machine (see worker.js). */
  workerTimings: (n) => session?.worker.timings(n),
  /** Benchmark and test: what the worker's engine warm-up did. */
  warmUp: () => session?.worker.warmUp(),
  /** Test only: a Rust panic in the worker. */
  debugPanic: () => session?.worker.debugPanic(),
  /** Test only: a Rust panic in a helper of the worker pool. */
  debugPanicPool: () => session?.worker.debugPanicPool(),
  /** Test only: the GC's marker worker panics (holdingLock: while it holds the collector's lock). */
  debugPanicMarker: (holdingLock = false) => session?.worker.debugPanicMarker(holdingLock),
};

start().catch((e) => {
  showPageError(`the page could not start: ${reason(e)}`);
  $('#isolation').textContent = `${t('error_prefix')}: ${reason(e)}`;
});
