//! Presets: named sets of knob settings the page offers (and `tunevm run
//! --preset`). One reproduces the tuning guide's defaults; then, for each
//! "common problem" in the guide whose engine exists, one preset that
//! reproduces the problem on a built-in workload and one that fixes it.
//! `tests/suite/presets.rs` runs every problem/fix pair and checks that the figure
//! the problem is about really is worse under the problem preset and meets
//! (or beats) the guide's target under the fix.
//!
//! The GC's two ("GC pauses too long", and "memory use too high" when the
//! collector starts too late) run on the gc-* workloads.

use serde::Serialize;

use super::{ConfigError, VmConfig};

/// What a preset is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PresetKind {
    /// The tuning guide's defaults.
    Defaults,
    /// Reproduces one of the guide's common problems.
    Problem,
    /// Fixes that problem the way the guide advises.
    Fix,
}

/// Text in English and Chinese.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Text {
    pub en: &'static str,
    pub zh: &'static str,
}

/// One preset. `settings` are `(key, value)` pairs as `--set` takes them,
/// applied over the guide's defaults.
#[derive(Clone, Debug, Serialize)]
pub struct Preset {
    pub id: &'static str,
    pub kind: PresetKind,
    /// The guide's common problem this preset reproduces or fixes.
    pub problem: Option<Text>,
    pub title: Text,
    pub description: Text,
    /// The built-in workload (name of `workloads/bin/NAME.elf`) that shows it.
    pub workload: &'static str,
    /// The report figure that shows the problem (a dotted report path).
    pub figure: &'static str,
    #[serde(serialize_with = "settings_as_map")]
    pub settings: &'static [(&'static str, &'static str)],
}

fn settings_as_map<S: serde::Serializer>(
    settings: &&'static [(&'static str, &'static str)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(settings.iter().map(|(k, v)| (*k, *v)))
}

impl Preset {
    /// The guide's defaults with this preset's settings applied and checked.
    pub fn config(&self) -> Result<VmConfig, ConfigError> {
        let mut config = VmConfig::default();
        for (key, value) in self.settings {
            config.set(key, value)?;
        }
        config.validate()?;
        Ok(config)
    }
}

const COMPILE_PROBLEM: Text =
    Text { en: "JIT compile time too long", zh: "JIT 编译时间过长" };
const TLB_PROBLEM: Text = Text { en: "Low TLB hit rate", zh: "TLB 命中率低" };
const MEMORY_PROBLEM: Text = Text { en: "Memory use too high", zh: "内存占用过高" };
const GC_PAUSE_PROBLEM: Text = Text { en: "GC pauses too long", zh: "GC 停顿时间过长" };
/// The guide's execution-engine advice, as a problem: "use coroutines
/// rather than threads: fewer context switches".
const THREADS_PROBLEM: Text = Text {
    en: "Too many context switches (a thread per vCPU)",
    zh: "上下文切换太多（每个 vCPU 一个线程）",
};

/// Every preset, in the order the page lists them.
pub fn presets() -> &'static [Preset] {
    PRESETS
}

/// The preset with this id.
pub fn find_preset(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

static PRESETS: &[Preset] = &[
    Preset {
        id: "guide-defaults",
        kind: PresetKind::Defaults,
        problem: None,
        title: Text { en: "Tuning guide defaults", zh: "调优指南默认值" },
        description: Text {
            en: "Every knob at the value the tuning guide gives. Start here, change one \
                 knob at a time, and compare against this run.",
            zh: "所有参数都取调优指南给出的默认值。从这里出发，每次只改一个参数，再和这次运行对比。",
        },
        workload: "cpubench",
        figure: "mips",
        settings: &[],
    },
    Preset {
        id: "compile-time-problem",
        kind: PresetKind::Problem,
        problem: Some(COMPILE_PROBLEM),
        title: Text { en: "Problem: compiling everything at once", zh: "问题：什么都立刻编译" },
        description: Text {
            en: "The threshold is 0, so every piece of code is compiled the first time it \
                 runs, cold start-up code included; every unit goes straight to the \
                 optimizing tier with regions of up to 1024 instructions \
                 (jit.max_unit_insns) that copy whatever code they reach, even code \
                 another unit starts with (jit.stop_at_units), and the compile-time \
                 budget is off. Watch \
                 jit.compile_ns.total and the generated code per unit (memory.code_bytes \
                 over jit.units_compiled): natively about two thirds of the run goes into \
                 compiling and the largest units take 10 to 30 ms each, so the checklist's \
                 compile row (p99 per unit against the 10 ms target) turns red. In the \
                 page the figure is smaller: it counts the code generator and V8's module \
                 creation, while V8 compiles each function lazily at its first call, \
                 which counts as running time.",
            zh: "阈值设为 0，所有代码第一次执行就被编译，只跑一次的启动代码也不例外；每个单元都直接\
                 进入优化层，区域最多 1024 条指令（jit.max_unit_insns），并且会复制它能到达的所有代码，\
                 包括另一个单元开头的代码（jit.stop_at_units），编译时间预算也关掉了。\
                 请看 jit.compile_ns.total 和每个单元的生成代码（memory.code_bytes 除以 \
                 jit.units_compiled）：本机上约三分之二的时间花在编译上，最大的单元每个要编译 \
                 10 到 30 ms，所以检查表的编译一行（每单元 p99，目标 10 ms）会变红。网页中这个数字\
                 小一些：它只算代码生成器和 V8 创建模块的时间，而 V8 在函数第一次被调用时才\
                 懒编译它，那部分算作运行时间。",
        },
        workload: "cpubench",
        figure: "jit.compile_ns.total",
        settings: &[
            ("jit.min_threshold", "0"),
            ("jit.max_threshold", "0"),
            ("jit.tier_up_threshold", "0"),
            ("jit.max_unit_insns", "1024"),
            ("jit.stop_at_units", "false"),
            ("jit.enable_compile_time_budget", "false"),
            ("jit.background_compile", "false"),
        ],
    },
    Preset {
        id: "compile-time-fix",
        kind: PresetKind::Fix,
        problem: Some(COMPILE_PROBLEM),
        title: Text {
            en: "Fix: higher threshold, fast tier first, budget on",
            zh: "解决：提高阈值、先用快速层、打开预算",
        },
        description: Text {
            en: "What the guide advises: a higher hotness threshold (1000 to 5000 \
                 executions, so only code that runs often is compiled), the fast baseline \
                 tier below 5000 executions, regions of the default 128 instructions that \
                 stop where another unit starts, and the compile-time budget on. Units \
                 are about five times smaller; natively \
                 compile time drops to about a fifth of the problem preset's and units \
                 compile in a few milliseconds each; the hot loops still run compiled.",
            zh: "按指南的建议：提高热度阈值（1000 到 5000 次，只编译经常执行的代码），执行不到 5000 次\
                 的代码先用快速的基线层，区域用默认的 128 条指令并在另一个单元的入口处结束，\
                 并打开编译时间预算。编译单元小了约\
                 五倍；本机上编译时间降到“问题”预设的约五分之一，每个单元几毫秒就编译完；\
                 而热循环照样以编译后的代码运行。",
        },
        workload: "cpubench",
        figure: "jit.compile_ns.total",
        settings: &[
            ("jit.min_threshold", "1000"),
            ("jit.max_threshold", "5000"),
            ("jit.tier_up_threshold", "5000"),
            ("jit.max_unit_insns", "128"),
            ("jit.stop_at_units", "true"),
            ("jit.enable_compile_time_budget", "true"),
            ("jit.background_compile", "false"),
        ],
    },
    Preset {
        id: "tlb-problem",
        kind: PresetKind::Problem,
        problem: Some(TLB_PROBLEM),
        title: Text { en: "Problem: tiny TLB, no prefetch", zh: "问题：TLB 太小、没有预取" },
        description: Text {
            en: "The paging workload touches 1024 pages in random order under Sv39. With \
                 a 4-entry L1, a 16-entry L2 and prefetch off, most lookups that miss the \
                 JIT's inline TLB also miss the MMU's levels and walk the page table: the \
                 TLB chart's l2 line sits near zero and tlb.hit_rate falls well under the \
                 90 % target.",
            zh: "paging 程序在 Sv39 下以随机顺序访问 1024 个页。L1 只有 4 项、L2 只有 16 项、\
                 又关掉了预取，没命中 JIT 内联 TLB 的查找大多也命中不了 MMU 的各级 TLB，\
                 只能去遍历页表：TLB 图里 l2 那条线贴近零，tlb.hit_rate 远低于 90% 的目标。",
        },
        workload: "paging-random",
        figure: "tlb.hit_rate",
        settings: &[
            ("mmu.multilevel_tlb_config.l1_entries", "4"),
            ("mmu.multilevel_tlb_config.l2_entries", "16"),
            ("mmu.enable_prefetch", "false"),
        ],
    },
    Preset {
        id: "tlb-fix",
        kind: PresetKind::Fix,
        problem: Some(TLB_PROBLEM),
        title: Text { en: "Fix: a multi-level TLB big enough", zh: "解决：足够大的多级 TLB" },
        description: Text {
            en: "What the guide advises: the multi-level TLB with an L2 large enough for \
                 the working set (4096 entries for 1024 pages), and prefetch on. After the \
                 first pass every page stays in L2: tlb.hit_rate goes above 99 % and page \
                 walks (tlb.walks) drop by three orders of magnitude.",
            zh: "按指南的建议：使用多级 TLB，并把 L2 调到装得下工作集（1024 个页用 4096 项），\
                 同时打开预取。第一遍之后所有页都留在 L2 里：tlb.hit_rate 超过 99%，\
                 页表遍历次数（tlb.walks）下降三个数量级。",
        },
        workload: "paging-random",
        figure: "tlb.hit_rate",
        settings: &[
            ("mmu.strategy", "multi_level"),
            ("mmu.multilevel_tlb_config.l2_entries", "4096"),
            ("mmu.enable_prefetch", "true"),
        ],
    },
    Preset {
        id: "memory-problem",
        kind: PresetKind::Problem,
        problem: Some(MEMORY_PROBLEM),
        title: Text {
            en: "Problem: keep every compiled unit",
            zh: "问题：所有编译结果都留着",
        },
        description: Text {
            en: "Every unit is compiled at its first execution, taking whatever code it \
                 reaches (jit.stop_at_units off), and the code cache may keep 10000 units \
                 in 128 MiB, so nothing is ever evicted: the generated-code line of the \
                 memory chart (memory.code_bytes) only grows, though most of that code \
                 never runs again.",
            zh: "每个单元第一次执行就被编译，并取它能到达的所有代码（关闭 jit.stop_at_units），\
                 代码缓存最多可以保存 10000 个单元、128 MiB，\
                 所以什么都不会被淘汰：内存图中“生成代码”那条线（memory.code_bytes）只增不减，\
                 尽管其中大部分代码再也不会执行。",
        },
        workload: "phases",
        figure: "memory.code_bytes",
        settings: &[
            ("jit.min_threshold", "0"),
            ("jit.max_threshold", "0"),
            ("jit.stop_at_units", "false"),
            ("jit.enable_compile_time_budget", "false"),
            ("jit.background_compile", "false"),
        ],
    },
    Preset {
        id: "memory-fix",
        kind: PresetKind::Fix,
        problem: Some(MEMORY_PROBLEM),
        title: Text {
            en: "Fix: compile only hot code, under a 1 MiB cap",
            zh: "解决：只编译热代码，并设 1 MiB 上限",
        },
        description: Text {
            en: "What the guide advises. The defaults do the saving: the hotness threshold \
                 keeps cold code from being compiled (about 1 200 units instead of 3 800) and \
                 units stop where other units start (jit.stop_at_units), so generated code \
                 (memory.code_bytes) ends at about half of the problem preset's. The code cache shrinks from 128 MiB to 1 MiB with LRU_LFU \
                 eviction as a bound: the hot code of this program fits under it, so it \
                 never has to evict (code_cache.evictions stays 0) and the hit rate stays \
                 above the 85 % target. Try 384 KiB: smaller than the hot code, the cache \
                 thrashes (tens of thousands of evictions natively, over a hundred thousand \
                 in the page; compile time soars).",
            zh: "按指南的建议。省内存靠的是默认设置：热度阈值让冷代码根本不编译（约 1200 个单元，\
                 而不是 3800 个），单元在别的单元开始处结束（jit.stop_at_units），\
                 所以生成代码（memory.code_bytes）最后约为“问题”预设的一半。\
                 代码缓存从 128 MiB 缩小到 1 MiB、用 LRU_LFU 淘汰，作为上限：这个程序的热代码\
                 装得下，所以从不需要淘汰（code_cache.evictions 保持为 0），命中率仍高于 85% 的目标。\
                 也可以试试 384 KiB：它比热代码还小，缓存会来回颠簸（本机上几万次淘汰，网页中超过十万次；编译时间急剧上升）。",
        },
        workload: "phases",
        figure: "memory.code_bytes",
        settings: &[
            ("code_cache.max_memory_bytes", "1048576"),
            ("code_cache.eviction_policy", "lru_lfu"),
            ("jit.background_compile", "false"),
        ],
    },
    Preset {
        id: "gc-pause-problem",
        kind: PresetKind::Problem,
        problem: Some(GC_PAUSE_PROBLEM),
        title: Text {
            en: "Problem: a stop-the-world collector",
            zh: "问题：全停顿回收器",
        },
        description: Text {
            en: "gc-graph mutates a graph of 16 384 nodes while it allocates, in a 32 MiB \
                 heap. With gc.incremental off every cycle marks the live graph and sweeps \
                 the whole heap in one pause: about twenty pauses of 2 to 5 ms each \
                 natively, so the checklist's \"GC pause < 1 ms\" row fails (see the GC \
                 pause chart and gc.pause_ns.p99).",
            zh: "gc-graph 在 32 MiB 的堆里一边分配一边修改一张 16384 个节点的图。关闭 gc.incremental \
                 后，每个周期都在一次停顿里标记整张存活的图并清扫整个堆：本机上约二十次停顿，\
                 每次 2 到 5 ms，检查表里“GC 停顿 < 1 ms”一行不通过（看 GC 停顿图和 gc.pause_ns.p99）。",
        },
        workload: "gc-graph",
        figure: "gc.pause_ns.p99",
        settings: &[
            ("gc.heap_size_limit", "33554432"),
            ("gc.incremental", "false"),
            ("gc.concurrent_marking", "false"),
        ],
    },
    Preset {
        id: "gc-pause-fix",
        kind: PresetKind::Fix,
        problem: Some(GC_PAUSE_PROBLEM),
        title: Text {
            en: "Fix: incremental, concurrent, adaptive GC",
            zh: "解决：增量、并发标记与自适应配额",
        },
        description: Text {
            en: "The guide's four pieces of advice are four knobs: gc.concurrent_marking (a \
                 marker thread marks while the guest runs; natively only, the page marks in \
                 incremental slices instead), gc.mark_quota_us and gc.sweep_quota_us (the \
                 longest slice), gc.adaptive_quota (the collector shrinks a quota whose \
                 slices overrun the 1 ms target) and gc.write_barrier_shards (fewer lock \
                 waits when several vCPUs dirty pages). This preset turns on the first \
                 three. In the page (incremental slices) the median pause falls from \
                 several milliseconds to a few tenths of a millisecond and p99 falls several-fold, over \
                 hundreds of short slices. The end of each cycle (rescanning the pages the \
                 write barrier saw written, then the roots) must finish in one pause: it \
                 stops at the mark quota and hands the rest back to marking \
                 (gc.remark_cuts), but this guest dirties pages about as fast as they are \
                 rescanned, so a few of those pauses still take a millisecond or more: p99 \
                 lands near the 1 ms target or above it (0.8 to 2.2 ms in the runs measured) \
                 and the longest pause is a few ms.",
            zh: "指南的四条建议对应四个参数：gc.concurrent_marking（标记线程在客户机运行的同时标记；\
                 仅本机 CLI，网页中改为增量切片）、gc.mark_quota_us 和 gc.sweep_quota_us（每个切片最长多久）、\
                 gc.adaptive_quota（切片超过 1 ms 目标时回收器自动缩小配额）以及 gc.write_barrier_shards\
                 （多个 vCPU 写脏页时减少锁等待）。本预设打开前三项。在网页中（增量切片），\
                 停顿中位数从几毫秒降到零点几毫秒，p99 降到几分之一，停顿变成数百个短切片。\
                 每个周期的结尾（重新扫描写屏障记下的页，再扫描根）必须在一次停顿中完成：\
                 它在标记配额处停下，把剩下的工作交回给标记（gc.remark_cuts），但这个客户机\
                 弄脏页的速度和重新扫描的速度差不多，所以其中少数停顿仍要一毫秒或更长：\
                 p99 落在 1 ms 目标附近或高于它（测量的几次运行中为 0.8 到 2.2 ms），最长的停顿有几毫秒。",
        },
        workload: "gc-graph",
        figure: "gc.pause_ns.p99",
        settings: &[
            ("gc.heap_size_limit", "33554432"),
            ("gc.incremental", "true"),
            ("gc.concurrent_marking", "true"),
            ("gc.adaptive_quota", "true"),
        ],
    },
    Preset {
        id: "gc-memory-problem",
        kind: PresetKind::Problem,
        problem: Some(MEMORY_PROBLEM),
        title: Text {
            en: "Problem: the collector starts too late",
            zh: "问题：回收器启动太晚",
        },
        description: Text {
            en: "gc-lru keeps about 1.4 MiB of live data but allocates 43 MiB over its run. \
                 With a 64 MiB heap and gc.trigger_threshold 0.95 the first cycle would start \
                 at 61 MiB, so it never starts: the heap takes 49 MiB of RAM \
                 (gc.heap_committed_bytes in the GC heap chart) for 1.4 MiB of live objects.",
            zh: "gc-lru 的存活数据只有约 1.4 MiB，但整个运行过程中分配了 43 MiB。堆为 64 MiB、\
                 gc.trigger_threshold 为 0.95 时，第一个回收周期要到 61 MiB 才开始，所以根本不会开始：\
                 为了 1.4 MiB 的存活对象，堆占用了 49 MiB 内存（GC 堆图中的 gc.heap_committed_bytes）。",
        },
        workload: "gc-lru",
        figure: "gc.heap_committed_bytes",
        settings: &[("gc.heap_size_limit", "67108864"), ("gc.trigger_threshold", "0.95")],
    },
    Preset {
        id: "gc-memory-fix",
        kind: PresetKind::Fix,
        problem: Some(MEMORY_PROBLEM),
        title: Text {
            en: "Fix: lower the trigger",
            zh: "解决：调低触发阈值",
        },
        description: Text {
            en: "What the guide advises when GC is triggered too rarely: gc.trigger_threshold \
                 0.3 (and gc.target_occupancy 0.2, which must stay below it) starts the \
                 first cycle at 19 MiB; after it the heap is sized to the live data (at \
                 least 4 MiB), so cycles come every few MiB and the heap's RAM stays near \
                 19 MiB instead of 49 MiB, at the price of about forty collections.",
            zh: "指南针对“GC 触发太少”的建议：gc.trigger_threshold 设为 0.3（gc.target_occupancy 设为 0.2，\
                 它必须低于触发阈值），第一个周期在 19 MiB 时就开始；之后堆按存活数据确定大小（至少 4 MiB），\
                 每分配几 MiB 就回收一次，堆占用的内存保持在 19 MiB 左右而不是 49 MiB，代价是约四十次回收。",
        },
        workload: "gc-lru",
        figure: "gc.heap_committed_bytes",
        settings: &[
            ("gc.heap_size_limit", "67108864"),
            ("gc.trigger_threshold", "0.3"),
            ("gc.target_occupancy", "0.2"),
        ],
    },
    Preset {
        id: "smp-threads-problem",
        kind: PresetKind::Problem,
        problem: Some(THREADS_PROBLEM),
        title: Text {
            en: "Problem: a worker per vCPU (threads)",
            zh: "问题：每个 vCPU 一个工作线程（线程模型）",
        },
        description: Text {
            en: "smp-ring on 8 vCPUs passes a token from hart to hart by IPI; each hart \
                 waits in wfi for its turn (runtime.pause_yields off: a hart that finds \
                 its ring empty does not hand over at its pause), so the run is a chain \
                 of hand-offs. With 8 \
                 workers for 8 vCPUs, each vCPU in effect has a thread of its own: every \
                 hand-off wakes a sleeping worker (an OS thread, or a Web Worker in the \
                 page), and a woken vCPU often lands on another worker than before, where \
                 the page installs its compiled code again (jit.worker_installs, about \
                 1 300-2 000 per run). Wall time: about 0.4-0.6 s in the page, 0.22-0.33 s \
                 in the CLI (2-core machine).",
            zh: "smp-ring 在 8 个 vCPU 上用 IPI 把令牌从一个 hart 传给下一个；每个 hart 在 wfi 中等待轮到自己\
                 （runtime.pause_yields 关闭：发现环为空的 hart 不会在 pause 处交出工作线程），\
                 所以整次运行是一连串的交接。8 个 vCPU 配 8 个工作线程，相当于每个 vCPU 独占一个线程：\
                 每次交接都要唤醒一个正在休眠的工作线程（操作系统线程，或页面里的 Web Worker），\
                 被唤醒的 vCPU 还常常落到与上次不同的工作线程上，页面要在那里重新安装它的编译代码\
                 （jit.worker_installs，每次运行约 1300-2000 次）。墙钟时间：页面里约 0.4-0.6 秒，\
                 CLI 中 0.22-0.33 秒（双核机器）。",
        },
        workload: "smp-ring",
        figure: "wall_ns",
        settings: &[
            ("runtime.vcpus", "8"),
            ("runtime.pool_size", "8"),
            ("runtime.pause_yields", "false"),
        ],
    },
    Preset {
        id: "smp-threads-fix",
        kind: PresetKind::Fix,
        problem: Some(THREADS_PROBLEM),
        title: Text {
            en: "Fix: vCPUs as tasks on a small pool (coroutines)",
            zh: "解决：把 vCPU 作为任务放到小的工作池上（协程）",
        },
        description: Text {
            en: "What the guide advises: coroutines rather than threads. The same 8 vCPUs \
                 as tasks on 2 workers: most hand-offs put the woken vCPU on the run queue \
                 of a worker that is awake anyway, and vCPUs move between workers far less. \
                 Wall time about halves in the page (0.2-0.27 s) and drops to 0.15-0.22 s \
                 in the CLI (1.3-1.6x even on a loaded machine). (A chain of hand-offs \
                 gains nothing from parallel workers; a parallel kernel such as smp-sum \
                 wants as many workers as free cores.)",
            zh: "按指南的建议：用协程而不是线程。同样的 8 个 vCPU 作为任务放在 2 个工作线程上：\
                 大多数交接只是把被唤醒的 vCPU 放进一个本来就醒着的工作线程的运行队列，\
                 vCPU 在工作线程之间的迁移也少得多。页面里墙钟时间约减半（0.2-0.27 秒），\
                 CLI 中降到 0.15-0.22 秒（即使机器繁忙也快 1.3-1.6 倍）。（一连串的交接从并行的工作线程中得不到好处；\
                 smp-sum 这样的并行计算核则需要与空闲核数一样多的工作线程。）",
        },
        workload: "smp-ring",
        figure: "wall_ns",
        settings: &[
            ("runtime.vcpus", "8"),
            ("runtime.pool_size", "2"),
            ("runtime.pause_yields", "false"),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_a_valid_config() {
        for p in presets() {
            p.config().unwrap_or_else(|e| panic!("preset {}: {e}", p.id));
        }
    }

    #[test]
    fn every_problem_has_a_fix_on_the_same_workload() {
        for p in presets().iter().filter(|p| p.kind == PresetKind::Problem) {
            // Two problems may share the guide's name ("memory use too
            // high": generated code, and the GC heap): pairs go by id.
            let fix = find_preset(&p.id.replace("-problem", "-fix"))
                .filter(|f| f.kind == PresetKind::Fix && f.problem == p.problem)
                .unwrap_or_else(|| panic!("no fix for {}", p.id));
            assert_eq!(fix.workload, p.workload, "{}", p.id);
            assert_eq!(fix.figure, p.figure, "{}", p.id);
        }
    }
}
