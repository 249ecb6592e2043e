//! The knob schema against the config structs and the tuning guide: defaults,
//! coverage of every field, and the JSON the page draws its knobs from.
use serde_json::{json, Value};
use tunevm::config::{schema, schema_json, sections, KnobKind, MmuOptimizationStrategy, VmConfig};

#[test]
fn defaults_are_the_tuning_guides() {
    let c = VmConfig::default();
    assert_eq!(c.memory.ram_bytes, 256 << 20);
    assert_eq!(c.mmu.strategy, MmuOptimizationStrategy::Hybrid);
    assert!(c.mmu.enable_prefetch);
    assert_eq!(c.mmu.prefetch_history_window, 100);
    assert_eq!(c.mmu.prefetch_distance, 4);
    assert!(!c.mmu.strict_align);
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
}
