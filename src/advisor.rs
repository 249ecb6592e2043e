//! The tuning advisor: rules that read a [`Report`] (the CLI's `--report`
//! document, the page's live report) and diagnose the tuning guide's common
//! problems, each with the guide's likely causes, the measured evidence as
//! text with the numbers, and fixes as knob changes (`key=value`, the stable
//! config keys of docs/DESIGN.md "Config keys").
//!
//! One source for `tunevm run --advise`, the page's Advisor panel
//! (`web::advise`) and the tests (`tests/suite/advisor.rs`). Every rule is a
//! row of [`RULES`]; its threshold is a named constant below, chosen so that
//! the problem presets (`config/presets.rs`) trigger their rule and the
//! guide's defaults and the fix presets do not (the figures each preset
//! produced, natively and in the browser, are in the constants' comments).
//!
//! Each suggested fix, applied over the run's own config, passes
//! [`VmConfig::validate`] (a unit test below checks every rule's fixes
//! against every preset's config).

use serde::Serialize;

use crate::config::presets::Text;
use crate::config::VmConfig;
use crate::monitor::Report;

/// How bad a diagnosis is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Over the rule's threshold.
    Warning,
    /// Far over it (the rule's "critical" figure): fix this first.
    Critical,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Text made at run time (it holds measured numbers), in English and Chinese.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Said {
    pub en: String,
    pub zh: String,
}

fn said(en: impl Into<String>, zh: impl Into<String>) -> Said {
    Said { en: en.into(), zh: zh.into() }
}

/// One knob change: `key=value` as `--set` takes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Setting {
    pub key: &'static str,
    pub value: String,
}

/// One suggested fix: knob changes applied together (one click in the page).
#[derive(Clone, Debug, Serialize)]
pub struct Fix {
    pub settings: Vec<Setting>,
    /// Why this helps, one line.
    pub why: Text,
}

impl Fix {
    /// The settings as `--set` arguments: `--set k=v --set k2=v2`.
    pub fn as_args(&self) -> String {
        let sets: Vec<String> =
            self.settings.iter().map(|s| format!("--set {}={}", s.key, s.value)).collect();
        sets.join(" ")
    }
}

/// What one rule found.
#[derive(Clone, Debug, Serialize)]
pub struct Diagnosis {
    /// The rule's id ([`Rule::id`]).
    pub id: &'static str,
    pub severity: Severity,
    /// The tuning guide's common problem.
    pub problem: Text,
    /// One line with the figure that fired the rule.
    pub title: Said,
    /// The report figure the rule is about (a dotted report path).
    pub figure: &'static str,
    /// The guide's likely causes.
    pub causes: Vec<Text>,
    /// The measured evidence, one line per figure, with the numbers.
    pub evidence: Vec<Said>,
    /// Suggested fixes, best first.
    pub fixes: Vec<Fix>,
}

/// One rule of the advisor.
pub struct Rule {
    pub id: &'static str,
    pub problem: Text,
    /// The figure the rule judges and its threshold, in words.
    pub fires_when: &'static str,
    diagnose: fn(&Report, &VmConfig) -> Option<Diagnosis>,
}

const COMPILE_PROBLEM: Text =
    Text { en: "JIT compile time too long", zh: "JIT 编译时间过长" };
const MEMORY_PROBLEM: Text = Text { en: "Memory use too high", zh: "内存占用过高" };
const TLB_PROBLEM: Text = Text { en: "Low TLB hit rate", zh: "TLB 命中率低" };
const GC_PAUSE_PROBLEM: Text = Text { en: "GC pauses too long", zh: "GC 停顿时间过长" };

/// Every rule, in the order diagnoses are listed.
pub static RULES: &[Rule] = &[
    Rule {
        id: "compile_time",
        problem: COMPILE_PROBLEM,
        fires_when: "jit.compile_ns.total / wall_ns >= 80 % natively, >= 33 % in the browser, \
                     and jit.compile_ns.total >= 100 ms",
        diagnose: compile_time,
    },
    Rule {
        id: "cache_thrashing",
        problem: MEMORY_PROBLEM,
        fires_when: "code_cache.evictions >= 100 and >= 2 x code_cache.entries",
        diagnose: cache_thrashing,
    },
    Rule {
        id: "code_memory",
        problem: MEMORY_PROBLEM,
        fires_when: "memory.code_bytes >= 768 KiB while code_cache.max_memory_bytes >= 8 x it, \
                     nothing evicted",
        diagnose: code_memory,
    },
    Rule {
        id: "tlb_misses",
        problem: TLB_PROBLEM,
        fires_when: "tlb.hit_rate < 90 % and tlb.walks per million instructions >= 1000",
        diagnose: tlb_misses,
    },
    Rule {
        id: "gc_pauses",
        problem: GC_PAUSE_PROBLEM,
        fires_when: "gc.pause_ns.p99 >= 1 ms over at least 5 pauses",
        diagnose: gc_pauses,
    },
    Rule {
        id: "gc_memory",
        problem: MEMORY_PROBLEM,
        fires_when: "gc.heap_committed_bytes >= 16 MiB and either no cycle ever started or \
                     it is >= 4 x the heap size the last cycle aimed for",
        diagnose: gc_memory,
    },
];

/// Every diagnosis the rules make of `report`, in [`RULES`] order. The
/// knob values the rules read come from `report.config` (the defaults where
/// it cannot be read).
pub fn advise(report: &Report) -> Vec<Diagnosis> {
    let config = VmConfig::from_json_value(&report.config).unwrap_or_default();
    RULES.iter().filter_map(|r| (r.diagnose)(report, &config)).collect()
}

/// [`advise`] on a report given as JSON text (the CLI's report file, or the
/// page's live report, which has no `series`; missing fields read as 0).
pub fn advise_json(report_json: &str) -> Result<Vec<Diagnosis>, String> {
    let report: Report =
        serde_json::from_str(report_json).map_err(|e| format!("not a tunevm report: {e}"))?;
    Ok(advise(&report))
}

/// The diagnoses as text for a terminal: one block per diagnosis, or
/// "advisor: nothing to fix".
pub fn render_text(diagnoses: &[Diagnosis]) -> String {
    if diagnoses.is_empty() {
        return "advisor: nothing to fix\n".into();
    }
    let mut out = String::new();
    for d in diagnoses {
        out += &format!(
            "advisor: [{}] {} ({}): {}\n",
            d.severity.name(),
            d.problem.en,
            d.id,
            d.title.en
        );
        for e in &d.evidence {
            out += &format!("  evidence: {}\n", e.en);
        }
        for c in &d.causes {
            out += &format!("  likely cause: {}\n", c.en);
        }
        for f in &d.fixes {
            out += &format!("  try: {}  ({})\n", f.as_args(), f.why.en);
        }
    }
    out
}

// ------------------------------------------------------------------ rules

/// `compile_time` fires when compiling took at least this share of the
/// run's wall time (`jit.compile_ns.total / wall_ns`; with
/// `jit.background_compile` what the guest waited for compiles,
/// `jit.compile_waited_ns / wall_ns`), by engine (the first
/// row whose prefix `report.engine` starts with): `(prefix, warning share,
/// critical share)`. The engines differ: natively wasmtime compiles each
/// module eagerly with Cranelift; in the browser the figure is
/// `WebAssembly.Module` + `Instance` while V8 compiles lazily, so the same
/// run shows about half the share there. Measured:
///
/// | preset (workload) | native (debug test build) | browser (V8, release) |
/// |---|---|---|
/// | `compile-time-problem` (cpubench; 2026-12-06, regions of 1024 instructions) | 68-70 % release, p99 20-30 ms | 22-26 %, p99 9-12 ms |
/// | `compile-time-problem` (cpubench; before 2026-12-06) | 95 % | 36-44 % |
/// | `memory-problem` (phases, also compiles everything) | 81 % | 44 % |
/// | `guide-defaults` (cpubench) | 60-65 % (the compile thread's time; the guest waited 1-3 %, the share read with background compiles) | 28-30 % |
/// | `compile-time-fix` (cpubench) | 65-69 % | 9 % |
/// | `memory-fix` (phases) | 56 % | 26-29 % |
/// | a thrashing cache (64 KiB on cpubench, 512 KiB on phases; before units held each instruction once) | 89-91 % | |
pub const COMPILE_SHARE: &[(&str, f64, f64)] = &[("browser", 0.33, 0.5), ("", 0.8, 0.9)];
/// ... and compile time was at least this long in total (a run of a few
/// milliseconds is all start-up: no advice).
pub const COMPILE_MIN_TOTAL_NS: u64 = 100_000_000;
/// With compile p99 per unit above [`COMPILE_P99_TARGET_NS`], `compile_time`
/// fires from this fraction of the warning share on.
pub const SLOW_UNITS_SHARE: f64 = 0.5;
/// The guide's target for one unit's compile (the checklist's row).
pub const COMPILE_P99_TARGET_NS: u64 = 10_000_000;

/// `cache_thrashing` fires when the code cache evicted at least this many
/// units ... (`code_cache.evictions`; 0 under every preset; a 512 KiB cache
/// on phases evicts 12,246; a 64 KiB one on mixbench 1,428 in its first
/// 20 M instructions, on cpubench 56 in its whole run since units hold
/// each instruction once, 648 before)
pub const THRASH_MIN_EVICTIONS: u64 = 100;
/// ... and at least this many times the units it holds: its contents were
/// replaced more than once (12,246 for 873 held; 648 for 35 held).
pub const THRASH_TURNOVER: u64 = 2;
/// Turned over this many times: critical.
pub const THRASH_TURNOVER_CRITICAL: u64 = 10;

/// `code_memory` fires when generated code holds at least this many bytes
/// (`memory.code_bytes` natively, 2026-12-06: `memory-problem` 1.10 MB, 969
/// KB after 25 M instructions; `memory-fix` 754 KB, the defaults on phases
/// 540 KB, on cpubench 141 KB) ...
pub const CODE_BYTES_HIGH: u64 = 768 << 10;
/// ... while the cache's limit is at least this many times larger and it
/// never evicted: nothing bounds the code kept.
pub const CODE_LIMIT_SLACK: u64 = 8;

/// `tlb_misses` fires when the TLB hit rate (`tlb.hit_rate`) is below the
/// guide's target (`tlb-problem` 62 %, `tlb-fix` 99.98 %; no paging, no
/// lookups: no advice) ...
pub const TLB_HIT_TARGET: f64 = 0.9;
/// ... and there were at least this many page walks per million guest
/// instructions (`tlb-problem` 39,705; `tlb-fix` 26).
pub const TLB_WALKS_PER_MILLION: f64 = 1000.0;
/// Below this hit rate it is critical.
pub const TLB_HIT_CRITICAL: f64 = 0.7;

/// The TLB's L2 the advice aims for when it is smaller (1024 random pages
/// fit, the `tlb-fix` preset's size).
const TLB_L2_SUGGESTED: u64 = 4096;

fn compile_time(r: &Report, c: &VmConfig) -> Option<Diagnosis> {
    // With background compiles the engine works beside the guest (natively
    // on the compile thread, in the page on V8's threads): what the run
    // paid is the time the guest waited, not the engine's time (natively at
    // the defaults about 60 % of cpubench's run is compile-thread time, while
    // the guest waits 1-3 %).
    let background = bool_knob(c, "jit.background_compile");
    let total = if background { r.jit.compile_waited_ns } else { r.jit.compile_ns.total };
    if r.wall_ns == 0 || total < COMPILE_MIN_TOTAL_NS {
        return None;
    }
    let share = total as f64 / r.wall_ns as f64;
    let (_, warning, critical) = COMPILE_SHARE
        .iter()
        .find(|(prefix, _, _)| r.engine.starts_with(prefix))
        .copied()
        .unwrap_or(("", 0.8, 0.9));
    let q = &r.jit.compile_ns;
    // Units slower than the guide's per-unit target make a smaller share
    // worth a diagnosis (compile-time-problem natively: 68 % of the run,
    // p99 20-30 ms; its fix and the defaults: p99 a few ms).
    let slow_units = q.p99.is_some_and(|p99| p99 > COMPILE_P99_TARGET_NS);
    if share < warning && !(slow_units && share >= SLOW_UNITS_SHARE * warning) {
        return None;
    }
    let mut evidence = vec![if background {
        said(
            format!(
                "the guest waited for compiles {} of the run ({} of {}; the engine compiled \
                 for {} beside it)",
                pct(share),
                ms(total),
                ms(r.wall_ns),
                ms(r.jit.compile_ns.total)
            ),
            format!(
                "客户程序等待编译的时间占运行时间的 {}（{} / {}；引擎在旁边另外编译了 {}）",
                pct(share),
                ms(total),
                ms(r.wall_ns),
                ms(r.jit.compile_ns.total)
            ),
        )
    } else {
        said(
            format!(
                "compiling took {} of the run ({} of {})",
                pct(share),
                ms(total),
                ms(r.wall_ns)
            ),
            format!("编译占了运行时间的 {}（{} / {}）", pct(share), ms(total), ms(r.wall_ns)),
        )
    }];
    evidence.push(said(
        format!(
            "{} units compiled, per unit p50 {}, p99 {} (target < {})",
            count(r.jit.units_compiled),
            opt_ms(q.p50),
            opt_ms(q.p99),
            ms(COMPILE_P99_TARGET_NS)
        ),
        format!(
            "编译了 {} 个单元，每个单元 p50 {}、p99 {}（目标 < {}）",
            count(r.jit.units_compiled),
            opt_ms(q.p50),
            opt_ms(q.p99),
            ms(COMPILE_P99_TARGET_NS)
        ),
    ));
    let budget = bool_knob(c, "jit.enable_compile_time_budget");
    evidence.push(if budget {
        said(
            format!("{} compiles waited for the compile-time budget", count(r.jit.compile_waits)),
            format!("{} 次编译在等编译时间预算", count(r.jit.compile_waits)),
        )
    } else {
        said(
            "the compile-time budget is off: no compile ever waited",
            "编译时间预算已关闭：没有编译需要等待",
        )
    });
    if r.code_cache.evictions > 0 {
        evidence.push(said(
            format!(
                "{} evictions: evicted units are compiled again",
                count(r.code_cache.evictions)
            ),
            format!("{} 次淘汰：被淘汰的单元还要重新编译", count(r.code_cache.evictions)),
        ));
    }

    let min = u64_knob(c, "jit.min_threshold");
    let max = u64_knob(c, "jit.max_threshold");
    let tier_up = u64_knob(c, "jit.tier_up_threshold");
    let mut causes = Vec::new();
    let mut fixes = Vec::new();
    if min < 500 {
        causes.push(Text {
            en: "The hotness threshold is low: code that runs only a few times (start-up code) \
                 is compiled too.",
            zh: "热度阈值太低：只执行几次的代码（比如启动代码）也被编译。",
        });
        fixes.push(Fix {
            settings: vec![set("jit.min_threshold", 500), set("jit.max_threshold", max.max(5000))],
            why: Text {
                en: "compile only code that runs often (the guide: 500 to 5000 executions)",
                zh: "只编译经常执行的代码（指南：500 到 5000 次）",
            },
        });
    }
    if tier_up < 5000 {
        causes.push(Text {
            en: "Units reach the optimizing tier early: it builds the largest regions, which \
                 take the longest to compile.",
            zh: "单元太早进入优化层：优化层生成最大的区域，编译最慢。",
        });
        fixes.push(Fix {
            settings: vec![set("jit.tier_up_threshold", 5000)],
            why: Text {
                en: "the fast baseline tier first; optimize only code that keeps running",
                zh: "先用快速的基线层，只优化持续运行的代码",
            },
        });
    }
    if !budget {
        causes.push(Text {
            en: "The compile-time budget is off: compiles are never spread out.",
            zh: "编译时间预算关闭了：编译从不分摊。",
        });
        fixes.push(Fix {
            settings: vec![set("jit.enable_compile_time_budget", true)],
            why: Text {
                en: "cap compile time per sample window; the interpreter runs meanwhile",
                zh: "限制每个采样窗口的编译时间，其间由解释器继续执行",
            },
        });
    }
    if r.code_cache.evictions >= THRASH_MIN_EVICTIONS {
        causes.push(Text {
            en: "The code cache is too small: evicted code is compiled again (see \
                 cache_thrashing).",
            zh: "代码缓存太小：被淘汰的代码要重新编译（见 cache_thrashing）。",
        });
    }
    if causes.is_empty() {
        causes.push(Text {
            en: "The program runs too briefly for its compiled code to pay back the compile.",
            zh: "程序运行时间太短，编译后的代码还没赚回编译的开销。",
        });
    }
    Some(Diagnosis {
        id: "compile_time",
        severity: if share >= critical { Severity::Critical } else { Severity::Warning },
        problem: COMPILE_PROBLEM,
        title: if background {
            said(
                format!("waiting for compiles took {} of the run", pct(share)),
                format!("等待编译占了运行时间的 {}", pct(share)),
            )
        } else {
            said(
                format!("compiling took {} of the run", pct(share)),
                format!("编译占了运行时间的 {}", pct(share)),
            )
        },
        figure: if background { "jit.compile_waited_ns" } else { "jit.compile_ns.total" },
        causes,
        evidence,
        fixes,
    })
}

fn cache_thrashing(r: &Report, c: &VmConfig) -> Option<Diagnosis> {
    let cc = &r.code_cache;
    let held = cc.entries.max(1);
    if cc.evictions < THRASH_MIN_EVICTIONS || cc.evictions < THRASH_TURNOVER * held {
        return None;
    }
    let turnover = cc.evictions as f64 / held as f64;
    let limit = u64_knob(c, "code_cache.max_memory_bytes");
    let max_entries = u64_knob(c, "code_cache.max_entries");
    let policy = str_knob(c, "code_cache.eviction_policy");
    let mut evidence = vec![
        said(
            format!(
                "{} evictions for {} units held: the cache turned over {:.0} times, it is \
                 thrashing",
                count(cc.evictions),
                count(cc.entries),
                turnover
            ),
            format!(
                "{} 次淘汰，而缓存只存着 {} 个单元：内容被换了 {:.0} 遍，缓存在来回颠簸",
                count(cc.evictions),
                count(cc.entries),
                turnover
            ),
        ),
        said(
            format!(
                "{} units compiled, {} of them again after an eviction or invalidation",
                count(r.jit.units_compiled),
                count(r.jit.units_compiled.saturating_sub(cc.entries))
            ),
            format!(
                "编译了 {} 个单元，其中 {} 个是被淘汰或失效后重新编译的",
                count(r.jit.units_compiled),
                count(r.jit.units_compiled.saturating_sub(cc.entries))
            ),
        ),
        said(
            format!(
                "generated code {} of a {} limit ({}), {} of {} entries",
                bytes(cc.bytes),
                bytes(limit),
                pct(cc.bytes as f64 / limit.max(1) as f64),
                count(cc.entries),
                count(max_entries)
            ),
            format!(
                "生成代码 {}，上限 {}（{}），条目 {} / {}",
                bytes(cc.bytes),
                bytes(limit),
                pct(cc.bytes as f64 / limit.max(1) as f64),
                count(cc.entries),
                count(max_entries)
            ),
        ),
    ];
    if let Some(hit) = cc.hit_rate {
        evidence.push(said(
            format!(
                "code cache hit rate {} (a hit rate can look fine while it thrashes)",
                pct(hit)
            ),
            format!("代码缓存命中率 {}（缓存颠簸时命中率也可能看起来不错）", pct(hit)),
        ));
    }
    if r.jit.invalidations > 0 {
        evidence.push(said(
            format!("{} units invalidated because their code changed", count(r.jit.invalidations)),
            format!("{} 个单元因代码被改写而失效", count(r.jit.invalidations)),
        ));
    }
    let mut causes = Vec::new();
    let mut fixes = Vec::new();
    let by_bytes = cc.bytes * 4 >= limit * 3;
    let by_entries = cc.entries * 10 >= max_entries * 9;
    if by_bytes || !by_entries {
        causes.push(Text {
            en: "The code cache's byte limit is smaller than the program's hot code.",
            zh: "代码缓存的字节上限比程序的热代码还小。",
        });
        let bigger =
            (limit.saturating_mul(4)).min(*crate::config::CacheConfig::MAX_MEMORY_BYTES.end());
        if bigger > limit {
            fixes.push(Fix {
                settings: vec![set("code_cache.max_memory_bytes", bigger)],
                why: Text {
                    en: "a cache 4 times larger holds the hot code",
                    zh: "把缓存放大到 4 倍，装得下热代码",
                },
            });
        }
    }
    if by_entries {
        causes.push(Text {
            en: "The code cache's entry limit is smaller than the number of hot units.",
            zh: "代码缓存的条目上限比热单元的个数还少。",
        });
        let bigger = (max_entries.saturating_mul(4))
            .min(*crate::config::CacheConfig::MAX_ENTRIES.end() as u64);
        if bigger > max_entries {
            fixes.push(Fix {
                settings: vec![set("code_cache.max_entries", bigger)],
                why: Text {
                    en: "4 times as many entries hold the hot units",
                    zh: "把条目数放大到 4 倍，装得下热单元",
                },
            });
        }
    }
    if policy == "lfu" {
        causes.push(Text {
            en: "LFU eviction keeps an old phase's units and evicts the new phase's.",
            zh: "LFU 淘汰策略留住旧阶段的单元，反而淘汰新阶段的。",
        });
        fixes.push(Fix {
            settings: vec![set("code_cache.eviction_policy", "lru")],
            why: Text { en: "LRU follows phase changes", zh: "LRU 能跟上程序阶段的变化" },
        });
    }
    Some(Diagnosis {
        id: "cache_thrashing",
        severity: if cc.evictions >= THRASH_TURNOVER_CRITICAL * held {
            Severity::Critical
        } else {
            Severity::Warning
        },
        problem: MEMORY_PROBLEM,
        title: said(
            format!("{} evictions: the code cache is thrashing", count(cc.evictions)),
            format!("{} 次淘汰：代码缓存在来回颠簸", count(cc.evictions)),
        ),
        figure: "code_cache.evictions",
        causes,
        evidence,
        fixes,
    })
}

fn code_memory(r: &Report, c: &VmConfig) -> Option<Diagnosis> {
    let code = r.memory.code_bytes;
    let limit = u64_knob(c, "code_cache.max_memory_bytes");
    if code < CODE_BYTES_HIGH || limit < CODE_LIMIT_SLACK * code || r.code_cache.evictions > 0 {
        return None;
    }
    let min = u64_knob(c, "jit.min_threshold");
    let max = u64_knob(c, "jit.max_threshold");
    let evidence = vec![
        said(
            format!(
                "generated code holds {} ({} units), and the cache may keep {}: it never evicts",
                bytes(code),
                count(r.code_cache.entries),
                bytes(limit)
            ),
            format!(
                "生成代码占 {}（{} 个单元），而缓存上限是 {}：从不淘汰",
                bytes(code),
                count(r.code_cache.entries),
                bytes(limit)
            ),
        ),
        said(
            format!(
                "{} units compiled at a hotness threshold of {}..{} executions",
                count(r.jit.units_compiled),
                min,
                max
            ),
            format!(
                "热度阈值 {}..{} 次，共编译了 {} 个单元",
                min,
                max,
                count(r.jit.units_compiled)
            ),
        ),
    ];
    let mut causes = Vec::new();
    let mut fixes = Vec::new();
    if min < 50 {
        causes.push(Text {
            en: "The hotness threshold is low: code that runs once or twice is compiled and kept.",
            zh: "热度阈值太低：只执行一两次的代码也被编译并一直保留。",
        });
        fixes.push(Fix {
            settings: vec![set("jit.min_threshold", 50), set("jit.max_threshold", max.max(500))],
            why: Text {
                en: "the guide's default threshold: cold code is not compiled at all",
                zh: "指南的默认阈值：冷代码根本不编译",
            },
        });
    }
    causes.push(Text {
        en: "The code cache's limit is far above what the program's hot code needs, so cold \
             code is never evicted.",
        zh: "代码缓存上限远大于热代码的需要，冷代码永远不会被淘汰。",
    });
    let cap = (code / 2).next_power_of_two().max(1 << 20);
    fixes.push(Fix {
        settings: vec![
            set("code_cache.max_memory_bytes", cap),
            set("code_cache.eviction_policy", "lru_lfu"),
        ],
        why: Text {
            en: "a smaller cache evicts code that stopped running (watch evictions: too small \
                 thrashes)",
            zh: "更小的缓存会淘汰不再执行的代码（注意淘汰次数：太小会颠簸）",
        },
    });
    Some(Diagnosis {
        id: "code_memory",
        severity: Severity::Warning,
        problem: MEMORY_PROBLEM,
        title: said(
            format!("generated code holds {} and is never evicted", bytes(code)),
            format!("生成代码占 {}，且从不淘汰", bytes(code)),
        ),
        figure: "memory.code_bytes",
        causes,
        evidence,
        fixes,
    })
}

fn tlb_misses(r: &Report, c: &VmConfig) -> Option<Diagnosis> {
    let t = &r.tlb;
    let hit = t.hit_rate?;
    let per_million = t.walks as f64 * 1e6 / r.instructions.max(1) as f64;
    if hit >= TLB_HIT_TARGET || per_million < TLB_WALKS_PER_MILLION {
        return None;
    }
    let l1 = u64_knob(c, "mmu.multilevel_tlb_config.l1_entries");
    let l2 = u64_knob(c, "mmu.multilevel_tlb_config.l2_entries");
    let ways = u64_knob(c, "mmu.multilevel_tlb_config.l2_ways").max(1);
    let shared = u64_knob(c, "mmu.concurrent_tlb_config.entries");
    let prefetch = bool_knob(c, "mmu.enable_prefetch");
    let concurrent = t.strategy_chosen == "concurrent";
    let mut evidence = vec![
        said(
            format!("TLB hit rate {} (target > {})", pct(hit), pct(TLB_HIT_TARGET)),
            format!("TLB 命中率 {}（目标 > {}）", pct(hit), pct(TLB_HIT_TARGET)),
        ),
        said(
            format!(
                "{} page walks, {} per million instructions",
                count(t.walks),
                count(per_million.round() as u64)
            ),
            format!(
                "{} 次页表遍历，每百万条指令 {} 次",
                count(t.walks),
                count(per_million.round() as u64)
            ),
        ),
    ];
    for level in &t.levels {
        let size = match (level.name.as_str(), concurrent) {
            ("inline", _) => Some(256),
            ("l1", false) => Some(l1),
            ("l2", false) => Some(l2),
            (_, true) => Some(shared),
            _ => None,
        };
        if let (Some(rate), Some(size)) = (level.hit_rate, size) {
            evidence.push(said(
                format!(
                    "{} ({} entries): {} of {} lookups hit",
                    level.name,
                    count(size),
                    pct(rate),
                    count(level.lookups)
                ),
                format!(
                    "{}（{} 项）：{} 次查找命中 {}",
                    level.name,
                    count(size),
                    count(level.lookups),
                    pct(rate)
                ),
            ));
        }
    }
    if t.prefetch.issued > 0 {
        evidence.push(said(
            format!(
                "prefetch: {} issued, {} used",
                count(t.prefetch.issued),
                count(t.prefetch.used)
            ),
            format!(
                "预取：发出 {} 次，用上 {} 次",
                count(t.prefetch.issued),
                count(t.prefetch.used)
            ),
        ));
    }
    let mut causes = vec![Text {
        en: "The TLBs are smaller than the program's working set of pages: translations are \
             evicted before they are used again, and each miss walks the page table.",
        zh: "TLB 比程序的工作集（页数）小：地址转换在再次使用前就被挤掉，每次未命中都要遍历页表。",
    }];
    let mut fixes = Vec::new();
    if concurrent && str_knob(c, "mmu.strategy") != "multi_level" {
        causes.push(Text {
            en: "The concurrent (shared) TLB is chosen: meant for several vCPUs, one hart \
                 does better with the multi-level TLB.",
            zh: "用的是并发（共享）TLB：它是为多个 vCPU 设计的，单个 hart 用多级 TLB 更好。",
        });
        fixes.push(Fix {
            settings: vec![set("mmu.strategy", "multi_level")],
            why: Text {
                en: "a private L1 + L2 for one hart", zh: "单个 hart 使用私有的 L1 + L2"
            },
        });
    }
    let l2_max = *crate::mem::MultiLevelTlbConfig::L2_ENTRIES.end() as u64;
    let target = if l2 < TLB_L2_SUGGESTED { TLB_L2_SUGGESTED } else { l2.saturating_mul(4) };
    // A multiple of the ways, ways x a power of two, within the range.
    let mut suggested = ways * target.div_ceil(ways).next_power_of_two();
    while suggested > l2_max {
        suggested /= 2;
    }
    if suggested > l2 {
        fixes.push(Fix {
            settings: vec![set("mmu.multilevel_tlb_config.l2_entries", suggested)],
            why: Text {
                en: "an L2 large enough for the working set (4096 entries hold 1024 random \
                     pages)",
                zh: "把 L2 调到装得下工作集（4096 项装得下 1024 个随机页）",
            },
        });
    }
    if !prefetch {
        causes.push(Text {
            en: "Prefetch is off: strided accesses miss on every new page.",
            zh: "预取关闭了：按固定步长的访问每到一个新页都会未命中。",
        });
        fixes.push(Fix {
            settings: vec![set("mmu.enable_prefetch", true)],
            why: Text {
                en: "fill the next pages' translations before they are used",
                zh: "在使用之前提前填入后面几页的地址转换",
            },
        });
    }
    Some(Diagnosis {
        id: "tlb_misses",
        severity: if hit < TLB_HIT_CRITICAL { Severity::Critical } else { Severity::Warning },
        problem: TLB_PROBLEM,
        title: said(
            format!(
                "TLB hit rate {}: {} page walks per million instructions",
                pct(hit),
                count(per_million.round() as u64)
            ),
            format!(
                "TLB 命中率 {}：每百万条指令 {} 次页表遍历",
                pct(hit),
                count(per_million.round() as u64)
            ),
        ),
        figure: "tlb.hit_rate",
        causes,
        evidence,
        fixes,
    })
}

/// The guide's GC pause target.
pub const GC_PAUSE_TARGET_NS: u64 = crate::gc::PAUSE_TARGET_NS;
/// Pauses a run needs before its p99 is judged.
const GC_MIN_PAUSES: u64 = 5;
/// p99 at which a long pause is critical (stop-the-world on gc-graph with
/// a 32 MiB heap: 2.6-8 ms natively; the fix preset: 0.25-0.8 ms natively,
/// 0.9-1.1 ms in the page, where the end of each marking cycle stops at the
/// mark quota but a few still take a millisecond or more).
const GC_PAUSE_CRITICAL_NS: u64 = 5_000_000;
/// Heap RAM below which the advisor does not talk about GC memory.
pub const GC_HEAP_HIGH: u64 = 16 << 20;
/// Heap RAM over the size the collector aims for that counts as too much
/// (gc-memory-problem: 49 MiB with no cycle; the fix: 19 MiB against 7.6 MiB).
const GC_HEAP_SLACK: u64 = 4;

fn gc_pauses(r: &Report, c: &VmConfig) -> Option<Diagnosis> {
    let g = &r.gc;
    let p99 = g.pause_ns.p99?;
    if !g.used || g.pause_ns.count < GC_MIN_PAUSES || p99 < GC_PAUSE_TARGET_NS {
        return None;
    }
    let incremental = bool_knob(c, "gc.incremental");
    let adaptive = bool_knob(c, "gc.adaptive_quota");
    let concurrent = bool_knob(c, "gc.concurrent_marking");
    let mark = u64_knob(c, "gc.mark_quota_us");
    let sweep = u64_knob(c, "gc.sweep_quota_us");
    let shards = u64_knob(c, "gc.write_barrier_shards");
    let mut evidence = vec![
        said(
            format!(
                "GC pause p99 {} (target < {}), max {}, over {} pauses",
                ms(p99),
                ms(GC_PAUSE_TARGET_NS),
                opt_ms(g.pause_ns.max),
                count(g.pause_ns.count)
            ),
            format!(
                "GC 停顿 p99 {}（目标 < {}），最长 {}，共 {} 次停顿",
                ms(p99),
                ms(GC_PAUSE_TARGET_NS),
                opt_ms(g.pause_ns.max),
                count(g.pause_ns.count)
            ),
        ),
        said(
            format!("{} collections; {}", count(g.collections), g.concurrent_reason),
            format!("{} 次回收；{}", count(g.collections), g.concurrent_reason),
        ),
    ];
    if g.marking_fell_behind > 0 {
        evidence.push(said(
            format!(
                "marking fell behind allocation {} times (the rest of those cycles ran in one pause)",
                count(g.marking_fell_behind)
            ),
            format!("标记有 {} 次跟不上分配（那些周期剩下的部分在一次停顿中完成）", count(g.marking_fell_behind)),
        ));
    }
    let mut causes = Vec::new();
    let mut fixes = Vec::new();
    if !incremental {
        causes.push(Text {
            en: "The collector is stop-the-world: each cycle marks and sweeps everything in one pause.",
            zh: "回收器是全停顿的：每个周期都在一次停顿里完成全部标记和清扫。",
        });
        fixes.push(Fix {
            settings: vec![
                set("gc.incremental", true),
                set("gc.concurrent_marking", true),
                set("gc.adaptive_quota", true),
            ],
            why: Text {
                en: "mark and sweep in short slices between allocations, on a marker thread where \
                     the host has one, with quotas that follow the 1 ms target",
                zh: "在分配之间分片标记和清扫，宿主机支持时由标记线程并发标记，配额自动跟随 1 ms 目标",
            },
        });
    } else {
        if !concurrent {
            causes.push(Text {
                en: "Marking runs only in slices on the vCPU: every slice is a pause.",
                zh: "标记只在 vCPU 上分片进行：每个切片都是一次停顿。",
            });
            fixes.push(Fix {
                settings: vec![set("gc.concurrent_marking", true)],
                why: Text {
                    en: "a marker thread (a Web Worker in the page's threads build) marks while \
                         the guest runs",
                    zh: "标记线程（网页多线程构建中为一个 Web Worker）在客户机运行的同时标记",
                },
            });
        }
        if !adaptive {
            causes.push(Text {
                en: "The quotas are fixed, so slices that overrun the target stay that long.",
                zh: "配额是固定的，超出目标的切片会一直那么长。",
            });
            fixes.push(Fix {
                settings: vec![set("gc.adaptive_quota", true)],
                why: Text {
                    en: "the collector shrinks a quota whose slices overrun the 1 ms target",
                    zh: "切片超过 1 ms 目标时，回收器自动缩小配额",
                },
            });
        }
        if mark > 800 || sweep > 800 {
            causes.push(Text {
                en: "The mark or sweep quota lets one slice take longer than the pause target.",
                zh: "标记或清扫配额允许单个切片比停顿目标还长。",
            });
            fixes.push(Fix {
                settings: vec![
                    set("gc.mark_quota_us", mark.min(500)),
                    set("gc.sweep_quota_us", sweep.min(300)),
                ],
                why: Text {
                    en: "shorter slices (more of them: watch gc.marking_fell_behind)",
                    zh: "更短的切片（次数更多：注意 gc.marking_fell_behind）",
                },
            });
        }
        if g.barrier_contended > 0 && shards < 64 {
            fixes.push(Fix {
                settings: vec![set("gc.write_barrier_shards", (shards * 2).min(64))],
                why: Text {
                    en: "fewer waits for the write barrier's locks under concurrency",
                    zh: "并发时减少写屏障锁的等待",
                },
            });
        }
    }
    Some(Diagnosis {
        id: "gc_pauses",
        severity: if p99 >= GC_PAUSE_CRITICAL_NS { Severity::Critical } else { Severity::Warning },
        problem: GC_PAUSE_PROBLEM,
        title: said(format!("GC pause p99 is {}", ms(p99)), format!("GC 停顿 p99 为 {}", ms(p99))),
        figure: "gc.pause_ns.p99",
        causes,
        evidence,
        fixes,
    })
}

fn gc_memory(r: &Report, c: &VmConfig) -> Option<Diagnosis> {
    let g = &r.gc;
    let heap = g.heap_committed_bytes;
    let never = g.cycles_started == 0;
    if !g.used || heap < GC_HEAP_HIGH || (!never && heap < GC_HEAP_SLACK * g.heap_target_bytes) {
        return None;
    }
    let trigger = c.get("gc.trigger_threshold").ok().and_then(|v| v.as_f64()).unwrap_or(0.8);
    let evidence = vec![if never {
        said(
            format!(
                "the heap took {} of RAM without a single collection: the trigger at {} of {} never fired",
                bytes(heap),
                pct(trigger),
                bytes(g.heap_limit_bytes)
            ),
            format!(
                "堆占用了 {} 内存却一次也没有回收：{} 的 {} 这个触发点从未达到",
                bytes(heap),
                bytes(g.heap_limit_bytes),
                pct(trigger)
            ),
        )
    } else {
        said(
            format!(
                "the heap took {} of RAM while the collector aims for {}",
                bytes(heap),
                bytes(g.heap_target_bytes)
            ),
            format!(
                "堆占用了 {} 内存，而回收器的目标大小是 {}",
                bytes(heap),
                bytes(g.heap_target_bytes)
            ),
        )
    }];
    let mut fixes = Vec::new();
    let lower = if trigger > 0.5 {
        Some(("0.5", "0.4"))
    } else if trigger > 0.3 {
        Some(("0.3", "0.2"))
    } else {
        None
    };
    if let Some((lower, target)) = lower {
        fixes.push(Fix {
            settings: vec![set("gc.trigger_threshold", lower), set("gc.target_occupancy", target)],
            why: Text {
                en: "start cycles sooner (the guide's advice): more collections, less RAM",
                zh: "更早开始回收（指南的建议）：回收次数更多，占用内存更少",
            },
        });
    }
    fixes.push(Fix {
        settings: vec![set("gc.heap_size_limit", (heap / 4).next_multiple_of(4096).max(4 << 20))],
        why: Text {
            en: "a smaller heap caps its RAM (too small and gc.alloc returns 0)",
            zh: "更小的堆限制了内存占用（太小的话 gc.alloc 会返回 0）",
        },
    });
    Some(Diagnosis {
        id: "gc_memory",
        severity: Severity::Warning,
        problem: MEMORY_PROBLEM,
        title: said(
            format!("the GC heap takes {} of RAM", bytes(heap)),
            format!("GC 堆占用 {} 内存", bytes(heap)),
        ),
        figure: "gc.heap_committed_bytes",
        causes: vec![Text {
            en: "GC is triggered too rarely: the heap fills far past the live data before a cycle starts.",
            zh: "GC 触发太少：回收周期开始之前，堆已经远远超出存活数据。",
        }],
        evidence,
        fixes,
    })
}

// ------------------------------------------------------------------ helpers

fn set(key: &'static str, value: impl ToString) -> Setting {
    Setting { key, value: value.to_string() }
}

fn u64_knob(c: &VmConfig, key: &str) -> u64 {
    c.get(key).ok().and_then(|v| v.as_u64()).unwrap_or(0)
}

fn bool_knob(c: &VmConfig, key: &str) -> bool {
    c.get(key).ok().and_then(|v| v.as_bool()).unwrap_or(false)
}

fn str_knob(c: &VmConfig, key: &str) -> String {
    c.get(key).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// 72015 -> "72,015".
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A ratio as a percentage: "81 %", "9.5 %", "0.07 %".
fn pct(r: f64) -> String {
    let p = r * 100.0;
    if (10.0..=90.0).contains(&p) {
        format!("{p:.0} %")
    } else if (1.0..99.0).contains(&p) {
        format!("{p:.1} %")
    } else {
        format!("{p:.2} %")
    }
}

fn ms(ns: u64) -> String {
    let m = ns as f64 / 1e6;
    if m >= 1000.0 {
        format!("{:.2} s", m / 1000.0)
    } else if m >= 10.0 {
        format!("{m:.0} ms")
    } else {
        format!("{m:.1} ms")
    }
}

fn opt_ms(ns: Option<u64>) -> String {
    ns.map_or_else(|| "n/a".into(), ms)
}

fn bytes(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.0} KiB", b as f64 / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::presets;

    /// A report that fires every rule, made with `config`.
    fn bad_report(config: &VmConfig) -> Report {
        let mut r = Report { config: config.to_json(), ..Default::default() };
        r.instructions = 10_000_000;
        r.wall_ns = 1_000_000_000;
        r.jit.compile_ns.total = 950_000_000;
        r.jit.compile_waited_ns = 950_000_000;
        r.jit.units_compiled = 5000;
        r.code_cache.evictions = 4000;
        r.code_cache.entries = 100;
        r.code_cache.bytes = config.code_cache.max_memory_bytes;
        r.memory.code_bytes = 2 << 20;
        r.tlb.hit_rate = Some(0.5);
        r.tlb.walks = 1_000_000;
        r.tlb.strategy_chosen = "concurrent".into();
        r.gc.used = true;
        r.gc.pause_ns.p99 = Some(6_000_000);
        r.gc.pause_ns.count = 20;
        r.gc.barrier_contended = 5;
        r.gc.heap_committed_bytes = 64 << 20;
        r.gc.heap_limit_bytes = 256 << 20;
        r
    }

    fn configs() -> Vec<(String, VmConfig)> {
        let mut out = vec![("defaults".to_string(), VmConfig::default())];
        for p in presets::presets() {
            out.push((p.id.to_string(), p.config().unwrap()));
        }
        let mut lfu = VmConfig::default();
        lfu.set("code_cache.eviction_policy", "lfu").unwrap();
        lfu.set("code_cache.max_entries", "100").unwrap();
        lfu.set("mmu.multilevel_tlb_config.l2_ways", "16").unwrap();
        lfu.set("mmu.multilevel_tlb_config.l2_entries", "16").unwrap();
        lfu.validate().unwrap();
        out.push(("lfu".into(), lfu));
        out
    }

    #[test]
    fn every_suggested_setting_passes_validation() {
        let mut fixes_seen = 0;
        for (name, config) in configs() {
            let report = bad_report(&config);
            for d in advise(&report) {
                assert!(
                    !d.fixes.is_empty() || d.id == "compile_time",
                    "{name}: {} has no fix",
                    d.id
                );
                for fix in &d.fixes {
                    let mut c = config.clone();
                    for s in &fix.settings {
                        crate::config::find(s.key)
                            .unwrap_or_else(|| panic!("{name}/{}: unknown key {}", d.id, s.key));
                        c.set(s.key, &s.value)
                            .unwrap_or_else(|e| panic!("{name}/{}: {}: {e}", d.id, fix.as_args()));
                    }
                    c.validate()
                        .unwrap_or_else(|e| panic!("{name}/{}: {}: {e}", d.id, fix.as_args()));
                    // and the fix changes something
                    assert_ne!(c.to_json(), config.to_json(), "{name}/{}: {}", d.id, fix.as_args());
                    fixes_seen += 1;
                }
            }
        }
        assert!(fixes_seen > 20, "{fixes_seen}");
    }

    #[test]
    fn a_bad_report_fires_every_rule_and_a_quiet_one_none() {
        let config = VmConfig::default();
        let ids: Vec<&str> = advise(&bad_report(&config)).iter().map(|d| d.id).collect();
        // code_memory needs a cache that never evicted: checked alone below
        assert_eq!(
            ids,
            ["compile_time", "cache_thrashing", "tlb_misses", "gc_pauses", "gc_memory"]
        );
        let mut r = bad_report(&config);
        r.code_cache.evictions = 0;
        assert!(advise(&r).iter().any(|d| d.id == "code_memory"));
        let quiet = Report { config: config.to_json(), ..Default::default() };
        assert!(advise(&quiet).is_empty());
        assert_eq!(render_text(&[]), "advisor: nothing to fix\n");
        let rule_ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(
            rule_ids,
            [
                "compile_time",
                "cache_thrashing",
                "code_memory",
                "tlb_misses",
                "gc_pauses",
                "gc_memory"
            ]
        );
    }

    #[test]
    fn a_report_read_back_from_its_json_gives_the_same_advice() {
        let config = VmConfig::default();
        let mut report = bad_report(&config);
        report.jit.compile_ns_histogram =
            vec![crate::monitor::Bucket { le_ns: u64::MAX, count: 1 }];
        // what JSON.stringify makes of u64::MAX
        let text = report.to_json().replace("18446744073709551615", "18446744073709552000");
        let direct: Vec<&str> = advise(&report).iter().map(|d| d.id).collect();
        let read: Vec<&str> = advise_json(&text).unwrap().iter().map(|d| d.id).collect();
        assert_eq!(direct, read);
        assert!(advise_json("{}").unwrap().is_empty());
        assert!(advise_json("7").is_err());
    }

    /// A config whose compiles are synchronous: the guest waits for every
    /// compile, so the rule reads the engine's time.
    fn synchronous() -> serde_json::Value {
        let mut c = VmConfig::default();
        c.set("jit.background_compile", "false").unwrap();
        c.to_json()
    }

    #[test]
    fn the_compile_share_threshold_depends_on_the_engine() {
        let mut r = Report { config: synchronous(), ..Default::default() };
        r.wall_ns = 1_000_000_000;
        r.jit.compile_ns.total = 436_000_000; // compile-time-problem in Chromium
        r.engine = "browser-v8".into();
        assert_eq!(advise(&r).iter().map(|d| d.id).collect::<Vec<_>>(), ["compile_time"]);
        r.engine = "native-wasmtime".into();
        assert!(advise(&r).is_empty());
        r.jit.compile_ns.total = 300_000_000; // the defaults in Chromium
        r.engine = "browser-v8".into();
        assert!(advise(&r).is_empty());
    }

    /// Units slower than the 10 ms target: half the warning share is
    /// enough (compile-time-problem natively: 68-70 %, p99 20-30 ms).
    #[test]
    fn slow_units_make_a_smaller_compile_share_worth_a_diagnosis() {
        let mut r = Report { config: synchronous(), ..Default::default() };
        r.engine = "native-wasmtime".into();
        r.wall_ns = 500_000_000;
        r.jit.compile_ns.total = 345_000_000;
        r.jit.compile_ns.p99 = Some(4_000_000);
        assert!(advise(&r).is_empty(), "69 % with units of 4 ms: below the native 80 %");
        r.jit.compile_ns.p99 = Some(25_000_000);
        assert_eq!(advise(&r).iter().map(|d| d.id).collect::<Vec<_>>(), ["compile_time"]);
        r.jit.compile_ns.total = 150_000_000;
        assert!(advise(&r).is_empty(), "30 %: slow units, but too small a share");
    }

    /// With background compiles the engine's time overlaps the run: the
    /// rule reads what the guest waited (natively at the defaults cpubench
    /// spends about 60 % of its run compiling on the compile thread and
    /// waits 1-3 %), and says so.
    #[test]
    fn with_background_compiles_the_time_waited_counts() {
        let mut c = VmConfig::default();
        c.set("jit.background_compile", "true").unwrap();
        let mut r = Report { config: c.to_json(), ..Default::default() };
        r.engine = "native-wasmtime".into();
        r.wall_ns = 1_000_000_000;
        r.jit.compile_ns.total = 950_000_000;
        r.jit.compile_ns.p99 = Some(25_000_000);
        r.jit.compile_waited_ns = 20_000_000;
        assert!(advise(&r).is_empty(), "2 % waited, though the engine worked 95 % of the run");
        r.jit.compile_waited_ns = 850_000_000;
        let advice = advise(&r);
        assert_eq!(advice.iter().map(|d| d.id).collect::<Vec<_>>(), ["compile_time"]);
        assert_eq!(advice[0].title.en, "waiting for compiles took 85 % of the run");
        assert_eq!(advice[0].figure, "jit.compile_waited_ns");
        assert!(
            advice[0].evidence[0].en.contains("the engine compiled for 950"),
            "{:?}",
            advice[0].evidence[0].en
        );
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(72015), "72,015");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(pct(0.81), "81 %");
        assert_eq!(pct(0.0007), "0.07 %");
        assert_eq!(pct(0.9998), "99.98 %");
        assert_eq!(ms(10_700_000_000), "10.70 s");
    }
}
