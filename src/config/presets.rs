//! Presets: named sets of knob settings the page offers (and `tunevm run
//! --preset`). One reproduces the tuning guide's defaults; then, for each
//! "common problem" in the guide whose engine exists, one preset that
//! reproduces the problem on a built-in workload and one that fixes it.
//! `tests/suite/presets.rs` runs every problem/fix pair and checks that the figure
//! the problem is about really is worse under the problem preset and meets
//! (or beats) the guide's target under the fix.
//!
//! The GC's problem ("GC pauses too long") joins when the GC exists.

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
#[derive(Clone, Copy, Debug, Serialize)]
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
                 optimizing tier, which builds the largest regions, and the compile-time \
                 budget is off. Watch the compile-time chart, the checklist's compile \
                 time (p99 per unit) and jit.compile_ns.total: most of the run goes into \
                 compiling, much of it code that runs only a few times.",
            zh: "阈值设为 0，所有代码第一次执行就被编译，只跑一次的启动代码也不例外；每个单元都直接\
                 进入优化层，编译时间预算也关掉了。请看编译时间图和 jit.compile_ns.total：\
                 大量时间花在编译只会执行几次的代码上。",
        },
        workload: "cpubench",
        figure: "jit.compile_ns.total",
        settings: &[
            ("jit.min_threshold", "0"),
            ("jit.max_threshold", "0"),
            ("jit.tier_up_threshold", "0"),
            ("jit.enable_compile_time_budget", "false"),
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
            en: "What the guide advises: a higher hotness threshold (500 to 5000 \
                 executions, so only code that runs often is compiled), the fast baseline \
                 tier below 5000 executions, and the compile-time budget on. Compile time \
                 drops to a small fraction of the problem preset's, units are smaller, and \
                 the hot loops still run compiled.",
            zh: "按指南的建议：提高热度阈值（500 到 5000 次，只编译经常执行的代码），执行不到 5000 次\
                 的代码先用快速的基线层，并打开编译时间预算。编译时间降到“问题”预设的一小部分，\
                 编译单元更小，而热循环照样以编译后的代码运行。",
        },
        workload: "cpubench",
        figure: "jit.compile_ns.total",
        settings: &[
            ("jit.min_threshold", "500"),
            ("jit.max_threshold", "5000"),
            ("jit.tier_up_threshold", "5000"),
            ("jit.enable_compile_time_budget", "true"),
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
            en: "Every unit is compiled at its first execution and the code cache may keep \
                 10000 units in 128 MiB, so nothing is ever evicted: the generated-code \
                 line of the memory chart (memory.code_bytes) only grows, though most of \
                 that code never runs again.",
            zh: "每个单元第一次执行就被编译，代码缓存最多可以保存 10000 个单元、128 MiB，\
                 所以什么都不会被淘汰：内存图中“生成代码”那条线（memory.code_bytes）只增不减，\
                 尽管其中大部分代码再也不会执行。",
        },
        workload: "phases",
        figure: "memory.code_bytes",
        settings: &[
            ("jit.min_threshold", "0"),
            ("jit.max_threshold", "0"),
            ("jit.enable_compile_time_budget", "false"),
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
            en: "What the guide advises. The default hotness threshold does the saving: \
                 cold code is never compiled (about 1 400 units instead of 5 000), so \
                 generated code (memory.code_bytes) ends at less than half of the problem \
                 preset's. The code cache shrinks from 128 MiB to 1 MiB with LRU_LFU \
                 eviction as a bound: the hot code of this program fits under it, so it \
                 never has to evict (code_cache.evictions stays 0) and the hit rate stays \
                 above the 85 % target. Try 512 KiB: smaller than the hot code, the cache \
                 thrashes (about 20 000 evictions, compile time soars).",
            zh: "按指南的建议。省内存靠的是默认的热度阈值：冷代码根本不编译（约 1400 个单元，\
                 而不是 5000 个），所以生成代码（memory.code_bytes）最后不到“问题”预设的一半。\
                 代码缓存从 128 MiB 缩小到 1 MiB、用 LRU_LFU 淘汰，作为上限：这个程序的热代码\
                 装得下，所以从不需要淘汰（code_cache.evictions 保持为 0），命中率仍高于 85% 的目标。\
                 也可以试试 512 KiB：它比热代码还小，缓存会来回颠簸（约 2 万次淘汰，编译时间急剧上升）。",
        },
        workload: "phases",
        figure: "memory.code_bytes",
        settings: &[
            ("code_cache.max_memory_bytes", "1048576"),
            ("code_cache.eviction_policy", "lru_lfu"),
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
            let fix = presets()
                .iter()
                .find(|f| {
                    f.kind == PresetKind::Fix && f.problem.map(|t| t.en) == p.problem.map(|t| t.en)
                })
                .unwrap_or_else(|| panic!("no fix for {}", p.id));
            assert_eq!(fix.workload, p.workload, "{}", p.id);
            assert_eq!(fix.figure, p.figure, "{}", p.id);
        }
    }
}
