// A helper of the worker pool (threads build only): the VM worker starts
// one per worker the machine's runtime.pool_size asks for. It instantiates
// the same wasm module on the same shared memory, says ready, and then
// never returns from pool_helper_run(): it sleeps (Atomics-style wait on
// the shared memory) until a run slice posts a job, polls vCPU tasks from
// the shared run queue until the slice ends, and sleeps again.
//
// With role 'marker' the same script is the GC's marker worker instead: it
// never returns from gc_marker_run(), which sleeps until a machine's
// collector asks it to mark (concurrent marking) and marks while the
// guest runs on the VM worker.
//
// VM worker -> helper: {module: WebAssembly.Module, memory: WebAssembly.Memory, pkg, role?: 'marker'}
// helper -> VM worker: ready | died {message}

self.onmessage = async ({ data }) => {
  const { module, memory, pkg, role } = data;
  const marker = role === 'marker';
  let mod = null;
  try {
    mod = await import(`${pkg}tunevm.js`);
    await mod.default({ module_or_path: module, memory });
    mod.worker_start();
    self.postMessage({ type: 'ready' });
    if (marker) mod.gc_marker_run();
    else mod.pool_helper_run();
  } catch (e) {
    // A trap (a Rust panic aborts) mid-job: tell the VM through the shared
    // memory, since the machine's worker is blocked in the run slice and
    // reads no messages until it ends.
    try {
      if (marker) mod?.gc_marker_died();
      else mod?.pool_helper_died();
    } catch {
      /* the instance could not even do that: the page's Stop watchdog remains */
    }
    self.postMessage({ type: 'died', message: String(e?.message ?? e) });
  }
};
