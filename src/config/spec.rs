//! The types the knob table is written in ([`KnobSpec`], [`KnobKind`],
//! [`Rule`], [`SectionSpec`]) and the small constructors `knobs.rs` builds
//! its entries with.
//!
//! Module invariant: this file depends on no other file of `config`;
//! `knobs.rs` (the table) and `schema.rs` (reading, checking and exporting
//! values by the table) both build on it, and only `schema.rs` reads
//! `knobs.rs`, so the three form no cycle.
use std::ops::RangeInclusive;

use serde::de::{self, DeserializeOwned, Visitor};
use serde::Serialize;
use serde_json::Value;

/// What values a knob takes.
#[derive(Clone, Debug, PartialEq)]
pub enum KnobKind {
    Bool,
    /// An unsigned integer in `min..=max`.
    Int {
        min: u64,
        max: u64,
    },
    /// A finite number in `min..=max`.
    Float {
        min: f64,
        max: f64,
    },
    /// One of `values`: the serde names (lower snake case) of a Rust enum.
    Enum {
        values: &'static [&'static str],
    },
}

/// A rule an integer knob obeys besides its range. Rules that name another
/// knob are checked after every knob's range, so `--set`s may come in any
/// order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The value is a multiple of this number.
    MultipleOf(u64),
    /// The value is a multiple of the other knob's value.
    MultipleOfKey(&'static str),
    /// The value divided by the other knob's value is a power of two.
    PowerOfTwoRatioTo(&'static str),
    /// The value is at most the other knob's value (a lower bound never
    /// above its upper bound).
    AtMostKey(&'static str),
}

/// One knob: its key, what it takes, its default and its help.
#[derive(Clone, Debug, PartialEq)]
pub struct KnobSpec {
    /// Dotted path of the field, e.g. `mmu.multilevel_tlb_config.l1_entries`.
    pub key: &'static str,
    pub kind: KnobKind,
    pub rules: &'static [Rule],
    /// What one step of the value counts ("entries", "pages", "bytes"); empty
    /// for plain switches and choices.
    pub unit: &'static str,
    /// The value in `VmConfig::default()`.
    pub default: Value,
    /// Report keys (see docs/DESIGN.md "Report JSON") whose figures show this
    /// knob's effect; the page links the knob to those charts.
    pub figures: &'static [&'static str],
    pub help_en: &'static str,
    pub help_zh: &'static str,
    /// The knob can change while the guest runs (`Machine::retune`): listed
    /// in `knobs.rs`'s `LIVE_KNOBS`, filled in by the schema.
    pub live: bool,
    /// The knob acts only natively (the CLI); in the page it is kept and
    /// passed on but changes nothing: listed in `knobs.rs`'s
    /// `NATIVE_ONLY_KNOBS`, filled in by the schema, shown as such by the page.
    pub native_only: bool,
}

/// A top-level section (`memory`, `mmu`, ...) with its title for the page.
#[derive(Clone, Debug, PartialEq)]
pub struct SectionSpec {
    pub key: &'static str,
    pub title_en: &'static str,
    pub title_zh: &'static str,
}

pub(super) const fn int(min: u64, max: u64) -> KnobKind {
    KnobKind::Int { min, max }
}

/// An integer knob whose range is the one its engine declares (so the
/// schema and the engine's own validation cannot disagree).
pub(super) fn int_in<T: Copy + TryInto<u64>>(range: RangeInclusive<T>) -> KnobKind {
    let wide = |v: T| v.try_into().unwrap_or_else(|_| panic!("knob range bound beyond u64"));
    int(wide(*range.start()), wide(*range.end()))
}

/// A number knob whose range is the one its engine declares.
pub(super) fn float_in(range: RangeInclusive<f64>) -> KnobKind {
    KnobKind::Float { min: *range.start(), max: *range.end() }
}

/// A knob without rules, figures or help yet; the default is filled in from
/// `VmConfig::default()` by the schema.
pub(super) fn knob(key: &'static str, kind: KnobKind, unit: &'static str) -> KnobSpec {
    KnobSpec {
        key,
        kind,
        rules: &[],
        unit,
        default: serde_json::Value::Null,
        figures: &[],
        help_en: "",
        help_zh: "",
        live: false,
        native_only: false,
    }
}

impl KnobSpec {
    /// The top-level section the knob belongs to (`mmu` for `mmu.strategy`).
    pub fn section(&self) -> &'static str {
        self.key.split('.').next().unwrap_or(self.key)
    }

    /// The field's own name (`l1_entries`).
    pub fn name(&self) -> &'static str {
        self.key.rsplit('.').next().unwrap_or(self.key)
    }

    /// The JSON pointer of the field in [`VmConfig::to_json`](super::VmConfig::to_json).
    pub fn pointer(&self) -> String {
        format!("/{}", self.key.replace('.', "/"))
    }

    pub(super) fn is_bytes(&self) -> bool {
        self.unit == "bytes"
    }

    pub(super) fn rules(self, rules: &'static [Rule]) -> Self {
        KnobSpec { rules, ..self }
    }

    pub(super) fn figures(self, figures: &'static [&'static str]) -> Self {
        KnobSpec { figures, ..self }
    }

    pub(super) fn help(self, help_en: &'static str, help_zh: &'static str) -> Self {
        KnobSpec { help_en, help_zh, ..self }
    }
}

/// The serde names of the variants of enum `T` (lower snake case for
/// tunevm's enums), read from its `Deserialize` impl so that the schema
/// cannot disagree with the type.
pub fn enum_values<T: DeserializeOwned>() -> &'static [&'static str] {
    match T::deserialize(VariantProbe) {
        Err(ProbeError(Some(variants))) => variants,
        _ => panic!("{} is not an enum", std::any::type_name::<T>()),
    }
}

/// A deserializer that only answers `deserialize_enum`, with the variant
/// names serde passes to it.
struct VariantProbe;

#[derive(Debug)]
struct ProbeError(Option<&'static [&'static str]>);

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("variant probe")
    }
}

impl std::error::Error for ProbeError {}

impl de::Error for ProbeError {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        ProbeError(None)
    }
}

impl<'de> de::Deserializer<'de> for VariantProbe {
    type Error = ProbeError;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ProbeError> {
        Err(ProbeError(None))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, ProbeError> {
        Err(ProbeError(Some(variants)))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}
