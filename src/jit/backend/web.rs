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
//! slot. Releasing a module clears its slot, so the engine can collect the
//! instance, and puts the slot on a free list for the next install.
//!
//! Each thread (Web Worker) has its own function table, so slots and their
//! free list are per thread, shared by every backend on that thread: the
//! table grows to the most modules ever alive at once on the thread, not with
//! the number of modules compiled. Requires linking with
//! `-C link-arg=--growable-table` (`.cargo/config.toml`; wasm-ld makes the
//! table fixed otherwise and `Table.grow` throws).
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Function, Object, Reflect, Uint8Array, WebAssembly};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use std::sync::Arc;

use super::Shared;
use crate::jit::codegen::{CodegenOptions, ModuleKey};
use crate::jit::layout::{state, MemoryLayout, StateBlock, CHAIN_TAG_VALID};
use crate::mem::ExternalRam;

/// A module installed by [`WebBackend::install`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModuleId(pub u64);

/// A callable compiled unit: the function-table slot holding its `run`.
/// Plain data (`Copy`), like the native backend's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompiledFn {
    slot: u32,
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    module: ModuleId,
}

/// Maximum sizes (64 KiB pages) tried, in order, for the shared memory that
/// generated modules import in the threads build. An import of a shared
/// memory must declare a maximum at least the real memory's, and wasm offers
/// no way to read that maximum, so the backend tries these at start-up and
/// keeps the first that links: 16384 pages = the 1 GiB of `--max-memory`
/// in scripts/test-web.sh, then the 4 GiB limit of wasm32 (any maximum).
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

thread_local! {
    /// Slots of this thread's function table that a backend grew and no
    /// module uses now.
    static FREE_SLOTS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
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

struct Installed {
    /// Kept so the instance lives while its slot may be called.
    _instance: WebAssembly::Instance,
    slot: u32,
}

pub struct WebBackend {
    layout: MemoryLayout,
    /// The hart state block (`state::SIZE` bytes, written through
    /// `state_ptr` and by generated code).
    state: Zeroed,
    table: WebAssembly::Table,
    /// `{ env: { memory } }`.
    imports: Object,
    modules: HashMap<ModuleId, Installed>,
    /// Which module each slot in use holds (checked by `call` in debug builds).
    #[cfg(debug_assertions)]
    slot_owner: HashMap<u32, ModuleId>,
    next_id: u64,
    /// Slots this backend added to the table (the others came from the free list).
    table_grows: u64,
    engine: &'static str,
}

impl WebBackend {
    /// Memory for `ram_len` bytes of guest RAM inside the VM's own linear
    /// memory; the returned [`ExternalRam`] lets `mem::Ram` live there.
    pub fn new(ram_len: usize, _harts: usize) -> Result<(Self, ExternalRam), String> {
        if ram_len == 0 || !ram_len.is_multiple_of(4096) {
            return Err(format!("guest RAM of {ram_len} bytes is not a positive multiple of 4096"));
        }
        let ram = Zeroed::new(ram_len, 8, "guest RAM")?;
        let flags = Zeroed::new(ram_len / 4096, 8, "RAM page flags")?;
        let state_block = Zeroed::new(state::SIZE as usize, 8, "hart state block")?;
        let memory = wasm_bindgen::memory();
        let table: WebAssembly::Table = wasm_bindgen::function_table().unchecked_into();
        // `env.chain_tag`: one function table per thread, so one tag.
        let descriptor = Object::new();
        Reflect::set(&descriptor, &"value".into(), &"i32".into())
            .map_err(|e| js_error("imports", e))?;
        let chain_tag =
            WebAssembly::Global::new(&descriptor, &JsValue::from(CHAIN_TAG_VALID as i32))
                .map_err(|e| js_error("chain tag", e))?;
        let env = Object::new();
        for (name, value) in
            [("memory", &memory), ("table", table.as_ref()), ("chain_tag", chain_tag.as_ref())]
        {
            Reflect::set(&env, &name.into(), value).map_err(|e| js_error("imports", e))?;
        }
        let imports = Object::new();
        Reflect::set(&imports, &"env".into(), &env).map_err(|e| js_error("imports", e))?;

        // On wasm32 addresses are 32 bits: the casts are exact.
        let base = MemoryLayout {
            state: state_block.ptr as usize as u32,
            ram: ram.ptr as usize as u32,
            ram_len: ram_len as u32,
            page_flags: flags.ptr as usize as u32,
            shared: false,
            min_pages: 1,
            max_pages: None,
        };
        // Shared memory (threads build) first; the unshared import last.
        #[cfg(target_feature = "atomics")]
        let shared =
            SHARED_MAX_PAGES.map(|max| MemoryLayout { shared: true, max_pages: Some(max), ..base });
        #[cfg(not(target_feature = "atomics"))]
        let shared: [MemoryLayout; 0] = [];
        let candidates = shared.into_iter().chain([base]);
        let mut errors = Vec::new();
        let mut chosen = None;
        for layout in candidates {
            match warm_up(&layout, &imports) {
                Ok(()) => {
                    chosen = Some(layout);
                    break;
                }
                Err(e) => errors.push(e),
            }
        }
        let layout = chosen.ok_or_else(|| errors.join("; "))?;
        let ext =
            ExternalRam { bytes: ram.ptr, page_flags: flags.ptr, owner: Box::new((ram, flags)) };
        let backend = WebBackend {
            layout,
            state: state_block,
            table,
            imports,
            modules: HashMap::new(),
            #[cfg(debug_assertions)]
            slot_owner: HashMap::new(),
            next_id: 0,
            table_grows: 0,
            engine: engine_from_user_agent(),
        };
        Ok((backend, ext))
    }

    /// The backend of another hart: the same RAM, memory import and
    /// function table, a state block of its own.
    pub fn sibling(&self, _hart: usize) -> Result<WebBackend, String> {
        let state_block = Zeroed::new(state::SIZE as usize, 8, "hart state block")?;
        Ok(WebBackend {
            layout: MemoryLayout { state: state_block.ptr as usize as u32, ..self.layout },
            state: state_block,
            table: self.table.clone(),
            imports: self.imports.clone(),
            modules: HashMap::new(),
            #[cfg(debug_assertions)]
            slot_owner: HashMap::new(),
            next_id: 0,
            table_grows: 0,
            engine: self.engine,
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

    /// Compile and instantiate `wasm`; its export `run` goes into a table slot.
    pub fn install(&mut self, wasm: &[u8]) -> Result<(ModuleId, CompiledFn), String> {
        // A fresh, unshared copy: WebAssembly.Module rejects views of a
        // SharedArrayBuffer (the threads build's memory).
        let bytes = Uint8Array::from(wasm);
        let module = WebAssembly::Module::new(&bytes).map_err(|e| js_error("compile", e))?;
        let instance = WebAssembly::Instance::new(&module, &self.imports)
            .map_err(|e| js_error("instantiate", e))?;
        let run: Function = Reflect::get(&instance.exports(), &"run".into())
            .map_err(|e| js_error("export run", e))?
            .dyn_into()
            .map_err(|_| "export run: not a function".to_string())?;
        let slot = match FREE_SLOTS.with_borrow_mut(Vec::pop) {
            Some(slot) => slot,
            None => {
                let slot = self.table.grow(1).map_err(|e| js_error("function table grow", e))?;
                self.table_grows += 1;
                slot
            }
        };
        if let Err(e) = self.table.set(slot, &run) {
            FREE_SLOTS.with_borrow_mut(|free| free.push(slot));
            return Err(js_error("function table set", e));
        }
        let id = ModuleId(self.next_id);
        self.next_id += 1;
        self.modules.insert(id, Installed { _instance: instance, slot });
        #[cfg(debug_assertions)]
        self.slot_owner.insert(slot, id);
        Ok((id, CompiledFn { slot, module: id }))
    }

    /// Modules are not shared between harts in the browser (each hart
    /// compiles its own; the page runs every vCPU on one worker for now).
    pub fn probe_shared(&self, _vpc: u64, _opts: CodegenOptions) -> Shared {
        Shared::Nothing
    }

    /// Never finds a module (see [`WebBackend::probe_shared`]).
    pub fn install_shared(
        &mut self,
        _key: &ModuleKey,
    ) -> Option<(ModuleId, CompiledFn, Arc<[u8]>)> {
        None
    }

    /// [`WebBackend::install`]; the key is not kept.
    pub fn install_keyed(
        &mut self,
        _key: ModuleKey,
        wasm: Arc<[u8]>,
    ) -> Result<(ModuleId, CompiledFn), String> {
        self.install(&wasm)
    }

    /// Modules shared between harts: none in the browser.
    pub fn shared_modules(&self) -> usize {
        0
    }

    /// Where chaining finds `f`: the thread's one chain tag and its slot in
    /// the thread's function table.
    pub fn chain_ref(&self, f: CompiledFn) -> (u32, u32) {
        (CHAIN_TAG_VALID, f.slot)
    }

    /// Run a compiled unit with `budget` on this hart's state block; see
    /// `codegen` for the result.
    /// Generated code never traps (a trap would unwind as a JavaScript
    /// exception through Rust, which cannot catch it: a bug in the JIT).
    #[inline]
    pub fn call(&mut self, f: CompiledFn, budget: i64) -> Result<i64, String> {
        #[cfg(debug_assertions)]
        if self.slot_owner.get(&f.slot) != Some(&f.module) {
            return Err(format!("call of released module {:?} (slot {})", f.module, f.slot));
        }
        // SAFETY: on wasm32 a function pointer is an index into the function
        // table; slot `f.slot` holds the `run: (i64, i32) -> i64` export of a
        // live module (released slots are cleared and only reused by a later
        // install), and the call site checks the signature.
        let run = unsafe {
            std::mem::transmute::<usize, extern "C" fn(i64, u32) -> i64>(f.slot as usize)
        };
        Ok(run(budget, self.layout.state))
    }

    /// Forget module `id`: clear its table slot (so the engine can collect
    /// the instance) and make the slot free for reuse.
    pub fn release(&mut self, id: ModuleId) {
        let Some(m) = self.modules.remove(&id) else { return };
        #[cfg(debug_assertions)]
        self.slot_owner.remove(&m.slot);
        // Clearing cannot fail for a slot inside the table; if it did, the
        // slot would keep a stale function, so it is not reused.
        let table: &AnyTable = self.table.unchecked_ref();
        if table.set_value(m.slot, &JsValue::NULL).is_ok() {
            FREE_SLOTS.with_borrow_mut(|free| free.push(m.slot));
        }
    }

    /// Modules installed and not released.
    pub fn live_modules(&self) -> usize {
        self.modules.len()
    }

    /// Function-table slots free for reuse on this thread (all backends).
    pub fn free_table_slots(&self) -> usize {
        FREE_SLOTS.with_borrow(Vec::len)
    }

    /// Slots this backend added to the function table; every other install
    /// reused a free slot.
    pub fn table_grows(&self) -> u64 {
        self.table_grows
    }

    /// Length of this thread's function table.
    pub fn table_len(&self) -> u32 {
        self.table.length()
    }
}

impl Drop for WebBackend {
    fn drop(&mut self) {
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
