//! The `jit.*` and `code_cache.*` knobs: every key reads from `--set`, values
//! out of range get the one-line error, `jit.min_threshold` may not exceed
//! `jit.max_threshold`, and the recipes the help text gives validate.
use serde_json::{json, Value};
use tunevm::config::{parse_assignment, ConfigError, EvictionPolicy, VmConfig};

fn one_line(e: ConfigError) -> String {
    let text = e.to_string();
    assert!(!text.contains('\n'), "not one line: {text}");
    text
}

fn set_err(key: &str, value: &str) -> String {
    one_line(VmConfig::default().set(key, value).expect_err(key))
}

/// The configuration after `--set`s, validated.
fn with_sets(sets: &[&str]) -> Result<VmConfig, ConfigError> {
    let mut c = VmConfig::default();
    c.apply_assignments(sets)?;
    Ok(c)
}

fn validate_err(sets: &[&str]) -> String {
    one_line(with_sets(sets).expect_err("should be refused"))
}

#[test]
fn every_jit_and_cache_key_reads_from_set() {
    let cases: &[(&str, &str, Value)] = &[
        ("jit.enabled", "false", json!(false)),
        ("jit.enabled", "true", json!(true)),
        ("jit.tier_up_threshold", "0", json!(0)),
        ("jit.tier_up_threshold", "1_000", json!(1000)),
        ("jit.min_threshold", "0", json!(0)),
        ("jit.min_threshold", "500", json!(500)),
        ("jit.max_threshold", "50", json!(50)),
        ("jit.max_threshold", "1000000", json!(1_000_000)),
        ("jit.sample_window", "1", json!(1)),
        ("jit.sample_window", "0x10000", json!(65536)),
        ("jit.compile_time_weight", "0", json!(0.0)),
        ("jit.compile_time_weight", "0.5", json!(0.5)),
        ("jit.exec_benefit_weight", "1", json!(1.0)),
        ("jit.exec_benefit_weight", "0.25", json!(0.25)),
        ("jit.compile_time_budget_ns", "1", json!(1)),
        ("jit.compile_time_budget_ns", "1_000_000_000", json!(1_000_000_000)),
        ("jit.enable_compile_time_budget", "false", json!(false)),
        ("jit.max_tracked_units", "256", json!(256)),
        ("jit.max_tracked_units", "16777216", json!(16_777_216)),
        ("jit.invalidation_limit", "0", json!(0)),
        ("jit.invalidation_limit", "1000000", json!(1_000_000)),
        ("jit.chaining", "false", json!(false)),
        ("jit.chaining", "true", json!(true)),
        ("jit.return_guards", "false", json!(false)),
        ("jit.return_guards", "true", json!(true)),
        ("jit.nested_calls", "false", json!(false)),
        ("jit.nested_calls", "true", json!(true)),
        ("jit.access_groups", "false", json!(false)),
        ("jit.access_groups", "true", json!(true)),
        ("jit.counted_loops", "false", json!(false)),
        ("jit.counted_loops", "true", json!(true)),
        ("jit.jump_targets", "0", json!(0)),
        ("jit.jump_targets", "8", json!(8)),
        ("jit.miss_recompiles", "0", json!(0)),
        ("jit.miss_recompiles", "8", json!(8)),
        ("jit.unit_pages", "1", json!(1)),
        ("jit.unit_pages", "16", json!(16)),
        ("jit.stop_at_units", "false", json!(false)),
        ("jit.stop_at_units", "true", json!(true)),
        ("jit.max_unit_insns", "16", json!(16)),
        ("jit.max_unit_insns", "1024", json!(1024)),
        ("jit.background_compile", "false", json!(false)),
        ("jit.background_compile", "true", json!(true)),
        ("jit.inline_tlb_entries", "16", json!(16)),
        ("jit.inline_tlb_entries", "4096", json!(4096)),
        ("code_cache.max_entries", "1", json!(1)),
        ("code_cache.max_entries", "1000000", json!(1_000_000)),
        ("code_cache.max_memory_bytes", "64KiB", json!(64 << 10)),
        ("code_cache.max_memory_bytes", "4 GiB", json!(4u64 << 30)),
        ("code_cache.max_memory_bytes", "1048576", json!(1 << 20)),
        ("code_cache.eviction_policy", "lru", json!("lru")),
        ("code_cache.eviction_policy", "lfu", json!("lfu")),
        ("code_cache.eviction_policy", "lru_lfu", json!("lru_lfu")),
        ("code_cache.cleanup_interval_secs", "1", json!(1)),
        ("code_cache.cleanup_interval_secs", "86400", json!(86_400)),
        ("code_cache.hotness_decay_factor", "0", json!(0.0)),
        ("code_cache.hotness_decay_factor", "1.0", json!(1.0)),
        ("code_cache.warmup_size", "0", json!(0)),
        ("code_cache.warmup_size", "1000000", json!(1_000_000)),
    ];
    for (key, text, want) in cases {
        let mut c = VmConfig::default();
        c.set(key, text).unwrap_or_else(|e| panic!("{key}={text}: {e}"));
        assert_eq!(&c.get(key).unwrap(), want, "{key}={text}");
        c.validate().unwrap_or_else(|e| panic!("{key}={text}: {e}"));
    }
    // Every knob of the two sections is among them.
    for knob in tunevm::config::schema() {
        if matches!(knob.section(), "jit" | "code_cache") {
            assert!(cases.iter().any(|(k, ..)| *k == knob.key), "{} not tried", knob.key);
        }
    }
}

#[test]
fn values_reach_the_typed_config() {
    let c = with_sets(&[
        "jit.enabled=false",
        "jit.tier_up_threshold=7",
        "jit.sample_window=64",
        "jit.exec_benefit_weight=0.9",
        "code_cache.max_entries=16",
        "code_cache.max_memory_bytes=1MiB",
        "code_cache.eviction_policy=lfu",
        "code_cache.hotness_decay_factor=0.5",
        "code_cache.warmup_size=4",
    ])
    .unwrap();
    assert!(!c.jit.enabled);
    assert_eq!((c.jit.tier_up_threshold, c.jit.sample_window), (7, 64));
    assert_eq!(c.jit.adaptive().exec_benefit_weight, 0.9);
    assert_eq!((c.code_cache.max_entries, c.code_cache.max_memory_bytes), (16, 1 << 20));
    assert_eq!(c.code_cache.eviction_policy, EvictionPolicy::LFU);
    assert_eq!(c.code_cache.hotness_decay_factor, 0.5);
    assert_eq!(c.code_cache.warmup_size, 4);
    let toml = VmConfig::from_toml_str(
        "[jit]\nenabled = false\ncompile_time_weight = 0.1\n\
         [code_cache]\neviction_policy = \"lru\"\nmax_memory_bytes = 65536\n",
    )
    .unwrap();
    assert!(!toml.jit.enabled);
    assert_eq!(toml.jit.compile_time_weight, 0.1);
    assert_eq!(toml.code_cache.eviction_policy, EvictionPolicy::LRU);
    assert_eq!(toml.code_cache.max_memory_bytes, 64 << 10);
}

#[test]
fn eviction_policy_takes_lru_lfu_and_lru_lfu() {
    let knob = tunevm::config::find("code_cache.eviction_policy").unwrap();
    assert_eq!(knob.kind, tunevm::config::KnobKind::Enum { values: &["lru", "lfu", "lru_lfu"] });
    for (text, want) in [
        ("lru", EvictionPolicy::LRU),
        ("lfu", EvictionPolicy::LFU),
        ("lru_lfu", EvictionPolicy::LRU_LFU),
    ] {
        let c = with_sets(&[&format!("code_cache.eviction_policy={text}")]).unwrap();
        assert_eq!(c.code_cache.eviction_policy, want);
    }
    for bad in ["LRU", "fifo", "lru-lfu", ""] {
        assert_eq!(
            set_err("code_cache.eviction_policy", bad),
            format!(
                "invalid value {bad:?} for code_cache.eviction_policy: expected one of lru, lfu, \
                 lru_lfu"
            )
        );
    }
}

#[test]
fn out_of_range_values_get_the_one_line_error() {
    assert_eq!(
        set_err("jit.min_threshold", "1000001"),
        "invalid value \"1000001\" for jit.min_threshold: expected an integer from 0 to 1000000, \
         in executions"
    );
    assert_eq!(
        set_err("jit.compile_time_weight", "1.5"),
        "invalid value \"1.5\" for jit.compile_time_weight: expected a number from 0 to 1"
    );
    assert_eq!(
        set_err("code_cache.max_memory_bytes", "32KiB"),
        "invalid value \"32KiB\" for code_cache.max_memory_bytes: expected an integer from 65536 \
         (64 KiB) to 4294967296 (4 GiB), in bytes"
    );
    let cases: &[(&str, &str, &str)] = &[
        ("jit.enabled", "1", "true or false"),
        ("jit.enabled", "off", "true or false"),
        ("jit.tier_up_threshold", "1000000000001", "from 0 to 1000000000000, in executions"),
        ("jit.tier_up_threshold", "-1", "from 0 to 1000000000000, in executions"),
        ("jit.max_threshold", "2000000", "from 0 to 1000000, in executions"),
        ("jit.sample_window", "0", "from 1 to 100000000, in executions"),
        ("jit.sample_window", "100000001", "from 1 to 100000000, in executions"),
        ("jit.exec_benefit_weight", "-0.1", "a number from 0 to 1"),
        ("jit.exec_benefit_weight", "nan", "a number from 0 to 1"),
        ("jit.compile_time_budget_ns", "0", "from 1 to 1000000000, in nanoseconds"),
        ("jit.compile_time_budget_ns", "1000000001", "from 1 to 1000000000, in nanoseconds"),
        ("jit.enable_compile_time_budget", "yes", "true or false"),
        ("jit.jump_targets", "17", "from 0 to 16, in targets"),
        ("jit.miss_recompiles", "9", "from 0 to 8, in compiles"),
        ("code_cache.max_entries", "0", "from 1 to 1000000, in units"),
        ("code_cache.max_entries", "1000001", "from 1 to 1000000, in units"),
        ("code_cache.max_memory_bytes", "5GiB", "4294967296 (4 GiB), in bytes"),
        ("code_cache.cleanup_interval_secs", "0", "from 1 to 86400, in seconds"),
        ("code_cache.cleanup_interval_secs", "86401", "from 1 to 86400, in seconds"),
        ("code_cache.hotness_decay_factor", "1.01", "a number from 0 to 1"),
        ("code_cache.warmup_size", "1000001", "from 0 to 1000000, in admissions"),
    ];
    for (key, value, allowed) in cases {
        let text = set_err(key, value);
        for part in [*key, &format!("{value:?}"), allowed] {
            assert!(text.contains(part), "{text:?} does not mention {part:?}");
        }
    }
    // The same from a file, and for a value typed into the struct.
    assert_eq!(
        one_line(VmConfig::from_toml_str("[jit]\nsample_window = 0\n").unwrap_err()),
        "invalid value 0 for jit.sample_window: expected an integer from 1 to 100000000, in \
         executions"
    );
    let mut c = VmConfig::default();
    c.code_cache.hotness_decay_factor = 2.0;
    assert_eq!(
        one_line(c.validate().unwrap_err()),
        "invalid value 2.0 for code_cache.hotness_decay_factor: expected a number from 0 to 1"
    );
}

#[test]
fn min_threshold_above_max_threshold_is_refused() {
    assert_eq!(
        validate_err(&["jit.min_threshold=600"]),
        "jit.min_threshold = 600 must be at most jit.max_threshold (500)"
    );
    assert_eq!(
        validate_err(&["jit.max_threshold=10"]),
        "jit.min_threshold = 50 must be at most jit.max_threshold (10)"
    );
    assert_eq!(
        one_line(
            VmConfig::from_json_str(r#"{"jit": {"min_threshold": 7, "max_threshold": 6}}"#)
                .unwrap_err()
        ),
        "jit.min_threshold = 7 must be at most jit.max_threshold (6)"
    );
    let mut c = VmConfig::default();
    c.jit.min_threshold = 501;
    assert_eq!(
        one_line(c.validate().unwrap_err()),
        "jit.min_threshold = 501 must be at most jit.max_threshold (500)"
    );
    // Equal is allowed (a fixed threshold), and the order of --sets does not
    // matter: the rule is checked after the last one.
    let c = with_sets(&["jit.min_threshold=600", "jit.max_threshold=600"]).unwrap();
    assert_eq!((c.jit.min_threshold, c.jit.max_threshold), (600, 600));
    let c = with_sets(&["jit.max_threshold=10", "jit.min_threshold=10"]).unwrap();
    assert_eq!((c.jit.min_threshold, c.jit.max_threshold), (10, 10));
}

#[test]
fn the_recipes_in_the_help_validate() {
    // Everything through the JIT, straight to the optimizing tier.
    let c = with_sets(&[
        "jit.min_threshold=0",
        "jit.max_threshold=0",
        "jit.enable_compile_time_budget=false",
        "jit.tier_up_threshold=0",
        "jit.background_compile=false",
    ])
    .unwrap();
    assert_eq!((c.jit.min_threshold, c.jit.max_threshold, c.jit.tier_up_threshold), (0, 0, 0));
    assert!(!c.jit.enable_compile_time_budget && c.jit.enabled);
    // The interpreter alone.
    assert!(!with_sets(&["jit.enabled=false"]).unwrap().jit.enabled);
    for set in ["jit.enabled=false", "jit.min_threshold=0"] {
        let (k, v) = parse_assignment(set).unwrap();
        assert!(VmConfig::default().set(k, v).is_ok(), "{set}");
    }
}

#[test]
fn help_states_the_threshold_rule_and_guest_time() {
    let help = |key: &str| tunevm::config::find(key).unwrap();
    let window = help("jit.sample_window");
    for part in ["exec_benefit_weight x B - compile_time_weight x C", "a fifth", "a quarter"] {
        assert!(window.help_en.contains(part), "{part}");
    }
    assert!(window.help_zh.contains("五分之一") && window.help_zh.contains("四分之一"));
    let cleanup = help("code_cache.cleanup_interval_secs");
    assert!(cleanup.help_en.contains("100 million guest cycles"));
    assert!(cleanup.help_zh.contains("1 亿个客户机周期"));
    let tier = help("jit.tier_up_threshold");
    assert!(tier.help_en.contains("baseline") && tier.help_en.contains("optimizing"));
    assert!(help("jit.enabled").help_en.contains("jit.tier_up_threshold=0"));
}
