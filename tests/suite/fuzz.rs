//! Fuzz targets (issue 10), as proptest properties: the ELF loader, the
//! configuration parser, and random guest programs with hostile addresses
//! run by the interpreter and both JIT tiers.
//!
//! The normal suite runs a short pass of each. `--features fuzz` scales the
//! counts to a real fuzzing run (BENCHMARKS.md "Fuzzing (issue 10)" has the
//! command, the counts and the times); `TUNEVM_FUZZ_CASES=n` sets every
//! target's count to `n` in either build:
//!
//! ```text
//! cargo test --release --features fuzz --test suite fuzz::
//! ```
//!
//! What each target keeps true:
//! - ELF loader, on mutated real workload ELFs and on structured-random
//!   headers (hostile `p_offset`/`p_filesz`/`p_vaddr`/`p_memsz`, overlapping
//!   segments, huge header and section counts, hostile symbol tables): never
//!   a panic; an error is one non-empty line and leaves RAM untouched; a
//!   loaded program lies inside RAM with its entry point in executable code.
//! - Configuration parser, on random TOML and JSON documents built from the
//!   real knob list (and mutated serializations) and random `--set
//!   key=value` strings: never a panic; every error is one line; what is
//!   accepted validates and reads back the same through JSON and TOML.
//! - Guest programs (`jit_differential`'s generator, registers seeded with
//!   hostile addresses: RAM's edges, addresses whose low 32 bits fall in RAM
//!   or on the VM's own state, device registers, sign-extended values, and
//!   jumps to them): the interpreter, the forced baseline tier and the forced
//!   optimizing tier end in the same state, output, exit and instruction
//!   count, with the same bytes in the whole of guest RAM.
#![cfg(not(target_arch = "wasm32"))]
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use tunevm::config::{one_line, parse_assignment, schema, ConfigError, KnobKind, VmConfig};
use tunevm::loader::load_elf;
use tunevm::mem::{Ram, RAM_BASE};
use tunevm::monitor::PerformanceMonitor;
use tunevm::runtime::{CaptureHost, Machine, RunLimits, RunOutcome};

use crate::common::asm::{jalr, ZERO};
use crate::jit_differential::{config as mode_config, dest, op, program, src, Mode, Op};

/// Cases for one target: `short` in the normal suite, `long` under
/// `--features fuzz`; `TUNEVM_FUZZ_CASES` overrides both.
pub(crate) fn cases(short: u32, long: u32) -> u32 {
    if let Some(n) = std::env::var("TUNEVM_FUZZ_CASES").ok().and_then(|v| v.trim().parse().ok()) {
        return n;
    }
    if cfg!(feature = "fuzz") {
        long
    } else {
        short
    }
}

fn fuzz_config(short: u32, long: u32) -> ProptestConfig {
    ProptestConfig {
        // Shrinking a failure of a long run can take as long as the run.
        max_shrink_iters: 2048,
        ..crate::proptest_config(cases(short, long))
    }
}

/// An error's text: non-empty and one line.
fn assert_one_line(what: &str, text: &str) {
    assert!(!text.trim().is_empty(), "{what}: empty error");
    assert!(!text.contains(['\n', '\r']), "{what}: error is not one line: {text:?}");
}

/// A configuration error is one printable line: no line break, and nothing
/// `one_line` would escape (control characters, terminal escapes, invisible
/// format characters), whatever key, value, argument or path it quotes. The
/// page shows the message as it is, so `Display` itself must be safe.
fn assert_config_error_one_line(what: &str, e: &ConfigError) {
    let text = e.to_string();
    assert_one_line(what, &text);
    assert_eq!(one_line(&text, usize::MAX), text, "{what}: error does not print as it is");
}

// ------------------------------------------------------------------- ELF

const RAM_BYTES: usize = 1 << 20;
const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;

/// Every workload ELF in the tree: real linker output to mutate.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/bin");
        let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "elf"))
            .map(|p| std::fs::read(&p).unwrap())
            .collect();
        seeds.sort();
        assert!(seeds.len() >= 5, "workload ELFs missing in {dir}");
        seeds
    })
}

/// Field values that make loaders misbehave.
fn hostile_word(file_len: u64) -> impl Strategy<Value = u64> {
    let ram_end = RAM_BASE + RAM_BYTES as u64;
    prop_oneof![
        Just(0),
        Just(1),
        Just(u64::MAX),
        Just(u64::MAX - 7),
        Just(i64::MAX as u64),
        Just(1u64 << 32),
        Just(RAM_BASE),
        Just(RAM_BASE - 1),
        Just(ram_end - 1),
        Just(ram_end),
        Just(0xffff_ffff_8000_0000),
        Just(file_len),
        Just(file_len.saturating_sub(1)),
        Just(file_len + 1),
        0u64..0x200,
        RAM_BASE..RAM_BASE + 0x3000,
        any::<u64>(),
    ]
}

/// How a seed is mangled.
#[derive(Clone, Debug)]
enum Mutation {
    /// Set a byte.
    Byte(usize, u8),
    /// Overwrite an aligned 2-, 4- or 8-byte field, mostly in the ELF
    /// header and the program headers.
    Field(usize, u8, u64),
    /// Insert or remove bytes (shifts every offset after it).
    Splice(usize, Vec<u8>, usize),
    /// Cut the file.
    Truncate(usize),
    /// Copy one region over another (duplicate headers, overlap segments).
    Copy(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (0usize..1 << 16, any::<u8>()).prop_map(|(at, b)| Mutation::Byte(at, b)),
        6 => (prop_oneof![3 => 0usize..0x200, 1 => 0usize..1 << 16], prop::sample::select(vec![2u8, 4, 8]), hostile_word(8192))
            .prop_map(|(at, w, v)| Mutation::Field(at, w, v)),
        1 => (0usize..1 << 16, prop::collection::vec(any::<u8>(), 0..64), 0usize..64)
            .prop_map(|(at, b, del)| Mutation::Splice(at, b, del)),
        1 => (0usize..1 << 16).prop_map(Mutation::Truncate),
        1 => (0usize..1 << 16, 0usize..0x200, 1usize..0x100)
            .prop_map(|(from, to, n)| Mutation::Copy(from, to, n)),
    ]
}

fn mutate(mut elf: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let n = elf.len();
        if n == 0 {
            break;
        }
        match m {
            Mutation::Byte(at, b) => elf[at % n] = *b,
            Mutation::Field(at, width, value) => {
                let w = *width as usize;
                if n >= w {
                    let at = (at % (n - w + 1)) / w * w;
                    elf[at..at + w].copy_from_slice(&value.to_le_bytes()[..w]);
                }
            }
            Mutation::Splice(at, bytes, del) => {
                let at = at % (n + 1);
                let end = (at + del).min(n);
                elf.splice(at..end, bytes.iter().copied());
            }
            Mutation::Truncate(at) => elf.truncate(at % (n + 1)),
            Mutation::Copy(from, to, len) => {
                let from = from % n;
                let len = (*len).min(n - from);
                let to = (*to).min(n - len);
                elf.copy_within(from..from + len, to);
            }
        }
    }
    elf
}

/// One program header, every field chosen.
#[derive(Clone, Debug)]
struct Phdr {
    p_type: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    paddr: u64,
    filesz: u64,
    memsz: u64,
}

/// A file laid out from chosen fields, whether or not they agree with it.
#[derive(Clone, Debug)]
struct RawElf {
    ident: [u8; 16],
    e_type: u16,
    machine: u16,
    entry: u64,
    phoff: u64,
    shoff: u64,
    ehsize: u16,
    phentsize: u16,
    /// `None`: the number of headers written.
    phnum: Option<u16>,
    shentsize: u16,
    shnum: u16,
    shstrndx: u16,
    phdrs: Vec<Phdr>,
    /// Section headers: (type, offset, size, link, entsize).
    sections: Vec<(u32, u64, u64, u32, u64)>,
    payload: Vec<u8>,
}

impl RawElf {
    fn build(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.ident);
        out.extend_from_slice(&self.e_type.to_le_bytes());
        out.extend_from_slice(&self.machine.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for w in [self.entry, self.phoff, self.shoff] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&0u32.to_le_bytes());
        let phnum = self.phnum.unwrap_or(self.phdrs.len() as u16);
        for h in [self.ehsize, self.phentsize, phnum, self.shentsize, self.shnum, self.shstrndx] {
            out.extend_from_slice(&h.to_le_bytes());
        }
        // Program headers right after the header (where a sane phoff points).
        for p in &self.phdrs {
            out.extend_from_slice(&p.p_type.to_le_bytes());
            out.extend_from_slice(&p.flags.to_le_bytes());
            for w in [p.offset, p.vaddr, p.paddr, p.filesz, p.memsz, 8] {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        // Section headers, then the payload (code, names, symbols...).
        for &(ty, off, size, link, entsize) in &self.sections {
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&ty.to_le_bytes());
            out.extend_from_slice(&[0u8; 16]);
            for w in [off, size] {
                out.extend_from_slice(&w.to_le_bytes());
            }
            out.extend_from_slice(&link.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
            out.extend_from_slice(&8u64.to_le_bytes());
            out.extend_from_slice(&entsize.to_le_bytes());
        }
        out.extend_from_slice(&self.payload);
        out
    }
}

fn raw_elf() -> impl Strategy<Value = RawElf> {
    let ident = prop_oneof![
        6 => Just([0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        1 => any::<[u8; 16]>().prop_map(|mut i| {
            i[..4].copy_from_slice(b"\x7fELF");
            i
        }),
    ];
    let half = |usual: u16| prop_oneof![4 => Just(usual), 1 => any::<u16>(), 1 => Just(0u16), 1 => Just(u16::MAX)];
    let file = 4096u64;
    let phdr = (
        prop_oneof![6 => Just(PT_LOAD), 1 => 0u32..8, 1 => any::<u32>()],
        prop_oneof![Just(PF_X | 4), Just(4u32), Just(6u32), any::<u32>()],
        prop_oneof![3 => 0x40u64..file, 1 => hostile_word(file)],
        hostile_word(file),
        prop_oneof![2 => Just(None), 1 => hostile_word(file).prop_map(Some)],
        prop_oneof![3 => 0u64..0x800, 1 => hostile_word(file)],
        prop_oneof![3 => 0u64..0x2000, 1 => hostile_word(file)],
    )
        .prop_map(|(p_type, flags, offset, vaddr, paddr, filesz, memsz)| Phdr {
            p_type,
            flags,
            offset,
            vaddr,
            paddr: paddr.unwrap_or(vaddr),
            filesz,
            memsz: memsz.max(filesz.min(0x2000)),
        });
    let section = (
        prop_oneof![Just(2u32), Just(3u32), Just(11u32), any::<u32>()],
        prop_oneof![3 => 0x40u64..file, 1 => hostile_word(file)],
        prop_oneof![3 => 0u64..0x400, 1 => hostile_word(file)],
        prop_oneof![3 => 0u32..6, 1 => any::<u32>()],
        prop_oneof![Just(24u64), Just(0u64), any::<u64>()],
    );
    (
        (ident, half(2), half(243), hostile_word(file)),
        (
            prop_oneof![4 => Just(64u64), 1 => hostile_word(file)],
            prop_oneof![1 => Just(0u64), 1 => hostile_word(file)],
            half(64),
            half(56),
            prop_oneof![4 => Just(None), 1 => any::<u16>().prop_map(Some)],
        ),
        (half(64), prop_oneof![Just(0u16), 0u16..6, any::<u16>()], half(0)),
        prop::collection::vec(phdr, 0..6),
        prop::collection::vec(section, 0..5),
        prop::collection::vec(any::<u8>(), 0..2048),
    )
        .prop_map(
            |(
                (ident, e_type, machine, entry),
                (phoff, shoff, ehsize, phentsize, phnum),
                (shentsize, shnum, shstrndx),
                phdrs,
                sections,
                payload,
            )| RawElf {
                ident,
                e_type,
                machine,
                entry,
                phoff,
                shoff,
                ehsize,
                phentsize,
                phnum,
                shentsize,
                shnum,
                shstrndx,
                phdrs,
                sections,
                payload,
            },
        )
}

/// Load `elf` into RAM filled with 0xaa and check the loader's promises.
fn check_load(elf: &[u8]) {
    let mut ram = Ram::new(RAM_BYTES);
    ram.write_bytes(0, &vec![0xaa; RAM_BYTES]);
    match load_elf(elf, &mut ram) {
        Err(e) => {
            assert_one_line("load_elf", &e.to_string());
            assert!(ram.as_bytes().iter().all(|&b| b == 0xaa), "refused ({e}) but wrote to RAM");
        }
        Ok(p) => {
            let ram_end = RAM_BASE + RAM_BYTES as u64;
            assert!(!p.segments.is_empty());
            for &(start, len) in &p.segments {
                let end = start.checked_add(len).expect("segment end overflows");
                assert!(start >= RAM_BASE && end <= ram_end, "segment {start:#x}+{len:#x}");
            }
            let mut sorted = p.segments.clone();
            sorted.sort();
            assert!(sorted.windows(2).all(|w| w[0].0 + w[0].1 <= w[1].0), "overlap: {sorted:x?}");
            assert!(
                p.segments.iter().any(|&(s, l)| (s..s + l).contains(&p.entry)),
                "entry {:#x} outside {:x?}",
                p.entry,
                p.segments
            );
            assert_eq!(p.entry % 2, 0);
        }
    }
}

#[test]
fn every_workload_elf_loads() {
    for elf in seeds() {
        let mut ram = Ram::new(256 << 20);
        load_elf(elf, &mut ram).expect("a workload loads");
    }
}

proptest! {
    #![proptest_config(fuzz_config(400, 40_000))]

    #[test]
    fn elf_mutated_workloads(
        seed in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let seed = seed.get(seeds()).clone();
        check_load(&mutate(seed, &mutations));
    }

    #[test]
    fn elf_structured_random_headers(elf in raw_elf(), mutations in prop::collection::vec(mutation(), 0..3)) {
        check_load(&mutate(elf.build(), &mutations));
    }
}

// ---------------------------------------------------------------- config

/// A value of any JSON type, with the shapes numbers take in the wild.
fn any_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..5000).prop_map(Value::from),
        prop::sample::select(vec![0u64, 1, 4096, 1 << 20, 1 << 30, u64::MAX, 1 << 53])
            .prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![0.0f64, -0.0, 0.5, 1.0, 1e-300, 1e300, -1.0])
            .prop_map(|f| json!(f)),
        "[a-z_]{0,12}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        enum_word().prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec(("[a-z_.]{1,8}", inner), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Every enum value any knob takes, and near misses.
fn enum_word() -> impl Strategy<Value = String> {
    let mut words: Vec<String> = Vec::new();
    for k in schema() {
        if let KnobKind::Enum { values } = &k.kind {
            for v in *values {
                words.push(v.to_string());
                words.push(v.to_uppercase());
                words.push(format!(" {v}"));
            }
        }
    }
    prop::sample::select(words)
}

/// A knob key, or one near it (a section, a typo, other case, extra dots).
fn key_text() -> impl Strategy<Value = String> {
    let keys: Vec<String> = schema().iter().map(|k| k.key.to_string()).collect();
    let key = prop::sample::select(keys);
    prop_oneof![
        8 => key.clone(),
        1 => key.clone().prop_map(|k| k.to_uppercase()),
        1 => key.clone().prop_map(|k| format!(" {k} ")),
        1 => key.clone().prop_map(|k| k.split('.').next().unwrap().to_string()),
        1 => key.clone().prop_map(|k| format!("{k}.x")),
        1 => key.clone().prop_map(|k| k.replacen('.', "..", 1)),
        1 => (key, any::<prop::sample::Index>()).prop_map(|(k, i)| {
            let mut k: Vec<char> = k.chars().collect();
            let at = i.index(k.len());
            k.remove(at);
            k.into_iter().collect()
        }),
        1 => "[a-z_.]{0,20}",
        1 => any::<String>(),
    ]
}

/// A value as `--set` text for any knob kind.
fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "true",
            "false",
            "TRUE",
            "1",
            "0",
            "yes",
            "",
            " ",
            "-1",
            "-0",
            "+5",
            "0x",
            "0x1000",
            "0XFFFF",
            "0b101",
            "0o777",
            "0o8",
            "1_000",
            "_1",
            "1__0",
            "1e3",
            "1.5",
            "NaN",
            "inf",
            "-inf",
            "1e308",
            "1e-400",
            "4KiB",
            "4 KiB",
            "1MiB",
            "1GiB",
            "16GiB",
            "0.5MiB",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999GiB",
            "17179869184GiB",
            "18014398509481984KiB",
            "0x8000000000000000",
            "hybrid",
            "lru",
        ])
        .prop_map(str::to_string),
        any::<u64>().prop_map(|v| v.to_string()),
        (any::<u64>(), prop::sample::select(vec!["KiB", "MiB", "GiB", "kib", "B", "KB"]))
            .prop_map(|(v, s)| format!("{}{s}", v >> (v % 64))),
        any::<u64>().prop_map(|v| format!("{v:#x}")),
        any::<f64>().prop_map(|f| f.to_string()),
        enum_word(),
        "[0-9a-zA-Z_.+ -]{0,24}",
        any::<String>(),
    ]
}

/// A `--set` argument.
fn assignment() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => (key_text(), value_text()).prop_map(|(k, v)| format!("{k}={v}")),
        1 => (key_text(), value_text()).prop_map(|(k, v)| format!("{k}=={v}")),
        1 => key_text(),
        1 => value_text().prop_map(|v| format!("={v}")),
        1 => any::<String>(),
    ]
}

/// A configuration document as a JSON tree of real knobs (nested or dotted),
/// random values and some strangers.
fn config_tree() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Map, Value};
    let entry = (
        key_text(),
        prop_oneof![
            3 => value_text().prop_map(Value::from),
            3 => any_value(),
            2 => (value_text()).prop_map(|t| t.trim().parse::<u64>().map(Value::from).unwrap_or(Value::from(t))),
        ],
        any::<bool>(),
    );
    prop::collection::vec(entry, 0..10).prop_map(|entries| {
        let mut root = Map::new();
        for (key, value, nested) in entries {
            if !nested || !key.contains('.') {
                root.insert(key, value);
                continue;
            }
            let mut parts: Vec<&str> = key.split('.').collect();
            let leaf = parts.pop().unwrap().to_string();
            let mut table = &mut root;
            for part in parts {
                let slot =
                    table.entry(part.to_string()).or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                table = slot.as_object_mut().unwrap();
            }
            table.insert(leaf, value);
        }
        Value::Object(root)
    })
}

/// A JSON tree as TOML, where TOML can say it (no nulls; tables only in
/// tables).
fn to_toml(value: &serde_json::Value) -> Option<String> {
    fn conv(v: &serde_json::Value) -> Option<toml::Value> {
        use serde_json::Value as J;
        Some(match v {
            J::Null => return None,
            J::Bool(b) => toml::Value::Boolean(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => toml::Value::Integer(i),
                None => toml::Value::Float(n.as_f64()?),
            },
            J::String(s) => toml::Value::String(s.clone()),
            J::Array(a) => toml::Value::Array(a.iter().map(conv).collect::<Option<_>>()?),
            J::Object(o) => toml::Value::Table(
                o.iter().map(|(k, v)| Some((k.clone(), conv(v)?))).collect::<Option<_>>()?,
            ),
        })
    }
    let toml::Value::Table(table) = conv(value)? else { return None };
    toml::to_string(&table).ok()
}

/// Mangle text: replace, insert or delete a few characters.
fn mangle_text() -> impl Strategy<Value = Vec<(prop::sample::Index, u8, String)>> {
    prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            0u8..3,
            prop_oneof![
                "[\\[\\]{}=\":,.#\\n \\\\'0-9a-z]{1,4}",
                any::<String>(),
                Just("\"\"\"".to_string()),
                Just("[[".to_string()),
            ],
        ),
        0..5,
    )
}

fn apply_mangles(text: &str, edits: &[(prop::sample::Index, u8, String)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (at, what, s) in edits {
        let at = at.index(chars.len() + 1);
        match what {
            0 => chars.splice(at..at, s.chars()).for_each(drop),
            1 => {
                chars.splice(at..(at + s.len()).min(chars.len()), std::iter::empty()).for_each(drop)
            }
            _ => chars.splice(at..(at + 1).min(chars.len()), s.chars()).for_each(drop),
        }
    }
    chars.into_iter().collect()
}

/// What an accepted configuration must satisfy: it validates and reads back
/// the same from its JSON and its TOML.
fn check_accepted(what: &str, c: &VmConfig) {
    c.validate().unwrap_or_else(|e| panic!("{what}: accepted but does not validate: {e}"));
    let back = VmConfig::from_json_value(&c.to_json())
        .unwrap_or_else(|e| panic!("{what}: its own JSON is refused: {e}"));
    assert_eq!(&back, c, "{what}: JSON round trip");
    let toml = c.to_toml_string();
    let back = VmConfig::from_toml_str(&toml)
        .unwrap_or_else(|e| panic!("{what}: its own TOML is refused: {e}\n{toml}"));
    assert_eq!(&back, c, "{what}: TOML round trip");
}

fn check_document(format: &str, text: &str) {
    let parsed = if format == "json" {
        VmConfig::from_json_str(text)
    } else {
        VmConfig::from_toml_str(text)
    };
    match parsed {
        Ok(c) => check_accepted(&format!("{format} {text:?}"), &c),
        Err(e) => assert_config_error_one_line(&format!("{format} {text:?}"), &e),
    }
}

proptest! {
    #![proptest_config(fuzz_config(300, 30_000))]

    #[test]
    fn config_random_documents(tree in config_tree(), edits in mangle_text(), pretty in any::<bool>()) {
        let json = if pretty {
            serde_json::to_string_pretty(&tree).unwrap()
        } else {
            serde_json::to_string(&tree).unwrap()
        };
        check_document("json", &json);
        check_document("json", &apply_mangles(&json, &edits));
        if let Some(toml) = to_toml(&tree) {
            check_document("toml", &toml);
            check_document("toml", &apply_mangles(&toml, &edits));
        }
        // The tree itself, as the page sends it.
        match VmConfig::from_json_value(&tree) {
            Ok(c) => check_accepted("from_json_value", &c),
            Err(e) => assert_config_error_one_line("from_json_value", &e),
        }
    }

    #[test]
    fn config_mangled_serializations(
        sets in prop::collection::vec((key_text(), value_text()), 0..6),
        edits in mangle_text(),
    ) {
        // A valid configuration's own files, mangled.
        let mut c = VmConfig::default();
        for (k, v) in &sets {
            let _ = c.set(k, v);
        }
        check_document("toml", &apply_mangles(&c.to_toml_string(), &edits));
        let json = serde_json::to_string_pretty(&c.to_json()).unwrap();
        check_document("json", &apply_mangles(&json, &edits));
        check_document("json", &apply_mangles(&c.to_flat_json().to_string(), &edits));
    }

    #[test]
    fn config_random_set_strings(assignments in prop::collection::vec(assignment(), 0..8)) {
        let mut c = VmConfig::default();
        for a in &assignments {
            match parse_assignment(a) {
                Err(e) => assert_config_error_one_line(&format!("parse_assignment {a:?}"), &e),
                Ok((key, value)) => {
                    let before = c.clone();
                    match c.set(key, value) {
                        Ok(()) => {
                            // Every knob stays in its range; the one set
                            // reads back as what the text said.
                            let knob = schema().iter().find(|k| k.key == key.trim()).expect("set a known key");
                            let want = knob.parse_text(value).expect("set accepted it");
                            assert_eq!(c.get(key).unwrap(), want, "{a:?}");
                            for k in schema() {
                                k.check_value(&c.get(k.key).unwrap())
                                    .unwrap_or_else(|e| panic!("{a:?} left {} out of range: {e}", k.key));
                            }
                        }
                        Err(e) => {
                            assert_config_error_one_line(&format!("set {a:?}"), &e);
                            assert_eq!(c, before, "a refused set changed the configuration: {a:?}");
                        }
                    }
                }
            }
        }
        match c.validate() {
            Ok(()) => check_accepted(&format!("{assignments:?}"), &c),
            Err(e) => assert_config_error_one_line(&format!("validate {assignments:?}"), &e),
        }
        // apply_assignments agrees with set-then-validate.
        let mut d = VmConfig::default();
        let all = d.apply_assignments(&assignments);
        if all.is_ok() {
            assert_eq!(d, c, "{assignments:?}");
        }
    }
}

/// Found by `config_mangled_serializations` (BENCHMARKS.md "Fuzzing (issue
/// 10)"): errors that quote a key or a `--set` argument printed it raw, so a
/// line break inside it broke the message in two. They are quoted with
/// escapes now, and cut when huge.
#[test]
fn config_errors_escape_line_breaks_in_keys() {
    let cases = [
        (
            VmConfig::from_json_str("{\"\\node_cache.max_entries\": 1}").unwrap_err(),
            "unknown config key \"\\node_cache.max_entries\"",
        ),
        (VmConfig::from_toml_str("\"jit\\nx\" = 1").unwrap_err(), "\"jit\\nx\""),
        (
            VmConfig::default().set("mmu\n.strategy", "hybrid").unwrap_err(),
            "unknown config key \"mmu\\n.strategy\"",
        ),
        (
            parse_assignment("mmu.strategy\nhybrid").unwrap_err(),
            "invalid assignment \"mmu.strategy\\nhybrid\"",
        ),
        (
            VmConfig::from_json_str("{\"jit\\r\": 1, \"jit\\r\": 2}").unwrap_err(),
            "duplicate key \"jit\\r\"",
        ),
        (
            // A file's name, and what any caller puts in the fields.
            ConfigError::InFile {
                path: "a\nb.toml".into(),
                source: Box::new(ConfigError::UnknownKey {
                    key: "\x1b[2J\u{2028}".into(),
                    suggestion: None,
                }),
            },
            "a\\nb.toml: unknown config key \"\\x1b[2J\\u{2028}\"",
        ),
    ];
    for (e, shown) in &cases {
        assert_config_error_one_line("known case", e);
        assert!(e.to_string().contains(shown), "{e} does not show {shown}");
    }
    // A megabyte-long key is cut, not echoed whole.
    let huge = format!("mmu.{}", "x\n".repeat(1 << 19));
    for e in
        [VmConfig::default().set(&huge, "1").unwrap_err(), parse_assignment(&huge).unwrap_err()]
    {
        assert_config_error_one_line("huge key", &e);
        assert!(e.to_string().len() < 400, "{} characters", e.to_string().len());
        assert!(e.to_string().contains("more)"), "{e}");
    }
}

// ------------------------------------------------------- guest programs

/// Registers seeded with addresses compiled code must not trust.
fn hostile_address() -> impl Strategy<Value = u64> {
    let ram_len = 2u64 << 20; // jit_differential's RAM
    prop_oneof![
        prop::sample::select(vec![
            0u64,
            8,
            1024, // the state block, natively
            4096, // RAM's page flags, natively
            RAM_BASE - 8,
            RAM_BASE - 1,
            RAM_BASE + ram_len - 1,
            RAM_BASE + ram_len - 4,
            RAM_BASE + ram_len - 8,
            RAM_BASE + ram_len,
            RAM_BASE + ram_len + 0x800,
            0x1_0000_0000 + RAM_BASE, // low 32 bits inside RAM
            0x1_0000_0000 + 1024,     // low 32 bits on the state block
            0x1_0000_0000 + 4096,
            0xffff_ffff_8000_0000, // sign-extended RAM_BASE
            0x7fff_ffff_ffff_f800,
            u64::MAX - 3,
            u64::MAX,
            0x0200_4000, // CLINT mtimecmp
            0x0200_bff8, // CLINT mtime
            0x1000_0000, // UART
        ]),
        (RAM_BASE..RAM_BASE + ram_len),
        any::<u64>(),
    ]
}

/// `jit_differential`'s operations, plus jumps through registers (to a
/// hostile address when the register holds one).
fn hostile_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        // About one program in four jumps (it usually ends in a walk of
        // faults, so the rest of its operations do not run).
        80 => op(),
        1 => (dest(), src(), -64i32..64).prop_map(|(d, s, o)| Op::Word(jalr(d, o & !1, s))),
        1 => (src(), -64i32..64).prop_map(|(s, o)| Op::Word(jalr(ZERO, o & !1, s))),
    ]
}

/// Everything a run is compared on, including all of guest RAM.
#[derive(Debug, PartialEq, Eq)]
struct End {
    outcome: RunOutcome,
    x: [u64; 32],
    pc: u64,
    retired: u64,
    console: Vec<u8>,
    ram_hash: u64,
}

fn run(image: &[u8], mode: Mode, regs: &[(u8, u64)], max_insns: u64) -> End {
    let mut m = Machine::from_image(mode_config(mode), image);
    for &(r, v) in regs {
        m.vcpus[0].hart.x[r as usize] = v;
    }
    let mut host = CaptureHost::default();
    let outcome = m.run(
        RunLimits { max_insns: Some(max_insns), timeout_ns: None },
        &mut PerformanceMonitor::default(),
        &mut host,
    );
    let ram_hash = m.bus.ram().as_bytes().chunks(8).fold(0xcbf2_9ce4_8422_2325u64, |h, w| {
        (h ^ u64::from_le_bytes(w.try_into().unwrap())).wrapping_mul(0x100_0000_01b3)
    });
    End {
        outcome,
        x: m.vcpus[0].hart.x,
        pc: m.vcpus[0].hart.pc,
        retired: m.vcpus[0].hart.retired(),
        console: host.output,
        ram_hash,
    }
}

/// Instructions a program with a jump through a register runs.
const JUMP_INSNS: u64 = 10_000;

proptest! {
    #![proptest_config(fuzz_config(24, 2_000))]

    #[test]
    fn guest_programs_with_hostile_addresses_match(
        ops in prop::collection::vec(hostile_op(), 1..60),
        regs in prop::collection::vec((1u8..20, hostile_address()), 0..12),
        timer in prop::option::weighted(0.25, 1u32..60),
    ) {
        let image = program(&ops, timer);
        // A jump into RAM's zeros or outside RAM becomes a walk of faults
        // the handler skips one word at a time, and a forced tier compiles a
        // unit at every step: fewer instructions keep such cases quick.
        let jumps = ops.iter().any(|o| matches!(o, Op::Word(w) if w & 0x7f == 0x67));
        let max_insns = if jumps { JUMP_INSNS } else { 100_000 };
        let want = run(&image, Mode::Interpreter, &regs, max_insns);
        for mode in [Mode::Baseline, Mode::Optimizing] {
            let got = run(&image, mode, &regs, max_insns);
            prop_assert_eq!(&got, &want, "{:?} differs from the interpreter", mode);
        }
    }
}
