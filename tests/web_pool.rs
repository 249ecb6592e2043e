//! The threads build's worker pool with real Web Workers (issue 12), in
//! headless Chromium through `wasm-pack test` (scripts/test-web.sh).
//!
//! The other browser tests run on the page's main thread, which may not
//! block, so they never start a helper: a machine there runs its vCPUs as
//! tasks on that one thread. This file runs in a dedicated worker, like the
//! page's VM worker, and starts helper Web Workers the way
//! `www/worker.js` does: each instantiates the same module on the same
//! shared memory and enters the pool's helper loop. Natively, and in the
//! plain build (no shared memory), this file is empty.
#![cfg(all(target_arch = "wasm32", target_feature = "atomics"))]

use serde_json::Value;
use tunevm::web::{pool_helpers, pool_shared_parts, WebMachine};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

const SMP_SUM: &[u8] = include_bytes!("../workloads/bin/smp-sum.elf");
/// What smp-sum prints last on any number of vCPUs (workloads/build.sh's
/// `SUM_EXPECT`).
const SMP_SUM_CHECKSUM: &str = "checksum: 0x66aa50908d4e66e9";

// A helper is a module worker made from a Blob: it imports the test's own
// wasm-bindgen glue (the runner serves it at /wasm-bindgen-test.js),
// instantiates the module on the shared memory it is sent, says "ready",
// and never returns from the helper loop.
#[wasm_bindgen(inline_js = r#"
export function start_helper(module, memory) {
  const glue = new URL('/wasm-bindgen-test.js', import.meta.url).href;
  const source = `import init, * as m from ${JSON.stringify(glue)};
self.onmessage = async ({ data }) => {
  try {
    await init({ module_or_path: data.module, memory: data.memory });
    self.postMessage('ready');
    m.test_pool_helper_run();
  } catch (e) {
    try { m.test_pool_helper_died(); } catch {}
    self.postMessage('died: ' + String((e && e.message) || e));
  }
};`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url, { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) =>
      data === 'ready' ? resolve(worker) : reject(new Error(String(data)));
    worker.onerror = (e) => reject(new Error('a helper worker failed to start: ' + (e.message || e)));
    worker.postMessage({ module, memory });
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
"#)]
extern "C" {
    fn start_helper(module: JsValue, memory: JsValue) -> js_sys::Promise;
    fn sleep(ms: f64) -> js_sys::Promise;
}

/// A helper's life (the page's `pool_helper_run`, exported under this
/// file's own name so that the test's glue surely has it).
#[wasm_bindgen]
pub fn test_pool_helper_run() -> Result<(), JsError> {
    tunevm::web::pool_helper_run()
}

/// A helper's last call after it trapped (the page's `pool_helper_died`).
#[wasm_bindgen]
pub fn test_pool_helper_died() {
    tunevm::web::pool_helper_died()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Start `n` helpers and wait until all are in the pool's loop.
async fn start_helpers(n: usize) {
    let parts: js_sys::Array = pool_shared_parts().into();
    for _ in 0..n {
        JsFuture::from(start_helper(parts.get(0), parts.get(1)))
            .await
            .unwrap_or_else(|e| panic!("a helper did not start: {e:?}"));
    }
    // "ready" comes just before a helper counts itself.
    let t0 = js_sys::Date::now();
    while pool_helpers() < n {
        assert!(
            js_sys::Date::now() - t0 < 5_000.0,
            "{} of {n} helpers in the pool",
            pool_helpers()
        );
        JsFuture::from(sleep(5.0)).await.unwrap();
    }
}

/// Two vCPUs on a pool of two Web Workers: both workers poll vCPU tasks,
/// and they run at the same time (their busy times add up to well over the
/// run's wall time, which no single thread could do), and smp-sum's
/// checksum is the one it has on any number of vCPUs.
#[wasm_bindgen_test]
async fn two_helper_workers_run_two_vcpus_at_once() {
    start_helpers(2).await;
    let settings = r#"{"runtime.vcpus": 2, "runtime.pool_size": 2, "jit.enabled": false}"#;
    let mut m = WebMachine::new(settings, SMP_SUM).unwrap_or_else(|_| panic!("machine"));
    assert_eq!(m.pool_workers_wanted(), 2);
    let mut state = Value::Null;
    for _ in 0..5_000 {
        state = json(&m.run_for_json(20.0));
        if state["state"] != "running" {
            break;
        }
    }
    assert_eq!(state["state"], "exit", "{state}");
    let out = m.console_take();
    assert!(out.contains(SMP_SUM_CHECKSUM), "smp-sum printed: {out}");
    let report = json(&m.report());
    let workers = report["smp"]["workers"].as_array().expect("report.smp.workers").clone();
    assert_eq!(workers.len(), 2, "{}", report["smp"]);
    for w in &workers {
        assert!(w["polls"].as_u64().unwrap() > 0, "a worker polled no task: {w}");
    }
    let busy: u64 = workers.iter().map(|w| w["busy_ns"].as_u64().unwrap()).sum();
    let wall = report["wall_ns"].as_u64().unwrap();
    let overlap = busy as f64 / wall as f64;
    console_log!("two workers: busy {busy} ns over a wall time of {wall} ns ({overlap:.2}x)");
    assert!(
        overlap > 1.2,
        "the two workers did not run at once: {overlap:.2}x ({})",
        report["smp"]
    );
}

/// Asynchronous compiles with several vCPUs (`jit.background_compile` on,
/// this worker yielding between slices as the page's VM worker does). With
/// `runtime.pool_size` 1 this worker runs both vCPUs as tasks and their
/// compiles settle here between slices; with helpers (the first run) the
/// vCPUs run on the helpers, which never return to their event loop, so
/// their compiles are synchronous. Both runs end with smp-sum's checksum.
#[wasm_bindgen_test]
async fn async_compiles_with_several_vcpus() {
    start_helpers(2).await;
    let mut settled = Vec::new();
    for pool in [2, 1] {
        let settings = format!(
            r#"{{"runtime.vcpus": 2, "runtime.pool_size": {pool}, "jit.background_compile": true}}"#
        );
        let mut m = WebMachine::new(&settings, SMP_SUM).unwrap_or_else(|_| panic!("machine"));
        tunevm::web::worker_yields_between_slices(true);
        let mut state = Value::Null;
        for _ in 0..20_000 {
            state = json(&m.run_for_json(20.0));
            if state["state"] != "running" {
                break;
            }
            JsFuture::from(sleep(0.0)).await.unwrap();
        }
        tunevm::web::worker_yields_between_slices(false);
        assert_eq!(state["state"], "exit", "pool {pool}: {state}");
        let out = m.console_take();
        assert!(out.contains(SMP_SUM_CHECKSUM), "pool {pool}: smp-sum printed: {out}");
        let jit = json(&m.report())["jit"].clone();
        console_log!(
            "pool {pool}: {} units, asynchronous: {}",
            jit["units_compiled"],
            jit["compile_latency_ns"]
        );
        settled.push(jit["compile_latency_ns"]["count"].as_u64().unwrap());
    }
    assert_eq!(settled[0], 0, "helpers compiled asynchronously");
    assert!(settled[1] > 0, "nothing compiled asynchronously on one worker");
}
