// A helper of the worker pool (threads build only): the VM worker starts
// one per worker the machine's runtime.pool_size asks for. It instantiates
// the same wasm module on the same shared memory, says ready, and then
// never returns from pool_helper_run(): it sleeps (Atomics-style wait on
// the shared memory) until a run slice posts a job, polls vCPU tasks from
// the shared run queue until the slice ends, and sleeps again.
//
// VM worker -> helper: {module: WebAssembly.Module, memory: WebAssembly.Memory, pkg}
// helper -> VM worker: ready | died {message}

self.onmessage = async ({ data }) => {
  const { module, memory, pkg } = data;
  let mod = null;
  try {
    mod = await import(`${pkg}tunevm.js`);
    await mod.default({ module_or_path: module, memory });
    mod.worker_start();
    self.postMessage({ type: 'ready' });
    mod.pool_helper_run();
  } catch (e) {
    // A trap (a Rust panic aborts) mid-job: tell the VM through the shared
    // memory, since the machine's worker is blocked in the run slice and
    // reads no messages until it ends.
    try {
      mod?.pool_helper_died();
    } catch {
      /* the instance could not even do that: the page's Stop watchdog remains */
    }
    self.postMessage({ type: 'died', message: String(e?.message ?? e) });
  }
};
