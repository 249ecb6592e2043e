//! `ConfigError`: everything that can be wrong with a configuration, each
//! displayed as one line that names the key, the offending value and what is
//! allowed, so the CLI can print it after "error:" and exit with status 2.
use thiserror::Error;

/// A configuration that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum ConfigError {
    /// A key that no knob or section has.
    #[error("unknown config key \"{key}\"{}", did_you_mean(.suggestion))]
    UnknownKey { key: String, suggestion: Option<String> },

    /// A section or group key used where a single knob was expected.
    #[error("config key \"{key}\" is a group of knobs, not a knob: expected one of {knobs}")]
    NotAKnob { key: String, knobs: String },

    /// A value of the wrong type or outside the knob's range.
    /// `value` is already rendered (text from `--set` is quoted).
    #[error("invalid value {value} for {key}: expected {allowed}")]
    InvalidValue { key: String, value: String, allowed: String },

    /// A value inside its range that breaks a rule (a multiple of another
    /// knob, a power of two, ...). `rule` reads after "must be".
    #[error("{key} = {value} must be {rule}")]
    RuleBroken { key: String, value: String, rule: String },

    /// A `--set` argument without `=` or without a key.
    #[error("invalid assignment \"{text}\": expected KEY=VALUE, e.g. mmu.strategy=hybrid")]
    BadAssignment { text: String },

    /// The text is not valid TOML or JSON. `message` is one line with the
    /// position.
    #[error("invalid {format}: {message}")]
    Syntax { format: &'static str, message: String },

    /// A key given twice: twice in one JSON object (serde_json would keep
    /// the last silently), or once dotted and once inside its section.
    /// `key` is the full dotted key; `at` says where the second one is
    /// (" at line 3, column 20"), or is empty.
    #[error("duplicate key \"{key}\"{at}")]
    DuplicateKey { key: String, at: String },

    /// The document is well formed but is not a table of sections.
    #[error("expected a table of config sections (memory, mmu, ...), got {value}")]
    NotATable { value: String },

    /// The file's extension says neither TOML nor JSON.
    #[error("unsupported config file \"{path}\": expected a .toml or .json file")]
    UnsupportedFormat { path: String },

    /// The file could not be read.
    #[error("cannot read config file \"{path}\": {message}")]
    Io { path: String, message: String },

    /// An error found while loading a file, prefixed with the file's name.
    #[error("{path}: {source}")]
    InFile { path: String, source: Box<ConfigError> },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean {s}?)"),
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
