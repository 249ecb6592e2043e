//! The knob schema against the config structs and the tuning guide: defaults,
//! coverage of every field, and the JSON the page draws its knobs from.
use serde_json::{json, Value};
use tunevm::config::{
    schema, schema_json, sections, EvictionPolicy, KnobKind, MmuOptimizationStrategy, VmConfig,
};

#[test]
fn defaults_are_the_tuning_guides() {
    let c = VmConfig::default();
    assert_eq!(c.memory.ram_bytes, 256 << 20);
    assert_eq!(c.mmu.strategy, MmuOptimizationStrategy::Hybrid);
    assert!(c.mmu.enable_prefetch);
    assert_eq!(c.mmu.prefetch_history_window, 100);
    assert_eq!(c.mmu.prefetch_distance, 4);
    assert!(!c.mmu.strict_align);
    assert!(c.jit.enabled);
    assert_eq!(c.jit.tier_up_threshold, 200);
    assert_eq!((c.jit.min_threshold, c.jit.max_threshold, c.jit.sample_window), (50, 500, 1000));
    assert_eq!((c.jit.compile_time_weight, c.jit.exec_benefit_weight), (0.3, 0.7));
    assert_eq!(c.jit.compile_time_budget_ns, 10_000_000);
    assert!(c.jit.enable_compile_time_budget);
    assert_eq!(c.code_cache.max_entries, 10_000);
    assert_eq!(c.code_cache.max_memory_bytes, 128 << 20);
    assert_eq!(c.code_cache.eviction_policy, EvictionPolicy::LRU_LFU);
    assert_eq!(c.code_cache.cleanup_interval_secs, 60);
    assert_eq!(c.code_cache.hotness_decay_factor, 0.95);
    assert_eq!(c.code_cache.warmup_size, 100);
    c.validate().expect("the defaults are valid");
}

/// Dotted paths of every non-table value in a JSON tree.
fn leaves(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (name, child) in map {
                let key = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                leaves(&key, child, out);
            }
        }
        _ => out.push((prefix.to_string(), value.clone())),
    }
}

#[test]
fn schema_covers_exactly_the_fields_of_vmconfig() {
    let mut fields = Vec::new();
    leaves("", &VmConfig::default().to_json(), &mut fields);
    let mut field_keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    let mut knob_keys: Vec<&str> = schema().iter().map(|k| k.key).collect();
    field_keys.sort();
    knob_keys.sort();
    assert_eq!(knob_keys, field_keys, "config/knobs.rs and the config structs disagree");
    for (key, value) in &fields {
        let knob = tunevm::config::find(key).unwrap();
        assert_eq!(&knob.default, value, "default of {key}");
    }
}

#[test]
fn every_knob_is_documented_and_its_default_is_allowed() {
    let config = VmConfig::default().to_json();
    for knob in schema() {
        let key = knob.key;
        assert!(sections().iter().any(|s| s.key == knob.section()), "{key}: section not listed");
        assert!(knob.help_en.len() > 80, "{key}: English help too short");
        assert!(
            knob.help_zh.chars().filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c)).count() > 30,
            "{key}: Chinese help missing"
        );
        assert!(!knob.figures.is_empty(), "{key}: no figure shows its effect");
        knob.check_value(&knob.default).unwrap_or_else(|e| panic!("{key}: {e}"));
        knob.check_rules(&knob.default, &config).unwrap_or_else(|e| panic!("{key}: {e}"));
        match &knob.kind {
            KnobKind::Int { min, max } => assert!(min <= max, "{key}"),
            KnobKind::Float { min, max } => assert!(min <= max, "{key}"),
            KnobKind::Enum { values } => {
                for v in *values {
                    assert!(v.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{key}: {v}");
                }
            }
            KnobKind::Bool => assert!(knob.unit.is_empty(), "{key}: a switch has no unit"),
        }
    }
}

#[test]
fn enum_values_come_from_the_rust_enum() {
    let knob = tunevm::config::find("mmu.strategy").unwrap();
    assert_eq!(knob.kind, KnobKind::Enum { values: &["multi_level", "concurrent", "hybrid"] });
}

#[test]
fn schema_json_has_the_shape_the_page_reads() {
    let schema = schema_json();
    let sections = schema["sections"].as_array().unwrap();
    assert_eq!(sections[0]["key"], "memory");
    assert_eq!(sections[1]["title"]["zh"], "MMU 与 TLB");
    let knobs: Vec<&Value> = sections.iter().flat_map(|s| s["knobs"].as_array().unwrap()).collect();
    assert_eq!(knobs.len(), tunevm::config::schema().len());
    let by_key = |key: &str| *knobs.iter().find(|k| k["key"] == key).unwrap();

    let ram = by_key("memory.ram_bytes");
    assert_eq!(ram["kind"], "integer");
    assert_eq!(ram["min"], 1 << 20);
    assert_eq!(ram["max"], 1 << 30);
    assert_eq!(ram["default"], 256 << 20);
    assert_eq!(ram["unit"], "bytes");
    assert_eq!(ram["rules"], json!([{ "multiple_of": 4096 }]));

    let strategy = by_key("mmu.strategy");
    assert_eq!(strategy["kind"], "enum");
    assert_eq!(strategy["values"], json!(["multi_level", "concurrent", "hybrid"]));
    assert_eq!(strategy["default"], "hybrid");
    assert!(strategy["help"]["en"].as_str().unwrap().contains("hit rate"));
    assert!(strategy["help"]["zh"].as_str().unwrap().contains("命中率"));
    // Which knobs change while the guest runs, and which act only natively.
    assert_eq!((strategy["live"].as_bool(), ram["live"].as_bool()), (Some(true), Some(false)));
    let background = by_key("jit.background_compile");
    assert_eq!(
        (background["native_only"].as_bool(), background["live"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(ram["native_only"], false);

    let l2 = by_key("mmu.multilevel_tlb_config.l2_entries");
    assert_eq!(
        l2["rules"],
        json!([
            { "multiple_of_key": "mmu.multilevel_tlb_config.l2_ways" },
            { "power_of_two_ratio_to": "mmu.multilevel_tlb_config.l2_ways" }
        ])
    );
    assert_eq!(by_key("mmu.enable_prefetch")["kind"], "bool");
    assert_eq!(by_key("mmu.prefetch_distance")["unit"], "pages");

    assert_eq!(sections[2]["key"], "jit");
    assert_eq!(sections[2]["title"], json!({ "en": "JIT compiler", "zh": "JIT 编译器" }));
    assert_eq!(sections[3]["key"], "code_cache");
    assert_eq!(sections[3]["title"], json!({ "en": "Code cache", "zh": "代码缓存" }));
    let min = by_key("jit.min_threshold");
    assert_eq!(min["rules"], json!([{ "at_most_key": "jit.max_threshold" }]));
    assert_eq!(
        (&min["min"], &min["max"], &min["default"]),
        (&json!(0), &json!(1_000_000), &json!(50))
    );
    assert_eq!(min["unit"], "executions");
    let weight = by_key("jit.compile_time_weight");
    assert_eq!(weight["kind"], "float");
    assert_eq!(
        (&weight["min"], &weight["max"], &weight["default"]),
        (&json!(0.0), &json!(1.0), &json!(0.3))
    );
    let policy = by_key("code_cache.eviction_policy");
    assert_eq!(policy["values"], json!(["lru", "lfu", "lru_lfu"]));
    assert_eq!(policy["default"], "lru_lfu");
    let bytes = by_key("code_cache.max_memory_bytes");
    assert_eq!(
        (&bytes["min"], &bytes["max"], &bytes["unit"]),
        (&json!(64 << 10), &json!(4u64 << 30), &json!("bytes"))
    );
}

/// The schema's ranges are the engines' own: a value at a schema bound passes
/// the engine's validation, one step outside it fails both.
#[test]
fn jit_and_cache_ranges_are_the_engines() {
    use tunevm::config::{find, CacheConfig, JitConfig};
    use tunevm::jit::AdaptiveThresholdConfig as A;
    let int = |key: &str| match find(key).unwrap().kind {
        KnobKind::Int { min, max } => (min, max),
        ref k => panic!("{key}: {k:?}"),
    };
    let float = |key: &str| match find(key).unwrap().kind {
        KnobKind::Float { min, max } => (min, max),
        ref k => panic!("{key}: {k:?}"),
    };
    let pair = |r: std::ops::RangeInclusive<u64>| (*r.start(), *r.end());
    let usize_pair = |r: std::ops::RangeInclusive<usize>| (*r.start() as u64, *r.end() as u64);
    assert_eq!(int("jit.tier_up_threshold"), pair(JitConfig::TIER_UP_THRESHOLD));
    assert_eq!(int("jit.min_threshold"), pair(A::THRESHOLD));
    assert_eq!(int("jit.max_threshold"), pair(A::THRESHOLD));
    assert_eq!(int("jit.sample_window"), pair(A::SAMPLE_WINDOW));
    assert_eq!(int("jit.compile_time_budget_ns"), pair(A::COMPILE_TIME_BUDGET_NS));
    assert_eq!(float("jit.compile_time_weight"), (*A::WEIGHT.start(), *A::WEIGHT.end()));
    assert_eq!(float("jit.exec_benefit_weight"), (*A::WEIGHT.start(), *A::WEIGHT.end()));
    assert_eq!(int("code_cache.max_entries"), usize_pair(CacheConfig::MAX_ENTRIES));
    assert_eq!(int("code_cache.max_memory_bytes"), pair(CacheConfig::MAX_MEMORY_BYTES));
    assert_eq!(int("code_cache.cleanup_interval_secs"), pair(CacheConfig::CLEANUP_INTERVAL_SECS));
    assert_eq!(
        float("code_cache.hotness_decay_factor"),
        (*CacheConfig::HOTNESS_DECAY_FACTOR.start(), *CacheConfig::HOTNESS_DECAY_FACTOR.end())
    );
    assert_eq!(int("code_cache.warmup_size"), usize_pair(CacheConfig::WARMUP_SIZE));

    // Every integer knob of the two sections, at its bounds and just outside.
    for knob in schema().iter().filter(|k| matches!(k.section(), "jit" | "code_cache")) {
        let KnobKind::Int { min, max } = knob.kind else { continue };
        let with = |v: u64| {
            let mut tree = VmConfig::default().to_json();
            // Keep min <= max while probing either.
            tree["jit"]["min_threshold"] = json!(0);
            tree["jit"]["max_threshold"] = json!(1_000_000);
            *tree.pointer_mut(&knob.pointer()).unwrap() = json!(v);
            VmConfig::from_json_value(&tree)
        };
        let engines_accept = |v: u64| {
            let mut c = VmConfig::default();
            (c.jit.min_threshold, c.jit.max_threshold) = (0, 1_000_000);
            let mut tree = c.to_json();
            *tree.pointer_mut(&knob.pointer()).unwrap() = json!(v);
            let c: VmConfig = serde_json::from_value(tree).unwrap();
            c.jit.validate().is_ok() && c.code_cache.validate().is_ok()
        };
        for v in [min, max] {
            with(v).unwrap_or_else(|e| panic!("{}={v}: {e}", knob.key));
            assert!(engines_accept(v), "{}={v} refused by its engine", knob.key);
        }
        let mut outside = vec![max + 1];
        if min > 0 {
            outside.push(min - 1);
        }
        for v in outside {
            assert!(with(v).is_err(), "{}={v} accepted by the schema", knob.key);
            if knob.key != "jit.tier_up_threshold" {
                assert!(!engines_accept(v), "{}={v} accepted by its engine", knob.key);
            }
        }
    }
}
