//! The knob table: one entry per leaf field of `VmConfig`. Adding a field to a
//! config struct means adding its entry here (a test fails until you do):
//! key, kind and range, unit, the report figures that show its effect, and
//! help in English and Chinese that says what it does, why you would change
//! it and where to look. The default comes from the struct's `Default`.
//!
//! The English help of a knob is the first paragraph of its field's doc
//! comment, word for word (a test below fails when they differ): change both.
//!
//! Module invariant: the table reads `spec.rs` (the types), `text.rs` and the
//! config structs' range constants, never `schema.rs`; `schema.rs` reads the
//! table.
use super::spec::{
    enum_values, float_in, int, int_in, knob, KnobKind, KnobSpec, Rule, SectionSpec,
};
use super::text::{GIB, MIB};
use super::{CacheConfig, EvictionPolicy, JitConfig, MmuOptimizationStrategy};
use crate::jit::AdaptiveThresholdConfig;
use crate::mem::{ConcurrentTlbConfig, MultiLevelTlbConfig, UnifiedMmuConfig};

/// The knobs `Machine::retune` applies while the guest runs, at the next
/// slice boundary, without a reset: the compile decisions (thresholds,
/// weights, tier-up, the compile-time budget), the code cache's limits and
/// policy (shrinking evicts at once), the TLBs' sizes and organisation (the
/// TLBs start empty: a flush) and the prefetcher, and the GC's pacing. The
/// rest shape what is built once (RAM, harts, code already generated, the
/// GC heap and its marker) and apply when the machine is built again.
pub(super) const LIVE_KNOBS: &[&str] = &[
    "mmu.strategy",
    "mmu.enable_prefetch",
    "mmu.prefetch_history_window",
    "mmu.prefetch_distance",
    "mmu.multilevel_tlb_config.l1_entries",
    "mmu.multilevel_tlb_config.l2_entries",
    "mmu.multilevel_tlb_config.l2_ways",
    "mmu.concurrent_tlb_config.entries",
    "mmu.concurrent_tlb_config.shards",
    "jit.tier_up_threshold",
    "jit.max_tracked_units",
    "jit.invalidation_limit",
    "jit.min_threshold",
    "jit.max_threshold",
    "jit.sample_window",
    "jit.compile_time_weight",
    "jit.exec_benefit_weight",
    "jit.compile_time_budget_ns",
    "jit.enable_compile_time_budget",
    "code_cache.max_entries",
    "code_cache.max_memory_bytes",
    "code_cache.eviction_policy",
    "code_cache.cleanup_interval_secs",
    "code_cache.hotness_decay_factor",
    "code_cache.warmup_size",
    "gc.mark_quota_us",
    "gc.sweep_quota_us",
    "gc.adaptive_quota",
    "gc.trigger_threshold",
    "gc.target_occupancy",
    "gc.incremental_step",
];

/// Knobs that act only natively (the page keeps and passes them and shows
/// them marked "CLI only"). None today: `jit.background_compile`, the last
/// one, acts in the page too since the worker compiles asynchronously.
pub(super) const NATIVE_ONLY_KNOBS: &[&str] = &[];

/// Top-level sections in the order the page shows them.
pub(super) const SECTIONS: &[SectionSpec] = &[
    SectionSpec { key: "memory", title_en: "Memory", title_zh: "内存" },
    SectionSpec { key: "mmu", title_en: "MMU and TLBs", title_zh: "MMU 与 TLB" },
    SectionSpec { key: "jit", title_en: "JIT compiler", title_zh: "JIT 编译器" },
    SectionSpec { key: "code_cache", title_en: "Code cache", title_zh: "代码缓存" },
    SectionSpec { key: "gc", title_en: "Garbage collector", title_zh: "垃圾回收" },
    SectionSpec { key: "runtime", title_en: "vCPUs and workers", title_zh: "vCPU 与工作线程" },
];

/// Guest RAM bounds: at least 1 MiB so a program, its stack and the page
/// tables fit; at most 1 GiB because in the browser RAM lives inside the
/// VM's own wasm memory, which is limited to a few GiB and shared with
/// generated code and the heap.
const RAM_MIN: u64 = MIB;
const RAM_MAX: u64 = GIB;

/// Every knob: the sections in [`SECTIONS`] order, each section's knobs in
/// the order the page shows them.
pub(super) fn knobs() -> Vec<KnobSpec> {
    [memory_knobs(), mmu_knobs(), jit_knobs(), code_cache_knobs(), gc_knobs(), runtime_knobs()]
        .concat()
}

/// `memory.*`: guest RAM and the interpreter's decode cache.
fn memory_knobs() -> Vec<KnobSpec> {
    vec![
        knob("memory.ram_bytes", int(RAM_MIN, RAM_MAX), "bytes")
            .rules(&[Rule::MultipleOf(4096)])
            .figures(&["memory.guest_ram_bytes"])
            .help(
                "Size of guest RAM, mapped at physical address 0x8000_0000. The program, \
                 its stack and its heap must fit in it: the loader refuses segments past \
                 its end. It is host memory too (inside the VM's wasm memory in the \
                 browser), so shrink it to run several machines side by side and grow it \
                 for programs with large data. The memory panel shows it as guest RAM \
                 (memory.guest_ram_bytes). 1 MiB to 1 GiB, in whole 4 KiB pages.",
                "客户机内存（RAM）的大小，映射在物理地址 0x8000_0000。程序本身、栈和堆都要放得下，\
                 超出末尾的段会被加载器拒绝。这块内存也实实在在占用宿主机内存（在浏览器里就位于虚拟机\
                 自己的 wasm 内存中），想在一个页面里同时跑几台虚拟机时可以调小，程序数据量大时再调大。\
                 内存面板中的“客户机内存”一项（memory.guest_ram_bytes）显示的就是它。\
                 取值 1 MiB 到 1 GiB，必须是 4 KiB 页的整数倍。",
            ),
        knob("memory.decode_cache_pages", int_in(super::MemoryConfig::DECODE_CACHE_PAGES), "pages")
            .figures(&["memory.decode_cache_bytes", "memory.decode_cache_evictions", "mips"])
            .help(
                "Most guest RAM pages whose decoded instructions the interpreter keeps. \
                 Decoding an instruction once and reusing it is what makes the interpreter \
                 fast, but every cached page costs about 24 KiB of host memory, so the cache \
                 is bounded: when a program runs code on more pages than this, pages are \
                 evicted round robin and decoded again when the program comes back to them. \
                 Lower it to cap host memory (watch memory.decode_cache_bytes in the memory \
                 chart); raise it when memory.decode_cache_evictions climbs while mips \
                 drops. Default 1024 pages (4 MiB of guest code, about 24 MiB of host memory).",
                "解释器最多为多少个客户机内存页保存解码好的指令。指令解码一次、反复使用，是解释器跑得快的关键；\
                 但每个缓存页要占用约 24 KiB 宿主机内存，所以缓存有上限：程序在超过这么多页上执行代码时，\
                 按轮转顺序淘汰旧页，程序回到那些页时再重新解码。调小可以限制宿主机内存\
                 （看内存图表里的 memory.decode_cache_bytes）；memory.decode_cache_evictions 持续上升、\
                 mips 下降时调大。默认 1024 页（4 MiB 客户机代码，约 24 MiB 宿主机内存）。",
            ),
    ]
}

/// `gc.*`: the GC heap served to guests (`crate::gc`).
fn gc_knobs() -> Vec<KnobSpec> {
    use crate::gc::UnifiedGcConfig;
    vec![
        knob("gc.heap_size_limit", int_in(UnifiedGcConfig::HEAP_SIZE_LIMIT), "bytes")
            .rules(&[Rule::MultipleOf(4096)])
            .figures(&["gc.heap_limit_bytes", "gc.collections", "gc.alloc_failures"])
            .help(
                "Most bytes of guest RAM the GC heap may use. The heap starts at the first page \
                 after the program's image and is clamped to the RAM left there \
                 (gc.heap_limit_bytes reports what it got). A smaller heap collects more often; \
                 one too small for the program's live data makes gc.alloc return 0 (the \
                 gc-exhaust workload then reports it and exits with code 3). 64 KiB to 1 GiB, in \
                 whole 4 KiB pages.",
                "GC 堆最多可以使用多少字节的客户机内存。堆从程序映像之后的第一页开始，并被限制\
                 在那里剩余的内存之内（gc.heap_limit_bytes 报告实际得到的大小\
                 ）。堆越小，回收越频繁；小到放不下程序的存活数据时，gc.alloc 返回 0（\
                 gc-exhaust 工作负载会报告这一点并以退出码 3 结束）。取值 64 K\
                 iB 到 1 GiB，必须是 4 KiB 页的整数倍。",
            ),
        knob("gc.mark_quota_us", int_in(UnifiedGcConfig::QUOTA_US), "µs")
            .figures(&["gc.pause_ns", "gc.marking_fell_behind", "gc.remark_cuts"])
            .help(
                "Longest host time one incremental marking slice may take before the guest runs \
                 again, in microseconds. Marking runs in slices at allocation safepoints; each \
                 pause is about this long at most, plus one step. The remark that ends a cycle \
                 keeps to it too: past it, the rest goes back to marking and a later remark \
                 tries again (gc.remark_cuts, at most 8 per cycle). Lower it for shorter pauses \
                 (more of them); too low and marking falls behind allocation \
                 (gc.marking_fell_behind), which forces the rest of the cycle into one long \
                 pause. Watch gc.pause_ns.",
                "一次增量标记切片在客户机继续运行之前最多能占用的宿主机时间，单位微秒。标记在分配\
                 安全点上分片进行；每次停顿最多大约这么长，再加一个步长。结束一个周期的重新标记也遵守\
                 这个配额：超过它，剩下的工作交回给标记，稍后的重新标记再试一次（gc.remark_cuts，\
                 每个周期最多 8 次）。调小可以让停顿更短（但次\
                 数更多）；调得太小，标记会跟不上分配（gc.marking_fell_behin\
                 d），剩下的整个周期就只能在一次长停顿里做完。观察 gc.pause_ns。",
            ),
        knob("gc.sweep_quota_us", int_in(UnifiedGcConfig::QUOTA_US), "µs")
            .figures(&["gc.pause_ns"])
            .help(
                "Longest host time one lazy sweeping slice may take, in microseconds. Freed \
                 objects are swept in slices at allocation safepoints (and by the allocator \
                 itself as it needs blocks). Watch gc.pause_ns.",
                "一次惰性清扫切片最多能占用的宿主机时间，单位微秒。被释放的对象在分配安全点上分片\
                 清扫（分配器需要内存块时也会自己顺手清扫）。观察 gc.pause_ns。",
            ),
        knob("gc.adaptive_quota", KnobKind::Bool, "")
            .figures(&["gc.quota_series", "gc.pause_ns"])
            .help(
                "Let the collector tune its own quotas: a slice that pauses longer than the 1 ms \
                 pause target shrinks the quota in proportion, and a cycle in which marking fell \
                 behind allocation (the heap came close to full before marking ended) raises the \
                 quota, or runs slices more often once the quota is at the target. \
                 gc.quota_series shows the quotas it chose.",
                "让回收器自己调整配额：某个切片的停顿超过 1 ms 的停顿目标时，按比例缩小配额\
                 ；某个周期里标记跟不上分配（标记结束前堆已接近用满）时，增大配额，配额已到目标时\
                 改为更频繁地运行切片。gc.quota_series 显示它选择的配额。",
            ),
        knob("gc.concurrent_marking", KnobKind::Bool, "")
            .figures(&["gc.pause_ns", "gc.concurrent", "gc.marker_ns"])
            .help(
                "Mark on a background marker while the guest runs: a thread natively, a second Web \
                 Worker in the page's threads build (the plain build has no shared memory and marks \
                 incrementally, see gc.concurrent). Only the start \
                 of a cycle (roots) and a short stop-the-world remark (registers, root ranges and \
                 the pages the write barrier saw dirtied) pause the guest. Needs gc.incremental.",
                "在客户机运行的同时，由后台标记者进行标记：本机为一个线程，网页的多线程构建中为\
                  第二个 Web Worker（普通构建没有共享内存，仍按增量方式标记，见 gc.concurrent）。只有周期开始\
                 （扫描根）和一次短暂的全停顿重新标记（寄存器、根区间以及写屏障记录下的脏页）会让\
                 客户机停下。需要同时开启 gc.incremental。",
            ),
        knob("gc.write_barrier_shards", int_in(UnifiedGcConfig::SHARDS), "shards")
            .figures(&["gc.barrier_hits", "gc.barrier_contended"])
            .help(
                "Shards of the write barrier's dirty-page lists. The first store into a heap page \
                 while marking runs takes the slow path and records the page in shard page mod \
                 shards, each behind its own lock, so vCPUs on different workers rarely wait for \
                 one another. gc.barrier_hits shows the hits per shard, gc.barrier_contended the \
                 waits. 1 to 64.",
                "写屏障脏页列表的分片数。标记进行期间，对某个堆页的第一次写入会走慢路径，把该页记\
                 入第 页号 mod 分片数 个分片，每个分片有自己的锁，因此运行在不同 Work\
                 er 上的 vCPU 很少互相等待。gc.barrier_hits 显示每个分片\
                 的命中次数，gc.barrier_contended 显示等待次数。取值 1 到\
                  64。",
            ),
        knob("gc.trigger_threshold", float_in(UnifiedGcConfig::TRIGGER), "")
            .figures(&["gc.heap_committed_bytes", "gc.collections"])
            .help(
                "Heap use, as a share of the current heap size, at which a collection cycle \
                 starts. Lower it when the heap grows too large (memory use too high); raise it \
                 for fewer cycles. Must be above target_occupancy.",
                "堆使用量占当前堆大小的比例达到多少时开始一个回收周期。堆长得太大（内存占用过高）\
                 时调低；想减少回收周期时调高。必须大于 target_occupancy。",
            ),
        knob("gc.target_occupancy", float_in(UnifiedGcConfig::TARGET), "")
            .figures(&["gc.heap_target_bytes", "gc.collections"])
            .help(
                "Occupancy the heap is sized for after a cycle: the next cycle's heap size is the \
                 live data divided by this (at least 4 MiB, at most heap_size_limit), so the next \
                 cycle starts when use reaches trigger_threshold of that size.",
                "一个周期之后，堆按这个占用率来确定大小：下一个周期的堆大小等于存活数据除以它（至\
                 少 4 MiB，至多 heap_size_limit），因此当使用量达到该大小的\
                  trigger_threshold 时开始下一个周期。",
            ),
        knob("gc.incremental_step", int_in(UnifiedGcConfig::STEP), "objects")
            .figures(&["gc.pause_ns", "gc.pauses"])
            .help(
                "Objects per incremental step: after this many allocations the collector runs one \
                 marking or sweeping slice, and inside a slice it reads the clock every this many \
                 objects marked. 1 to 100000.",
                "每个增量步长的对象数：每分配这么多个对象，回收器就运行一次标记或清扫切片；在切片\
                 内部，每标记这么多个对象读一次时钟。取值 1 到 100000。",
            ),
        knob("gc.incremental", KnobKind::Bool, "").figures(&["gc.pause_ns"]).help(
            "Collect incrementally (slices between allocations). false: every cycle marks and \
                 sweeps everything in one stop-the-world pause, the baseline the other modes are \
                 measured against.",
            "是否增量回收（在分配之间分片进行）。false：每个周期都在一次全停顿中完成全部\
                 标记和清扫，作为衡量其他模式的基准。",
        ),
        knob("gc.verify", KnobKind::Bool, "").figures(&["gc.verify_failures"]).help(
            "Debug: after marking, check with an independent stop-the-world trace that every \
                 reachable object is marked (gc.verify_failures counts misses), and fill freed \
                 objects with 0xdb bytes so that a use after free changes a program's checksum. \
                 Slow; for tests and for the curious.",
            "调试用：标记结束后，用一次独立的全停顿遍历检查每个可达对象都已被标记（gc.ve\
                 rify_failures 统计遗漏），并把被释放的对象填成 0xdb 字节，这\
                 样释放后再使用会改变程序的校验和。较慢；供测试和好奇的人使用。",
        ),
    ]
}

/// `runtime.*`: harts and the pool of workers that runs them.
fn runtime_knobs() -> Vec<KnobSpec> {
    use super::RuntimeConfig;
    vec![
        knob("runtime.vcpus", int_in(RuntimeConfig::VCPUS), "harts")
            .figures(&["smp.vcpus", "mips"])
            .help(
                "Number of harts (vCPUs) in the machine, 1 to 64. Every hart starts at the \
                 ELF entry with its own registers, CSRs (mhartid is its index), TLBs, LR/SC \
                 reservation and CLINT timer and software interrupt; they share RAM and the \
                 devices. A program built for one hart parks the others (the usual start-up \
                 code reads mhartid and waits in wfi), so more vCPUs only help a program \
                 that gives them work: the smp-* workloads do. Watch smp.vcpus \
                 (instructions, MIPS, time running and parked per vCPU) and mips.",
                "虚拟机里的 hart（vCPU）数量，1 到 64。每个 hart 都从 ELF 入口开始执行，\
                 有自己的寄存器、CSR（mhartid 就是它的编号）、TLB、LR/SC 保留和 CLINT 的定时器与软件中断；\
                 内存和设备由所有 hart 共享。只为单个 hart 编写的程序会让其余 hart 停下\
                 （常见的启动代码读 mhartid，其余 hart 在 wfi 里等待），所以只有会给它们分配工作的程序\
                 （比如 smp-* 系列工作负载）才能从更多 vCPU 中获益。观察 smp.vcpus\
                 （每个 vCPU 的指令数、MIPS、运行时间和停放时间）以及 mips。",
            ),
        knob("runtime.pool_size", int_in(RuntimeConfig::POOL_SIZE), "workers")
            .figures(&["smp.workers", "mips"])
            .help(
                "Host workers that run the vCPUs: OS threads in the CLI, Web Workers sharing \
                 the guest's memory in the page (at most 16; a page without cross-origin \
                 isolation has no shared memory and runs every vCPU on its one worker). Each vCPU is a task (a Rust future) that runs \
                 runtime.quantum_insns instructions and then, if another task waits for a worker, goes back to a shared run queue, \
                 and a vCPU waiting in wfi frees its worker, so more vCPUs than workers is \
                 fine: that is the guide's coroutine pool. 1 runs every vCPU on the calling \
                 thread in a fixed order, which makes multi-hart runs reproducible; 0 means \
                 twice the host's hardware threads (the guide's num_cpus * 2). Compare \
                 smp.workers (busy time per worker) and mips as you change it.",
                "运行 vCPU 的宿主机工作者数量：命令行里是操作系统线程，页面里是共享客户内存的 Web Worker\
                 （最多 16 个；没有跨源隔离的页面没有共享内存，会把所有 vCPU 都放在它唯一的工作线程上运行）。\
                 每个 vCPU 是一个任务（Rust 的 future），运行 runtime.quantum_insns 条指令后，如果有别的任务在等工作者，就回到共享的运行队列；\
                 在 wfi 里等待的 vCPU 会让出它的工作者，所以 vCPU 比工作者多也没关系，\
                 这正是指南里说的协程池。设为 1 时所有 vCPU 按固定顺序在调用线程上运行，多 hart 的运行结果可以复现；\
                 0 表示宿主机硬件线程数的两倍（指南中的 num_cpus * 2）。\
                 调整时对比 smp.workers（每个工作者的忙碌时间）和 mips。",
            ),
        knob("runtime.quantum_insns", int_in(RuntimeConfig::QUANTUM_INSNS), "instructions")
            .figures(&["smp.vcpus", "mips"])
            .help(
                "Guest instructions a vCPU runs before it goes back to the run queue (its \
                 time slice) when another vCPU waits for a worker; with none waiting it \
                 runs on. Short quanta let waiting vCPUs in sooner (a spinning vCPU \
                 holds a worker for at most one quantum) at the price of more task \
                 switches; long ones switch less. It also bounds how late a vCPU sees an \
                 IPI while it runs. Watch smp.vcpus task switches and mips.",
                "一个 vCPU 回到运行队列之前连续执行的客户机指令数（它的时间片）；只有别的 vCPU 在等工作者时才回去，没人等就继续运行。时间片短，\
                 等待中的 vCPU 能更快上场（一个空转的 vCPU 最多占住工作者一个时间片），代价是任务切换更多；\
                 时间片长，切换就少。它也决定了正在运行的 vCPU 最晚多久才能看到发给它的 IPI。\
                 观察 smp.vcpus 中的任务切换次数和 mips。",
            ),
        knob("runtime.pause_yields", KnobKind::Bool, "")
            .figures(&["smp.vcpus", "wall_ns"])
            .help(
                "What PAUSE (the spin-wait hint: a FENCE with pred = w and succ = 0) does on a \
                 machine of several harts. true: it ends the hart's quantum, as a \
                 hypervisor's pause-loop exiting does: a hart spinning for a lock or a flag \
                 hands its worker to a vCPU that waits for one (with a worker of its own it \
                 yields its host thread), instead of spinning out its quantum while the hart \
                 it waits for cannot run; its guest time moves on to the quantum's end, as if it \
                 had spun (harts napping on the timer wake on time). false: PAUSE is a plain \
                 fence, and a spinning hart runs until its quantum ends. Compare smp.vcpus \
                 (instructions, pauses) and wall_ns on smp-locks with runtime.pool_size 1.",
                "PAUSE（自旋等待提示：pred = w、succ = 0 的 FENCE）在多 hart 的机器上做什么。\
                 true：它结束该 hart 的时间片，就像虚拟机管理程序的 pause-loop exiting：\
                 为等一把锁或一个标志而空转的 hart 把工作者让给等着工作者的 vCPU\
                 （独占一个工作者时则让出宿主机线程），而不是在它所等的 hart 无法运行时空转完整个时间片；\
                 它的客户机时间前进到时间片结束处，如同空转过一样（靠定时器小睡的 hart 按时醒来）。\
                 false：PAUSE 只是普通的 fence，空转的 hart 一直运行到时间片结束。\
                 在 runtime.pool_size 为 1 时运行 smp-locks，对比 smp.vcpus（指令数、pauses）和 wall_ns。",
            ),
        knob("runtime.host_time", KnobKind::Bool, "")
            .figures(&["mips", "wall_ns"])
            .help(
                "Where mtime (and the time CSR) gets its time. false: guest time, one tick \
                 per 10 instructions executed, so a run is the same on every host and with \
                 the JIT on or off, and a guest benchmark that times itself with mtime \
                 reports the same score whatever you tune. true: host time (mtime's 10 MHz \
                 from the host clock), so such a benchmark sees the JIT, the cache and \
                 every other knob, but runs are no longer reproducible; a hart waiting in \
                 wfi for its timer spins on the host clock. Compare a guest's own timing \
                 with it off and on.",
                "mtime（以及 time CSR）的时间从哪里来。false：客户机时间，每执行 10 条指令走一个刻度，\
                 所以同一次运行在任何宿主机上、JIT 开或关都完全一样；一个用 mtime 给自己计时的\
                 客户机基准程序，不管怎么调优，报告的成绩都相同。true：宿主机时间（按宿主机时钟\
                 走 mtime 的 10 MHz），这样的基准程序就能看到 JIT、代码缓存和其他各个旋钮的效果，\
                 但运行结果不再可复现；在 wfi 中等待自己定时器的 hart 会按宿主机时钟空转等待。\
                 可以把它关掉和打开，对比客户机自己测出的时间。",
            ),
    ]
}

/// `mmu.*`: the TLB strategy, the TLB sizes ([`tlb_knobs`]), the stride
/// prefetcher and alignment.
fn mmu_knobs() -> Vec<KnobSpec> {
    let strategy = vec![
        knob("mmu.strategy", KnobKind::Enum { values: enum_values::<MmuOptimizationStrategy>() }, "")
            .figures(&["tlb.strategy_chosen", "tlb.hit_rate", "tlb.levels", "tlb.walks"])
            .help(
                "How the TLBs are organised. multi_level: a small L1 in front of a larger \
                 set-associative L2, private to one hart; the fastest lookups for a single \
                 vCPU. concurrent: one sharded TLB shared by all harts, one lock per shard: \
                 a page one hart walked serves the others (fewer walks), but every lookup \
                 takes a lock (slower hits). hybrid: multi_level for one vCPU; with several \
                 it starts shared, measures how often a shard lock was held by another hart \
                 over the first 65536 locks, and above 5 % gives each hart a private \
                 multi_level TLB. Switch it and compare the TLB hit rate, tlb.walks and the \
                 per-level hits in the TLB chart; the report names the strategy actually \
                 used and why (tlb.strategy_chosen, tlb.strategy_reason) and the lock \
                 figures (tlb.lock_acquisitions, tlb.lock_contended). With the JIT on, \
                 compiled loads and stores first try the JIT's own inline TLB (level \
                 `inline` in the chart, 256 entries); the MMU's levels then see only its \
                 misses, so their sizes matter most for working sets beyond 256 pages or \
                 with jit.enabled off.",
                "TLB 的组织方式。multi_level：一个小的 L1 加一个更大的组相联 L2，每个 hart 独享，\
                 单个 vCPU 时查找最快。concurrent：所有 hart 共用一个分片的 TLB，每个分片一把锁：\
                 一个 hart 遍历过的页表项可以直接服务其他 hart（页表遍历更少），但每次查找都要加锁\
                 （命中更慢）。hybrid：一个 vCPU 时用 multi_level；多个 vCPU 时先共用一个 TLB，\
                 统计前 65536 次加锁中有多少次遇到锁被其他 hart 持有，超过 5 % 就让每个 hart \
                 改用独享的 multi_level TLB。切换之后，在 TLB 图表里对比总命中率、tlb.walks \
                 和各级命中次数；报告中的 tlb.strategy_chosen 和 tlb.strategy_reason 写明实际\
                 采用的是哪一种以及原因，tlb.lock_acquisitions 和 tlb.lock_contended 给出加锁数据。\
                 打开 JIT 时，编译后代码的访存先查 JIT 自己的内联 TLB（图中的 inline 级，256 项），\
                 MMU 的各级只看到它未命中的那部分，所以只有工作集超过 256 个页、或关掉 jit.enabled 时，\
                 各级 TLB 的大小才影响最大。",
            ),
    ];
    let rest = vec![
        knob("mmu.enable_prefetch", KnobKind::Bool, "")
            .figures(&["tlb.prefetch", "tlb.hit_rate", "tlb.walks"])
            .help(
                "Watch TLB misses for a constant stride (a loop walking an array page by \
                 page, say) and fill the translations of the next pages before they are \
                 used. Turn it off to measure what it buys: compare the TLB hit rate and \
                 the walk count, and prefetches issued against prefetches used \
                 (tlb.prefetch) to see whether the extra walks pay off.",
                "监视 TLB 未命中的地址，一旦发现固定步长（比如循环逐页遍历一个数组），\
                 就提前把后面几页的地址转换填进 TLB。关掉它就能看出预取到底带来多少好处：\
                 对比 TLB 命中率和页表遍历次数，再看看发出的预取有多少真正被用上（tlb.prefetch），\
                 判断多做的这些页表遍历值不值得。",
            ),
        knob("mmu.prefetch_history_window", int_in(UnifiedMmuConfig::PREFETCH_HISTORY_WINDOW), "misses")
            .figures(&["tlb.prefetch"])
            .help(
                "How many recent TLB-miss pages the stride detector remembers. A short \
                 window locks on to a new access pattern quickly; a long one still finds a \
                 stride when one loop's misses are mixed with misses from elsewhere, at \
                 more work per miss. Watch prefetches used against issued (tlb.prefetch) \
                 as you change it.",
                "步长检测器记住最近多少次 TLB 未命中的页。窗口短，访问模式一变就能很快跟上；\
                 窗口长，即使一个循环的未命中里夹杂着别处的未命中，也能找出步长，\
                 代价是每次未命中要多做一些工作。调整时观察被用上的预取数和发出的预取数之比（tlb.prefetch）。",
            ),
        knob("mmu.prefetch_distance", int_in(UnifiedMmuConfig::PREFETCH_DISTANCE), "pages")
            .figures(&["tlb.prefetch", "tlb.hit_rate"])
            .help(
                "How many pages ahead along the detected stride the prefetcher fills. Too \
                 short and the program catches up with it, so the misses remain; too long \
                 and prefetched entries push out useful ones or are replaced before use. \
                 Tune it against the TLB hit rate and the share of prefetches used \
                 (tlb.prefetch).",
                "预取器沿着检测到的步长提前填充几页。太近，程序很快就追上预取器，未命中依旧；\
                 太远，预取进来的表项会挤掉有用的表项，或者还没用上就被替换掉。\
                 结合 TLB 命中率和预取的使用比例（tlb.prefetch）来调整。",
            ),
        knob("mmu.strict_align", KnobKind::Bool, "")
            .figures(&["traps"])
            .help(
                "What a misaligned load or store does. false: tunevm carries it out, as \
                 many RISC-V cores do. true: it raises a misaligned-access exception that \
                 the guest must handle. Turn it on to find the misaligned accesses in a \
                 program: each one shows up in the trap counts (traps).",
                "决定未对齐的读写如何处理。false：tunevm 直接完成这次访问，许多 RISC-V 处理器也是这样做的；\
                 true：触发地址未对齐异常，交给客户程序自己处理。打开它可以找出程序里的未对齐访问：\
                 每一次都会记入报告的异常统计（traps）。",
            ),
    ];
    [strategy, tlb_knobs(), rest].concat()
}

/// `mmu.multilevel_tlb_config.*` and `mmu.concurrent_tlb_config.*`: the
/// sizes of each strategy's TLBs.
fn tlb_knobs() -> Vec<KnobSpec> {
    vec![
        knob("mmu.multilevel_tlb_config.l1_entries", int_in(MultiLevelTlbConfig::L1_ENTRIES), "entries")
            .figures(&["tlb.levels", "tlb.hit_rate"])
            .help(
                "Entries of the multi_level strategy's first-level TLB. L1 is fully \
                 associative and searched on every translation: more entries keep more of \
                 the working set one step from a hit, but each lookup compares them all. \
                 Raise it when the L1 line of the TLB hit-rate-per-level chart is low while \
                 L2 still catches most misses; lower it to watch L1 misses grow. Not used \
                 by the concurrent strategy.",
                "multi_level 策略中一级 TLB 的表项数。L1 是全相联的，每次地址转换都要查：\
                 表项越多，工作集里能在 L1 直接命中的页越多，但每次查找要比较的项也越多。\
                 如果“各级 TLB 命中率”图里 L1 那条线偏低、而 L2 还能接住大部分未命中，就可以调大；\
                 调小则能直观看到 L1 未命中增多。concurrent 策略不用这一项。",
            ),
        knob("mmu.multilevel_tlb_config.l2_entries", int_in(MultiLevelTlbConfig::L2_ENTRIES), "entries")
            .rules(&[
                Rule::MultipleOfKey("mmu.multilevel_tlb_config.l2_ways"),
                Rule::PowerOfTwoRatioTo("mmu.multilevel_tlb_config.l2_ways"),
            ])
            .figures(&["tlb.levels", "tlb.walks", "tlb.hit_rate"])
            .help(
                "Total entries of the second-level TLB behind L1 (multi_level strategy). \
                 L2 catches L1 misses before they cost a page-table walk, and covers \
                 entries x 4 KiB of memory. Raise it when the working set is larger than \
                 that and the page-table walk count (tlb.walks) stays high; watch the L2 \
                 line of the TLB hit-rate-per-level chart. Must be l2_ways times a power \
                 of two, so that L2 has a power-of-two number of sets.",
                "二级 TLB 的表项总数（multi_level 策略），位于 L1 之后。L1 未命中时先查 L2，\
                 命中就省下一次页表遍历；它能覆盖“表项数 × 4 KiB”的内存。程序的工作集比这更大、\
                 页表遍历次数（tlb.walks）居高不下时可以调大，并观察“各级 TLB 命中率”图中 L2 那条线。\
                 取值必须是 l2_ways 乘以 2 的幂，这样 L2 的组数才是 2 的幂。",
            ),
        knob("mmu.multilevel_tlb_config.l2_ways", int(1, 16), "ways")
            .figures(&["tlb.levels"])
            .help(
                "Associativity of the L2 TLB: how many entries each set holds. A page can \
                 only live in its own set, so with few ways pages that fall into the same \
                 set evict each other (conflict misses) even while L2 has room; more ways \
                 mean fewer conflicts but more entries compared per lookup. Try 1 and 16 on \
                 a program that strides through memory and compare the L2 hits in the TLB \
                 hit-rate-per-level chart.",
                "L2 TLB 的相联度，也就是每组有几个表项。一个页只能放进它所属的那一组，相联度低时，\
                 落在同一组的页会互相挤出（冲突未命中），哪怕 L2 还有空位；相联度高，冲突就少，\
                 但每次查找要比较的表项更多。可以在一个按固定步长访问内存的程序上分别试试 1 和 16，\
                 对比“各级 TLB 命中率”图中 L2 的命中情况。",
            ),
        knob("mmu.concurrent_tlb_config.entries", int_in(ConcurrentTlbConfig::ENTRIES), "entries")
            .rules(&[Rule::MultipleOfKey("mmu.concurrent_tlb_config.shards")])
            .figures(&["tlb.levels", "tlb.walks", "tlb.hit_rate"])
            .help(
                "Total entries of the concurrent strategy's shared TLB, summed over its \
                 shards (each shard holds entries / shards). It stands in for both L1 and \
                 L2 for every hart. Raise it when the shared level's hit rate in the TLB \
                 chart is low and page-table walks are many. Must be a multiple of shards.",
                "concurrent 策略共享 TLB 的表项总数，按所有分片合计（每个分片 entries / shards 项）。\
                 它同时承担所有 hart 的 L1 和 L2 的角色。TLB 图表中共享级的命中率偏低、\
                 页表遍历次数又多时，可以调大。必须是 shards 的整数倍。",
            ),
        knob("mmu.concurrent_tlb_config.shards", int(1, 64), "shards")
            .figures(&["tlb.levels", "vcpus"])
            .help(
                "How many independently locked parts the concurrent TLB is split into; a \
                 page always goes to the same shard. More shards let more harts translate \
                 at the same time without waiting for one lock, but each shard is smaller, \
                 so busy pages that land in one shard evict each other. With several vCPUs, \
                 compare per-vCPU utilisation and the shared level's hit rate as you change \
                 it.",
                "concurrent TLB 切分成多少个各自加锁的分片；同一个页总是落在同一个分片里。\
                 分片越多，多个 hart 同时做地址转换时就越少在同一把锁上排队；但每个分片也越小，\
                 挤在同一分片里的热页会互相挤出。在多个 vCPU 下调整它，\
                 对比各 vCPU 的利用率和共享级 TLB 的命中率。",
            ),
    ]
}

/// `jit.*`: on/off and tiering, the adaptive threshold
/// ([`threshold_knobs`]), then the JIT's own bounds.
fn jit_knobs() -> Vec<KnobSpec> {
    let head = vec![
        knob("jit.enabled", KnobKind::Bool, "")
            .figures(&[
                "mips",
                "tiers.interpreter.instructions",
                "tiers.baseline.instructions",
                "tiers.optimizing.instructions",
                "jit.units_compiled",
            ])
            .help(
                "Compile hot guest code to WebAssembly. true: a unit (a block, or a region of \
                 one page) that runs often enough is compiled, first at the baseline tier and \
                 later at the optimizing one, and runs as wasm. false: the interpreter runs \
                 everything; that is the reference to measure the JIT against, and the way to \
                 rule the JIT out when a program misbehaves. Compare mips and the \
                 instructions retired per tier (tiers.interpreter.instructions, \
                 tiers.baseline.instructions, tiers.optimizing.instructions) with it on and \
                 off. For the other extreme, every unit through the JIT before its first \
                 execution, set jit.min_threshold=0, jit.max_threshold=0, \
                 jit.enable_compile_time_budget=false and jit.background_compile=false, plus \
                 jit.tier_up_threshold=0 for the optimizing tier.",
                "把热点客户机代码编译成 WebAssembly。true：执行得足够频繁的翻译单元（一个基本块，\
                 或同一页内的一片区域）会被编译，先编成基线层，之后再编成优化层，然后以 wasm 运行。\
                 false：全部由解释器执行；这是衡量 JIT 效果的基准，程序行为异常时也可以用它排除 JIT \
                 的嫌疑。开关前后对比 mips 以及各层执行的指令数（tiers.interpreter.instructions、\
                 tiers.baseline.instructions、tiers.optimizing.instructions）。\
                 想走另一个极端、让每个单元在第一次执行之前就经过 JIT，可以设置 jit.min_threshold=0、\
                 jit.max_threshold=0、jit.enable_compile_time_budget=false 和 jit.background_compile=false；\
                 再加上 jit.tier_up_threshold=0 则全部编成优化层。",
            ),
        knob("jit.tier_up_threshold", int_in(JitConfig::TIER_UP_THRESHOLD), "executions")
            .figures(&[
                "tiers.baseline.instructions",
                "tiers.optimizing.instructions",
                "jit.units_compiled",
                "jit.compile_ns",
            ])
            .help(
                "Execution count from which a unit gets the optimizing tier. A unit is first \
                 compiled when its execution count reaches the compile threshold: below \
                 tier_up_threshold it gets the baseline tier (one basic block, guest registers \
                 kept in memory, translated plainly: quick to compile), otherwise the \
                 optimizing tier (a region of several blocks within one 4 KiB page, registers \
                 in wasm locals, loops kept inside the function, constant folding, dead-write \
                 elimination: slower to compile, faster to run). A baseline unit is recompiled \
                 optimized when its count reaches tier_up_threshold. Lower it to reach fast \
                 code sooner at the price of more compile time; raise it to stay on cheap \
                 baseline compiles. 0 sends every compile straight to the optimizing tier; \
                 1000000000000 (the maximum) keeps every unit at the baseline tier. \
                 Watch the instructions retired per tier (tiers.baseline.instructions, \
                 tiers.optimizing.instructions), units compiled and compile time.",
                "翻译单元从第几次执行起改用优化层编译。单元的执行次数第一次达到编译阈值时被编译：\
                 若次数低于 tier_up_threshold，编成基线层（只含一个基本块，客户机寄存器放在内存里，\
                 逐条直译，编译快）；否则直接编成优化层（同一个 4 KiB 页内由多个基本块组成的区域，\
                 寄存器放在 wasm 局部变量里，循环留在函数内部，做常量折叠和死写消除，编译慢、运行快）。\
                 基线层的单元执行次数达到 tier_up_threshold 时，会被重新编译成优化层。\
                 调小可以更早用上快代码，代价是更多编译时间；调大则更多停留在便宜的基线编译上。\
                 设为 0 时，每次编译都直接编成优化层；\
                 设为 1000000000000（最大值）时，所有单元都停留在基线层。观察各层执行的指令数\
                 （tiers.baseline.instructions、tiers.optimizing.instructions）、\
                 编译的单元数和编译耗时。",
            ),
    ];
    let tail = vec![
        knob("jit.max_tracked_units", int_in(JitConfig::MAX_TRACKED_UNITS), "units")
            .figures(&["jit.tracked_units", "jit.units_forgotten", "memory.jit_tables_bytes"])
            .help(
                "Most translation units whose execution counts the JIT keeps, compiled or \
                 not. Every distinct entry point the guest reaches gets a count, so a program \
                 that jumps to millions of places would grow this table without end. When a \
                 new unit would pass the bound, the counts of units without compiled code are \
                 halved and those that reach 0 are forgotten (until a quarter of the table is \
                 free): rarely run code loses its history, hot code keeps it. Lower it to cap \
                 host memory (memory.jit_tables_bytes); raise it when jit.units_forgotten \
                 climbs and hot units take longer to reach the compile threshold. \
                 Default 65536.",
                "JIT 最多记录多少个翻译单元的执行次数（不论是否已编译）。客户机每到达一个不同的入口点，\
                 就要多记一个计数，因此一个跳到上百万个不同位置的程序会让这张表无限增长。\
                 新单元将超出上限时，所有尚无编译代码的单元计数减半，降到 0 的被遗忘（直到空出四分之一）：\
                 很少执行的代码失去历史，热点代码保留。调小可以限制宿主机内存（memory.jit_tables_bytes）；\
                 jit.units_forgotten 持续上升、热点单元迟迟达不到编译阈值时调大。默认 65536。",
            ),
        knob("jit.invalidation_limit", int_in(JitConfig::INVALIDATION_LIMIT), "invalidations")
            .figures(&["jit.invalidations", "jit.quarantines", "jit.units_compiled", "mips"])
            .help(
                "How many times a page's compiled code may be thrown away (the guest stored \
                 into the page, or ran fence.i), each within a guest second of the last, \
                 before the JIT stops compiling that page for a while: 0.1 guest seconds, \
                 doubling with each further invalidation up to 6.4 s. Self-modifying code \
                 and fence.i loops would otherwise be compiled again after every change, \
                 which costs far more than interpreting them. 0 never stops compiling: try \
                 it on the smc workload and compare mips, compile time and the invalidations \
                 per second in the compile chart. jit.quarantines counts the pages put \
                 aside. Default 4.",
                "一个页的编译代码在多少次被作废之后（客户机写了这个页，或执行了 fence.i；\
                 每次与上一次相隔不超过一个客户机秒），JIT 暂停编译这个页：先停 0.1 客户机秒，\
                 之后每多作废一次时间加倍，最长 6.4 秒。否则自修改代码和 fence.i 循环每改一次就要重新编译，\
                 代价远高于直接解释执行。设为 0 表示从不暂停：在 smc 工作负载上试一试，\
                 对比 mips、编译耗时以及编译图表里每秒的作废次数。jit.quarantines 统计被暂停的页数。默认 4。",
            ),
        knob("jit.chaining", KnobKind::Bool, "")
            .figures(&["jit.calls", "jit.chained", "mips"])
            .help(
                "Let compiled units go straight to each other. true: when an optimizing unit \
                 ends at the entry of another optimizing unit the dispatcher ran lately, it \
                 tail-calls that unit's code directly (a slot of the chain table in the hart's \
                 state block) instead of returning to the VM, which would look the pc up, copy \
                 32 registers out and in again and call the next unit. false: every unit \
                 returns to the dispatcher. Watch jit.calls (entries from the VM) against \
                 jit.chained (entries by chaining) and mips; programs with many small \
                 functions gain most, since every return ends a unit. Guest time stays exact \
                 either way. Default true.",
                "让编译好的单元之间直接跳转。true：一个优化层单元结束时，若下一个位置正是调度器\
                 最近运行过的另一个优化层单元的入口，就通过 hart 状态块里的链接表直接尾调用它的代码，\
                 而不是回到虚拟机（回到虚拟机要查找 pc、把 32 个寄存器拷出再拷入、再调用下一个单元）。\
                 false：每个单元都返回调度器。对比 jit.calls（从虚拟机进入的次数）、\
                 jit.chained（经链接进入的次数）和 mips；小函数多的程序收益最大，\
                 因为每次返回都会结束一个单元。两种设置下客户机时间都保持精确。默认 true。",
            ),
        knob("jit.return_guards", KnobKind::Bool, "")
            .figures(&["jit.calls", "jit.chained", "mips"])
            .help(
                "Keep calls and their returns inside one compiled unit. true: an optimizing \
                 unit that calls a function in its own 4 KiB page also takes the instructions \
                 after the call, and the function's return compares its target with those \
                 return addresses and goes on inside the unit on a match (a return-address \
                 guard; any other target leaves the unit as before); a return also compares \
                 its target with the unit's own entry, so a recursion unwinds inside the unit \
                 it returns to. false: every return ends the unit, and the next unit is \
                 entered by chaining or from the dispatcher. Watch jit.calls and jit.chained \
                 (entries into compiled code: far fewer with guards on programs with many \
                 small functions in one page) and mips. Default true.",
                "让函数调用及其返回留在同一个编译单元内。true：优化层单元调用自己所在 4 KiB 页内的函数时，\
                 也把调用之后的指令收进单元；函数返回时把目标地址与这些返回地址比较，\
                 相同就在单元内继续执行（返回地址守卫；其他目标照旧离开单元）；\
                 返回时还会与单元自己的入口比较，因此递归回退时留在它返回到的单元内。\
                 false：每次返回都结束单元，下一个单元通过链接或由调度器进入。\
                 对比 jit.calls 和 jit.chained（进入编译代码的次数：同一页里小函数多的程序\
                 在开启守卫时少得多）以及 mips。默认 true。",
            ),
        knob("jit.nested_calls", KnobKind::Bool, "")
            .figures(&["jit.chained", "jit.units_compiled", "mips"])
            .help(
                "Run a call that leaves its unit as a nested call of compiled code. true: \
                 when an optimizing unit calls a function outside itself (in another page, or \
                 through a register) whose compiled unit is in the chain table, it calls that \
                 unit as a wasm function and, when the guest returns to the instruction after \
                 the call, goes on inside the calling unit (one more entry instead of two, and \
                 no unit of its own for the return address). false: the call ends the unit \
                 and the return enters another unit. Needs jit.chaining. Watch jit.chained, \
                 jit.units_compiled and mips: long runs with many calls between pages or \
                 through function pointers gain most; short runs can lose, since units grow \
                 by their continuations and take longer to compile. Default false.",
                "把离开本单元的函数调用作为编译代码的嵌套调用来执行。true：优化层单元调用单元之外\
                 （另一页里、或经寄存器间接调用）的函数时，若链接表里有该函数的编译单元，\
                 就把它当作 wasm 函数来调用；客户机返回到调用指令的下一条时，在调用方单元内继续执行\
                 （进入编译代码少一次，返回地址也不必有自己的单元）。false：调用结束本单元，\
                 返回时进入另一个单元。需要 jit.chaining。对比 jit.chained、jit.units_compiled \
                 和 mips：跨页调用或函数指针调用多、运行时间长的程序收益最大；运行时间短的程序\
                 可能变慢，因为单元连同调用后的续点一起变大，编译更久。默认 false。",
            ),
        knob("jit.jump_targets", int_in(JitConfig::JUMP_TARGETS), "targets")
            .figures(&["jit.calls", "jit.chained", "jit.compile_ns", "mips"])
            .help(
                "How many targets of one indirect jump an optimizing unit may keep inside \
                 itself. The interpreter notes where each `jalr` that is not a return jumps (a \
                 switch's jump table, a call through a function pointer or vtable); when a \
                 unit holding that jump is compiled, the targets seen most often become blocks \
                 of the unit, and the jump compares its computed target with each before it \
                 goes there (any other target leaves the unit as before). 0: every such jump \
                 ends its unit, and its target is entered again by chaining or from the \
                 dispatcher. More: fewer entries into compiled code where a state machine or an \
                 interpreter loop dispatches through a table, at the price of bigger units and \
                 a compare per target kept. Watch jit.calls and jit.chained (entries into \
                 compiled code), jit.compile_ns and mips. 0 to 16. Default 16.",
                "一个优化层单元最多可以把一条间接跳转的多少个目标留在单元内。解释器会记下每条\
                 不是函数返回的 `jalr` 跳到了哪里（switch 的跳转表、经函数指针或虚表的调用）；\
                 编译包含这条跳转的单元时，最常见的目标成为单元内的块，跳转先把算出的目标与它们\
                 逐一比较，相同就跳到对应的块（其他目标照旧离开单元）。0：每条这样的跳转都结束\
                 所在单元，目标要再通过链接或由调度器进入。更大：状态机或解释器循环经跳转表分派时\
                 进入编译代码的次数更少，代价是单元更大、每个保留的目标多一次比较。对比 \
                 jit.calls 和 jit.chained（进入编译代码的次数）、jit.compile_ns 以及 mips。\
                 取值 0 到 16。默认 16。",
            ),
        knob("jit.miss_recompiles", int_in(JitConfig::MISS_RECOMPILES), "compiles")
            .figures(&["jit.recompiles", "jit.chained", "mips"])
            .help(
                "How many times an optimizing unit may be compiled again because its indirect \
                 jumps keep going where it did not expect. A unit keeps the targets the \
                 interpreter saw before it was compiled (jit.jump_targets); a call through a \
                 function pointer that later goes elsewhere (a sort given another comparator, a \
                 state machine entering a new phase) leaves the unit at every such jump. The \
                 unit notes those misses; once enough of them go to a target the profile now \
                 counts among the frequent ones, the unit is compiled again with it inside. 0: a \
                 unit keeps what it was first compiled with. More: fewer entries into compiled \
                 code for programs whose indirect targets change over the run, at the price of \
                 more compiles. Needs jit.jump_targets > 0. Watch jit.recompiles, jit.chained \
                 and mips. 0 to 8. Default 2.",
                "一个优化层单元因间接跳转总是跳到意料之外的地方而可以被重新编译的次数。单元只保留\
                 编译之前解释器见过的目标（jit.jump_targets）；经函数指针的调用后来若去了别处\
                 （排序换了比较函数、状态机进入新阶段），每次这样的跳转都会离开单元。单元会记下\
                 这些未命中；当足够多的未命中跳向一个画像中已算常见的目标时，就把单元连同这个目标\
                 重新编译一次。0：单元一直保持首次编译的样子。更大：间接目标在运行中变化的程序\
                 进入编译代码的次数更少，代价是编译更多。需要 jit.jump_targets > 0。对比 \
                 jit.recompiles、jit.chained 以及 mips。取值 0 到 8。默认 2。",
            ),
        knob("jit.access_groups", KnobKind::Bool, "")
            .figures(&["mips"])
            .help(
                "Check the loads and stores of a group once. true: in an optimizing unit, loads \
                 and stores off one base register in one block with no write to that register \
                 between them (a function's prologue and epilogue, the fields of one struct) are \
                 checked once, at the first, for the whole byte range they reach (inside guest \
                 RAM, and no translated code on the pages they store to); the others run without \
                 a check of their own. A failed check leaves for the interpreter before the \
                 first, which then runs each access itself. false: every load and store checks \
                 itself. Untranslated accesses only, and not with mmu.strict_align. Watch mips: \
                 call-heavy code gains most. Default true.",
                "一组读写只检查一次。true：优化层单元里，同一个块中以同一个基址寄存器寻址、其\
                 间不改写该寄存器的读写（函数的序言和尾声、同一个结构体的各个字段）只在第一次访问\
                 时按它们涉及的整段字节检查一次（在客户机内存之内，且写到的页上没有已翻译的代码）\
                 ，其余访问不再各自检查。检查失败时在第一次访问之前离开，交给解释器逐条执行。fa\
                 lse：每次读写各自检查。只用于不经地址翻译的访问，且 mmu.strict_a\
                 lign 关闭时。对比 mips：函数调用多的代码收益最大。默认 true。",
            ),
        knob("jit.counted_loops", KnobKind::Bool, "")
            .figures(&["mips"])
            .help(
                "Run counted loops without checks. true: in an optimizing unit, a loop of one \
                 block that goes round while a register stepped by a constant (`addi` or `addiw`) \
                 differs from, or has not yet passed, one the loop does not change or reloads from \
                 memory it does not store to (`bne`, `blt`, `bltu`, `bge` or `bgeu` on a pointer \
                 or a counter: copies, sums, matrix rows, `i < n`), whose loads and stores are off registers the loop does not change or \
                 steps by constants (or off one of those plus such a counter, zero-extended and \
                 scaled: `a[i]` with an unsigned 32-bit `i`), computes at its entry how many iterations surely go round \
                 and checks once that every access of them stays inside guest RAM, stores to no \
                 page of translated code, and fits the budget; then it runs those iterations with \
                 no check at all, and the rest with every check. false: every iteration checks \
                 each access and the budget. Untranslated accesses only, and not with \
                 mmu.strict_align. Watch mips: loop-heavy code gains most. Default true.",
                "不加检查地运行计数循环。true：优化层单元里，只有一个块的循环，若它在一个按常\
                 数步进（addi 或 addiw）的寄存器与一个循环内不改写（或每次从循环不写的内存重新读出）\
                 的寄存器不相等、或尚未越过它时继续（对指针或计数器的 bne、blt、bltu、bge 或 bgeu\
                 ：复制、求和、矩阵的行、i < n），且其读写都以循环内不改写或按常数步进的寄存\
                 器为基址（或以这样的寄存器加上零扩展并按比例放大的计数器为基址：无符号 32 位 i \
                 的 a[i]），就在入口处算出必定继续的迭代次数，并一次检查这些迭代的每次访问都在客户\
                 机内存之内、不写到有已翻译代码的页、且预算足够；之后这些迭代不做任何检查地运行，\
                 其余迭代照常检查。false：每次迭代都检查每次访问和预算。只用于不经地址翻译的\
                 访问，且 mmu.strict_align 关闭时。对比 mips：循环多的代码\
                 收益最大。默认 true。",
            ),
        knob("jit.unit_pages", int_in(JitConfig::UNIT_PAGES), "pages")
            .figures(&["jit.calls", "jit.chained", "jit.compile_ns", "mips"])
            .help(
                "How many 4 KiB pages of guest code one optimizing unit may span when \
                 instruction fetch is untranslated (M-mode, or satp bare; under Sv39 a unit \
                 keeps to its entry's page whatever this says). 1: a unit stops at its page's \
                 edge, so a call into a function on another page, its return, and a loop that \
                 crosses a page boundary each leave the unit and enter the next by chaining or \
                 from the dispatcher. More: the unit follows branches, jumps and calls into \
                 other pages too, up to this many, and a store into any of them throws the \
                 unit away. Watch jit.calls and jit.chained (entries into compiled code: fewer \
                 with more pages on programs whose functions call across pages), the compile \
                 time and mips: units grow, and a function is compiled again into every unit \
                 that calls it, so compiling costs more (on mixbench 4 pages enter compiled \
                 code about half as often as 1, and long runs are 1.1x faster). 1 to 16. \
                 Default 4.",
                "地址翻译关闭时（M 模式，或 satp 为 bare；在 Sv39 下单元总是留在入口所在的页内，\
                 与此设置无关），一个优化层单元最多可以跨越多少个 4 KiB 的客户机代码页。\
                 1：单元到页边界就结束，因此调用另一页上的函数、函数返回、跨页的循环都会离开单元，\
                 再通过链接或由调度器进入下一个单元。更大：单元也沿分支、跳转和调用进入其他页，\
                 最多这么多页；写入其中任何一页都会作废该单元。对比 jit.calls 和 jit.chained\
                 （进入编译代码的次数：函数跨页调用的程序在页数更多时更少）、编译耗时以及 mips：\
                 单元变大，同一个函数会被编译进每个调用它的单元，编译代价随之上升\
                 （在 mixbench 上，4 页时进入编译代码的次数约为 1 页时的一半，长时间运行快约 \
                 1.1 倍）。取值 1 到 16。默认 4。",
            ),
        knob("jit.stop_at_units", KnobKind::Bool, "")
            .figures(&[
                "jit.instructions_compiled",
                "jit.compile_ns",
                "tiers.interpreter.instructions",
                "jit.chained",
                "mips",
            ])
            .help(
                "End an optimizing unit where another one starts. true: while an optimizing unit \
                 is discovered, a branch or jump to the entry of another optimizing unit that is \
                 compiled (or compiling) becomes an exit into that unit instead of a copy of its \
                 code, unless that unit leaves to this one's entry (then the two would split a \
                 loop), so each hot instruction is compiled about once instead of into every unit \
                 that reaches it. false: a unit takes whatever code it reaches within its limits, \
                 compiled elsewhere or not. Watch jit.instructions_compiled and jit.compile_ns \
                 (on mixbench about half the instructions compiled and a third less compile time \
                 with true), tiers.interpreter.instructions (less of the run waits for its \
                 compiled code), jit.chained and mips: control crosses from unit to unit more \
                 often (on mixbench 1.3-1.9x the chained entries), and yet with true mixbench ran \
                 1.13x faster in the page and cpubench up to 1.1x natively. Default true.",
                "优化层单元在另一个单元的入口处结束。true：发现一个优化层单元时，若分支或跳转\
                 的目标是另一个已编译（或正在编译）的优化层单元的入口，就在那里离开本单元、进入那\
                 个单元，而不是把它的代码再复制一份（除非那个单元会跳回本单元的入口：那样两者会把\
                 一个循环切成两半），因此每条热指令大约只编译一次，而不是编进每个能到达它的单元。\
                 false：单元在上限之内取它能到达的所有代码，不管别处是否已经编译过。对比 j\
                 it.instructions_compiled 和 jit.compile_n\
                 s（在 mixbench 上为 true 时编译的指令约少一半，编译时间少三分之\
                 一）、tiers.interpreter.instructions（等待编译代码\
                 时解释执行的部分更少）、jit.chained 以及 mips：控制在单元之间转\
                 移得更频繁（在 mixbench 上链接进入的次数是 1.3 到 1.9 倍），\
                 尽管如此，为 true 时 mixbench 在页面中快 1.13 倍，cpub\
                 ench 在本机上最多快 1.1 倍。默认 true。",
            ),
        knob("jit.max_unit_insns", int_in(JitConfig::MAX_UNIT_INSNS), "instructions")
            .figures(&[
                "jit.compile_ns",
                "tiers.interpreter.instructions",
                "jit.calls",
                "jit.chained",
                "mips",
            ])
            .help(
                "The most guest instructions one optimizing unit may hold (the baseline tier \
                 takes one block). Discovery takes the blocks nearest the entry first (a loop's \
                 body before a long path out of it), so a smaller limit keeps the hot loop and \
                 drops what lies further away. Smaller: each unit compiles sooner and more \
                 cheaply, so less of the run waits in the interpreter for its first optimized \
                 code, but code beyond the limit becomes another unit (more entries into compiled \
                 code). Larger: fewer, bigger units that take longer to compile. Watch \
                 jit.compile_ns (per unit and in total), the instructions run at each tier, \
                 jit.calls and jit.chained, and mips. 16 to 1024. Default 128.",
                "一个优化层单元最多包含多少条客户机指令（基线层只取一个基本块）。发现单元时先取离\
                 入口最近的块（循环体先于离开循环的长路径），所以上限较小时保留热循环，舍去较远的\
                 代码。更小：每个单元编译得更快、更便宜，运行中在解释器里等待第一份优化代码的部分\
                 更少，但超出上限的代码成为另一个单元（进入编译代码的次数更多）。更大：单元更少更\
                 大，编译更久。对比 jit.compile_ns（每个单元和总计）、各层执行的指\
                 令数、jit.calls 和 jit.chained 以及 mips。取值 16\
                 到 1024。默认 128。",
            ),
        knob("jit.background_compile", KnobKind::Bool, "")
            .figures(&["jit.compile_waited_ns", "jit.compile_ns", "mips"])
            .help(
                "Compile off the guest's path while it runs on: natively on the machine's \
                 compile thread, in the page with WebAssembly.compile, whose promise settles \
                 between two run slices. true: a unit that reaches its threshold is \
                 code-generated at once and handed to the engine; meanwhile it runs \
                 interpreted (or at its old tier), and its code is installed at the first \
                 dispatch after the compile ends (jit.compile_latency_ns: how long that took). \
                 The guest then waits only for code generation and instantiation \
                 (jit.compile_waited_ns) instead of the whole compile (jit.compile_ns), and \
                 the compile-time budget and the adaptive threshold count what it waited. \
                 false: the guest waits for every compile, so which instructions run at which \
                 tier is reproducible from run to run (tests and exact comparisons want \
                 this). Default true natively and false in the page: in Chromium a compile \
                 took about 6 ms to settle, against about 0.6 ms for a synchronous one, and \
                 cpubench's first run in a fresh page took 13-20 % longer with it on.",
                "在客户机的执行路径之外编译，客户机同时继续运行：原生在机器的编译线程上，页面里用 \
                 WebAssembly.compile，它的 promise 在两个运行时间片之间兑现。true：单元达到阈值时\
                 立即生成代码并交给引擎；在此期间该单元解释执行（或以原来的层级执行），编译完成后\
                 的第一次调度时装入新代码（jit.compile_latency_ns：这段时间有多长）。客户机只需等待\
                 代码生成和实例化（jit.compile_waited_ns），而不是整个编译（jit.compile_ns），编译\
                 时间预算和自适应阈值计入的也是实际等待的时间。false：客户机等待每次编译，因此每条\
                 指令在哪一层执行在多次运行之间可以复现（测试和精确对比需要这样）。原生默认 true，\
                 页面里默认 false：在 Chromium 中一次编译约 6 毫秒才兑现，而同步编译约 0.6 毫秒；\
                 打开它时，新页面中 cpubench 的第一次运行多用了 13-20% 的时间。",
            ),
        knob("jit.inline_tlb_entries", int_in(JitConfig::INLINE_TLB_ENTRIES), "entries")
            .figures(&["jit.inline_tlb_fills", "jit.calls", "mips"])
            .help(
                "Entries of the JIT's inline TLB: the translations compiled loads and stores use \
                 without leaving compiled code (direct-mapped by page number, one per hart, in \
                 its state block). A compiled access whose page is not there leaves for the \
                 interpreter, which translates it through the MMU and fills the entry. Raise it \
                 when a program under Sv39 touches more pages than this in a loop: jit.calls (one \
                 per exit to the VM) and jit.inline_tlb_fills climb and mips drops; the MMU's own \
                 TLBs (mmu.multilevel_tlb_config) then see only what it misses. A power of two \
                 from 16 to 4096; each entry is 32 bytes of host memory. Default 256.",
                "JIT 内联 TLB 的项数：编译后的加载和存储不离开编译代码就能直接使用的地址翻译（按页号直接映射，每个 hart 一份，放在它的状态块里）。页不在其中的编译访问会交给解释器，由解释器经 MMU 翻译并填入该项。程序在 Sv39 下循环访问的页数超过这个值时调大：jit.calls（每次退回虚拟机算一次）和 jit.inline_tlb_fills 持续上升、mips 下降；这时 MMU 自己的 TLB（mmu.multilevel_tlb_config）只看到它没命中的访问。取值 16 到 4096 之间的 2 的幂；每项占 32 字节宿主机内存。默认 256。",
            ),
    ];
    [head, threshold_knobs(), tail].concat()
}

/// The `jit.*` knobs of the guide's `AdaptiveThresholdConfig`: the compile
/// threshold, how it adapts, and the compile-time budget.
fn threshold_knobs() -> Vec<KnobSpec> {
    vec![
        knob("jit.min_threshold", int_in(AdaptiveThresholdConfig::THRESHOLD), "executions")
            .rules(&[Rule::AtMostKey("jit.max_threshold")])
            .figures(&[
                "jit.threshold_series",
                "jit.units_compiled",
                "jit.compile_ns",
                "tiers.interpreter.instructions",
            ])
            .help(
                "The lowest the compile threshold goes, and where it starts. A unit is \
                 compiled once its execution count (how many times it was dispatched) reaches \
                 the threshold. The threshold then adapts: every jit.sample_window executions \
                 it falls by a fifth when compiled code saved more than compiling cost (as \
                 the two weights count them) and rises by a quarter when compiling cost more, \
                 always kept between min_threshold and max_threshold. Lower it to compile hot \
                 code sooner (short programs, tight loops); raise it so that code which runs \
                 only a few times is never compiled, since it cannot earn its compile back. 0 \
                 means compile before the first execution: with jit.max_threshold=0, \
                 jit.enable_compile_time_budget=false and jit.background_compile=false every \
                 unit goes through the JIT. Watch \
                 the threshold over time (jit.threshold_series), units compiled, compile time \
                 and the interpreter's share of instructions. At most jit.max_threshold.",
                "编译阈值的下限，也是阈值的初始值。翻译单元的执行次数（被调度执行的次数）达到阈值时\
                 就会被编译。之后阈值会自动调整：每经过 jit.sample_window 次执行，如果编译后的代码\
                 省下的时间超过编译花掉的时间（按两个权重折算），阈值就降低五分之一；反之则升高四分之一；\
                 始终保持在 min_threshold 和 max_threshold 之间。调小可以更早编译热点代码（适合短程序、\
                 紧凑的循环）；调大则让只跑几次的代码永远不被编译，因为它赚不回编译的开销。\
                 0 表示在第一次执行之前就编译：再配上 jit.max_threshold=0、\
                 jit.enable_compile_time_budget=false 和 jit.background_compile=false，所有单元都会经过 JIT。\
                 观察阈值随时间的变化（jit.threshold_series）、编译的单元数、编译耗时以及解释器执行\
                 指令所占的比例。不能大于 jit.max_threshold。",
            ),
        knob("jit.max_threshold", int_in(AdaptiveThresholdConfig::THRESHOLD), "executions")
            .figures(&["jit.threshold_series", "jit.units_compiled", "tiers.interpreter.instructions"])
            .help(
                "The highest the compile threshold climbs when compiling does not pay (each \
                 sample window whose score is below 0 raises it by a quarter, up to this \
                 value). Raise it to hold back compiles in programs with much lukewarm code; \
                 too high and the hot loops of a short program finish before they are \
                 compiled. Equal to jit.min_threshold fixes the threshold. If \
                 jit.threshold_series sits at max_threshold, compile cost dominates: look at \
                 compile time and the weights. At least jit.min_threshold; 0 together with \
                 jit.min_threshold=0 (and the budget off) compiles every unit before its \
                 first execution.",
                "编译不划算时，编译阈值最多能升到多高（每个得分低于 0 的采样窗口都会让阈值升高四分之一，\
                 直到这个值为止）。程序里不冷不热的代码很多时可以调大，以减少编译；调得太高，\
                 短程序的热点循环可能还没等到编译就已经跑完了。与 jit.min_threshold 相等时阈值固定不变。\
                 如果 jit.threshold_series 一直停在 max_threshold，说明编译开销占了上风，\
                 去看看编译耗时和两个权重。不能小于 jit.min_threshold；\
                 与 jit.min_threshold 同时设为 0（并关闭预算）时，每个单元都在第一次执行之前编译。",
            ),
        knob("jit.sample_window", int_in(AdaptiveThresholdConfig::SAMPLE_WINDOW), "executions")
            .figures(&["jit.threshold_series", "jit.compile_ns", "jit.units_compiled"])
            .help(
                "How many executions (dispatches of units, all units together) make one \
                 sample window. At the end of each window the threshold is re-weighed from \
                 the compile time C spent in the window and the time B compiled code saved \
                 in it: score = (exec_benefit_weight x B - compile_time_weight x C) / (B + \
                 C); above 0 the threshold falls by a fifth, below 0 it rises by a quarter, \
                 then it is clamped \
                 to [min_threshold, max_threshold]. The compile-time budget refills with \
                 every window. A short window follows phase changes quickly but judges \
                 compiles on little benefit (a unit compiled late in a window has had no time \
                 to pay back) and refills the budget often; a long one is steadier and reacts \
                 slowly. Each window adds one point to jit.threshold_series.",
                "多少次执行（所有翻译单元的调度次数合计）构成一个采样窗口。每个窗口结束时，\
                 根据窗口内的编译时间 C 和编译后代码省下的时间 B 重新评估阈值：\
                 得分 = (exec_benefit_weight × B - compile_time_weight × C) / (B + C)；\
                 得分大于 0 时阈值降低五分之一，小于 0 时升高四分之一，再限制在 \
                 [min_threshold, max_threshold] 之内。编译时间预算也按窗口重新补满。\
                 窗口短，能很快跟上程序阶段的变化，但评判编译时依据的收益太少\
                 （窗口末尾才编译的单元还没来得及回本），预算也补得频繁；窗口长则更平稳、反应更慢。\
                 每个窗口在 jit.threshold_series 上留下一个点。",
            ),
        knob("jit.compile_time_weight", float_in(AdaptiveThresholdConfig::WEIGHT), "")
            .figures(&["jit.threshold_series", "jit.compile_ns", "jit.units_compiled"])
            .help(
                "How much a nanosecond spent compiling counts against lowering the threshold: \
                 the weight of C in the window score (exec_benefit_weight x B - \
                 compile_time_weight x C) / (B + C). Raise it (relative to \
                 exec_benefit_weight) to make the threshold climb sooner when compiles are \
                 expensive, so fewer units are compiled, later; 0 ignores compile time, so \
                 the threshold never rises. With the defaults (0.3 and 0.7) the threshold \
                 falls when the time saved is more than 3/7 of the compile time. Watch \
                 jit.threshold_series and the compile time (jit.compile_ns).",
                "编译所花的每一纳秒在“要不要降低阈值”的权衡中占多大分量，即窗口得分 \
                 (exec_benefit_weight × B - compile_time_weight × C) / (B + C) 中 C 的权重。\
                 （相对 exec_benefit_weight）调大后，编译代价高时阈值会更早升高，\
                 编译的单元更少、更晚；设为 0 则完全不计编译时间，阈值永远不会升高。\
                 按默认值（0.3 和 0.7），省下的时间超过编译时间的 3/7 时阈值就会降低。\
                 观察 jit.threshold_series 和编译耗时（jit.compile_ns）。",
            ),
        knob("jit.exec_benefit_weight", float_in(AdaptiveThresholdConfig::WEIGHT), "")
            .figures(&["jit.threshold_series", "tiers.interpreter.instructions", "mips"])
            .help(
                "How much a nanosecond saved by compiled code counts for lowering the \
                 threshold: the weight of B in the window score (exec_benefit_weight x B - \
                 compile_time_weight x C) / (B + C). B is measured per run slice: the time \
                 the interpreter would have taken for the slice's instructions minus the time \
                 the slice took, compile time excluded. Raise it to compile more eagerly when \
                 compiled code pays off; 0 ignores the benefit, so the threshold never falls; \
                 with both weights 0 the threshold never moves. Watch jit.threshold_series, \
                 the interpreter's share of instructions (tiers.interpreter.instructions) \
                 and mips.",
                "编译后代码省下的每一纳秒在“要不要降低阈值”的权衡中占多大分量，即窗口得分 \
                 (exec_benefit_weight × B - compile_time_weight × C) / (B + C) 中 B 的权重。\
                 B 按运行时间片测量：解释器执行这个时间片的指令本应花的时间，减去这个时间片实际花的时间\
                 （不含编译时间）。编译后的代码确实划算时调大，编译会更积极；设为 0 则不计收益，\
                 阈值永远不会降低；两个权重都为 0 时阈值完全不动。观察 jit.threshold_series、\
                 解释器执行指令所占的比例（tiers.interpreter.instructions）和 mips。",
            ),
        knob(
            "jit.compile_time_budget_ns",
            int_in(AdaptiveThresholdConfig::COMPILE_TIME_BUDGET_NS),
            "nanoseconds",
        )
        .figures(&[
            "jit.compile_ns",
            "jit.compile_waits",
            "jit.units_compiled",
            "tiers.interpreter.instructions",
        ])
        .help(
            "Compile time allowed per sample window when jit.enable_compile_time_budget is \
             on. A compile starts only if the window's compile time so far plus the \
             compile's estimate fits in the budget, so the compile time of one window does \
             not exceed it (unless a compile runs over its estimate). A unit that does not \
             fit waits, keeps running where it is, and is compiled in a later window, when \
             the budget has refilled; one whose estimate alone exceeds the budget is never \
             compiled. Lower it to spread compiles out so a start-up compile storm does not \
             stall the guest; raise it when big hot units stay interpreted. Watch compile \
             time (jit.compile_ns), the compiles that waited (jit.compile_waits), units \
             compiled and the interpreter's share of instructions. Default 10 ms.",
            "启用 jit.enable_compile_time_budget 时，每个采样窗口允许的编译时间。\
             只有当窗口内已花的编译时间加上这次编译的估计时间不超过预算时，编译才会开始，\
             因此一个窗口的编译时间不会超过预算（除非某次编译实际耗时超出了估计）。\
             放不下的单元要等待，暂时照旧运行，等到之后预算补满的窗口再编译；\
             估计时间本身就超过整个预算的单元永远不会被编译。调小可以把编译分散开，\
             避免启动时的编译风暴让客户机卡住；大的热点单元一直停留在解释器里时调大。\
             观察编译耗时（jit.compile_ns）、因预算而等待的编译次数（jit.compile_waits）、\
             编译的单元数和解释器执行指令所占的比例。默认 10 毫秒。",
        ),
        knob("jit.enable_compile_time_budget", KnobKind::Bool, "")
            .figures(&["jit.compile_ns", "jit.compile_waits", "jit.units_compiled", "mips"])
            .help(
                "Enforce jit.compile_time_budget_ns. Off, every compile the threshold asks \
                 for happens at once, however much compile time a window adds up to: a \
                 compile storm at start-up can stall the guest, but which unit is compiled \
                 to which tier, and when, depends only on execution counts (fully \
                 reproducible when jit.min_threshold equals jit.max_threshold). Turn it off \
                 together with jit.min_threshold=0, jit.max_threshold=0 and \
                 jit.background_compile=false to force every unit through the JIT. Compare compile time (jit.compile_ns), compiles that \
                 waited (jit.compile_waits; always 0 when off), units compiled and mips with \
                 it on and off.",
                "是否执行编译时间预算 jit.compile_time_budget_ns。关闭后，阈值要求的每次编译都立即进行，\
                 不管一个窗口里的编译时间加起来有多长：启动时的编译风暴可能让客户机卡住，\
                 但哪个单元在何时被编译成哪一层只取决于执行次数（jit.min_threshold 等于 \
                 jit.max_threshold 时完全可复现）。与 jit.min_threshold=0、jit.max_threshold=0、\
                 jit.background_compile=false 一起设置，就能让每个单元都经过 JIT。开关前后对比编译耗时（jit.compile_ns）、\
                 因预算而等待的编译次数（jit.compile_waits，关闭时恒为 0）、编译的单元数和 mips。",
            ),
    ]
}

/// `code_cache.*`: the limits of the code cache and its eviction policy.
fn code_cache_knobs() -> Vec<KnobSpec> {
    vec![
        knob("code_cache.max_entries", int_in(CacheConfig::MAX_ENTRIES), "units")
            .figures(&[
                "code_cache.entries",
                "code_cache.evictions",
                "code_cache.hit_rate",
                "jit.units_compiled",
                "code_cache.live_instances",
            ])
            .help(
                "Most compiled translation units the code cache holds at once. Inserting \
                 into a full cache first evicts a unit chosen by code_cache.eviction_policy. \
                 Too small for the program's hot code and the same units are evicted and \
                 recompiled over and over: code_cache.evictions and jit.units_compiled climb \
                 and code_cache.hit_rate falls. Larger costs host memory: the cache's \
                 bookkeeping and the wasm modules behind its units (code_cache.entries, \
                 code_cache.live_instances). Shrink it to watch eviction at work.",
                "代码缓存最多同时保存多少个已编译的翻译单元。缓存满时插入新单元，会先按 \
                 code_cache.eviction_policy 挑一个单元淘汰。如果它装不下程序的热点代码，\
                 同一批单元就会被反复淘汰、反复编译：code_cache.evictions 和 jit.units_compiled \
                 不断上升，code_cache.hit_rate 下降。调大则要占用更多宿主机内存：缓存自身的簿记\
                 以及单元背后的 wasm 模块（code_cache.entries、code_cache.live_instances）。\
                 调小可以直观地观察淘汰过程。",
            ),
        knob("code_cache.max_memory_bytes", int_in(CacheConfig::MAX_MEMORY_BYTES), "bytes")
            .figures(&[
                "code_cache.bytes",
                "code_cache.evictions",
                "code_cache.hit_rate",
                "code_cache.live_instances",
            ])
            .help(
                "Most bytes of generated code the cache holds at once: the sizes of the \
                 generated wasm modules, summed (the engine's own machine code for them comes \
                 on top and is not counted). An insert evicts units by \
                 code_cache.eviction_policy until the new one fits; a unit larger than the \
                 whole limit is not cached and stays interpreted. Shrink it to bound memory \
                 in the browser or to provoke evictions; raise it when code_cache.bytes sits \
                 at the limit and code_cache.evictions keeps growing. 64 KiB to 4 GiB.",
                "代码缓存最多同时保存多少字节的生成代码，按生成的 wasm 模块大小合计\
                 （引擎为这些模块生成的机器码另算，不计在内）。插入新单元时，会按 \
                 code_cache.eviction_policy 淘汰单元，直到放得下为止；比整个上限还大的单元不进缓存，\
                 继续由解释器执行。想限制浏览器里的内存占用或者故意制造淘汰时调小；\
                 code_cache.bytes 一直顶在上限、code_cache.evictions 不断增长时调大。\
                 取值 64 KiB 到 4 GiB。",
            ),
        knob("code_cache.eviction_policy", KnobKind::Enum { values: enum_values::<EvictionPolicy>() }, "")
            .figures(&["code_cache.hit_rate", "code_cache.evictions", "jit.units_compiled"])
            .help(
                "Which unit goes when a limit is reached. lru: the least recently used \
                 (last insert or hit); cheap and quick to follow a phase change, but a burst \
                 of one-off units longer than the free room pushes the hot code out. lfu: \
                 the lowest hotness (hits, decayed by code_cache.hotness_decay_factor), ties \
                 to the least recently used; keeps the hot core through any scan, but after \
                 a phase change the old hot units stay until decay wears them down, and \
                 newcomers evicted before their first hit may never get in. lru_lfu: \
                 recency plus a credit for hotness, score = last use + credit x log2(1 + \
                 hotness), lowest first, where last use is counted in admissions and credit \
                 is half of max_entries admissions: each doubling of hotness lets a unit \
                 outlive an unused one by credit admissions. Under lfu and lru_lfu, units \
                 still warming up (code_cache.warmup_size) are evicted last. Compare \
                 code_cache.hit_rate, code_cache.evictions and recompiles \
                 (jit.units_compiled).",
                "达到上限时淘汰哪个单元。lru：最久未使用的（按最后一次插入或命中）；开销小，\
                 程序换阶段时跟得快，但一串只用一次的单元只要超过剩余空间，就会把热点代码挤出去。\
                 lfu：热度最低的（命中次数，按 code_cache.hotness_decay_factor 衰减），\
                 热度相同则淘汰最久未使用的；任何一次扫描都挤不走热点核心，但程序换阶段后，\
                 旧的热点单元要等衰减把热度磨掉才会离开，而新单元在第一次命中前就被淘汰的话，\
                 热度一直是 0，可能永远进不来。lru_lfu：最近使用加上热度积分，\
                 得分 = 最后使用时刻 + credit × log2(1 + 热度)，得分最低的先淘汰；\
                 其中最后使用时刻以准入次数计，credit 为 max_entries 的一半（以准入次数计）：\
                 热度每翻一番，单元就能比不被使用的单元多存活 credit 次准入。\
                 在 lfu 和 lru_lfu 下，仍在预热期（code_cache.warmup_size）的单元最后才被淘汰。\
                 对比 code_cache.hit_rate、code_cache.evictions 和重新编译的次数（jit.units_compiled）。",
            ),
        knob("code_cache.cleanup_interval_secs", int_in(CacheConfig::CLEANUP_INTERVAL_SECS), "seconds")
            .figures(&["code_cache.hit_rate", "code_cache.evictions"])
            .help(
                "Guest seconds between cleanups. A cleanup multiplies every unit's hotness by \
                 code_cache.hotness_decay_factor; it never removes units. The clock is guest \
                 time: one guest second is 100 million guest cycles (the nominal 100 MHz \
                 clock), so runs are reproducible and the CLI and the page agree; a short \
                 program may never reach the first cleanup. Shorter: lfu and lru_lfu forget \
                 old popularity sooner and follow phase changes faster, but also forget hot \
                 code that is merely paused. No effect under lru. Watch code_cache.hit_rate \
                 and code_cache.evictions. 1 to 86 400 (a day).",
                "两次清理之间相隔多少客户机秒。每次清理把所有单元的热度乘以 \
                 code_cache.hotness_decay_factor，但从不移除单元。这里的时间是客户机时间：\
                 一个客户机秒等于 1 亿个客户机周期（名义时钟 100 MHz），因此运行结果可复现，\
                 命令行和网页的结果也一致；短程序可能根本等不到第一次清理。\
                 间隔越短，lfu 和 lru_lfu 越快忘掉过去的热度，越快跟上程序阶段的变化，\
                 但也会忘掉只是暂时不用的热点代码。lru 策略下不起作用。\
                 观察 code_cache.hit_rate 和 code_cache.evictions。取值 1 到 86400（一天）。",
            ),
        knob("code_cache.hotness_decay_factor", float_in(CacheConfig::HOTNESS_DECAY_FACTOR), "")
            .figures(&["code_cache.hit_rate", "code_cache.evictions"])
            .help(
                "Factor applied to every unit's hotness at each cleanup (every \
                 code_cache.cleanup_interval_secs of guest time). 1 never forgets: lfu then \
                 keeps units that were hot long ago. 0 forgets everything at each cleanup: \
                 right after one, lfu and lru_lfu rank by recency alone. Lower it for \
                 programs that move through phases; raise it for programs with one steady \
                 hot core. No effect under lru. Watch code_cache.hit_rate and \
                 code_cache.evictions. 0 to 1.",
                "每次清理（每隔 code_cache.cleanup_interval_secs 客户机秒）时乘到每个单元热度上的系数。\
                 1 表示永不遗忘：lfu 会一直留着很久以前热过的单元。0 表示每次清理都忘掉一切：\
                 刚清理完时，lfu 和 lru_lfu 只按最近使用排序。程序分成多个阶段时调小；\
                 程序始终只有一个稳定的热点核心时调大。lru 策略下不起作用。\
                 观察 code_cache.hit_rate 和 code_cache.evictions。取值 0 到 1。",
            ),
        knob("code_cache.warmup_size", int_in(CacheConfig::WARMUP_SIZE), "admissions")
            .figures(&["code_cache.hit_rate", "code_cache.evictions"])
            .help(
                "Warm-up window, in admissions. Under lfu and lru_lfu a unit is warming up \
                 until warmup_size more units have been admitted after it, and warming units \
                 are evicted only when no warmed-up unit is left (least recently used \
                 first): a new unit has had no time to earn hits, and without the window lfu \
                 would always evict the newest. So while fewer than warmup_size units have \
                 been admitted, lfu and lru_lfu behave like lru. 0 gives no protection; near \
                 or above code_cache.max_entries most of a full cache is warming and the \
                 proven units go first. Ignored by lru. Watch code_cache.hit_rate and \
                 code_cache.evictions.",
                "预热窗口，以准入次数计。在 lfu 和 lru_lfu 下，一个单元进入缓存后，\
                 要等再有 warmup_size 个单元被准入才算预热完毕；预热中的单元只有在没有预热完毕的单元\
                 可淘汰时才会被淘汰（最久未使用的先走）。新单元还没来得及积累命中次数，\
                 如果没有这个窗口，lfu 每次都会淘汰最新的单元。因此在准入的单元少于 warmup_size 个时，\
                 lfu 和 lru_lfu 的行为与 lru 完全相同。设为 0 则不提供保护；接近或超过 \
                 code_cache.max_entries 时，满缓存里大部分单元都在预热，反而是经过验证的单元先被淘汰。\
                 lru 策略下忽略此项。观察 code_cache.hit_rate 和 code_cache.evictions。",
            ),
    ]
}

#[cfg(test)]
mod tests {
    use super::knobs;
    use crate::jit::threshold::threshold_field_doc;

    /// Where the fields of each key prefix are declared: (prefix, source,
    /// struct). The first prefix that matches a key wins.
    const SOURCES: &[(&str, &str, &str)] = &[
        ("memory.", include_str!("mod.rs"), "MemoryConfig"),
        ("mmu.multilevel_tlb_config.", include_str!("../mem/mmu.rs"), "MultiLevelTlbConfig"),
        ("mmu.concurrent_tlb_config.", include_str!("../mem/mmu.rs"), "ConcurrentTlbConfig"),
        ("mmu.", include_str!("../mem/mmu.rs"), "UnifiedMmuConfig"),
        ("jit.", include_str!("../jit/mod.rs"), "JitConfig"),
        ("code_cache.", include_str!("../jit/code_cache.rs"), "CacheConfig"),
        ("gc.", include_str!("../gc/config.rs"), "UnifiedGcConfig"),
        ("runtime.", include_str!("mod.rs"), "RuntimeConfig"),
    ];

    /// The doc text of a field written `#[doc = threshold_field_doc!(name)]`.
    fn threshold_doc(name: &str) -> Option<&'static str> {
        Some(match name {
            "min_threshold" => threshold_field_doc!(min_threshold),
            "max_threshold" => threshold_field_doc!(max_threshold),
            "sample_window" => threshold_field_doc!(sample_window),
            "compile_time_weight" => threshold_field_doc!(compile_time_weight),
            "exec_benefit_weight" => threshold_field_doc!(exec_benefit_weight),
            "compile_time_budget_ns" => threshold_field_doc!(compile_time_budget_ns),
            "enable_compile_time_budget" => threshold_field_doc!(enable_compile_time_budget),
            _ => return None,
        })
    }

    /// The doc comment of field `field` of `pub struct name` in `source`: its
    /// `///` lines, or the text of its `#[doc = threshold_field_doc!(..)]`.
    fn field_doc(source: &str, name: &str, field: &str) -> Option<String> {
        let lines: Vec<&str> = source.lines().collect();
        let start = lines.iter().position(|l| l.starts_with(&format!("pub struct {name} {{")))?;
        let end = start + lines[start..].iter().position(|l| *l == "}")?;
        let at =
            (start..end).find(|&i| lines[i].trim_start().starts_with(&format!("pub {field}:")))?;
        let mut doc = Vec::new();
        for line in lines[start + 1..at].iter().rev().map(|l| l.trim()) {
            if let Some(text) = line.strip_prefix("///") {
                doc.push(text.strip_prefix(' ').unwrap_or(text).to_string());
            } else if let Some(rest) = line.strip_prefix("#[doc = ") {
                let macro_arg = rest.split_once("threshold_field_doc!(")?.1.split_once(')')?.0;
                doc.push(threshold_doc(macro_arg)?.to_string());
            } else if !line.starts_with("#[") {
                break;
            }
        }
        doc.reverse();
        Some(doc.join("\n"))
    }

    /// Words separated by single spaces (line breaks and wrapping do not
    /// count).
    fn words(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The English help of every knob is the first paragraph of its field's
    /// doc comment: one text, edited in one place and checked here in the
    /// other (the doc may go on with notes for the engine's readers).
    #[test]
    fn english_help_is_the_first_paragraph_of_the_field_doc() {
        let mut wrong = Vec::new();
        for knob in knobs() {
            let (prefix, source, name) = SOURCES
                .iter()
                .find(|(prefix, ..)| knob.key.starts_with(prefix))
                .unwrap_or_else(|| panic!("no source listed for {}", knob.key));
            let field = &knob.key[prefix.len()..];
            let doc = field_doc(source, name, field)
                .unwrap_or_else(|| panic!("{}: no field {name}::{field}", knob.key));
            let first = doc.split("\n\n").next().unwrap_or("");
            if words(first) != words(knob.help_en) {
                wrong.push(format!(
                    "{}:\n  help: {}\n  doc:  {}",
                    knob.key,
                    words(knob.help_en),
                    words(first)
                ));
            }
        }
        assert!(wrong.is_empty(), "help and field doc disagree:\n{}", wrong.join("\n"));
    }
}
