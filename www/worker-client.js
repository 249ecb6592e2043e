// The page's side of the worker protocol (see worker.js for the messages):
// one VmWorker wraps the current Web Worker, answers requests with promises,
// and replaces the worker when it must be killed (Stop watchdog) or has crashed.

export const STOP_WATCHDOG_MS = 100;

export class VmWorker {
  /** handlers: { message(msg), crash(message), killed() };
   *  wasm: a promise of {module, pkg} (the compiled tunevm_bg.wasm and its folder) */
  constructor(handlers, wasm) {
    this.handlers = handlers;
    this.wasm = wasm;
    this.nextId = 1;
    this.pending = new Map();
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
      ({ module, pkg }) => worker.postMessage({ type: 'init', module, pkg }),
      () => worker.postMessage({ type: 'init' }),
    );
  }

  onMessage(msg) {
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
      case 'stopped':
        this.confirmStop();
        break;
      case 'crash':
        this.dead = true; // the wasm instance may be poisoned: start afresh next time
        break;
    }
    this.handlers.message(msg);
  }

  markDead(message) {
    this.dead = true;
    this.rejectReady(new Error(message)); // a worker that died before 'ready' never sends it
    this.failPending(message);
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
    this.spawn();
  }

  /** A fresh worker if the current one crashed; resolves when it is ready. */
  async usable() {
    if (this.dead) this.replace();
    return this.ready;
  }

  send(msg, transfer) {
    this.worker.postMessage(msg, transfer || []);
  }

  request(what, arg) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ type: 'request', id, what, arg });
    });
  }

  /** Stop with a watchdog: if the worker does not confirm within
   *  STOP_WATCHDOG_MS (a runaway slice, a hung worker), it is terminated and
   *  replaced, and handlers.killed() is called. */
  stop() {
    clearTimeout(this.watchdog);
    this.stopConfirmed = false;
    this.send({ type: 'stop' });
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
