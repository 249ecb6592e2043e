//! The knob table: one entry per leaf field of `VmConfig`. Adding a field to a
//! config struct means adding its entry here (a test fails until you do):
//! key, kind and range, unit, the report figures that show its effect, and
//! help in English and Chinese that says what it does, why you would change
//! it and where to look. The default comes from the struct's `Default`.
//!
//! Keep the English help consistent with the field's doc comment.
use super::schema::{enum_values, KnobKind, KnobSpec, Rule, SectionSpec};
use super::text::{GIB, MIB};
use super::MmuOptimizationStrategy;
use crate::mem::{ConcurrentTlbConfig, MultiLevelTlbConfig, UnifiedMmuConfig};

/// Top-level sections in the order the page shows them.
pub(super) const SECTIONS: &[SectionSpec] = &[
    SectionSpec { key: "memory", title_en: "Guest memory", title_zh: "客户机内存" },
    SectionSpec { key: "mmu", title_en: "MMU and TLBs", title_zh: "MMU 与 TLB" },
];

/// Guest RAM bounds: at least 1 MiB so a program, its stack and the page
/// tables fit; at most 1 GiB because in the browser RAM lives inside the
/// VM's own wasm memory, which is limited to a few GiB and shared with
/// generated code and the heap.
const RAM_MIN: u64 = MIB;
const RAM_MAX: u64 = GIB;

pub(super) fn knobs() -> Vec<KnobSpec> {
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
        knob("mmu.strategy", KnobKind::Enum { values: enum_values::<MmuOptimizationStrategy>() }, "")
            .figures(&["tlb.strategy_chosen", "tlb.hit_rate", "tlb.levels"])
            .help(
                "How the TLBs are organised. multi_level: a small L1 in front of a larger \
                 set-associative L2, private to one hart; the fastest lookups for a single \
                 vCPU. concurrent: one sharded TLB shared by all harts, one lock per shard; \
                 meant for several vCPUs. hybrid: picks multi_level for one hart and \
                 concurrent when harts share the MMU. Switch it and compare the TLB hit rate \
                 and the per-level hits in the TLB chart; the report names the strategy \
                 actually used (tlb.strategy_chosen).",
                "TLB 的组织方式。multi_level：一个小的 L1 加一个更大的组相联 L2，每个 hart 独享，\
                 单个 vCPU 时查找最快。concurrent：所有 hart 共用一个分片的 TLB，每个分片一把锁，\
                 适合多个 vCPU。hybrid：只有一个 hart 时用 multi_level，多个 hart 共用 MMU 时用 \
                 concurrent。切换之后，在 TLB 图表里对比总命中率和各级命中次数；报告中的 \
                 tlb.strategy_chosen 会写明实际采用的是哪一种。",
            ),
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
    ]
}

const fn int(min: u64, max: u64) -> KnobKind {
    KnobKind::Int { min, max }
}

/// An integer knob whose range is the one its engine declares (so the
/// schema and the engine's own validation cannot disagree).
const fn int_in(range: std::ops::RangeInclusive<usize>) -> KnobKind {
    int(*range.start() as u64, *range.end() as u64)
}

/// A knob without rules, figures or help yet; the default is filled in from
/// `VmConfig::default()` by the schema.
fn knob(key: &'static str, kind: KnobKind, unit: &'static str) -> KnobSpec {
    KnobSpec {
        key,
        kind,
        rules: &[],
        unit,
        default: serde_json::Value::Null,
        figures: &[],
        help_en: "",
        help_zh: "",
    }
}

impl KnobSpec {
    fn rules(self, rules: &'static [Rule]) -> Self {
        KnobSpec { rules, ..self }
    }

    fn figures(self, figures: &'static [&'static str]) -> Self {
        KnobSpec { figures, ..self }
    }

    fn help(self, help_en: &'static str, help_zh: &'static str) -> Self {
        KnobSpec { help_en, help_zh, ..self }
    }
}
