//! The native backend: generated modules run in an embedded wasmtime whose
//! one shared memory holds the hart state blocks, RAM's page flags and guest
//! RAM (the same layout the browser has in the VM's own memory).
//!
//! wasmtime frees an instance only with its `Store`, so modules are
//! instantiated into a rotating set of Stores, [`MODULES_PER_STORE`] each,
//! all importing the one `SharedMemory`; a Store is dropped once every
//! module installed in it was released, so evicted code really goes.
//!
//! **The repository** ([`Repository`]): the harts' backends share one
//! engine and one map from [`ModuleKey`] (everything the code generator
//! read: the unit's decoded guest code with its pcs, the options, the
//! layout) to the compiled `wasmtime::Module`. Generated code takes the
//! state block's address as a parameter, so a module compiled by one hart
//! runs on any; a hart that needs a unit another hart compiled instantiates
//! that module in its own Store (microseconds) instead of compiling it
//! (milliseconds). A module stays in the repository while some hart has an
//! instance of it (a count of users, dropped with the last release), so the
//! repository holds no code that no hart's code cache holds.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};

use wasmtime::{
    Config, Engine, Global, GlobalType, Instance, MemoryType, Module, Mutability, Ref, RefType,
    SharedMemory, Store, Table, TableType, TypedFunc, Val, ValType,
};

use super::{Shared, SharedModule};
use crate::jit::codegen::{CodegenOptions, ModuleKey};
use crate::jit::layout::{MemoryLayout, StateBlock, CHAIN_TAG_VALID};
use crate::jit::region::Region;
use crate::mem::ExternalRam;

/// Modules instantiated into one Store before a fresh Store is started.
/// A unit chains only into units of its own Store (each Store has its own
/// function table), so a program's hot units should fit one Store: with 64
/// (before chaining) mixbench's 558 units fell into 9 Stores and half of
/// its unit entries went back to the dispatcher; with 1024 nearly none do.
/// The price is host memory: an evicted module's instance lives until its
/// Store's last module goes (BENCHMARKS.md, "Chaining").
pub const MODULES_PER_STORE: usize = 1024;

const WASM_PAGE: u64 = 65536;

/// Bytes between two harts' state blocks in the memory.
const STATE_STRIDE: u32 = crate::jit::layout::state::SIZE.next_multiple_of(64);

/// A module installed by [`NativeBackend::install`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModuleId(pub u64);

/// A callable compiled unit: its Store and its index in that Store's
/// `funcs`. Plain data, so dispatch copies it for free (cloning a
/// `TypedFunc` clones its registered type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompiledFn {
    store: u32,
    index: u32,
}

/// The run signature: (budget, state-block address) -> result.
type RunFunc = TypedFunc<(i64, i32), i64>;

struct StoreSlot {
    store: Store<()>,
    /// The `run` export of every module instantiated in this Store.
    funcs: Vec<RunFunc>,
    /// The Store's function table (`env.table` of its modules): slot `i`
    /// holds `funcs[i]`, for units chaining into each other.
    table: Table,
    /// Its modules' `env.chain_tag`: [`CHAIN_TAG_VALID`] with this Store's
    /// serial number in bits 3..31, so a unit chains only into units of
    /// its own Store (another Store's table is not its to call).
    tag: u32,
    /// Modules installed and not yet released.
    live: usize,
    /// Modules ever installed (the Store takes no more at MODULES_PER_STORE).
    installed: usize,
}

/// Where a repository entry is found: its bucket and its id there.
type Probe = (u64, CodegenOptions);

/// The machine-wide map of compiled modules, shared by every hart's
/// backend (all on one engine and one memory). Bucketed by (entry pc,
/// options) so a hart can ask cheaply, before discovering a unit, whether
/// anything may match; entries in a bucket differ in their guest code.
#[derive(Default)]
pub struct Repository {
    buckets: HashMap<Probe, Bucket>,
    next_entry: u64,
    /// Modules held (the sum of the buckets' entries).
    modules: usize,
}

#[derive(Default)]
struct Bucket {
    /// Harts compiling a unit of this bucket now.
    compiling: u32,
    entries: Vec<Entry>,
}

struct Entry {
    id: u64,
    key: ModuleKey,
    module: Module,
    wasm: Arc<[u8]>,
    /// Instances alive in the harts' backends.
    users: u32,
}

impl Repository {
    fn bucket_done(&mut self, probe: &Probe) {
        if self.buckets.get(probe).is_some_and(|b| b.compiling == 0 && b.entries.is_empty()) {
            self.buckets.remove(probe);
        }
    }

    /// One user fewer for entry `id`; the entry goes with its last user.
    fn unuse(&mut self, probe: &Probe, id: u64) {
        let Some(b) = self.buckets.get_mut(probe) else { return };
        let Some(i) = b.entries.iter().position(|e| e.id == id) else { return };
        b.entries[i].users -= 1;
        if b.entries[i].users == 0 {
            b.entries.swap_remove(i);
            self.modules -= 1;
        }
        self.bucket_done(probe);
    }

    /// Modules held.
    pub fn modules(&self) -> usize {
        self.modules
    }
}

/// The lock, whether or not a hart panicked while holding it (every
/// update leaves the maps consistent).
fn lock(repo: &Mutex<Repository>) -> MutexGuard<'_, Repository> {
    repo.lock().unwrap_or_else(|e| e.into_inner())
}

/// A module this backend installed: its Store, and its repository entry
/// when it has one.
struct InstalledModule {
    store: usize,
    /// Its `run`'s index in the Store's `funcs` and table.
    index: u32,
    shared: Option<(Probe, u64)>,
}

pub struct NativeBackend {
    engine: Engine,
    memory: SharedMemory,
    layout: MemoryLayout,
    stores: Vec<Option<StoreSlot>>,
    current: Option<usize>,
    modules: HashMap<ModuleId, InstalledModule>,
    next_id: u64,
    /// The machine's compile thread (shared with the siblings).
    compiler: Arc<CompileThread>,
    /// Where the compile thread sends this backend's finished jobs.
    done_tx: DoneSender,
    done_rx: mpsc::Receiver<Done>,
    /// Finished jobs taken from `done_rx` so far; while it equals
    /// `done_tx.sent`, nothing is waiting and no receive is tried.
    taken: u64,
    /// Stores started so far (the next one's serial number).
    stores_started: u32,
    /// Shared with every sibling.
    repo: Arc<Mutex<Repository>>,
}

impl NativeBackend {
    /// An engine and a memory for `ram_len` bytes of guest RAM and the
    /// state blocks of `harts` harts; the returned [`ExternalRam`] lets
    /// `mem::Ram` live inside that memory. The backend is hart 0's; the
    /// others' come from [`NativeBackend::sibling`].
    pub fn new(ram_len: usize, harts: usize) -> Result<(Self, ExternalRam), String> {
        assert!(ram_len.is_multiple_of(4096) && harts >= 1);
        let state_addr = 1024u32;
        let flags_addr = (state_addr + STATE_STRIDE * harts as u32).next_multiple_of(4096);
        let flags_len = (ram_len / 4096) as u64;
        let ram_addr = (flags_addr as u64 + flags_len).div_ceil(WASM_PAGE) * WASM_PAGE;
        let pages = (ram_addr + ram_len as u64).div_ceil(WASM_PAGE);
        if pages > 65536 {
            return Err(format!("{ram_len} bytes of RAM do not fit a 32-bit wasm memory"));
        }
        let engine = Engine::new(&engine_config()).map_err(|e| format!("wasmtime engine: {e}"))?;
        let memory = SharedMemory::new(&engine, MemoryType::shared(pages as u32, pages as u32))
            .map_err(|e| format!("wasmtime memory of {pages} pages: {e}"))?;
        let layout = MemoryLayout {
            state: state_addr,
            ram: ram_addr as u32,
            ram_len: ram_len as u32,
            page_flags: flags_addr,
            shared: true,
            min_pages: pages,
            max_pages: Some(pages),
            typed_table: true,
        };
        let base = memory.data().as_ptr() as *mut u8;
        // SAFETY: the offsets lie inside the `pages` pages just allocated
        // (checked above); a SharedMemory never moves and the clone in
        // `owner` keeps it alive.
        let ext = unsafe {
            ExternalRam {
                bytes: base.add(ram_addr as usize),
                page_flags: base.add(flags_addr as usize),
                owner: Box::new(memory.clone()),
            }
        };
        warm_up(&engine, &memory, &layout)?;
        let (done_tx, done_rx) = done_channel();
        let compiler = CompileThread::start(&engine);
        let backend = NativeBackend {
            engine,
            memory,
            layout,
            stores: Vec::new(),
            current: None,
            modules: HashMap::new(),
            next_id: 0,
            compiler,
            done_tx,
            done_rx,
            taken: 0,
            stores_started: 0,
            repo: Arc::default(),
        };
        Ok((backend, ext))
    }

    /// The backend of hart `hart`: the same engine, memory (so RAM and its
    /// page flags) and repository of modules, the hart's own state block,
    /// Stores of its own.
    pub fn sibling(&self, hart: usize) -> Result<NativeBackend, String> {
        let state = self.layout.state + STATE_STRIDE * hart as u32;
        if state + STATE_STRIDE > self.layout.page_flags {
            return Err(format!("no state block for hart {hart}"));
        }
        let (done_tx, done_rx) = done_channel();
        Ok(NativeBackend {
            engine: self.engine.clone(),
            memory: self.memory.clone(),
            layout: MemoryLayout { state, ..self.layout },
            stores: Vec::new(),
            current: None,
            modules: HashMap::new(),
            next_id: 0,
            compiler: self.compiler.clone(),
            done_tx,
            done_rx,
            taken: 0,
            stores_started: 0,
            repo: self.repo.clone(),
        })
    }

    pub fn layout(&self) -> &MemoryLayout {
        &self.layout
    }

    /// What the report calls the engine.
    pub fn engine_name(&self) -> &'static str {
        "native-wasmtime"
    }

    /// The hart state block (`state::SIZE` bytes, 8-byte aligned).
    pub fn state_ptr(&self) -> *mut StateBlock {
        // SAFETY: layout.state + state::SIZE lies inside the memory.
        unsafe {
            (self.memory.data().as_ptr() as *mut u8).add(self.layout.state as usize)
                as *mut StateBlock
        }
    }

    /// Compile and instantiate `wasm`; its export `run` becomes callable.
    /// The module is this backend's alone (see [`NativeBackend::install_keyed`]).
    pub fn install(&mut self, wasm: &[u8]) -> Result<(ModuleId, CompiledFn), String> {
        let module = Module::new(&self.engine, wasm).map_err(|e| format!("compile: {e}"))?;
        self.instantiate(&module, None)
    }

    /// What the repository holds for units entered at `vpc` and compiled
    /// with `opts`. Cheap (one lock, one lookup): ask before discovering.
    pub fn probe_shared(&self, vpc: u64, opts: CodegenOptions) -> Shared {
        let repo = lock(&self.repo);
        match repo.buckets.get(&(vpc, opts)) {
            Some(b) if !b.entries.is_empty() => Shared::Ready,
            Some(b) if b.compiling > 0 => Shared::Compiling,
            _ => Shared::Nothing,
        }
    }

    /// Instantiate a repository module for units entered at `vpc`, compiled
    /// with `opts` for `layout`, whose guest code `matches` (the caller
    /// checks it against guest RAM, [`Region::matches_ram`]): no compile.
    /// Returns its wasm bytes and the unit it translates too. The harts
    /// discover units each with their own view of what is compiled, so a
    /// module of another hart may take more or less code than this hart's
    /// own discovery would; any whose code is still in RAM is right.
    pub fn install_shared(
        &mut self,
        vpc: u64,
        opts: CodegenOptions,
        layout: &MemoryLayout,
        matches: impl Fn(&Region) -> bool,
    ) -> Option<SharedModule> {
        let probe = (vpc, opts);
        let layout = MemoryLayout { state: 0, ..*layout };
        let (module, wasm, region, id) = {
            let mut repo = lock(&self.repo);
            let e = repo
                .buckets
                .get_mut(&probe)?
                .entries
                .iter_mut()
                .find(|e| e.key.layout == layout && matches(&e.key.region))?;
            e.users += 1;
            (e.module.clone(), e.wasm.clone(), e.key.region.clone(), e.id)
        };
        match self.instantiate(&module, Some((probe, id))) {
            Ok((module, func)) => Some(SharedModule { module, func, wasm, region }),
            Err(_) => {
                lock(&self.repo).unuse(&probe, id);
                None
            }
        }
    }

    /// Compile `wasm`, generated for `key`, instantiate it, and put the
    /// module in the repository for the other harts. While it compiles,
    /// [`NativeBackend::probe_shared`] says `Compiling` for its bucket.
    pub fn install_keyed(
        &mut self,
        key: ModuleKey,
        wasm: Arc<[u8]>,
    ) -> Result<(ModuleId, CompiledFn), String> {
        let probe = (key.region.entry, key.opts);
        lock(&self.repo).buckets.entry(probe).or_default().compiling += 1;
        let compiled = Module::new(&self.engine, &wasm).map_err(|e| format!("compile: {e}"));
        self.finish_keyed(key, wasm, compiled)
    }

    /// Start compiling `wasm` (generated for `key`) on the machine's
    /// compile thread; [`NativeBackend::take_compiled`] hands the result
    /// back as job `id`, for [`NativeBackend::finish_keyed`]. Meanwhile
    /// [`NativeBackend::probe_shared`] says `Compiling` for its bucket.
    pub fn submit(&mut self, id: u64, key: &ModuleKey, wasm: Arc<[u8]>) -> Result<(), String> {
        let probe = (key.region.entry, key.opts);
        self.compiler
            .jobs
            .send(Job { id, wasm, done: self.done_tx.clone() })
            .map_err(|_| "the compile thread has stopped".to_string())?;
        lock(&self.repo).buckets.entry(probe).or_default().compiling += 1;
        Ok(())
    }

    /// A compile job of this backend that has finished, if any: its id,
    /// the compiled module (or why not) and the engine's nanoseconds.
    pub fn take_compiled(&mut self) -> Option<(u64, Result<Module, String>, u64)> {
        if !self.compile_finished() {
            return None;
        }
        let d = self.done_rx.try_recv().ok()?;
        self.taken += 1;
        Some((d.id, d.module, d.engine_ns))
    }

    /// Whether a compile job has finished that [`NativeBackend::take_compiled`]
    /// has not handed back yet. The dispatcher asks at every unit entry while
    /// a compile is under way, so it is one load of a counter: a `try_recv`
    /// on the channel there cost about 4 % of the guest thread's time on
    /// mixbench (`perf`, most dispatches being interpreted ones).
    #[inline]
    pub fn compile_finished(&self) -> bool {
        self.done_tx.sent.load(Ordering::Acquire) != self.taken
    }

    /// Give up a background compile of `key` whose result is not wanted
    /// (its guest code changed meanwhile): its bucket's compile is over.
    pub fn abandon(&mut self, key: &ModuleKey) {
        let probe = (key.region.entry, key.opts);
        let mut repo = lock(&self.repo);
        if let Some(b) = repo.buckets.get_mut(&probe) {
            b.compiling = b.compiling.saturating_sub(1);
        }
        repo.bucket_done(&probe);
    }

    /// The second half of [`NativeBackend::install_keyed`] (and of a
    /// background compile): instantiate `compiled` and enter it in the
    /// repository; the bucket's compile is over either way.
    pub fn finish_keyed(
        &mut self,
        key: ModuleKey,
        wasm: Arc<[u8]>,
        compiled: Result<Module, String>,
    ) -> Result<(ModuleId, CompiledFn), String> {
        let probe = (key.region.entry, key.opts);
        let installed = compiled.and_then(|m| Ok((self.instantiate(&m, None)?, m)));
        let mut repo = lock(&self.repo);
        let repo = &mut *repo;
        let bucket = repo.buckets.get_mut(&probe).expect("a compiling bucket stays");
        bucket.compiling -= 1;
        let ((mid, f), module) = match installed {
            Ok(x) => x,
            Err(e) => {
                repo.bucket_done(&probe);
                return Err(e);
            }
        };
        // Another hart may have compiled the same key meanwhile: count this
        // instance as a user of its entry (the modules are equivalent).
        let id = match bucket.entries.iter_mut().find(|e| e.key == key) {
            Some(e) => {
                e.users += 1;
                e.id
            }
            None => {
                let id = repo.next_entry;
                repo.next_entry += 1;
                repo.modules += 1;
                bucket.entries.push(Entry { id, key, module, wasm, users: 1 });
                id
            }
        };
        self.modules.get_mut(&mid).expect("just installed").shared = Some((probe, id));
        Ok((mid, f))
    }

    /// Installs on another worker than the compiling one: none natively
    /// (a wasmtime Store moves between threads with its hart).
    pub fn worker_installs(&self) -> u64 {
        0
    }

    /// Modules in the machine's repository (all harts).
    pub fn shared_modules(&self) -> usize {
        lock(&self.repo).modules()
    }

    /// Instantiate `module` in the current Store (a fresh one when it is
    /// full); `shared` links the instance to its repository entry.
    fn instantiate(
        &mut self,
        module: &Module,
        shared: Option<(Probe, u64)>,
    ) -> Result<(ModuleId, CompiledFn), String> {
        let slot = match self.current {
            Some(i) if self.stores[i].as_ref().is_some_and(|s| s.installed < MODULES_PER_STORE) => {
                i
            }
            _ => {
                let mut store = Store::new(&self.engine, ());
                let table = Table::new(
                    &mut store,
                    TableType::new(run_ref_type(&self.engine), MODULES_PER_STORE as u32, None),
                    Ref::Func(None),
                )
                .map_err(|e| format!("function table: {e}"))?;
                let tag = CHAIN_TAG_VALID | (self.stores_started << 3) & !CHAIN_TAG_VALID;
                self.stores_started = self.stores_started.wrapping_add(1);
                let fresh =
                    StoreSlot { store, funcs: Vec::new(), table, tag, live: 0, installed: 0 };
                let i = match self.stores.iter().position(Option::is_none) {
                    Some(i) => {
                        self.stores[i] = Some(fresh);
                        i
                    }
                    None => {
                        self.stores.push(Some(fresh));
                        self.stores.len() - 1
                    }
                };
                // The previous Store takes no more modules; drop it now if
                // nothing in it is alive.
                if let Some(prev) = self.current {
                    if self.stores[prev].as_ref().is_some_and(|s| s.live == 0) {
                        self.stores[prev] = None;
                    }
                }
                self.current = Some(i);
                i
            }
        };
        let s = self.stores[slot].as_mut().expect("current store exists");
        let tag = chain_tag_global(&mut s.store, s.tag)?;
        let imports = [self.memory.clone().into(), s.table.into(), tag.into()];
        let instance = Instance::new(&mut s.store, module, &imports)
            .map_err(|e| format!("instantiate: {e}"))?;
        let func = instance
            .get_typed_func::<(i64, i32), i64>(&mut s.store, "run")
            .map_err(|e| format!("export run: {e}"))?;
        let index = s.funcs.len() as u32;
        s.table
            .set(&mut s.store, index as u64, Ref::Func(Some(*func.func())))
            .map_err(|e| format!("function table: {e}"))?;
        s.funcs.push(func);
        s.live += 1;
        s.installed += 1;
        let id = ModuleId(self.next_id);
        self.next_id += 1;
        self.modules.insert(id, InstalledModule { store: slot, index, shared });
        Ok((id, CompiledFn { store: slot as u32, index }))
    }

    /// Where chaining finds `f`: its Store's chain tag and its slot in that
    /// Store's function table.
    pub fn chain_ref(&self, f: CompiledFn) -> (u32, u32) {
        let s = self.stores[f.store as usize].as_ref().expect("a live unit's store exists");
        (s.tag, f.index)
    }

    /// Run a compiled unit with `budget` on this hart's state block; see
    /// `codegen` for the result. Generated code never traps; an error here
    /// is a bug in the JIT.
    pub fn call(&mut self, f: CompiledFn, budget: i64) -> Result<i64, String> {
        let s = self.stores[f.store as usize].as_mut().expect("a live unit's store exists");
        let func = &s.funcs[f.index as usize];
        func.call(&mut s.store, (budget, self.layout.state as i32))
            .map_err(|e| format!("generated code trapped: {e:?}"))
    }

    /// Forget module `id`; its Store goes when its last module does, its
    /// repository entry when its last user does.
    pub fn release(&mut self, id: ModuleId) {
        let Some(m) = self.modules.remove(&id) else { return };
        let slot = m.store;
        if let Some((probe, entry)) = m.shared {
            lock(&self.repo).unuse(&probe, entry);
        }
        let s = self.stores[slot].as_mut().expect("a live module's store exists");
        s.live -= 1;
        // Nothing may chain into a released unit (the JIT empties its chain
        // slots first); clearing its table slot makes sure: a call through
        // it would trap rather than run released code.
        let _ = s.table.set(&mut s.store, m.index as u64, Ref::Func(None));
        if s.live == 0 && self.current != Some(slot) {
            self.stores[slot] = None;
        }
    }

    /// Modules installed and not released.
    pub fn live_modules(&self) -> usize {
        self.modules.len()
    }
}

impl Drop for NativeBackend {
    /// The other harts' repository outlives this backend: give back its
    /// uses of shared modules.
    fn drop(&mut self) {
        let mut repo = lock(&self.repo);
        for m in self.modules.values() {
            if let Some((probe, entry)) = &m.shared {
                repo.unuse(probe, *entry);
            }
        }
    }
}

/// A background compile: a module's bytes, and where to send the result.
struct Job {
    id: u64,
    wasm: Arc<[u8]>,
    done: DoneSender,
}

/// The compile thread's side of a backend's finished jobs: the channel,
/// and how many jobs it has sent (counted after each send, so a receiver
/// that sees the count move finds the job in the channel).
#[derive(Clone)]
struct DoneSender {
    tx: mpsc::Sender<Done>,
    sent: Arc<AtomicU64>,
}

fn done_channel() -> (DoneSender, mpsc::Receiver<Done>) {
    let (tx, rx) = mpsc::channel();
    (DoneSender { tx, sent: Arc::default() }, rx)
}

/// A finished [`Job`].
struct Done {
    id: u64,
    module: Result<Module, String>,
    engine_ns: u64,
}

/// The machine's compile thread: compiles jobs in the order they come
/// (Cranelift, the engine's own settings) while the harts run on. It stops
/// when the last backend holding it goes (its job channel closes).
struct CompileThread {
    jobs: mpsc::Sender<Job>,
}

impl CompileThread {
    fn start(engine: &Engine) -> Arc<CompileThread> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let engine = engine.clone();
        std::thread::Builder::new()
            .name("tunevm-compile".into())
            .spawn(move || {
                for job in rx {
                    let t0 = std::time::Instant::now();
                    let module =
                        Module::new(&engine, &job.wasm).map_err(|e| format!("compile: {e}"));
                    let engine_ns = t0.elapsed().as_nanos() as u64;
                    // The backend may be gone: then nobody wants the result.
                    if job.done.tx.send(Done { id: job.id, module, engine_ns }).is_ok() {
                        job.done.sent.fetch_add(1, Ordering::Release);
                    }
                }
            })
            .expect("the compile thread starts");
        Arc::new(CompileThread { jobs })
    }
}

/// The engine's settings, for the JIT and for the direct-wasm baseline
/// alike: shared memory, and function tables initialized when they are
/// made rather than at their first use. The VM fills its tables itself
/// (`Table::set`), so lazy initialization buys nothing, and without it
/// every `call_indirect` and `return_call_indirect` (each chained exit)
/// loses its initialization check: Cranelift's compile time on mixbench's
/// units fell by about 4 % (BENCHMARKS.md "Eager tables").
fn engine_config() -> Config {
    let mut config = Config::new();
    config.wasm_threads(true).shared_memory(true).table_lazy_init(false);
    // A development aid (the `jitdump` cargo feature): perf's view of
    // generated code.
    #[cfg(feature = "jitdump")]
    if std::env::var_os("TUNEVM_JITDUMP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::JitDump);
    }
    config
}

/// Compile and instantiate [`super::warm_up_module`], so that the engine's
/// one-time set-up is not counted as the first unit's compile time.
fn warm_up(engine: &Engine, memory: &SharedMemory, layout: &MemoryLayout) -> Result<(), String> {
    let wasm = super::warm_up_module(layout);
    let module = Module::new(engine, &wasm).map_err(|e| format!("warm-up compile: {e}"))?;
    let mut store = Store::new(engine, ());
    let table =
        Table::new(&mut store, TableType::new(run_ref_type(engine), 0, None), Ref::Func(None))
            .map_err(|e| format!("warm-up table: {e}"))?;
    let tag = chain_tag_global(&mut store, CHAIN_TAG_VALID)?;
    Instance::new(&mut store, &module, &[memory.clone().into(), table.into(), tag.into()])
        .map_err(|e| format!("warm-up instantiate: {e}"))?;
    Ok(())
}

/// `(ref null $run)`: the element type of the function tables (the
/// layout's `typed_table`; a slot is null until a module is installed).
fn run_ref_type(engine: &Engine) -> RefType {
    let run = wasmtime::FuncType::new(engine, [ValType::I64, ValType::I32], [ValType::I64]);
    RefType::new(true, wasmtime::HeapType::ConcreteFunc(run))
}

/// The `env.chain_tag` import: an immutable i32 global holding `tag`.
fn chain_tag_global(store: &mut Store<()>, tag: u32) -> Result<Global, String> {
    Global::new(store, GlobalType::new(ValType::I32, Mutability::Const), Val::I32(tag as i32))
        .map_err(|e| format!("chain tag: {e}"))
}

/// Run `export(arg) -> i64` of a self-contained wasm module (e.g. the CPU
/// workload's C compiled straight to wasm32 by clang) in a wasmtime engine
/// configured like the JIT's: the "% of native" baseline measured in the
/// same engine. Returns (result, wall ns of the call, compile ns).
pub fn time_wasm_export(wasm: &[u8], export: &str, arg: i32) -> Result<(i64, u64, u64), String> {
    let engine = Engine::new(&engine_config()).map_err(|e| format!("wasmtime engine: {e}"))?;
    let t0 = std::time::Instant::now();
    let module = Module::new(&engine, wasm).map_err(|e| format!("compile: {e}"))?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).map_err(|e| format!("{e}"))?;
    let compile_ns = t0.elapsed().as_nanos() as u64;
    let run = |store: &mut Store<()>| -> Result<i64, String> {
        if let Ok(f) = instance.get_typed_func::<i32, i64>(&mut *store, export) {
            return f.call(&mut *store, arg).map_err(|e| format!("{e}"));
        }
        let f = instance
            .get_typed_func::<i32, i32>(&mut *store, export)
            .map_err(|e| format!("export {export}: {e}"))?;
        f.call(&mut *store, arg).map(|v| v as i64).map_err(|e| format!("{e}"))
    };
    let t1 = std::time::Instant::now();
    let result = run(&mut store)?;
    Ok((result, t1.elapsed().as_nanos() as u64, compile_ns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::Inst;
    use crate::jit::codegen::{generate, CodegenOptions};
    use crate::jit::region::{Block, End, Region};
    use crate::jit::Tier;

    const VA: u64 = 0x4000_0000;
    const RAM_LEN: usize = 1 << 20;

    /// A unit `ld x5, 0(x6)` (or `sd x5, 0(x6)`) compiled for translated
    /// accesses, with x6 = VA.
    fn paged_unit(backend: &mut NativeBackend, tier: Tier, store: bool) -> CompiledFn {
        let pc = crate::mem::RAM_BASE;
        let inst = if store {
            Inst::Sd { rs1: 6, rs2: 5, imm: 0 }
        } else {
            Inst::Ld { rd: 5, rs1: 6, imm: 0 }
        };
        let region = Region {
            entry: pc,
            blocks: vec![Block {
                pc,
                insts: vec![(pc, inst, 4)],
                end: End::Interpret(pc + 4),
                guards: Vec::new(),
                call: None,
            }],
            extra_pages: Vec::new(),
        };
        let opts = CodegenOptions {
            tier,
            strict_align: false,
            data_bare: false,
            atomic: false,
            chain: false,
            inline_tlb_entries: 256,
            access_groups: true,
            counted_loops: true,
            record_misses: false,
            nested_calls: false,
        };
        let wasm = generate(&region, backend.layout(), opts).wasm;
        backend.install(&wasm).expect("installs").1
    }

    /// Set inline-TLB entry of VA to (read tag, write tag, addend).
    fn set_entry(backend: &NativeBackend, rtag: u64, wtag: u64, addend: u64) {
        let vpn = VA >> 12;
        // SAFETY: the state block lives as long as the backend; nothing runs.
        let e = unsafe { &mut (*backend.state_ptr()).tlb[StateBlock::tlb_index(vpn, 256)] };
        e.read_tag = rtag;
        e.write_tag = wtag;
        e.addend = addend;
    }

    /// Call `f`; returns whether it ran its one instruction (the exit pc is
    /// past it) rather than leaving at it.
    fn ran(backend: &mut NativeBackend, f: CompiledFn) -> bool {
        let r = backend.call(f, 10).unwrap();
        assert_eq!(r & 1, 1, "both exits are for the interpreter");
        // SAFETY: as in `set_entry`.
        let pc = unsafe { (*backend.state_ptr()).pc };
        assert!(pc == crate::mem::RAM_BASE || pc == crate::mem::RAM_BASE + 4, "{pc:x}");
        pc == crate::mem::RAM_BASE + 4
    }

    fn reg(backend: &NativeBackend, r: usize) -> *mut u64 {
        // SAFETY: as in `set_entry`.
        unsafe { &mut (*backend.state_ptr()).x[r] }
    }

    /// Whatever the inline TLB holds, compiled loads and stores stay inside
    /// guest RAM: an addend that points past RAM (or wraps to the state
    /// block) side-exits, a tag that does not match side-exits, a read tag
    /// does not allow stores; only a sound entry lets the access through.
    #[test]
    fn inline_tlb_entries_cannot_lead_outside_ram() {
        let (mut b, ext) = NativeBackend::new(RAM_LEN, 1).unwrap();
        let vpn = VA >> 12;
        let page = 5 * 4096u64;
        // SAFETY: page 5 lies inside RAM.
        unsafe { *(ext.bytes.add(page as usize) as *mut u64) = 0x1122_3344_5566_7788 };
        for tier in [Tier::Baseline, Tier::Optimizing] {
            let load = paged_unit(&mut b, tier, false);
            let store = paged_unit(&mut b, tier, true);
            let hostile = [
                (vpn, vpn, (RAM_LEN as u64).wrapping_sub(VA)), // just past RAM
                (vpn, vpn, (RAM_LEN as u64 - 4).wrapping_sub(VA)), // straddles the end
                (vpn, vpn, 0u64.wrapping_sub(VA + b.layout().ram as u64)), // the state block
                (vpn, vpn, u64::MAX / 2),
                (vpn + 1, vpn + 1, page.wrapping_sub(VA)), // another page's tag
                (u64::MAX, u64::MAX, page.wrapping_sub(VA)), // flushed
            ];
            for (rtag, wtag, addend) in hostile {
                set_entry(&b, rtag, wtag, addend);
                for (f, what) in [(load, "load"), (store, "store")] {
                    // SAFETY: registers in the state block.
                    unsafe {
                        *reg(&b, 5) = 0xdead;
                        *reg(&b, 6) = VA;
                    }
                    assert!(!ran(&mut b, f), "{tier:?} {what} with entry {rtag:x} {addend:x}");
                    // SAFETY: as above.
                    assert_eq!(unsafe { *reg(&b, 5) }, 0xdead);
                }
            }
            // A read tag alone: loads go through, stores leave.
            set_entry(&b, vpn, u64::MAX, page.wrapping_sub(VA));
            assert!(ran(&mut b, load), "{tier:?}");
            // SAFETY: as above.
            assert_eq!(unsafe { *reg(&b, 5) }, 0x1122_3344_5566_7788, "{tier:?}");
            assert!(!ran(&mut b, store), "{tier:?} store on a read tag");
            set_entry(&b, vpn, vpn, page.wrapping_sub(VA));
            // SAFETY: as above.
            unsafe { *reg(&b, 5) = 42 };
            assert!(ran(&mut b, store), "{tier:?} store on a write tag");
            // SAFETY: page 5 lies inside RAM.
            assert_eq!(unsafe { *(ext.bytes.add(page as usize) as *const u64) }, 42);
            unsafe { *(ext.bytes.add(page as usize) as *mut u64) = 0x1122_3344_5566_7788 };
        }
    }
}
