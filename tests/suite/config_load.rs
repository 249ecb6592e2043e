//! Reading configurations (TOML, JSON, files, `--set`) and the one-line
//! errors for every way they can be wrong.
// Native only: needs proptest, tempfile, processes or the wall clock, none
// of which wasm32-unknown-unknown has (the browser tests are web_*.rs).
#![cfg(not(target_arch = "wasm32"))]
use serde_json::{json, Value};
use tunevm::config::{
    parse_assignment, ConfigError, EvictionPolicy, MmuOptimizationStrategy, VmConfig,
};

/// A configuration that differs from the defaults in every section.
fn tuned() -> VmConfig {
    let mut c = VmConfig::default();
    c.memory.ram_bytes = 64 << 20;
    c.mmu.strategy = MmuOptimizationStrategy::Concurrent;
    c.mmu.multilevel_tlb_config.l2_entries = 1024;
    c.mmu.multilevel_tlb_config.l2_ways = 8;
    c.mmu.concurrent_tlb_config.shards = 16;
    c.mmu.enable_prefetch = false;
    c.mmu.prefetch_distance = 8;
    c.jit.enabled = false;
    c.jit.min_threshold = 0;
    c.jit.compile_time_weight = 0.5;
    c.jit.enable_compile_time_budget = false;
    c.code_cache.max_memory_bytes = 1 << 20;
    c.code_cache.eviction_policy = EvictionPolicy::LFU;
    c.code_cache.hotness_decay_factor = 0.5;
    c
}

/// The message of an error, checked to be one line.
fn one_line(e: ConfigError) -> String {
    let text = e.to_string();
    assert!(!text.contains('\n'), "not one line: {text}");
    text
}

/// `set(key, value)` on the defaults must fail; its message.
fn set_err(key: &str, value: &str) -> String {
    one_line(VmConfig::default().set(key, value).expect_err(key))
}

/// The message of validating the defaults after some `--set`s.
fn validate_err(sets: &[&str]) -> String {
    let mut c = VmConfig::default();
    for s in sets {
        let (k, v) = parse_assignment(s).unwrap();
        c.set(k, v).unwrap();
    }
    one_line(c.validate().expect_err("should be refused"))
}

fn assert_mentions(text: &str, parts: &[&str]) {
    for p in parts {
        assert!(text.contains(p), "{text:?} does not mention {p:?}");
    }
}

#[test]
fn toml_round_trip() {
    let c = tuned();
    assert_eq!(VmConfig::from_toml_str(&c.to_toml_string()).unwrap(), c);
}

#[test]
fn json_round_trip() {
    let c = tuned();
    assert_eq!(VmConfig::from_json_str(&c.to_json().to_string()).unwrap(), c);
    assert_eq!(VmConfig::from_json_value(&c.effective()).unwrap(), c);
    // The flat form (dotted keys) reads back too.
    assert_eq!(VmConfig::from_json_value(&c.to_flat_json()).unwrap(), c);
}

#[test]
fn toml_with_sections_dotted_keys_and_missing_keys() {
    let c = VmConfig::from_toml_str(
        r#"
        memory.ram_bytes = 0x400_0000
        [mmu]
        strategy = "multi_level"
        multilevel_tlb_config.l1_entries = 32
        [mmu.concurrent_tlb_config]
        shards = 4
        "#,
    )
    .unwrap();
    let mut want = VmConfig::default();
    want.memory.ram_bytes = 64 << 20;
    want.mmu.strategy = MmuOptimizationStrategy::MultiLevel;
    want.mmu.multilevel_tlb_config.l1_entries = 32;
    want.mmu.concurrent_tlb_config.shards = 4;
    assert_eq!(c, want);
    assert_eq!(VmConfig::from_toml_str("").unwrap(), VmConfig::default());
    assert_eq!(VmConfig::from_json_str("{}").unwrap(), VmConfig::default());
}

#[test]
fn set_reads_every_kind_of_value() {
    let cases: &[(&str, &str, Value)] = &[
        ("mmu.enable_prefetch", "false", json!(false)),
        ("mmu.strict_align", " true ", json!(true)),
        ("mmu.prefetch_distance", "16", json!(16)),
        ("mmu.prefetch_history_window", "1_000", json!(1000)),
        ("mmu.multilevel_tlb_config.l2_entries", "0x400", json!(1024)),
        ("memory.ram_bytes", "64MiB", json!(64 << 20)),
        ("memory.ram_bytes", "1 GiB", json!(1 << 30)),
        ("memory.ram_bytes", "4096KiB", json!(4 << 20)),
        ("memory.ram_bytes", "0x0100_0000", json!(16 << 20)),
        ("mmu.strategy", "multi_level", json!("multi_level")),
        ("mmu.strategy", "concurrent", json!("concurrent")),
    ];
    for (key, text, want) in cases {
        let mut c = VmConfig::default();
        c.set(key, text).unwrap_or_else(|e| panic!("{key}={text}: {e}"));
        assert_eq!(&c.get(key).unwrap(), want, "{key}={text}");
        c.validate().unwrap();
    }
}

#[test]
fn float_knobs_read_decimal_numbers_in_range() {
    let knob = tunevm::config::find("jit.compile_time_weight").unwrap();
    assert_eq!(knob.parse_text("0.25").unwrap(), json!(0.25));
    assert_eq!(knob.parse_text("1e-1").unwrap(), json!(0.1));
    assert_eq!(knob.parse_text("1").unwrap(), json!(1.0));
    for bad in ["1.5", "-0.1", "nan", "inf", "0,3", ""] {
        assert_mentions(
            &one_line(knob.parse_text(bad).unwrap_err()),
            &[&format!("{bad:?}"), "jit.compile_time_weight", "a number from 0 to 1"],
        );
    }
    // Integers in a file are numbers too.
    let c = VmConfig::from_toml_str("jit.exec_benefit_weight = 1").unwrap();
    assert_eq!(c.jit.exec_benefit_weight, 1.0);
}

#[test]
fn set_refuses_bad_values_naming_key_value_and_what_is_allowed() {
    assert_eq!(
        set_err("mmu.strategy", "banana"),
        "invalid value \"banana\" for mmu.strategy: expected one of multi_level, concurrent, hybrid"
    );
    assert_eq!(
        set_err("mmu.strategy", "MultiLevel"),
        "invalid value \"MultiLevel\" for mmu.strategy: expected one of multi_level, concurrent, hybrid"
    );
    assert_eq!(
        set_err("mmu.enable_prefetch", "yes"),
        "invalid value \"yes\" for mmu.enable_prefetch: expected true or false"
    );
    assert_eq!(
        set_err("mmu.prefetch_distance", "0"),
        "invalid value \"0\" for mmu.prefetch_distance: expected an integer from 1 to 64, in pages"
    );
    assert_eq!(
        set_err("memory.ram_bytes", "2GiB"),
        "invalid value \"2GiB\" for memory.ram_bytes: expected an integer from 1048576 (1 MiB) \
         to 1073741824 (1 GiB), in bytes"
    );
    let cases: &[(&str, &str, &str)] = &[
        ("mmu.prefetch_distance", "65", "from 1 to 64"),
        ("mmu.prefetch_distance", "-1", "from 1 to 64"),
        ("mmu.prefetch_distance", "4.0", "from 1 to 64"),
        ("mmu.prefetch_distance", "4KiB", "from 1 to 64"),
        ("mmu.prefetch_history_window", "1", "from 3 to 4096, in misses"),
        ("mmu.multilevel_tlb_config.l1_entries", "257", "from 1 to 256, in entries"),
        ("mmu.multilevel_tlb_config.l2_ways", "17", "from 1 to 16, in ways"),
        ("mmu.multilevel_tlb_config.l2_entries", "65537", "from 1 to 65536"),
        ("mmu.concurrent_tlb_config.entries", "0", "from 1 to 65536"),
        ("mmu.concurrent_tlb_config.shards", "65", "from 1 to 64, in shards"),
        ("memory.ram_bytes", "512KiB", "1048576 (1 MiB)"),
        ("memory.ram_bytes", "99999999999999999999999", "1073741824 (1 GiB)"),
        ("mmu.strict_align", "1", "true or false"),
    ];
    for (key, value, allowed) in cases {
        assert_mentions(&set_err(key, value), &[key, &format!("{value:?}"), allowed]);
    }
}

#[test]
fn unknown_keys_are_refused_with_a_suggestion() {
    assert_eq!(
        set_err("mmu.l1_entries", "8"),
        "unknown config key \"mmu.l1_entries\" (did you mean mmu.multilevel_tlb_config.l1_entries?)"
    );
    let cases: &[(&str, Option<&str>)] = &[
        ("mmu.stratgy", Some("mmu.strategy")),
        ("mmuu.strategy", Some("mmu.strategy")),
        ("memory.ram", Some("memory.ram_bytes")),
        ("mmu.concurrent_tlb_config.entrys", Some("mmu.concurrent_tlb_config.entries")),
        ("mmu.shards", Some("mmu.concurrent_tlb_config.shards")),
        ("jit.min_treshold", Some("jit.min_threshold")),
        ("jit.tier_up", Some("jit.tier_up_threshold")),
        ("code_cache.evicton_policy", Some("code_cache.eviction_policy")),
        ("vcpu.count", None),
        ("", None),
    ];
    for (key, suggestion) in cases {
        let text = set_err(key, "1");
        assert_mentions(&text, &["unknown config key", &format!("{key:?}")]);
        match suggestion {
            Some(s) => assert_mentions(&text, &[&format!("(did you mean {s}?)")]),
            None => assert!(!text.contains("did you mean"), "{text}"),
        }
    }
    assert_eq!(
        set_err("mmu.concurrent_tlb_config", "4"),
        "config key \"mmu.concurrent_tlb_config\" is a group of knobs, not a knob: expected one of \
         mmu.concurrent_tlb_config.entries, mmu.concurrent_tlb_config.shards"
    );
    let file = one_line(VmConfig::from_toml_str("[mmu]\nl2_ways = 8\n").unwrap_err());
    assert_eq!(
        file,
        "unknown config key \"mmu.l2_ways\" (did you mean mmu.multilevel_tlb_config.l2_ways?)"
    );
    let file = one_line(VmConfig::from_json_str(r#"{"vcpu": {"count": 2}}"#).unwrap_err());
    assert_eq!(file, "unknown config key \"vcpu\"");
    let file = one_line(VmConfig::from_toml_str("[mmuu]\nstrategy = \"hybrid\"").unwrap_err());
    assert_eq!(file, "unknown config key \"mmuu\" (did you mean mmu?)");
}

#[test]
fn rules_between_knobs_are_checked_by_validate() {
    assert_eq!(
        validate_err(&["mmu.multilevel_tlb_config.l2_entries=102"]),
        "mmu.multilevel_tlb_config.l2_entries = 102 must be a multiple of \
         mmu.multilevel_tlb_config.l2_ways (4)"
    );
    assert_eq!(
        validate_err(&["mmu.multilevel_tlb_config.l2_entries=100"]),
        "mmu.multilevel_tlb_config.l2_entries = 100 must be mmu.multilevel_tlb_config.l2_ways (4) \
         times a power of two (100 / 4 = 25)"
    );
    assert_eq!(
        validate_err(&["mmu.multilevel_tlb_config.l2_entries=96"]),
        "mmu.multilevel_tlb_config.l2_entries = 96 must be mmu.multilevel_tlb_config.l2_ways (4) \
         times a power of two (96 / 4 = 24)"
    );
    assert_eq!(
        validate_err(&["mmu.concurrent_tlb_config.shards=3"]),
        "mmu.concurrent_tlb_config.entries = 512 must be a multiple of \
         mmu.concurrent_tlb_config.shards (3)"
    );
    assert_eq!(
        validate_err(&["memory.ram_bytes=1000000000"]),
        "memory.ram_bytes = 1000000000 must be a multiple of 4096 (4 KiB)"
    );
    // Order does not matter: the check waits for the last --set.
    let mut c = VmConfig::default();
    c.apply_assignments([
        "mmu.multilevel_tlb_config.l2_entries=24",
        "mmu.multilevel_tlb_config.l2_ways=3",
    ])
    .unwrap();
    assert_eq!(c.mmu.multilevel_tlb_config.l2_entries, 24);
    // A value typed into the struct directly is checked as well.
    let mut c = VmConfig::default();
    c.mmu.prefetch_distance = 0;
    assert_eq!(
        one_line(c.validate().unwrap_err()),
        "invalid value 0 for mmu.prefetch_distance: expected an integer from 1 to 64, in pages"
    );
}

#[test]
fn file_values_of_the_wrong_kind_name_the_key() {
    let cases: &[(&str, &str)] = &[
        (
            "[mmu.multilevel_tlb_config]\nl1_entries = \"many\"",
            "invalid value \"many\" for mmu.multilevel_tlb_config.l1_entries: expected an integer \
             from 1 to 256, in entries",
        ),
        (
            "mmu.strategy = \"banana\"",
            "invalid value \"banana\" for mmu.strategy: expected one of multi_level, concurrent, hybrid",
        ),
        ("mmu.enable_prefetch = 1", "invalid value 1 for mmu.enable_prefetch: expected true or false"),
        ("mmu.prefetch_distance = 2.5", "invalid value 2.5 for mmu.prefetch_distance"),
        ("mmu.prefetch_distance = -3", "invalid value -3 for mmu.prefetch_distance"),
        ("mmu.strategy = { a = 1 }", "invalid value {\"a\":1} for mmu.strategy"),
        ("mmu = 3", "config key \"mmu\" is a group of knobs, not a knob: expected one of mmu.strategy"),
        (
            "[mmu.multilevel_tlb_config]\nl2_ways = 3",
            "mmu.multilevel_tlb_config.l2_entries = 512 must be a multiple of",
        ),
    ];
    for (toml, want) in cases {
        let text = one_line(VmConfig::from_toml_str(toml).unwrap_err());
        assert!(text.starts_with(want), "{toml:?}:\n got  {text}\n want {want}");
    }
    assert_eq!(
        one_line(VmConfig::from_json_str("[1, 2]").unwrap_err()),
        "expected a table of config sections (memory, mmu, ...), got [1,2]"
    );
}

#[test]
fn syntax_errors_give_the_position() {
    let toml = one_line(VmConfig::from_toml_str("[mmu]\nstrategy = \n").unwrap_err());
    assert!(toml.starts_with("invalid TOML: line 2, column "), "{toml}");
    let json = one_line(VmConfig::from_json_str("{\"mmu\": }").unwrap_err());
    assert!(json.starts_with("invalid JSON: ") && json.contains("line 1 column 9"), "{json}");
}

#[test]
fn duplicate_json_keys_are_refused_naming_the_dotted_key() {
    let err = |text: &str| one_line(VmConfig::from_json_str(text).expect_err(text));
    assert_eq!(
        err("{\"jit\": {\"min_threshold\": 10,\n \"min_threshold\": 20}}"),
        "duplicate key \"jit.min_threshold\" at line 2, column 16"
    );
    assert_mentions(&err("{\"jit\": {}, \"jit\": {}}"), &["duplicate key \"jit\" at line 1"]);
    let deep = r#"{"mmu": {"multilevel_tlb_config": {"l2_ways": 8, "l2_ways": 8}}}"#;
    assert_mentions(&err(deep), &["duplicate key \"mmu.multilevel_tlb_config.l2_ways\""]);
    // At any depth, even inside a value that is no knob's (and in arrays).
    let inner = r#"{"jit": {"min_threshold": [{"a": 1}, {"a": 1, "a": 2}]}}"#;
    assert_mentions(&err(inner), &["duplicate key \"jit.min_threshold[1].a\""]);
    // One knob twice: dotted at the top and inside its section.
    assert_eq!(
        err(r#"{"jit.min_threshold": 10, "jit": {"min_threshold": 20}}"#),
        "duplicate key \"jit.min_threshold\""
    );
    // The same names in different objects are not duplicates.
    let c = VmConfig::from_json_str(r#"{"mmu": {"strategy": "hybrid"}, "jit": {"enabled": true}}"#);
    c.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.json");
    std::fs::write(&path, r#"{"jit": {"enabled": true, "enabled": false}}"#).unwrap();
    assert_eq!(
        one_line(VmConfig::load_file(&path).unwrap_err()),
        format!("{}: duplicate key \"jit.enabled\" at line 1, column 35", path.display())
    );
}

#[test]
fn toml_refuses_duplicate_keys_too() {
    let err = |text: &str| one_line(VmConfig::from_toml_str(text).expect_err(text));
    let twice = err("[jit]\nmin_threshold = 10\nmin_threshold = 20\n");
    assert_mentions(&twice, &["invalid TOML: line 3", "duplicate key"]);
    assert_mentions(&err("[jit]\nenabled = true\n[jit]\nenabled = false\n"), &["duplicate"]);
    // A quoted dotted key and the same knob inside its section.
    assert_eq!(
        err("\"jit.min_threshold\" = 10\n[jit]\nmin_threshold = 20\n"),
        "duplicate key \"jit.min_threshold\""
    );
}

#[test]
fn load_file_by_extension_with_the_file_name_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let c = tuned();
    assert_eq!(VmConfig::load_file(write("a.toml", &c.to_toml_string())).unwrap(), c);
    assert_eq!(VmConfig::load_file(write("a.JSON", &c.to_json().to_string())).unwrap(), c);

    let bad = write("bad.toml", "[mmu]\nprefetch_distance = 99\n");
    let text = one_line(VmConfig::load_file(&bad).unwrap_err());
    assert_eq!(
        text,
        format!(
            "{}: invalid value 99 for mmu.prefetch_distance: expected an integer from 1 to 64, in pages",
            bad.display()
        )
    );
    let broken = write("broken.json", "{\"mmu\": {\"strategy\": hybrid}}");
    let text = one_line(VmConfig::load_file(&broken).unwrap_err());
    assert_mentions(&text, &["broken.json: invalid JSON: ", "line 1"]);

    let yaml = write("a.yaml", "mmu: {}");
    assert_eq!(
        one_line(VmConfig::load_file(&yaml).unwrap_err()),
        format!("unsupported config file \"{}\": expected a .toml or .json file", yaml.display())
    );
    let missing = dir.path().join("missing.toml");
    assert_mentions(
        &one_line(VmConfig::load_file(&missing).unwrap_err()),
        &["cannot read config file", "missing.toml"],
    );
}

#[test]
fn errors_quote_names_keys_and_values_with_escapes_and_cut_long_ones() {
    // A file name and a key with line breaks and a terminal escape.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a\nb\x1b[2J.toml");
    std::fs::write(&path, "\"jit\\nx\" = 1\n").unwrap();
    let text = one_line(VmConfig::load_file(&path).unwrap_err());
    assert!(text.contains("a\\nb\\x1b[2J.toml: unknown config key \"jit\\nx\""), "{text}");
    assert!(text.chars().all(|c| !c.is_control()), "{text:?}");

    // A line separator in a JSON key, a tab in a --set key.
    assert_eq!(
        one_line(VmConfig::from_json_str(r#"{"mmu\u2028": {}}"#).unwrap_err()),
        "unknown config key \"mmu\\u{2028}\" (did you mean mmu?)"
    );
    assert_eq!(set_err("jit\tx", "1"), "unknown config key \"jit\\tx\" (did you mean jit?)");

    // A huge key, value or argument is cut (and the key gets no suggestion:
    // nothing is near it).
    let long = "x".repeat(100_000);
    let text = set_err(&format!("jit.{long}"), "1");
    assert_eq!(text, format!("unknown config key \"jit.{}... (99904 more)\"", &long[..96]));
    let text = set_err("mmu.strategy", &long);
    assert!(text.starts_with(&format!("invalid value \"{}... (", &long[..99])), "{text}");
    assert!(text.ends_with(" for mmu.strategy: expected one of multi_level, concurrent, hybrid"));
    let text = one_line(parse_assignment(&long).unwrap_err());
    assert!(text.len() < 200, "{text}");
}

#[test]
fn assignments_split_at_the_first_equals_sign() {
    assert_eq!(parse_assignment("mmu.strategy=hybrid").unwrap(), ("mmu.strategy", "hybrid"));
    assert_eq!(parse_assignment(" a.b = c=d ").unwrap(), ("a.b", "c=d"));
    assert_eq!(parse_assignment("memory.ram_bytes=").unwrap(), ("memory.ram_bytes", ""));
    for bad in ["mmu.strategy", "=hybrid", ""] {
        assert_eq!(
            one_line(parse_assignment(bad).unwrap_err()),
            format!("invalid assignment {bad:?}: expected KEY=VALUE, e.g. mmu.strategy=hybrid")
        );
    }
    let mut c = VmConfig::default();
    let err =
        c.apply_assignments(["mmu.prefetch_distance=8", "mmu.multilevel_tlb_config.l2_ways=5"]);
    assert_mentions(&one_line(err.unwrap_err()), &["l2_entries = 512", "l2_ways (5)"]);
}

#[test]
fn flat_json_lists_every_knob() {
    let flat = VmConfig::default().to_flat_json();
    let keys: Vec<&String> = flat.as_object().unwrap().keys().collect();
    let mut want: Vec<&str> = tunevm::config::schema().iter().map(|k| k.key).collect();
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(flat["mmu.strategy"], "hybrid");
    assert_eq!(flat["memory.ram_bytes"], 256 << 20);
}
