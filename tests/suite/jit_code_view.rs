//! The code view links each guest instruction to the wasm lines that
//! translate it (`Jit::code_view`, `CodeView::links`), on a real workload:
//! cpubench.elf with every unit compiled on its first execution.
// Native only: runs the wasmtime backend (the browser tests are web_*.rs).
#![cfg(not(target_arch = "wasm32"))]
use tunevm::config::VmConfig;
use tunevm::jit::{CodeView, Tier};
use tunevm::monitor::PerformanceMonitor;
use tunevm::runtime::{CaptureHost, Machine, RunLimits};

/// cpubench run for 2 M instructions with every unit compiled when first
/// entered (`tier_up` = "0": straight to the optimizing tier; "1000000000000": the
/// baseline tier only).
fn cpubench(tier_up: &str) -> Machine {
    let elf =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/bin/cpubench.elf")).unwrap();
    let mut config = VmConfig::default();
    for (k, v) in [
        ("jit.background_compile", "false"),
        ("jit.min_threshold", "0"),
        ("jit.max_threshold", "0"),
        ("jit.enable_compile_time_budget", "false"),
        ("jit.tier_up_threshold", tier_up),
    ] {
        config.set(k, v).unwrap();
    }
    config.validate().unwrap();
    let mut machine = Machine::new(config, &elf).unwrap();
    let limits = RunLimits { max_insns: Some(2_000_000), ..RunLimits::default() };
    machine.run(limits, &mut PerformanceMonitor::default(), &mut CaptureHost::default());
    machine
}

/// The code view of the hottest unit.
fn hottest(machine: &Machine) -> CodeView {
    let jit = machine.vcpus[0].jit.as_ref().expect("JIT on");
    let (key, _) = jit.hottest_units(1)[0];
    jit.code_view(key, machine.bus.ram()).expect("the hottest unit is cached")
}

/// The mnemonic of a guest listing line (`0000000080000812  li a6,1`).
fn mnemonic(line: &str) -> &str {
    line.split_whitespace().nth(1).unwrap_or("")
}

/// The wasm operator of a wat line (`i64.load offset=65536 align=1`).
fn op(line: &str) -> &str {
    line.split_whitespace().next().unwrap_or("")
}

/// What every view's links must be: one per instruction line (none for the
/// `;` lines), in the listing's order; each range inside `run` (function 0)
/// of the wat, and the ranges disjoint. Returns the wat's lines.
fn check_shape(v: &CodeView) -> Vec<&str> {
    let wat: Vec<&str> = v.wat.lines().collect();
    let instruction_lines: Vec<usize> =
        (0..v.guest.len()).filter(|&i| !v.guest[i].starts_with(';')).collect();
    let linked: Vec<usize> = v.links.iter().map(|l| l.guest_line).collect();
    assert!(!instruction_lines.is_empty());
    assert_eq!(linked, instruction_lines, "a link per instruction line:\n{:#?}", v.guest);
    // `run` is the module's first function; the `mulhu` helper follows when
    // the unit multiplies wide, and the module ends after `run` otherwise.
    let funcs: Vec<usize> =
        (0..wat.len()).filter(|&j| wat[j].trim_start().starts_with("(func ")).collect();
    assert!(matches!(funcs.len(), 1 | 2), "run, and mulhu if used:\n{}", v.wat);
    let run_end = funcs.get(1).copied().unwrap_or(wat.len());
    let mut ranges: Vec<(usize, usize)> = v.links.iter().filter_map(|l| l.wat_lines).collect();
    assert!(ranges.len() * 2 > v.links.len(), "most instructions have code: {:?}", v.links);
    ranges.sort_unstable();
    for &(first, last) in &ranges {
        assert!(funcs[0] < first && first <= last && last < run_end, "{first}..={last}");
    }
    for w in ranges.windows(2) {
        assert!(w[0].1 < w[1].0, "ranges overlap: {:?} and {:?}", w[0], w[1]);
    }
    wat
}

/// The wat lines linked to each instruction line: (mnemonic, lines).
fn linked<'a>(v: &'a CodeView, wat: &[&'a str]) -> Vec<(&'a str, Vec<&'a str>)> {
    v.links
        .iter()
        .filter_map(|l| {
            let (first, last) = l.wat_lines?;
            Some((mnemonic(&v.guest[l.guest_line]), wat[first..=last].to_vec()))
        })
        .collect()
}

fn load_op(m: &str) -> Option<&'static str> {
    Some(match m {
        "lb" => "i64.load8_s",
        "lbu" => "i64.load8_u",
        "lh" => "i64.load16_s",
        "lhu" => "i64.load16_u",
        "lw" => "i64.load32_s",
        "lwu" => "i64.load32_u",
        "ld" => "i64.load",
        _ => return None,
    })
}

fn store_op(m: &str) -> Option<&'static str> {
    Some(match m {
        "sb" => "i64.store8",
        "sh" => "i64.store16",
        "sw" => "i64.store32",
        "sd" => "i64.store",
        _ => return None,
    })
}

/// In an optimizing unit registers are locals, so the only memory accesses
/// inside an instruction's lines are its own guest access (and a store's
/// page-flag check): a load's lines hold exactly one load, of its width, and end writing the destination
/// local; a store's end with its store; an `add`'s hold `i64.add` and end
/// writing the destination (or are a folded constant). A mapping shifted by
/// a line or an instruction breaks these.
#[test]
fn optimizing_unit_links_each_instruction_to_its_wasm() {
    let machine = cpubench("0");
    let v = hottest(&machine);
    assert_eq!(v.tier, Tier::Optimizing);
    let wat = check_shape(&v);
    let (mut loads, mut stores, mut adds) = (0, 0, 0);
    for (m, lines) in linked(&v, &wat) {
        let ops: Vec<&str> = lines.iter().map(|l| op(l)).collect();
        // Guest data accesses (a store also reads its page's flag byte,
        // with `i32.load8_u`).
        let memory: Vec<&str> = ops
            .iter()
            .copied()
            .filter(|o| o.starts_with("i64.load") || o.starts_with("i64.store"))
            .collect();
        let last = *ops.last().unwrap();
        if let Some(want) = load_op(m) {
            loads += 1;
            assert_eq!(memory, [want], "{m}: {lines:#?}");
            assert_eq!(last, "local.set", "{m}: {lines:#?}");
        } else if let Some(want) = store_op(m) {
            stores += 1;
            assert_eq!(memory, [want], "{m}: {lines:#?}");
            assert_eq!(last, want, "{m}: {lines:#?}");
        } else if m == "add" || m == "addw" {
            adds += 1;
            let folded = ops == ["i64.const", "local.set"];
            // addw of two registers adds in 32 bits, then sign-extends.
            let add = ops.contains(&"i64.add") || m == "addw" && ops.contains(&"i32.add");
            assert!(folded || add, "{m}: {lines:#?}");
            assert_eq!(last, "local.set", "{m}: {lines:#?}");
        } else if m == "jr" || m == "jalr" {
            // An indirect jump that misses its guards records the miss in
            // the state block's ring (`StateBlock::misses`), not in RAM.
            let state_block = tunevm::jit::layout::state::SIZE as u64;
            let offsets = lines.iter().filter(|l| {
                let o = op(l);
                o.starts_with("i64.load") || o.starts_with("i64.store")
            });
            for l in offsets {
                let offset = l.split("offset=").nth(1).and_then(|o| o.split(' ').next());
                let offset: u64 = offset.map_or(0, |o| o.parse().unwrap());
                assert!(offset < state_block, "{m} accesses RAM: {lines:#?}");
            }
        } else {
            assert!(memory.is_empty(), "{m} accesses memory: {lines:#?}");
        }
    }
    assert!(loads > 0 && adds > 0, "{loads} loads, {stores} stores, {adds} adds:\n{:#?}", v.guest);
}

/// Baseline units read and write registers in the state block, so only the
/// last operator of a store is pinned; the shape holds as in the optimizing
/// tier.
#[test]
fn baseline_unit_links_each_instruction_to_its_wasm() {
    let machine = cpubench("1000000000000");
    let v = hottest(&machine);
    assert_eq!(v.tier, Tier::Baseline);
    let wat = check_shape(&v);
    for (m, lines) in linked(&v, &wat) {
        let ops: Vec<&str> = lines.iter().map(|l| op(l)).collect();
        if let Some(want) = store_op(m) {
            assert_eq!(*ops.last().unwrap(), want, "{m}: {lines:#?}");
        }
        if let Some(want) = load_op(m) {
            assert!(ops.contains(&want), "{m}: {lines:#?}");
        }
    }
}

/// The links come from generating the unit again; when that no longer gives
/// the cached bytes (here `mmu.strict_align` changed after the compile), the
/// view still shows both sides but links nothing rather than wrongly.
#[test]
fn code_view_without_links_when_the_unit_cannot_be_regenerated() {
    let mut machine = cpubench("0");
    assert!(!hottest(&machine).links.is_empty());
    // Flip strict alignment for the JIT only: the next compile would differ.
    let strict = machine.config().mmu.strict_align;
    machine.vcpus[0].jit.as_mut().unwrap().set_strict_align(!strict);
    let v = hottest(&machine);
    assert!(v.links.is_empty(), "{:?}", v.links);
    assert!(v.guest.len() > 1 && v.wat.starts_with("(module"));
}
