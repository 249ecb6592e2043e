// The page's side of the worker protocol (see worker.js for the messages):
// one VmWorker wraps the current Web Worker. Every message to the worker goes
// through one of its methods; requests are answered with promises; it numbers
// the machines it asks for (gen) and drops messages about replaced ones; and
// it replaces the worker when it must be killed (Stop watchdog) or has crashed.

export const STOP_WATCHDOG_MS = 100;

// Messages about one machine: dropped when it has since been replaced.
const PER_MACHINE = new Set(['loaded', 'load-error', 'status', 'console', 'live', 'ended']);

/** A load or reset that went to a worker the Stop watchdog has since replaced. */
export class WorkerReplaced extends Error {}

export class VmWorker {
  /** handlers: { message(msg), crash(message), killed() };
   *  wasm: a promise of {module, pkg} (the compiled tunevm_bg.wasm and its folder);
   *  options.wire: 'object' (default) or 'json' (benchmark only: the JSON-text path);
   *  options.warmUpMs: how long the worker's engine warm-up runs (worker ms;
   *  0: none; default: the worker's own) */
  constructor(handlers, wasm, options = {}) {
    this.handlers = handlers;
    this.wasm = wasm;
    this.wire = options.wire === 'json' ? 'json' : 'object';
    // The next worker spawned warms the engine up for this long (undefined:
    // the worker's default; 0: not at all).
    this.warmUpNext = options.warmUpMs;
    this.nextId = 1;
    this.pending = new Map();
    this.gen = 0; // number of the machine last asked of the worker
    this.pendingLoad = null; // {resolve, reject} of the load or reset under way
    this.spawn();
  }

  spawn() {
    this.dead = false;
    this.worker = new Worker('worker.js', { type: 'module' });
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // observed by whoever awaits it
    const worker = this.worker;
    // Only the page's first worker warms the engine up: the browser shares
    // the VM's compiled (and optimized) code with every worker of the
    // module, and a worker replaced after a crash must not repeat whatever
    // the warm-up did.
    const warmUpMs = this.warmUpNext;
    this.warmUpNext = 0;
    worker.onmessage = (ev) => {
      if (worker !== this.worker) return; // a message from a worker already replaced
      this.onMessage(ev.data);
    };
    worker.onerror = (ev) => {
      if (worker !== this.worker) return;
      ev.preventDefault?.();
      this.markDead(ev.message || 'the worker failed');
    };
    worker.onmessageerror = () => {
      if (worker === this.worker) this.markDead('a message from the worker could not be read');
    };
    // always answer the worker's wait for "init": with the module, or without (it fetches)
    this.wasm.then(
      ({ module, pkg }) => worker.postMessage({ type: 'init', module, pkg, wire: this.wire, warmUpMs }),
      () => worker.postMessage({ type: 'init', wire: this.wire, warmUpMs }),
    );
  }

  onMessage(msg) {
    if (PER_MACHINE.has(msg.type) && msg.gen !== this.gen) return;
    switch (msg.type) {
      case 'ready':
        this.resolveReady(msg);
        break;
      case 'fatal':
        this.rejectReady(new Error(msg.message));
        this.markDead(msg.message);
        return;
      case 'reply': {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.value);
        else p.reject(new Error(msg.message));
        return;
      }
      case 'loaded':
        this.settleLoad(null);
        break;
      case 'load-error':
        this.settleLoad(new Error(msg.message));
        break;
      case 'stopped':
        this.confirmStop();
        break;
      case 'crash':
        this.dead = true; // the wasm instance may be poisoned: start afresh next time
        this.settleLoad(new Error(msg.message));
        break;
    }
    this.handlers.message(msg);
  }

  settleLoad(error) {
    const p = this.pendingLoad;
    this.pendingLoad = null;
    if (!p) return;
    if (error) p.reject(error);
    else p.resolve();
  }

  markDead(message) {
    this.dead = true;
    this.rejectReady(new Error(message)); // a worker that died before 'ready' never sends it
    this.failPending(message);
    this.settleLoad(new Error(message));
    this.handlers.crash(message);
  }

  failPending(message) {
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }

  /** Kills the current worker and starts a fresh one (its machine is gone). */
  replace() {
    this.worker.onmessage = null;
    this.worker.onerror = null;
    this.worker.terminate();
    this.failPending('the worker was replaced');
    this.settleLoad(new WorkerReplaced('the worker did not answer and was replaced'));
    this.spawn();
  }

  /** A fresh worker if the current one crashed; resolves when it is ready. */
  async usable() {
    if (this.dead) this.replace();
    return this.ready;
  }

  post(msg) {
    this.worker.postMessage(msg);
  }

  /** Builds a machine (settings: JSON text, elf: bytes, copied) in place of
   *  the old one; resolves when it is built, rejects with the reason (a
   *  WorkerReplaced if the watchdog replaced the worker meanwhile). */
  load(settings, elf) {
    this.gen += 1;
    const done = this.expectLoaded();
    this.post({ type: 'load', gen: this.gen, settings, elf: elf.slice() });
    return done;
  }

  /** The machine back to power-on; resolves when the worker has done it. */
  reset() {
    const done = this.expectLoaded();
    this.post({ type: 'reset' });
    return done;
  }

  expectLoaded() {
    this.settleLoad(new Error('superseded by a newer load'));
    return new Promise((resolve, reject) => {
      this.pendingLoad = { resolve, reject };
    });
  }

  run() {
    this.post({ type: 'run' });
  }

  pause() {
    this.post({ type: 'pause' });
  }

  step(block) {
    this.post({ type: 'step', block: !!block });
  }

  /** Bytes typed for the guest's UART. */
  consoleInput(text) {
    this.post({ type: 'console', text });
  }

  /** Posts `msg` with a new id; resolves with the worker's reply value. */
  ask(msg) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ ...msg, id });
    });
  }

  request(what, arg) {
    return this.ask({ type: 'request', what, arg });
  }

  /** Live knobs: the machine takes these settings (JSON text, the full
   *  {key: "text"} form load takes) at its next slice boundary. Resolves with
   *  the mark {wall_ns, instructions, changes} (changes empty: nothing
   *  differed); rejects with the reason (a knob that is not live differs, no
   *  machine). */
  retune(settings) {
    return this.ask({ type: 'retune', settings });
  }

  /** The full report as JSON text. */
  report() {
    return this.request('report');
  }

  /** The n hottest compiled units: [{index, vpc, ppc, tier, executions}]. */
  hotUnits(n) {
    return this.request('hot_units', n);
  }

  /** Guest disassembly beside wasm text of unit `index` (null if gone). */
  codeView(index) {
    return this.request('code_view', index);
  }

  /** {pc, x: [hex text], privilege}. */
  regs() {
    return this.request('regs');
  }

  /** Times cpubench.wasm run directly: {ms, checksum, ok}. */
  native() {
    return this.request('native');
  }

  /** Benchmark only: the worker's timings of the current machine's slices
   *  and a side-by-side of the two ways status and live reports cross the
   *  boundary (`n` calls each). */
  timings(n) {
    return this.request('timings', n);
  }

  /** Benchmark and test: what the engine's warm-up did (worker.js
   *  `warmUp`: its state, worker ms, slices, guest instructions, units
   *  compiled, and the message that stopped it, if one did). */
  warmUp() {
    return this.request('warm_up');
  }

  /** Test only: a Rust panic in the worker (the page then shows `error:`
   *  with the panic's message and location). */
  debugPanic() {
    return this.request('debug_panic');
  }

  /** Test only: a Rust panic in a helper of the worker pool at the next
   *  run slice (the machine's worker then reports that a pool worker died). */
  debugPanicPool() {
    return this.request('debug_panic_pool');
  }

  /**
   * Test only: the GC's marker worker panics when it takes its next
   * collector, or with holdingLock in its next marking step, holding the
   * collector's lock.
   */
  debugPanicMarker(holdingLock = false) {
    return this.request('debug_panic_marker', holdingLock);
  }

  /** Stop with a watchdog: if the worker does not confirm within
   *  STOP_WATCHDOG_MS (a runaway slice, a hung worker), it is terminated and
   *  replaced, and handlers.killed() is called. */
  stop() {
    clearTimeout(this.watchdog);
    this.stopConfirmed = false;
    this.post({ type: 'stop' });
    this.watchdog = setTimeout(() => {
      if (this.stopConfirmed) return;
      this.replace();
      this.handlers.killed();
    }, STOP_WATCHDOG_MS);
  }

  confirmStop() {
    this.stopConfirmed = true;
    clearTimeout(this.watchdog);
  }
}
