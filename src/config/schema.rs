//! The knob schema: one [`KnobSpec`] per leaf field of [`VmConfig`], listed in
//! `knobs.rs`. The same table drives reading values (`--set`, files),
//! checking them ([`VmConfig::validate`]) and the JSON the page draws its knob
//! panel from ([`schema_json`]).
//!
//! Defaults are not written in the table: they are read from
//! `VmConfig::default()`, so the Rust `Default` impls stay the one source.
//!
//! Module invariant: the types come from `spec.rs`, the entries from
//! `knobs.rs`; neither of those reads this file.
use std::sync::LazyLock;

use serde_json::{json, Value};

use super::error::{ConfigError, MAX_QUOTED_CHARS};
use super::spec::{KnobKind, KnobSpec, Rule, SectionSpec};
use super::text::{format_size, parse_bool, parse_float, parse_uint};
use super::VmConfig;

static SCHEMA: LazyLock<Vec<KnobSpec>> = LazyLock::new(|| {
    let defaults = VmConfig::default().to_json();
    let mut knobs = super::knobs::knobs();
    for knob in &mut knobs {
        knob.default = defaults.pointer(&knob.pointer()).cloned().unwrap_or_else(|| {
            panic!("knob {} has no field in VmConfig (see config/knobs.rs)", knob.key)
        });
        knob.live = super::knobs::LIVE_KNOBS.contains(&knob.key);
        knob.native_only = super::knobs::NATIVE_ONLY_KNOBS.contains(&knob.key);
    }
    for key in super::knobs::LIVE_KNOBS.iter().chain(super::knobs::NATIVE_ONLY_KNOBS) {
        assert!(knobs.iter().any(|k| k.key == *key), "knobs.rs lists unknown knob {key}");
    }
    knobs
});

/// Every knob, in the order the page shows them.
pub fn schema() -> &'static [KnobSpec] {
    &SCHEMA
}

/// Every top-level section, in the order the page shows them.
pub fn sections() -> &'static [SectionSpec] {
    super::knobs::SECTIONS
}

/// The knob with this exact key.
pub fn find(key: &str) -> Option<&'static KnobSpec> {
    schema().iter().find(|k| k.key == key)
}

/// The schema as the page consumes it:
/// `{ "sections": [ { "key", "title": {en, zh}, "knobs": [knob...] } ] }`,
/// each knob as in [`KnobSpec::to_json`].
pub fn schema_json() -> Value {
    let sections: Vec<Value> = sections()
        .iter()
        .map(|s| {
            let knobs: Vec<Value> =
                schema().iter().filter(|k| k.section() == s.key).map(KnobSpec::to_json).collect();
            json!({
                "key": s.key,
                "title": { "en": s.title_en, "zh": s.title_zh },
                "knobs": knobs,
            })
        })
        .collect();
    json!({ "sections": sections })
}

/// The knob named `key`, or an error saying why there is none: a group key
/// (`mmu`, `mmu.multilevel_tlb_config`) lists its knobs; anything else gets
/// the nearest known key as a suggestion.
pub(crate) fn lookup(key: &str) -> Result<&'static KnobSpec, ConfigError> {
    if let Some(knob) = find(key) {
        return Ok(knob);
    }
    let prefix = format!("{key}.");
    let children: Vec<&str> =
        schema().iter().map(|k| k.key).filter(|k| k.starts_with(&prefix)).collect();
    if !children.is_empty() {
        return Err(ConfigError::NotAKnob { key: key.to_string(), knobs: children.join(", ") });
    }
    Err(ConfigError::UnknownKey { key: key.to_string(), suggestion: suggest(key) })
}

/// The known key (knob or group) `key` was most likely meant to be: a knob
/// whose last name is the same (`mmu.l1_entries` ->
/// `mmu.multilevel_tlb_config.l1_entries`), else a knob that `key` is the
/// start of, else the nearest by edit distance if it is close enough to be a
/// typo. Nothing for a key longer than an error quotes.
pub fn suggest(key: &str) -> Option<String> {
    // Longer than an error quotes: no knob is near it, and measuring the
    // distance to every candidate would take time in its length (a
    // megabyte-long key in a file or from the page).
    if key.chars().count() > MAX_QUOTED_CHARS {
        return None;
    }
    let name = key.rsplit('.').next().unwrap_or(key);
    let by_distance = |k: &&str| super::text::edit_distance(key, k);
    let same_name = schema().iter().map(|k| k.key).filter(|k| k.rsplit('.').next() == Some(name));
    if let Some(best) = same_name.min_by_key(by_distance) {
        return Some(best.to_string());
    }
    // A cut-off key: "memory.ram" -> "memory.ram_bytes".
    let extended = schema().iter().map(|k| k.key).filter(|k| !key.is_empty() && k.starts_with(key));
    if let Some(best) = extended.min_by_key(by_distance) {
        return Some(best.to_string());
    }
    let mut candidates: Vec<&str> = schema().iter().map(|k| k.key).collect();
    for knob in schema() {
        // Groups too, so that a misspelt section ("mmuu") finds "mmu".
        let mut end = 0;
        while let Some(dot) = knob.key[end..].find('.') {
            end += dot;
            candidates.push(&knob.key[..end]);
            end += 1;
        }
    }
    let best = candidates.into_iter().min_by_key(by_distance)?;
    let limit = (key.chars().count() / 3).max(2);
    // A suggestion must keep some of the key: rewriting all of it (a short
    // section name such as "gc" for an empty or two-letter key) is no hint.
    let distance = super::text::edit_distance(key, best);
    (distance <= limit && distance < key.chars().count()).then(|| best.to_string())
}

impl KnobSpec {
    /// What the knob accepts, in English, e.g. "an integer from 1 to 64, in
    /// pages" or "one of multi_level, concurrent, hybrid".
    pub fn allowed(&self) -> String {
        match &self.kind {
            KnobKind::Bool => "true or false".to_string(),
            KnobKind::Enum { values } => format!("one of {}", values.join(", ")),
            KnobKind::Int { min, max } if self.is_bytes() => format!(
                "an integer from {min} ({}) to {max} ({}), in bytes",
                format_size(*min),
                format_size(*max)
            ),
            KnobKind::Int { min, max } => {
                format!("an integer from {min} to {max}{}", self.in_unit())
            }
            KnobKind::Float { min, max } => {
                format!("a number from {min} to {max}{}", self.in_unit())
            }
        }
    }

    fn in_unit(&self) -> String {
        if self.unit.is_empty() {
            String::new()
        } else {
            format!(", in {}", self.unit)
        }
    }

    fn invalid(&self, value: String) -> ConfigError {
        ConfigError::InvalidValue { key: self.key.to_string(), value, allowed: self.allowed() }
    }

    /// Read a value written as text (`--set`): bools `true`/`false`; integers
    /// in decimal, `0x` hex, `0o`, `0b`, with `_` separators and, for byte
    /// knobs, a `KiB`/`MiB`/`GiB` suffix; floats in decimal; enum values by
    /// name. The value must be in range; rules that involve other knobs are
    /// left to [`VmConfig::validate`].
    pub fn parse_text(&self, text: &str) -> Result<Value, ConfigError> {
        let quoted = || format!("{:?}", text);
        let value = match &self.kind {
            KnobKind::Bool => parse_bool(text).map(Value::Bool),
            KnobKind::Int { .. } => parse_uint(text, self.is_bytes()).map(Value::from),
            KnobKind::Float { .. } => parse_float(text).map(Value::from),
            KnobKind::Enum { values } => {
                values.iter().find(|v| **v == text.trim()).map(|v| Value::from(*v))
            }
        }
        .ok_or_else(|| self.invalid(quoted()))?;
        self.check_value(&value).map_err(|_| self.invalid(quoted()))?;
        Ok(value)
    }

    /// Check a value's type and range (not the rules).
    pub fn check_value(&self, value: &Value) -> Result<(), ConfigError> {
        let ok = match &self.kind {
            KnobKind::Bool => value.is_boolean(),
            KnobKind::Int { min, max } => {
                value.as_u64().is_some_and(|v| (*min..=*max).contains(&v))
            }
            KnobKind::Float { min, max } => {
                value.as_f64().is_some_and(|v| (*min..=*max).contains(&v))
            }
            KnobKind::Enum { values } => value.as_str().is_some_and(|v| values.contains(&v)),
        };
        if ok {
            Ok(())
        } else {
            Err(self.invalid(render(value)))
        }
    }

    /// Check the knob's rules; `config` is the whole configuration as JSON
    /// (for rules that name another knob). The value's range must already
    /// have been checked.
    pub fn check_rules(&self, value: &Value, config: &Value) -> Result<(), ConfigError> {
        let Some(v) = value.as_u64() else { return Ok(()) };
        for rule in self.rules {
            let broken = |rule: String| ConfigError::RuleBroken {
                key: self.key.to_string(),
                value: v.to_string(),
                rule,
            };
            match *rule {
                Rule::MultipleOf(n) if n != 0 && !v.is_multiple_of(n) => {
                    let n_text = if self.is_bytes() {
                        format!("{n} ({})", format_size(n))
                    } else {
                        n.to_string()
                    };
                    return Err(broken(format!("a multiple of {n_text}")));
                }
                Rule::MultipleOfKey(other) => {
                    let o = other_value(other, config);
                    if o != 0 && !v.is_multiple_of(o) {
                        return Err(broken(format!("a multiple of {other} ({o})")));
                    }
                }
                Rule::PowerOfTwoRatioTo(other) => {
                    let o = other_value(other, config);
                    if o != 0 && (!v.is_multiple_of(o) || !(v / o).is_power_of_two()) {
                        return Err(broken(format!(
                            "{other} ({o}) times a power of two ({v} / {o} = {})",
                            v as f64 / o as f64
                        )));
                    }
                }
                Rule::AtMostKey(other) => {
                    let o = other_value(other, config);
                    if v > o {
                        return Err(broken(format!("at most {other} ({o})")));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The knob as the page sees it:
    /// `{ "key", "kind": "bool"|"integer"|"float"|"enum", "min"?, "max"?,
    ///    "values"?, "rules": [{"multiple_of": 4096} | {"multiple_of_key": KEY}
    ///    | {"power_of_two_ratio_to": KEY} | {"at_most_key": KEY}], "default",
    ///    "unit", "figures": [..], "help": { "en", "zh" }, "live": bool,
    ///    "native_only": bool }`.
    pub fn to_json(&self) -> Value {
        let mut knob = json!({
            "key": self.key,
            "rules": self.rules,
            "default": self.default,
            "unit": self.unit,
            "figures": self.figures,
            "help": { "en": self.help_en, "zh": self.help_zh },
            "live": self.live,
            "native_only": self.native_only,
        });
        let kind = match &self.kind {
            KnobKind::Bool => json!({ "kind": "bool" }),
            KnobKind::Int { min, max } => json!({ "kind": "integer", "min": min, "max": max }),
            KnobKind::Float { min, max } => json!({ "kind": "float", "min": min, "max": max }),
            KnobKind::Enum { values } => json!({ "kind": "enum", "values": values }),
        };
        if let (Some(knob), Value::Object(kind)) = (knob.as_object_mut(), kind) {
            knob.extend(kind);
        }
        knob
    }
}

fn other_value(key: &str, config: &Value) -> u64 {
    let knob = find(key).unwrap_or_else(|| panic!("rule names unknown knob {key}"));
    config.pointer(&knob.pointer()).and_then(Value::as_u64).unwrap_or(0)
}

/// A value as it appears in a message: strings quoted, long values cut.
pub(crate) fn render(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(57).collect::<String>())
    } else {
        text
    }
}
