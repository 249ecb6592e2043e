//! The browser backend (wasm32): generated modules import the VM's own
//! linear memory, and their `run` functions go into the VM's own function
//! table, so compiled code is called from Rust through a plain function
//! pointer (on wasm32 a table index): no JavaScript on the hot path.
//!
//! Guest RAM, its page-flag bytes and the hart state block are ordinary Rust
//! allocations inside that memory; their addresses are the
//! [`MemoryLayout`]'s. Installing a module is `WebAssembly.Module` +
//! `WebAssembly.Instance` (synchronous: modules are small; Chromium refuses
//! synchronous compiles of 8 MiB or more on the main thread) plus one table
//! slot.
//!
//! Asynchronous compiles (`jit.background_compile`, on a worker that said
//! it returns to its event loop between run slices: [`set_async_compiles`]):
//! [`WebBackend::submit`] starts `WebAssembly.compile`, which V8 runs on its
//! own threads; the promise settles on this worker's event loop, between two
//! `run_for` calls, into this worker's `ASYNC` book; the JIT then finds the
//! module with [`WebBackend::take_compiled`] and instantiates it with
//! [`WebBackend::finish_keyed`]. A worker that never yields (the pool's
//! helpers, tests that run a machine in one call) compiles synchronously:
//! its promises would never settle. While a compile is unsettled,
//! [`async_compile_waiting`] tells the page's host to end the run slice
//! early, so the module arrives within about a millisecond, not at the end
//! of a 20 ms slice.
//!
//! Several workers (the threads build's worker pool): every Web Worker has
//! its own instance of the VM, so its own function table and JavaScript
//! objects, while Rust's data (the harts, their backends) lives in the one
//! shared memory and moves between workers with the vCPU that owns it. So:
//! - a backend holds no JavaScript object (it is `Send`); each worker's
//!   table, imports and instances live in a thread-local `ThreadCode`;
//! - table slots are numbered once for all workers (`SLOTS`): a module
//!   owns its slot everywhere while it lives, and a worker installs it
//!   there, from the bytes the backend keeps, the first time it calls it
//!   (`jit.worker_installs`);
//! - each worker's modules import a chain tag of their own, so a
//!   chain-table entry filled on one worker never matches on another, where
//!   that slot may still hold other code.
//!
//! Releasing a module clears its slot on the releasing worker and puts the
//! slot on the free list; other workers keep their instance until they
//! install another module there (bounded by the table's length). Requires
//! linking with `-C link-arg=--growable-table` (`.cargo/config.toml`;
//! wasm-ld makes the table fixed otherwise and `Table.grow` throws).
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use js_sys::{Function, Object, Reflect, Uint8Array, WebAssembly};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::{Shared, SharedModule};
use crate::jit::codegen::{CodegenOptions, ModuleKey};
use crate::jit::layout::{state, MemoryLayout, StateBlock, CHAIN_TAG_VALID};
use crate::jit::region::Region;
use crate::mem::ExternalRam;

/// A module installed by [`WebBackend::install`]; ids are unique across
/// every backend and worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModuleId(pub u64);

/// A callable compiled unit: its module and the function-table slot that
/// holds its `run` (on every worker that installed it). Plain data
/// (`Copy`), like the native backend's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompiledFn {
    slot: u32,
    module: ModuleId,
}

/// Maximum sizes (64 KiB pages) tried, in order, for the shared memory that
/// generated modules import in the threads build. An import of a shared
/// memory must declare a maximum at least the real memory's, and wasm offers
/// no way to read that maximum, so the first backend tries these and keeps
/// the first that links: 16384 pages = the 1 GiB of `--max-memory` in
/// scripts/web-env.sh, then the 4 GiB limit of wasm32 (any maximum).
#[cfg(target_feature = "atomics")]
const SHARED_MAX_PAGES: [u64; 2] = [16384, 65536];

#[wasm_bindgen]
extern "C" {
    /// `WebAssembly.Table` seen with a `set` that takes any value (js-sys's
    /// takes a Function; clearing a slot needs `null`).
    #[wasm_bindgen(js_namespace = WebAssembly, js_name = Table)]
    type AnyTable;
    #[wasm_bindgen(method, catch, js_name = set)]
    fn set_value(this: &AnyTable, index: u32, value: &JsValue) -> Result<(), JsValue>;
}

/// Function-table slots, numbered once for every worker: a slot belongs to
/// at most one live module at a time.
struct SlotBook {
    /// Slots no module uses now.
    free: Vec<u32>,
    /// The next slot never used (0: not known yet; set from the first
    /// worker's table length, the same in every instance of the VM).
    next: u32,
}

static SLOTS: Mutex<SlotBook> = Mutex::new(SlotBook { free: Vec::new(), next: 0 });
static NEXT_MODULE: AtomicU64 = AtomicU64::new(0);
/// Numbers for workers' chain tags.
static NEXT_WORKER: AtomicU32 = AtomicU32::new(0);
/// The memory import that linked for the first backend: (shared, declared
/// maximum). Every later backend and worker uses the same.
static MEMORY_IMPORT: OnceLock<(bool, Option<u64>)> = OnceLock::new();

/// Numbers for asynchronous compiles, unique across workers.
static NEXT_COMPILE: AtomicU64 = AtomicU64::new(0);
/// Asynchronous compiles whose module no backend will take (their backend
/// was dropped, or their hart moved to another worker and compiled the
/// bytes there): dropped from their worker's book when they settle or when
/// that worker next looks.
static ORPHANS: Mutex<Vec<u64>> = Mutex::new(Vec::new());

fn slot_book() -> MutexGuard<'static, SlotBook> {
    SLOTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// One worker's JavaScript side of the generated code.
struct ThreadCode {
    table: WebAssembly::Table,
    /// `{ env: { memory, table, chain_tag } }` for this worker.
    imports: Object,
    /// This worker's chain tag: [`CHAIN_TAG_VALID`] and a per-worker number
    /// in bits 3..31 (the JIT ors the hart's mode into bits 0..2).
    tag: u32,
    /// This worker's number (from `NEXT_WORKER`).
    worker: u32,
    /// Per slot: the module installed there on this worker, and its
    /// instance (kept so it lives while its slot may be called).
    installed: Vec<Option<(ModuleId, WebAssembly::Instance)>>,
}

thread_local! {
    static THREAD: RefCell<Option<ThreadCode>> = const { RefCell::new(None) };
    static ASYNC: RefCell<AsyncBook> = RefCell::new(AsyncBook::default());
    static ASYNC_ON: Cell<bool> = const { Cell::new(false) };
}

fn orphans() -> MutexGuard<'static, Vec<u64>> {
    ORPHANS.lock().unwrap_or_else(|e| e.into_inner())
}

/// One worker's asynchronous compiles (see the module documentation).
#[derive(Default)]
struct AsyncBook {
    /// Started on this worker, promise not settled yet.
    unsettled: Vec<u64>,
    /// Settled, not yet taken by their backend: the module or why not.
    settled: HashMap<u64, Result<WebAssembly::Module, String>>,
}

/// Say whether this worker returns to its event loop between run slices,
/// so that `WebAssembly.compile`'s promises settle (the page's VM worker
/// does; set before the machine runs). Off, every compile here is
/// synchronous whatever `jit.background_compile` says.
pub fn set_async_compiles(on: bool) {
    ASYNC_ON.set(on);
}

/// Whether an asynchronous compile started on this worker has not settled:
/// the page's host then ends the run slice early (its promise settles only
/// once the worker is back in its event loop).
pub fn async_compile_waiting() -> bool {
    ASYNC.with_borrow(|b| !b.unsettled.is_empty())
}

/// The promise of compile `number` settled with `value` (a module, or the
/// error): into this worker's book, unless its backend is gone.
fn settle(number: u64, value: JsValue) {
    let result = value.dyn_into::<WebAssembly::Module>().map_err(|e| js_error("compile", e));
    ASYNC.with_borrow_mut(|b| {
        b.unsettled.retain(|&n| n != number);
        let mut orphans = orphans();
        if let Some(i) = orphans.iter().position(|&n| n == number) {
            orphans.swap_remove(i);
            return;
        }
        b.settled.insert(number, result);
    });
}

/// A module compiled asynchronously, for [`WebBackend::finish_keyed`]: the
/// engine's module, or `None` when it must be compiled again on this worker
/// from its bytes (its hart moved here from the worker that started it).
pub struct WebCompiled(Option<WebAssembly::Module>);

/// An asynchronous compile of a backend: the JIT's job id, the compile's
/// number, the worker it was started on, and the time its start took.
struct AsyncJob {
    job: u64,
    number: u64,
    worker: u32,
    start_ns: u64,
}

impl ThreadCode {
    fn new() -> Result<ThreadCode, String> {
        let memory = wasm_bindgen::memory();
        let table: WebAssembly::Table = wasm_bindgen::function_table().unchecked_into();
        let worker = NEXT_WORKER.fetch_add(1, Ordering::Relaxed);
        let tag = CHAIN_TAG_VALID | ((worker << 3) & !CHAIN_TAG_VALID);
        let descriptor = Object::new();
        Reflect::set(&descriptor, &"value".into(), &"i32".into())
            .map_err(|e| js_error("imports", e))?;
        let chain_tag = WebAssembly::Global::new(&descriptor, &JsValue::from(tag as i32))
            .map_err(|e| js_error("chain tag", e))?;
        let env = Object::new();
        for (name, value) in
            [("memory", &memory), ("table", table.as_ref()), ("chain_tag", chain_tag.as_ref())]
        {
            Reflect::set(&env, &name.into(), value).map_err(|e| js_error("imports", e))?;
        }
        let imports = Object::new();
        Reflect::set(&imports, &"env".into(), &env).map_err(|e| js_error("imports", e))?;
        let mut book = slot_book();
        if book.next == 0 {
            book.next = table.length();
        }
        Ok(ThreadCode { table, imports, tag, worker, installed: Vec::new() })
    }

    /// Whether `f`'s module is in its slot on this worker.
    #[inline]
    fn has(&self, f: CompiledFn) -> bool {
        matches!(self.installed.get(f.slot as usize), Some(Some((m, _))) if *m == f.module)
    }

    /// Compile and instantiate `wasm` on this worker and put its `run` into
    /// `slot` (growing this worker's table to reach it).
    fn install_at(&mut self, slot: u32, module: ModuleId, wasm: &[u8]) -> Result<(), String> {
        // A fresh, unshared copy: WebAssembly.Module rejects views of a
        // SharedArrayBuffer (the threads build's memory).
        let bytes = Uint8Array::from(wasm);
        let compiled = WebAssembly::Module::new(&bytes).map_err(|e| js_error("compile", e))?;
        self.instantiate_at(slot, module, &compiled)
    }

    /// Instantiate `compiled` on this worker and put its `run` into `slot`.
    fn instantiate_at(
        &mut self,
        slot: u32,
        module: ModuleId,
        compiled: &WebAssembly::Module,
    ) -> Result<(), String> {
        let instance = WebAssembly::Instance::new(compiled, &self.imports)
            .map_err(|e| js_error("instantiate", e))?;
        let run: Function = Reflect::get(&instance.exports(), &"run".into())
            .map_err(|e| js_error("export run", e))?
            .dyn_into()
            .map_err(|_| "export run: not a function".to_string())?;
        let len = self.table.length();
        if slot >= len {
            self.table.grow(slot + 1 - len).map_err(|e| js_error("function table grow", e))?;
        }
        self.table.set(slot, &run).map_err(|e| js_error("function table set", e))?;
        if self.installed.len() <= slot as usize {
            self.installed.resize_with(slot as usize + 1, || None);
        }
        self.installed[slot as usize] = Some((module, instance));
        Ok(())
    }

    /// Empty `slot` on this worker if it holds `module`.
    fn clear(&mut self, slot: u32, module: ModuleId) {
        if !matches!(self.installed.get(slot as usize), Some(Some((m, _))) if *m == module) {
            return;
        }
        let table: &AnyTable = self.table.unchecked_ref();
        // A slot inside the table can always be cleared; a stale function
        // left there could only be reached through `installed`, now empty.
        let _ = table.set_value(slot, &JsValue::NULL);
        self.installed[slot as usize] = None;
    }
}

/// Run `f` with this worker's `ThreadCode`, made on first use.
fn with_thread<R>(f: impl FnOnce(&mut ThreadCode) -> Result<R, String>) -> Result<R, String> {
    THREAD.with_borrow_mut(|t| {
        if t.is_none() {
            *t = Some(ThreadCode::new()?);
        }
        f(t.as_mut().expect("made above"))
    })
}

/// Zeroed memory from the global allocator, freed on drop.
struct Zeroed {
    ptr: *mut u8,
    layout: Layout,
}

impl Zeroed {
    fn new(size: usize, align: usize, what: &str) -> Result<Zeroed, String> {
        let layout = Layout::from_size_align(size.max(1), align)
            .map_err(|e| format!("{what}: {size} bytes: {e}"))?;
        // SAFETY: the layout's size is non-zero.
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            return Err(format!("{what}: cannot allocate {size} bytes in the VM's memory"));
        }
        Ok(Zeroed { ptr, layout })
    }
}

impl Drop for Zeroed {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr, self.layout) }
    }
}

// SAFETY: `Zeroed` owns its allocation; nothing else frees it.
unsafe impl Send for Zeroed {}

/// A live module: its slot and the bytes any worker installs it from.
struct Installed {
    slot: u32,
    wasm: Arc<[u8]>,
}

/// One hart's backend. It holds no JavaScript object, so it moves between
/// workers with its hart (see the module documentation).
pub struct WebBackend {
    layout: MemoryLayout,
    /// The hart state block (`state::SIZE` bytes, written through
    /// `state_ptr` and by generated code).
    state: Zeroed,
    modules: HashMap<ModuleId, Installed>,
    /// Slots this backend added to the numbering (the others came from the
    /// free list).
    table_grows: u64,
    /// Installs of a live module on another worker than the one that
    /// compiled it first (its vCPU moved there).
    worker_installs: u64,
    engine: &'static str,
    /// Asynchronous compiles started and not yet taken.
    jobs: Vec<AsyncJob>,
}

impl WebBackend {
    /// Memory for `ram_len` bytes of guest RAM inside the VM's own linear
    /// memory; the returned [`ExternalRam`] lets `mem::Ram` live there.
    pub fn new(ram_len: usize, _harts: usize) -> Result<(Self, ExternalRam), String> {
        if ram_len == 0 || !ram_len.is_multiple_of(4096) {
            return Err(format!("guest RAM of {ram_len} bytes is not a positive multiple of 4096"));
        }
        // Not the allocator's: see `ZeroedRegion` (it would touch every page).
        let ram = crate::mem::ZeroedRegion::new(ram_len).map_err(|e| format!("guest RAM: {e}"))?;
        let flags = Zeroed::new(ram_len / 4096, 8, "RAM page flags")?;
        let state_block = Zeroed::new(state::SIZE as usize, 8, "hart state block")?;
        // On wasm32 addresses are 32 bits: the casts are exact.
        let base = MemoryLayout {
            state: state_block.ptr as usize as u32,
            ram: ram.as_ptr() as usize as u32,
            ram_len: ram_len as u32,
            page_flags: flags.ptr as usize as u32,
            shared: false,
            min_pages: 1,
            max_pages: None,
            typed_table: false,
        };
        let (shared, max_pages) = match MEMORY_IMPORT.get() {
            Some(&found) => found,
            None => {
                // Shared memory (threads build) first; the unshared import last.
                #[cfg(target_feature = "atomics")]
                let tries: Vec<(bool, Option<u64>)> =
                    SHARED_MAX_PAGES.iter().map(|&max| (true, Some(max))).collect();
                #[cfg(not(target_feature = "atomics"))]
                let tries: Vec<(bool, Option<u64>)> = Vec::new();
                let mut errors = Vec::new();
                let mut found = None;
                for (shared, max_pages) in tries.into_iter().chain([(false, None)]) {
                    let layout = MemoryLayout { shared, max_pages, ..base };
                    match with_thread(|t| warm_up(&layout, &t.imports)) {
                        Ok(()) => {
                            found = Some((shared, max_pages));
                            break;
                        }
                        Err(e) => errors.push(e),
                    }
                }
                let found = found.ok_or_else(|| errors.join("; "))?;
                *MEMORY_IMPORT.get_or_init(|| found)
            }
        };
        with_thread(|_| Ok(()))?;
        let layout = MemoryLayout { shared, max_pages, ..base };
        let ext = ExternalRam {
            bytes: ram.as_ptr(),
            page_flags: flags.ptr,
            owner: Box::new((ram, flags)),
        };
        let backend = WebBackend {
            layout,
            state: state_block,
            modules: HashMap::new(),
            table_grows: 0,
            worker_installs: 0,
            engine: engine_from_user_agent(),
            jobs: Vec::new(),
        };
        Ok((backend, ext))
    }

    /// The backend of another hart: the same RAM and memory import, a state
    /// block of its own.
    pub fn sibling(&self, _hart: usize) -> Result<WebBackend, String> {
        let state_block = Zeroed::new(state::SIZE as usize, 8, "hart state block")?;
        Ok(WebBackend {
            layout: MemoryLayout { state: state_block.ptr as usize as u32, ..self.layout },
            state: state_block,
            modules: HashMap::new(),
            table_grows: 0,
            worker_installs: 0,
            engine: self.engine,
            jobs: Vec::new(),
        })
    }

    pub fn layout(&self) -> &MemoryLayout {
        &self.layout
    }

    /// What the report calls the engine: `browser-v8`, `browser-spidermonkey`,
    /// `browser-javascriptcore`, or `browser-wasm` when the user agent says
    /// nothing known.
    pub fn engine_name(&self) -> &'static str {
        self.engine
    }

    /// The hart state block (`state::SIZE` bytes, 8-byte aligned).
    pub fn state_ptr(&self) -> *mut StateBlock {
        self.state.ptr as *mut StateBlock
    }

    /// Compile and instantiate `wasm` on this worker; its export `run` goes
    /// into a table slot of its own.
    pub fn install(&mut self, wasm: &[u8]) -> Result<(ModuleId, CompiledFn), String> {
        self.install_arc(Arc::from(wasm))
    }

    fn install_arc(&mut self, wasm: Arc<[u8]>) -> Result<(ModuleId, CompiledFn), String> {
        self.install_from(wasm, None)
    }

    /// Install a module: instantiate `compiled` if given, else compile
    /// `wasm` here first.
    fn install_from(
        &mut self,
        wasm: Arc<[u8]>,
        compiled: Option<WebAssembly::Module>,
    ) -> Result<(ModuleId, CompiledFn), String> {
        // The worker's state first: it numbers the slots the first time.
        with_thread(|_| Ok(()))?;
        let (slot, grown) = {
            let mut book = slot_book();
            match book.free.pop() {
                Some(slot) => (slot, false),
                None => {
                    let slot = book.next;
                    book.next += 1;
                    (slot, true)
                }
            }
        };
        let id = ModuleId(NEXT_MODULE.fetch_add(1, Ordering::Relaxed));
        let installed = with_thread(|t| match &compiled {
            Some(m) => t.instantiate_at(slot, id, m),
            None => t.install_at(slot, id, &wasm),
        });
        if let Err(e) = installed {
            slot_book().free.push(slot);
            return Err(e);
        }
        self.table_grows += u64::from(grown);
        self.modules.insert(id, Installed { slot, wasm });
        Ok((id, CompiledFn { slot, module: id }))
    }

    /// Modules are not shared between harts in the browser (each hart
    /// compiles its own).
    pub fn probe_shared(&self, _vpc: u64, _opts: CodegenOptions) -> Shared {
        Shared::Nothing
    }

    /// Never finds a module (see [`WebBackend::probe_shared`]).
    pub fn install_shared(
        &mut self,
        _vpc: u64,
        _opts: CodegenOptions,
        _layout: &MemoryLayout,
        _matches: impl Fn(&Region) -> bool,
    ) -> Option<SharedModule> {
        None
    }

    /// [`WebBackend::install`]; the key is not kept.
    pub fn install_keyed(
        &mut self,
        _key: ModuleKey,
        wasm: Arc<[u8]>,
    ) -> Result<(ModuleId, CompiledFn), String> {
        self.install_arc(wasm)
    }

    /// Start compiling `wasm` asynchronously (`WebAssembly.compile`) as the
    /// JIT's job `id`; [`WebBackend::take_compiled`] hands it back once its
    /// promise settled. Refused (the caller compiles synchronously) on a
    /// worker that did not say it yields ([`set_async_compiles`]).
    pub fn submit(&mut self, id: u64, _key: &ModuleKey, wasm: Arc<[u8]>) -> Result<(), String> {
        if !ASYNC_ON.get() {
            return Err("this worker compiles synchronously".into());
        }
        let t0 = crate::jit::clock::now_ns();
        let worker = with_thread(|t| Ok(t.worker))?;
        let number = NEXT_COMPILE.fetch_add(1, Ordering::Relaxed);
        // A fresh, unshared copy (see `install_at`).
        let bytes = Uint8Array::from(&wasm[..]);
        let promise = WebAssembly::compile(&bytes);
        // Exactly one of the two callbacks runs, once: the closure frees
        // itself then.
        let done = Closure::once_into_js(move |value: JsValue| settle(number, value));
        // `then(done, done)` (js-sys's `then2` wants `Closure`s, which
        // cannot free themselves once called).
        Reflect::get(&promise, &"then".into())
            .and_then(|then| then.unchecked_into::<Function>().call2(&promise, &done, &done))
            .map_err(|e| js_error("compile", e))?;
        ASYNC.with_borrow_mut(|b| b.unsettled.push(number));
        let start_ns = crate::jit::clock::now_ns() - t0;
        self.jobs.push(AsyncJob { job: id, number, worker, start_ns });
        Ok(())
    }

    /// An asynchronous compile of this backend that has settled, if any:
    /// the JIT's job id, the module (or why not), and the time its start
    /// took on this worker (V8 compiles on threads of its own: that time
    /// is not seen here). A job started on another worker (its hart moved)
    /// comes back at once, to be compiled here from its bytes.
    /// Whether [`WebBackend::take_compiled`] may have something: always, as
    /// its checks (orphaned jobs, settled promises) are its own.
    #[inline]
    pub fn compile_finished(&self) -> bool {
        true
    }

    pub fn take_compiled(&mut self) -> Option<(u64, Result<WebCompiled, String>, u64)> {
        let here = THREAD.with_borrow(|t| t.as_ref().map(|t| t.worker));
        if let Some(i) = self.jobs.iter().position(|j| Some(j.worker) != here) {
            let j = self.jobs.swap_remove(i);
            orphans().push(j.number);
            return Some((j.job, Ok(WebCompiled(None)), j.start_ns));
        }
        ASYNC.with_borrow_mut(|b| {
            if b.settled.is_empty() {
                return None;
            }
            // Modules of orphaned compiles that settled before they became
            // orphans: nobody takes them.
            orphans().retain(|n| b.settled.remove(n).is_none());
            let i = self.jobs.iter().position(|j| b.settled.contains_key(&j.number))?;
            let j = self.jobs.swap_remove(i);
            let result = b.settled.remove(&j.number).expect("found above");
            Some((j.job, result.map(|m| WebCompiled(Some(m))), j.start_ns))
        })
    }

    /// Nothing to give up in the browser: the module was taken already.
    pub fn abandon(&mut self, _key: &ModuleKey) {}

    /// Install a module compiled asynchronously ([`WebBackend::submit`]).
    pub fn finish_keyed(
        &mut self,
        _key: ModuleKey,
        wasm: Arc<[u8]>,
        compiled: Result<WebCompiled, String>,
    ) -> Result<(ModuleId, CompiledFn), String> {
        self.install_from(wasm, compiled?.0)
    }

    /// Modules shared between harts: none in the browser.
    pub fn shared_modules(&self) -> usize {
        0
    }

    /// Where chaining finds `f` on this worker: the worker's chain tag and
    /// `f`'s slot. The dispatcher asks right after it entered `f` here
    /// ([`WebBackend::call`] installed it on this worker).
    pub fn chain_ref(&self, f: CompiledFn) -> (u32, u32) {
        let tag = THREAD.with_borrow(|t| match t {
            Some(t) if t.has(f) => t.tag,
            // Not installed here: a tag no generated code on any worker
            // compares equal to, so the entry never chains.
            _ => 0,
        });
        (tag, f.slot)
    }

    /// Run a compiled unit with `budget` on this hart's state block; see
    /// `codegen` for the result. Installs it on this worker first if this
    /// worker never ran it (its vCPU ran elsewhere before).
    /// Generated code never traps (a trap would unwind as a JavaScript
    /// exception through Rust, which cannot catch it: a bug in the JIT).
    #[inline]
    pub fn call(&mut self, f: CompiledFn, budget: i64) -> Result<i64, String> {
        if !THREAD.with_borrow(|t| t.as_ref().is_some_and(|t| t.has(f))) {
            let Some(m) = self.modules.get(&f.module) else {
                return Err(format!("call of released module {:?} (slot {})", f.module, f.slot));
            };
            let wasm = Arc::clone(&m.wasm);
            with_thread(|t| t.install_at(f.slot, f.module, &wasm))?;
            self.worker_installs += 1;
        }
        // SAFETY: on wasm32 a function pointer is an index into the function
        // table; on this worker slot `f.slot` holds the `run: (i64, i32) ->
        // i64` export of `f`'s module (checked above; a module owns its slot
        // until released, and a released module is never called), and the
        // call site checks the signature.
        let run = unsafe {
            std::mem::transmute::<usize, extern "C" fn(i64, u32) -> i64>(f.slot as usize)
        };
        Ok(run(budget, self.layout.state))
    }

    /// Forget module `id`: clear its slot on this worker (so the engine can
    /// collect the instance) and make the slot free for reuse.
    pub fn release(&mut self, id: ModuleId) {
        let Some(m) = self.modules.remove(&id) else { return };
        THREAD.with_borrow_mut(|t| {
            if let Some(t) = t {
                t.clear(m.slot, id);
            }
        });
        slot_book().free.push(m.slot);
    }

    /// Modules installed and not released.
    pub fn live_modules(&self) -> usize {
        self.modules.len()
    }

    /// Function-table slots free for reuse (all backends, all workers).
    pub fn free_table_slots(&self) -> usize {
        slot_book().free.len()
    }

    /// Slots this backend added to the numbering; every other install
    /// reused a free slot.
    pub fn table_grows(&self) -> u64 {
        self.table_grows
    }

    /// Installs of a module on a worker other than the one that compiled
    /// it (the report's `jit.worker_installs`).
    pub fn worker_installs(&self) -> u64 {
        self.worker_installs
    }

    /// Length of this worker's function table.
    pub fn table_len(&self) -> u32 {
        THREAD.with_borrow(|t| t.as_ref().map_or(0, |t| t.table.length()))
    }
}

impl Drop for WebBackend {
    fn drop(&mut self) {
        if !self.jobs.is_empty() {
            let mut orphans = orphans();
            for j in self.jobs.drain(..) {
                orphans.push(j.number);
            }
        }
        // Settled modules no backend will take, on this worker.
        ASYNC.with_borrow_mut(|b| {
            if b.settled.is_empty() {
                return;
            }
            orphans().retain(|n| b.settled.remove(n).is_none());
        });
        let ids: Vec<ModuleId> = self.modules.keys().copied().collect();
        for id in ids {
            self.release(id);
        }
    }
}

/// Compile and instantiate [`super::warm_up_module`] for `layout`: the engine's
/// one-time set-up is then not counted as the first unit's compile time, and
/// a memory import that does not link is found here, once.
fn warm_up(layout: &MemoryLayout, imports: &Object) -> Result<(), String> {
    let wasm = super::warm_up_module(layout);
    let bytes = Uint8Array::from(&wasm[..]);
    let what = |stage: &str| {
        format!(
            "warm-up {stage} (memory shared={} max_pages={:?})",
            layout.shared, layout.max_pages
        )
    };
    let module = WebAssembly::Module::new(&bytes).map_err(|e| js_error(&what("compile"), e))?;
    WebAssembly::Instance::new(&module, imports).map_err(|e| js_error(&what("instantiate"), e))?;
    Ok(())
}

/// The JavaScript engine, from `navigator.userAgent` (windows and workers).
fn engine_from_user_agent() -> &'static str {
    let ua = Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|n| Reflect::get(&n, &"userAgent".into()))
        .ok()
        .and_then(|u| u.as_string())
        .unwrap_or_default();
    if ua.contains("Firefox/") {
        "browser-spidermonkey"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") || ua.contains("Node.js") {
        "browser-v8"
    } else if ua.contains("AppleWebKit") {
        "browser-javascriptcore"
    } else {
        "browser-wasm"
    }
}

/// A JavaScript exception as one line: `what: Name: message`.
fn js_error(what: &str, e: JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(err) => {
            format!("{what}: {}: {}", String::from(err.name()), String::from(err.message()))
        }
        None => format!("{what}: {e:?}"),
    }
}
