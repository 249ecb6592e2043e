//! `ConfigError`: everything that can be wrong with a configuration, each
//! displayed as one line that names the key, the offending value and what is
//! allowed, so the CLI can print it after "error:" and exit with status 2.
//!
//! The fields hold text as it came (a key from a file, a `--set` argument,
//! a path); `Display` writes every one of them through [`one_line`], so a
//! line break, a terminal escape or any other character that does not print
//! is shown as an escape (`\n`, `\x1b`) and a huge key is cut. The message is
//! one printable line whatever the input, on the terminal and on the page.
use thiserror::Error;

use super::text::{one_line, MAX_LINE_CHARS};
use crate::jit::code_cache::CacheConfigError;
use crate::jit::threshold::InvalidThresholdConfig;
use crate::mem::MmuConfigError;

/// Most characters of a key, a value or a `--set` argument an error quotes:
/// every knob's key is under 50, and a cut key still shows where it went
/// wrong.
pub(crate) const MAX_QUOTED_CHARS: usize = 100;

/// Most characters of a file's path an error quotes (as the ELF loader's).
pub(crate) const MAX_PATH_CHARS: usize = 200;

/// A configuration that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum ConfigError {
    /// A key that no knob or section has.
    #[error("unknown config key \"{}\"{}", shown_key(.key), did_you_mean(.suggestion))]
    UnknownKey { key: String, suggestion: Option<String> },

    /// A section or group key used where a single knob was expected.
    #[error(
        "config key \"{}\" is a group of knobs, not a knob: expected one of {}",
        shown_key(.key),
        shown_text(.knobs)
    )]
    NotAKnob { key: String, knobs: String },

    /// A value of the wrong type or outside the knob's range.
    /// `value` is already rendered (text from `--set` is quoted with Rust's
    /// escapes, a value from a file is JSON).
    #[error(
        "invalid value {} for {}: expected {}",
        shown_key(.value),
        shown_key(.key),
        shown_text(.allowed)
    )]
    InvalidValue { key: String, value: String, allowed: String },

    /// A value inside its range that breaks a rule (a multiple of another
    /// knob, a power of two, ...). `rule` reads after "must be".
    #[error("{} = {} must be {}", shown_key(.key), shown_key(.value), shown_text(.rule))]
    RuleBroken { key: String, value: String, rule: String },

    /// A `--set` argument without `=` or without a key.
    #[error(
        "invalid assignment \"{}\": expected KEY=VALUE, e.g. mmu.strategy=hybrid",
        shown_key(.text)
    )]
    BadAssignment { text: String },

    /// The text is not valid TOML or JSON. `message` is one line with the
    /// position.
    #[error("invalid {format}: {}", shown_text(.message))]
    Syntax { format: &'static str, message: String },

    /// A key given twice: twice in one JSON object (serde_json would keep
    /// the last silently), or once dotted and once inside its section.
    /// `key` is the full dotted key; `at` says where the second one is
    /// (" at line 3, column 20"), or is empty.
    #[error("duplicate key \"{}\"{}", shown_key(.key), shown_text(.at))]
    DuplicateKey { key: String, at: String },

    /// The document is well formed but is not a table of sections.
    #[error("expected a table of config sections (memory, mmu, ...), got {}", shown_key(.value))]
    NotATable { value: String },

    /// The file's extension says neither TOML nor JSON.
    #[error("unsupported config file \"{}\": expected a .toml or .json file", shown_path(.path))]
    UnsupportedFormat { path: String },

    /// The file could not be read.
    #[error("cannot read config file \"{}\": {}", shown_path(.path), shown_text(.message))]
    Io { path: String, message: String },

    /// The MMU's own check ([`crate::mem::UnifiedMmuConfig::validate`])
    /// refused the `mmu` section. [`super::VmConfig::validate`] runs the
    /// engines' checks after the knob table's, which should already have
    /// refused the same values: this is a safety net.
    #[error("invalid mmu config: {}", shown_text(&.0.to_string()))]
    Mmu(#[from] MmuConfigError),

    /// The JIT's own check ([`crate::jit::JitConfig::validate`]) refused the
    /// `jit` section (a safety net, as [`ConfigError::Mmu`]).
    #[error("invalid jit config: {}", shown_text(&.0.to_string()))]
    Jit(#[from] InvalidThresholdConfig),

    /// The code cache's own check ([`crate::jit::code_cache::CacheConfig::validate`])
    /// refused the `code_cache` section (a safety net, as [`ConfigError::Mmu`]).
    #[error("invalid code_cache config: {}", shown_text(&.0.to_string()))]
    CodeCache(#[from] CacheConfigError),

    /// The GC's own check ([`crate::gc::UnifiedGcConfig::validate`]): the
    /// rules between `gc.*` knobs that the knob table cannot express.
    #[error("invalid gc config: {}", shown_text(&.0.to_string()))]
    Gc(#[from] crate::gc::GcConfigError),

    /// Knobs changed while the guest runs that only apply to a machine
    /// built again (`Machine::retune` takes the knobs marked live).
    #[error(
        "{} cannot change while the guest runs (not a live knob): it applies when the \
         machine is built again",
        shown_text(.keys)
    )]
    NotLive { keys: String },

    /// An error found while loading a file, prefixed with the file's name.
    #[error("{}: {source}", shown_path(.path))]
    InFile { path: String, source: Box<ConfigError> },
}

/// A key, a value or a `--set` argument as a message quotes it.
fn shown_key(text: &str) -> String {
    one_line(text, MAX_QUOTED_CHARS)
}

/// A path as a message quotes it.
fn shown_path(text: &str) -> String {
    one_line(text, MAX_PATH_CHARS)
}

/// Any other text in a message (a parser's message, what is allowed).
fn shown_text(text: &str) -> String {
    one_line(text, MAX_LINE_CHARS)
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean {}?)", shown_key(s)),
        None => String::new(),
    }
}

impl ConfigError {
    /// The error without its file prefix (what went wrong, wherever it came from).
    pub fn root(&self) -> &ConfigError {
        match self {
            ConfigError::InFile { source, .. } => source.root(),
            e => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::code_cache::CacheConfig;
    use crate::jit::JitConfig;
    use crate::mem::UnifiedMmuConfig;

    /// The engines' typed errors convert into `ConfigError` and read as the
    /// one-line messages the CLI has always printed.
    #[test]
    fn engine_errors_convert_with_their_messages() {
        let mut mmu = UnifiedMmuConfig::default();
        mmu.multilevel_tlb_config.l2_ways = 3;
        let e = ConfigError::from(mmu.validate().unwrap_err());
        assert_eq!(
            e.to_string(),
            "invalid mmu config: mmu.multilevel_tlb_config.l2_ways = 3 must divide \
             mmu.multilevel_tlb_config.l2_entries = 512 (allowed: a divisor of 512)"
        );
        let mmu = UnifiedMmuConfig { prefetch_distance: 0, ..UnifiedMmuConfig::default() };
        let e = ConfigError::from(mmu.validate().unwrap_err());
        assert_eq!(
            e.to_string(),
            "invalid mmu config: mmu.prefetch_distance = 0 is out of range: allowed 1..=64"
        );
        let jit = JitConfig { sample_window: 0, ..JitConfig::default() };
        let e = ConfigError::from(jit.validate().unwrap_err());
        assert_eq!(
            e.to_string(),
            "invalid jit config: invalid value 0 for jit.sample_window: expected 1..=100000000"
        );
        let cache = CacheConfig { max_entries: 0, ..CacheConfig::default() };
        let e = ConfigError::from(cache.validate().unwrap_err());
        assert_eq!(
            e.to_string(),
            "invalid code_cache config: invalid value 0 for code_cache.max_entries: \
             expected 1..=1000000"
        );
    }
}
