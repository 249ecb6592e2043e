// The machine's home: a module Web Worker. The page never runs the VM itself.
//
// Page -> worker messages ({type, ...}):
//   init {module?: WebAssembly.Module, pkg}        first message: the compiled wasm (see below)
//   load {gen, settings: JSON text, elf: Uint8Array}   build a WebMachine (replaces any old one);
//                                                  every later message carries this gen
//   run | pause | stop | reset | step {block}      control the run
//   console {text}                                 bytes for the guest UART
//   request {id, what: "report"|"hot_units"|"code_view"|"regs"|"native", arg}
// Worker -> page:
//   ready {build, isolated} | fatal {message}      after init (or when init failed)
//   loaded {status} | load-error {message}
//   status {status, paused}                        after run slices start, pause, step, reset
//   console {text}                                 guest output since the last message
//   live {report: JSON text, status}               about every LIVE_EARLY_MS / LIVE_MS while running, and at the end
//   ended {status, report: JSON text}              the run is over (exit, stopped, asleep, trap_loop)
//   stopped {status}                               confirms a Stop (the page's watchdog waits for it)
//   crash {message}                                the wasm threw (a Rust panic shows as "unreachable")
//   reply {id, ok, value | message}                answer to a request

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
const post = (msg) => self.postMessage({ gen, ...msg });
const reason = (e) => (e && e.message ? e.message : String(e));

// The page compiles the wasm once and sends the WebAssembly.Module in an
// "init" message (one download, one compile for the page and its workers);
// without one the glue fetches tunevm_bg.wasm itself.
let gotInit;
const initMessage = new Promise((resolve) => (gotInit = resolve));
const PKG = self.crossOriginIsolated === true ? './pkg/' : './pkg-st/';

const ready = (async () => {
  const isolated = self.crossOriginIsolated === true;
  const mod = await import(`${PKG}tunevm.js`);
  const { module, pkg } = await initMessage;
  await mod.default(module && pkg === PKG ? { module_or_path: module } : undefined);
  vm = mod;
  post({ type: 'ready', build: vm.build_name(), isolated });
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
  post({ type: 'crash', message: reason(e) });
}

function flushConsole() {
  const text = machine.console_take();
  if (text) post({ type: 'console', text });
}

function postLive(status) {
  post({ type: 'live', report: machine.live(), status });
  lastLive = performance.now();
  livePosted++;
}

function finish(status) {
  flushConsole();
  postLive(status);
  post({ type: 'ended', status, report: machine.report() });
}

async function runLoop(token) {
  while (running && token === runToken && machine) {
    let status;
    try {
      status = JSON.parse(machine.run_for(SLICE_MS));
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
      return JSON.parse(needMachine().regs());
    case 'native':
      return nativeCpubench();
    default:
      throw new Error(`unknown request ${what}`);
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
      try {
        machine = new vm.WebMachine(msg.settings, msg.elf);
      } catch (e) {
        post({ type: 'load-error', message: reason(e) });
        return;
      }
      lastLive = 0;
      livePosted = 0;
      post({ type: 'loaded' });
      return;
    }
    case 'run': {
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
        const regs = JSON.parse(machine.regs());
        post({ type: 'live', report: machine.live(), status: null });
        post({ type: 'status', status: { state: 'running', pc: regs.pc }, paused: true, regs });
      } catch (e) {
        crash(e);
      }
      return;
    }
    case 'step': {
      if (!machine || running) return;
      try {
        const status = JSON.parse(machine.step(!!msg.block));
        flushConsole();
        const regs = JSON.parse(machine.regs());
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
        const status = JSON.parse(machine.stop());
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
        post({ type: 'loaded' });
      } catch (e) {
        crash(e);
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
        post({ type: 'reply', id: msg.id, ok: false, message: reason(e) });
      }
      return;
    }
    default:
      post({ type: 'reply', id: msg.id, ok: false, message: `unknown message ${msg.type}` });
  }
}

self.onmessage = (ev) => {
  if (ev.data?.type === 'init') {
    gotInit(ev.data);
    return;
  }
  ready.then(
    () => handle(ev.data),
    () => {}, // fatal already reported
  );
};
