//! The native backend: generated modules run in an embedded wasmtime whose
//! one shared memory holds the hart state block, RAM's page flags and guest
//! RAM (the same layout the browser has in the VM's own memory).
//!
//! wasmtime frees an instance only with its `Store`, so modules are
//! instantiated into a rotating set of Stores, [`MODULES_PER_STORE`] each,
//! all importing the one `SharedMemory`; a Store is dropped once every
//! module installed in it was released, so evicted code really goes.
use std::collections::HashMap;

use wasmtime::{Config, Engine, Instance, MemoryType, Module, SharedMemory, Store, TypedFunc};

use crate::jit::layout::{MemoryLayout, StateBlock};
use crate::mem::ExternalRam;

/// Modules instantiated into one Store before a fresh Store is started.
pub const MODULES_PER_STORE: usize = 64;

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

struct StoreSlot {
    store: Store<()>,
    /// The `run` export of every module instantiated in this Store.
    funcs: Vec<TypedFunc<i64, i64>>,
    /// Modules installed and not yet released.
    live: usize,
    /// Modules ever installed (the Store takes no more at MODULES_PER_STORE).
    installed: usize,
}

pub struct NativeBackend {
    engine: Engine,
    memory: SharedMemory,
    layout: MemoryLayout,
    stores: Vec<Option<StoreSlot>>,
    current: Option<usize>,
    modules: HashMap<ModuleId, usize>,
    next_id: u64,
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
        let mut config = Config::new();
        config.wasm_threads(true).shared_memory(true);
        let engine = Engine::new(&config).map_err(|e| format!("wasmtime engine: {e}"))?;
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
        let backend = NativeBackend {
            engine,
            memory,
            layout,
            stores: Vec::new(),
            current: None,
            modules: HashMap::new(),
            next_id: 0,
        };
        Ok((backend, ext))
    }

    /// The backend of hart `hart`: the same engine and memory (so RAM and
    /// its page flags), the hart's own state block, Stores of its own.
    pub fn sibling(&self, hart: usize) -> Result<NativeBackend, String> {
        let state = self.layout.state + STATE_STRIDE * hart as u32;
        if state + STATE_STRIDE > self.layout.page_flags {
            return Err(format!("no state block for hart {hart}"));
        }
        Ok(NativeBackend {
            engine: self.engine.clone(),
            memory: self.memory.clone(),
            layout: MemoryLayout { state, ..self.layout },
            stores: Vec::new(),
            current: None,
            modules: HashMap::new(),
            next_id: 0,
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
    pub fn install(&mut self, wasm: &[u8]) -> Result<(ModuleId, CompiledFn), String> {
        let module = Module::new(&self.engine, wasm).map_err(|e| format!("compile: {e}"))?;
        let slot = match self.current {
            Some(i) if self.stores[i].as_ref().is_some_and(|s| s.installed < MODULES_PER_STORE) => {
                i
            }
            _ => {
                let fresh = StoreSlot {
                    store: Store::new(&self.engine, ()),
                    funcs: Vec::new(),
                    live: 0,
                    installed: 0,
                };
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
        let instance = Instance::new(&mut s.store, &module, &[self.memory.clone().into()])
            .map_err(|e| format!("instantiate: {e}"))?;
        let func = instance
            .get_typed_func::<i64, i64>(&mut s.store, "run")
            .map_err(|e| format!("export run: {e}"))?;
        let index = s.funcs.len() as u32;
        s.funcs.push(func);
        s.live += 1;
        s.installed += 1;
        let id = ModuleId(self.next_id);
        self.next_id += 1;
        self.modules.insert(id, slot);
        Ok((id, CompiledFn { store: slot as u32, index }))
    }

    /// Run a compiled unit with `budget`; see `codegen` for the result.
    /// Generated code never traps; an error here is a bug in the JIT.
    pub fn call(&mut self, f: CompiledFn, budget: i64) -> Result<i64, String> {
        let s = self.stores[f.store as usize].as_mut().expect("a live unit's store exists");
        let func = &s.funcs[f.index as usize];
        func.call(&mut s.store, budget).map_err(|e| format!("generated code trapped: {e:?}"))
    }

    /// Forget module `id`; its Store goes when its last module does.
    pub fn release(&mut self, id: ModuleId) {
        let Some(slot) = self.modules.remove(&id) else { return };
        let s = self.stores[slot].as_mut().expect("a live module's store exists");
        s.live -= 1;
        if s.live == 0 && self.current != Some(slot) {
            self.stores[slot] = None;
        }
    }

    /// Modules installed and not released.
    pub fn live_modules(&self) -> usize {
        self.modules.len()
    }
}

/// Compile and instantiate [`super::warm_up_module`], so that the engine's
/// one-time set-up is not counted as the first unit's compile time.
fn warm_up(engine: &Engine, memory: &SharedMemory, layout: &MemoryLayout) -> Result<(), String> {
    let wasm = super::warm_up_module(layout);
    let module = Module::new(engine, &wasm).map_err(|e| format!("warm-up compile: {e}"))?;
    let mut store = Store::new(engine, ());
    Instance::new(&mut store, &module, &[memory.clone().into()])
        .map_err(|e| format!("warm-up instantiate: {e}"))?;
    Ok(())
}

/// Run `export(arg) -> i64` of a self-contained wasm module (e.g. the CPU
/// workload's C compiled straight to wasm32 by clang) in a wasmtime engine
/// configured like the JIT's: the "% of native" baseline measured in the
/// same engine. Returns (result, wall ns of the call, compile ns).
pub fn time_wasm_export(wasm: &[u8], export: &str, arg: i32) -> Result<(i64, u64, u64), String> {
    let mut config = Config::new();
    config.wasm_threads(true).shared_memory(true);
    let engine = Engine::new(&config).map_err(|e| format!("wasmtime engine: {e}"))?;
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
            blocks: vec![Block { pc, insts: vec![(pc, inst, 4)], end: End::Interpret(pc + 4) }],
        };
        let opts = CodegenOptions { tier, strict_align: false, data_bare: false, atomic: false };
        let wasm = generate(&region, backend.layout(), opts).wasm;
        backend.install(&wasm).expect("installs").1
    }

    /// Set inline-TLB entry of VA to (read tag, write tag, addend).
    fn set_entry(backend: &NativeBackend, rtag: u64, wtag: u64, addend: u64) {
        let vpn = VA >> 12;
        // SAFETY: the state block lives as long as the backend; nothing runs.
        let e = unsafe { &mut (*backend.state_ptr()).tlb[StateBlock::tlb_index(vpn)] };
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
