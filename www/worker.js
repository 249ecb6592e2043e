// The machine's home: a module Web Worker. The page never runs the VM itself.
//
// Page -> worker messages ({type, ...}):
//   init {module?: WebAssembly.Module, pkg, wire, warmUpMs}  first message: the compiled wasm (see below);
//                                                  wire 'json' (benchmark only) takes the JSON-text path;
//                                                  warmUpMs: the engine warm-up's length (0: none; see warmUp)
//   load {gen, settings: JSON text, elf: Uint8Array}   build a WebMachine (replaces any old one);
//                                                  every later message carries this gen
//   run | pause | stop | reset | step {block}      control the run
//   console {text}                                 bytes for the guest UART
//   retune {id, settings: JSON text}               live knobs: machine.retune(settings) between two slices
//                                                  (the same full {key: "text"} form as load); answered by
//                                                  reply {id, ok, value: the mark {wall_ns, instructions,
//                                                  changes: {key: "text"}} | message: why not (a knob that is
//                                                  not live differs: it applies when the machine is built
//                                                  again)}; while not running, a live report follows a change
//   request {id, what: "report"|"hot_units"|"code_view"|"regs"|"native"|"timings"|"warm_up"|"debug_panic"|"debug_panic_pool"|"debug_panic_marker", arg}
// Worker -> page:
//   ready {build, isolated} | fatal {message}      after init (or when init failed)
//   loaded {status} | load-error {message}
//   status {status, paused}                        after run slices start, pause, step, reset
//   console {text}                                 guest output since the last message
//   live {report, status}                          about every LIVE_EARLY_MS / LIVE_MS while running, and at the end
//                                                  (report: the live() object, the report without its series;
//                                                  with several harts also `smp` and the series smp.run_queue
//                                                  and smp.busy_vcpus; always `gc`, and when the guest used
//                                                  the GC heap the series gc.heap_bytes, gc.alloc_rate and
//                                                  gc.mark_progress; `retunes`: every retune mark so far)
//   ended {status, report: JSON text}              the run is over (exit, stopped, asleep, trap_loop)
//   stopped {status}                               confirms a Stop (the page's watchdog waits for it)
//   crash {message}                                the wasm threw; after a Rust panic the message is the
//                                                  panic's ("panicked at FILE:LINE:COL: MESSAGE")
//   reply {id, ok, value | message}                answer to a request

import { reason } from './dom.js';

const SLICE_MS = 20; // host time per run_for call; Stop is seen between slices
// How often a live() snapshot goes to the page: every LIVE_EARLY_MS for the
// first LIVE_EARLY_COUNT snapshots of a machine (about 2 s of running, so that
// a run that is over in a few hundred milliseconds still draws a curve), then
// every LIVE_MS (fewer points for the long runs).
const LIVE_EARLY_MS = 40;
const LIVE_EARLY_COUNT = 50;
const LIVE_MS = 150;

let vm = null;
let machine = null;
let running = false;
let runToken = 0;
let lastLive = 0;
let livePosted = 0; // snapshots of the current machine so far

let gen = 0; // the page's number for the current machine; every message carries it
let wire = 'object'; // 'json': status and live reports as JSON text, parsed here (benchmark only)
// The panic hook worker_start() installs calls this with "panicked at
// FILE:LINE:COL:\nMESSAGE" before the abort throws a bare "unreachable".
let lastPanic = null;
self.tunevmOnPanic = (text) => {
  lastPanic = String(text).replace(/\s*\n\s*/g, ' ');
};
// Benchmark figures of the current machine (see timings()).
let timing = null;
// Benchmark figures (www/e2e/bench-run.mjs): slices, live reports, and, in
// worker time (performance.now), building the machine, the Run message's
// arrival, the first and last slice, and the final report.
const freshTiming = () => ({
  slices: 0, runForMs: 0, lives: 0, liveMs: 0, firstSlice: null, lastSliceEnd: null,
  loadMs: 0, runAt: null, endReportMs: 0,
});
const post = (msg) => self.postMessage({ gen, ...msg });

// The engine's warm-up. A fresh page's browser runs the VM's own code with
// its baseline compiler until it has run enough to be optimized, and compiles
// the first few hundred generated modules more slowly than later ones; a
// user's first run paid for both (BENCHMARKS.md "Warming the engine at page
// load"). So once the worker is ready it runs a built-in program, phases
// (hundreds of small functions: the interpreter, the code generator and the
// code cache all get busy), on a machine of its own with little RAM, for at
// most warmUpMs of worker time in short slices, and drops it. It gives way
// at once to the user's machine: a run or step message stops it before its
// next slice, and it never touches `machine`, `gen` or the timings.
let warmUpMs = 600;
const WARM_UP_SLICE_MS = 5;
const WARM_UP_SETTINGS = JSON.stringify({
  'memory.ram_bytes': String(16 << 20),
  'runtime.pool_size': '1',
  'runtime.vcpus': '1',
  'gc.concurrent_marking': 'false',
});
let warmUpStop = false;
// Benchmark and test figures of the warm-up (request 'warm_up').
// afterStopMs: from the run or step message that stopped it to its end.
const warmUpState = {
  state: 'waiting', ms: 0, slices: 0, instructions: 0, units: 0, stoppedBy: null, afterStopMs: 0,
};
let warmUpStopAt = 0;

async function warmUp() {
  if (warmUpState.state !== 'waiting') return; // off
  let m = null;
  try {
    const res = await fetch('workloads/phases.elf');
    if (!res.ok) throw new Error(`workloads/phases.elf: HTTP ${res.status}`);
    const elf = new Uint8Array(await res.arrayBuffer());
    if (!warmUpStop) {
      m = new vm.WebMachine(WARM_UP_SETTINGS, elf);
      warmUpState.state = 'running';
      const start = performance.now();
      while (!warmUpStop && performance.now() - start < warmUpMs) {
        if (m.run_for(WARM_UP_SLICE_MS).state !== 'running') break;
        warmUpState.slices++;
        await yieldToEvents();
      }
      warmUpState.ms = performance.now() - start;
      const r = JSON.parse(m.live_json());
      warmUpState.instructions = r.instructions;
      warmUpState.units = r.jit?.units_compiled ?? 0;
    }
    warmUpState.state = warmUpStop ? 'stopped' : 'done';
    if (warmUpStop) warmUpState.afterStopMs = performance.now() - warmUpStopAt;
  } catch (e) {
    warmUpState.state = `failed: ${lastPanic ?? reason(e)}`;
    // Only a warm-up, but after a Rust panic this wasm instance must not run
    // anything again: the page replaces the worker (without a warm-up).
    if (lastPanic) {
      m = null;
      crash(e);
    }
  } finally {
    try {
      m?.free();
    } catch {
      /* dropped anyway */
    }
  }
}

// The page compiles the wasm once and sends the WebAssembly.Module in an
// "init" message (one download, one compile for the page and its workers);
// without one the glue fetches tunevm_bg.wasm itself.
let gotInit;
const initMessage = new Promise((resolve) => (gotInit = resolve));
const PKG = self.crossOriginIsolated === true ? './pkg/' : './pkg-st/';

const ready = (async () => {
  const isolated = self.crossOriginIsolated === true;
  const mod = await import(`${PKG}tunevm.js`);
  const { module, pkg, wire: w, warmUpMs: warm } = await initMessage;
  if (w === 'json') wire = 'json';
  if (Number.isFinite(warm) && warm >= 0) warmUpMs = warm;
  if (warmUpMs === 0) warmUpState.state = 'off';
  await mod.default(module && pkg === PKG ? { module_or_path: module } : undefined);
  vm = mod;
  const build = vm.worker_start(); // installs the panic hook
  // runLoop yields to the event loop after every run_for call, so the JIT's
  // WebAssembly.compile promises settle there (jit.background_compile).
  vm.worker_yields_between_slices(true);
  post({ type: 'ready', build, isolated });
  warmUp();
})().catch((e) => {
  post({ type: 'fatal', message: `could not start the VM: ${reason(e)}` });
  throw e;
});

// Yield to the event loop without setTimeout's 4 ms clamp, so that Pause and
// Stop messages are handled between two slices.
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldToEvents = () =>
  new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });

function crash(e) {
  running = false;
  runToken++;
  machine = null; // a panicked wasm instance must not be touched again
  post({ type: 'crash', message: lastPanic ?? reason(e) });
}

// How a status and a live report cross from Rust. The status (every slice)
// crosses as an object (serde-wasm-bindgen); the live report (~150 fields,
// every 40-150 ms) as JSON text: one JSON.parse measured 1.6-1.9x cheaper than
// serde-wasm-bindgen's call per field (BENCHMARKS.md "The page's boundary").
// wire 'json' (benchmark only) sends the status as JSON text too.
const runFor = (m, ms) => (wire === 'json' ? JSON.parse(m.run_for_json(ms)) : m.run_for(ms));
const liveReport = (m) => JSON.parse(m.live_json());

/** Benchmark only: this machine's slice timings, and `n` calls each of
 *  status and live through both paths on the machine as it is now. */
function timings(n = 200) {
  const m = needMachine();
  const time = (fn) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    return ((performance.now() - t0) * 1000) / n; // µs per call
  };
  return {
    wire,
    ...timing,
    loopMs: timing.lastSliceEnd != null ? timing.lastSliceEnd - timing.firstSlice : 0,
    perCallUs: {
      status_object: time(() => m.status()),
      status_json: time(() => JSON.parse(m.status_json())),
      live_object: time(() => m.live()),
      live_json: time(() => JSON.parse(m.live_json())),
    },
  };
}

function flushConsole() {
  const text = machine.console_take();
  if (text) post({ type: 'console', text });
}

function postLive(status) {
  const t0 = performance.now();
  const report = liveReport(machine);
  timing.liveMs += performance.now() - t0;
  timing.lives++;
  post({ type: 'live', report, status });
  lastLive = performance.now();
  livePosted++;
}

function finish(status) {
  flushConsole();
  postLive(status);
  const t0 = performance.now();
  const report = machine.report();
  timing.endReportMs = performance.now() - t0;
  post({ type: 'ended', status, report });
}

async function runLoop(token) {
  while (running && token === runToken && machine) {
    let status;
    try {
      const t0 = performance.now();
      status = runFor(machine, SLICE_MS);
      const t1 = performance.now();
      timing.slices++;
      timing.runForMs += t1 - t0;
      timing.firstSlice ??= t0;
      timing.lastSliceEnd = t1;
      flushConsole();
      if (status.state !== 'running') {
        running = false;
        finish(status);
        return;
      }
      const every = livePosted < LIVE_EARLY_COUNT ? LIVE_EARLY_MS : LIVE_MS;
      if (performance.now() - lastLive >= every) postLive(status);
    } catch (e) {
      crash(e);
      return;
    }
    await yieldToEvents();
  }
}

function needMachine() {
  if (!machine) throw new Error('no program loaded');
  return machine;
}

async function nativeCpubench() {
  const res = await fetch('workloads/cpubench.wasm');
  if (!res.ok) throw new Error(`workloads/cpubench.wasm: HTTP ${res.status}`);
  const { instance } = await WebAssembly.instantiate(await res.arrayBuffer(), {});
  const run = instance.exports.cpubench_run;
  run(600); // warm-up: lets the browser's optimizing tier compile it first
  const t0 = performance.now();
  const sum = BigInt.asUintN(64, BigInt(run(600)));
  const ms = performance.now() - t0;
  return { ms, checksum: '0x' + sum.toString(16), ok: sum === 0x3b83ab4b1a61130dn };
}

function answer(what, arg) {
  switch (what) {
    case 'report':
      return needMachine().report();
    case 'live':
      return needMachine().live();
    case 'hot_units':
      return JSON.parse(needMachine().hot_units(arg ?? 20));
    case 'code_view':
      return JSON.parse(needMachine().code_view(arg));
    case 'regs':
      return needMachine().regs();
    case 'native':
      return nativeCpubench();
    case 'warm_up':
      return { ...warmUpState };
    case 'timings':
      return timings(arg);
    case 'debug_panic':
      return vm.debug_panic(); // test only: panics
    case 'debug_panic_pool':
      return vm.debug_panic_pool(); // test only: the next pool job's first helper panics
    case 'debug_panic_marker':
      return vm.debug_panic_marker(Boolean(arg)); // test only: the marker worker panics at its next collector (arg: in a marking step, holding the lock)
    default:
      throw new Error(`unknown request ${what}`);
  }
}

// The worker pool's helpers (threads build): started on demand, kept for
// every later machine (a helper never returns to its event loop, and the
// VM hands it work through the shared memory). The Rust side uses as many
// as have started (vm.pool_helpers()), up to what a machine wants.
const helpers = [];
const HELPER_START_MS = 10000;

async function startHelpers(wanted) {
  const parts = wanted > 1 ? vm.pool_shared_parts() : null;
  if (!parts) return;
  const [module, memory] = parts;
  const starts = [];
  while (helpers.length < wanted) {
    const helper = new Worker('pool-worker.js', { type: 'module' });
    helpers.push(helper);
    starts.push(
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), HELPER_START_MS);
        helper.onmessage = ({ data }) => {
          if (data.type === 'died') {
            console.error(`tunevm: a pool worker died: ${data.message}`);
            post({ type: 'console', text: `[tunevm] a pool worker died: ${data.message}\n` });
          }
          clearTimeout(timer);
          resolve(data.type === 'ready');
        };
        helper.onerror = (e) => {
          console.error('tunevm: a pool worker failed to start', e.message ?? e);
          clearTimeout(timer);
          resolve(false);
        };
      }),
    );
    helper.postMessage({ module, memory, pkg: PKG });
  }
  await Promise.all(starts);
  // "ready" comes just before a helper enters its loop, where it counts
  // itself: wait (briefly) until the count catches up.
  const t0 = performance.now();
  while (vm.pool_helpers() < Math.min(wanted, helpers.length) && performance.now() - t0 < 1000) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

// The GC's marker worker (threads build): started with the first machine
// that wants concurrent marking and kept for every later one, like the
// pool's helpers. Without it the collector marks in slices on this worker
// (the report's gc.concurrent_reason says so).
let marker = null;

async function startMarker(wanted) {
  const parts = wanted && !marker ? vm.pool_shared_parts() : null;
  if (!parts) return;
  const [module, memory] = parts;
  marker = new Worker('pool-worker.js', { type: 'module' });
  const ready = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), HELPER_START_MS);
    marker.onmessage = ({ data }) => {
      if (data.type === 'died') {
        // The collector it marked for goes on in slices; the next machine
        // gets a new marker worker.
        marker = null;
        console.error(`tunevm: the GC's marker worker died: ${data.message}`);
        post({ type: 'console', text: `[tunevm] the GC's marker worker died: ${data.message}\n` });
      }
      clearTimeout(timer);
      resolve(data.type === 'ready');
    };
    marker.onerror = (e) => {
      console.error("tunevm: the GC's marker worker failed to start", e.message ?? e);
      clearTimeout(timer);
      resolve(false);
    };
    marker.postMessage({ module, memory, pkg: PKG, role: 'marker' });
  });
  // As for the helpers: "ready" comes just before the worker counts itself.
  const t0 = performance.now();
  while (ready && vm.gc_markers() < 1 && performance.now() - t0 < 1000) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function handle(msg) {
  switch (msg.type) {
    case 'load': {
      gen = msg.gen ?? gen + 1;
      running = false;
      runToken++;
      if (machine) {
        try {
          machine.free();
        } catch {
          /* an instance that failed before is dropped anyway */
        }
        machine = null;
      }
      const loadStart = performance.now();
      try {
        machine = new vm.WebMachine(msg.settings, msg.elf);
      } catch (e) {
        post({ type: 'load-error', message: reason(e) });
        return;
      }
      const loadMs = performance.now() - loadStart;
      await startHelpers(machine.pool_workers_wanted());
      await startMarker(machine.marker_worker_wanted());
      lastLive = 0;
      livePosted = 0;
      timing = freshTiming();
      timing.loadMs = loadMs;
      post({ type: 'loaded' });
      return;
    }
    case 'run': {
      timing.runAt ??= performance.now();
      if (!machine) return post({ type: 'crash', message: 'no program loaded' });
      if (running) return;
      running = true;
      const token = ++runToken;
      post({ type: 'status', status: { state: 'running' }, paused: false });
      runLoop(token);
      return;
    }
    case 'pause': {
      if (!machine) return;
      running = false;
      runToken++;
      try {
        flushConsole();
        const regs = machine.regs();
        post({ type: 'live', report: liveReport(machine), status: null });
        post({ type: 'status', status: { state: 'running', pc: regs.pc }, paused: true, regs });
      } catch (e) {
        crash(e);
      }
      return;
    }
    case 'step': {
      if (!machine || running) return;
      try {
        const status = machine.step(!!msg.block);
        flushConsole();
        const regs = machine.regs();
        if (status.state !== 'running') {
          finish(status);
          post({ type: 'status', status, paused: false, regs });
        } else {
          postLive(status);
          post({ type: 'status', status, paused: true, regs });
        }
      } catch (e) {
        crash(e);
      }
      return;
    }
    case 'stop': {
      running = false;
      runToken++;
      if (!machine) return post({ type: 'stopped', status: { state: 'stopped' } });
      try {
        const status = machine.stop();
        post({ type: 'stopped', status });
        finish(status);
      } catch (e) {
        crash(e);
      }
      return;
    }
    case 'reset': {
      running = false;
      runToken++;
      if (!machine) return;
      try {
        machine.reset();
        lastLive = 0;
        livePosted = 0;
        timing = freshTiming();
        post({ type: 'loaded' });
      } catch (e) {
        crash(e);
      }
      return;
    }
    case 'retune': {
      try {
        const mark = JSON.parse(needMachine().retune(msg.settings));
        post({ type: 'reply', id: msg.id, ok: true, value: mark });
        // Paused (or not started): no slice sends a live report soon, so one
        // goes now with the new config and the mark.
        if (!running && Object.keys(mark.changes || {}).length) {
          post({ type: 'live', report: liveReport(machine), status: null });
        }
      } catch (e) {
        if (lastPanic) crash(e); // the instance is unusable: the page starts a fresh worker
        post({ type: 'reply', id: msg.id, ok: false, message: lastPanic ?? reason(e) });
      }
      return;
    }
    case 'console': {
      if (machine) {
        try {
          machine.console_push(msg.text);
        } catch (e) {
          crash(e);
        }
      }
      return;
    }
    case 'request': {
      try {
        const value = await answer(msg.what, msg.arg);
        post({ type: 'reply', id: msg.id, ok: true, value });
      } catch (e) {
        if (lastPanic) crash(e); // the instance is unusable: the page starts a fresh worker
        post({ type: 'reply', id: msg.id, ok: false, message: lastPanic ?? reason(e) });
      }
      return;
    }
    default:
      post({ type: 'reply', id: msg.id, ok: false, message: `unknown message ${msg.type}` });
  }
}

self.onmessage = (ev) => {
  if (['run', 'step'].includes(ev.data?.type) && !warmUpStop) {
    warmUpStop = true;
    warmUpStopAt = performance.now();
    if (['waiting', 'running'].includes(warmUpState.state)) warmUpState.stoppedBy = ev.data.type;
  }
  if (ev.data?.type === 'init') {
    gotInit(ev.data);
    return;
  }
  ready.then(
    () => handle(ev.data),
    () => {}, // fatal already reported
  );
};
