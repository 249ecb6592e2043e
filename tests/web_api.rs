//! The page's wasm-bindgen API (`src/web`) in headless Chromium: what the
//! playground's worker calls, checked without the page. Runs in the threads
//! build with `wasm-pack test --headless --chrome` (scripts/test-web.sh).
//! Natively this file is empty.
#![cfg(target_arch = "wasm32")]

use serde_json::Value;
use tunevm::web::{
    abi_names, advise, check_setting, effective_config, guide_targets, knob_schema, presets,
    WebMachine,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const HELLO: &[u8] = include_bytes!("../workloads/bin/hello.elf");
const HELLO_OUT: &str = include_str!("../workloads/expected/hello.out");
const SPIN: &[u8] = include_bytes!("../workloads/bin/spin.elf");
const CPUBENCH: &[u8] = include_bytes!("../workloads/bin/cpubench.elf");
const SMP_SUM_SMALL: &[u8] = include_bytes!("../workloads/bin/smp-sum-small.elf");
const GC_BINARY_TREES: &[u8] = include_bytes!("../workloads/bin/gc-binary-trees.elf");
const GC_BINARY_TREES_OUT: &str = include_str!("../workloads/expected/gc-binary-trees.out");

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// JSON text read by JavaScript's `JSON.parse` (so numbers compare as the
/// page sees them: 1.0 and 1 are one number there).
fn via_js(text: &str) -> Value {
    js(js_sys::JSON::parse(text).unwrap())
}

/// A plain JavaScript value (what `serde-wasm-bindgen` makes) as JSON.
fn js(value: JsValue) -> Value {
    json(&js_sys::JSON::stringify(&value).unwrap().as_string().unwrap())
}

/// The message of the JavaScript `Error` a `JsError` becomes.
fn message(e: wasm_bindgen::JsError) -> String {
    let value: JsValue = e.into();
    js_sys::Reflect::get(&value, &"message".into()).unwrap().as_string().unwrap()
}

fn machine(settings: &str, elf: &[u8]) -> WebMachine {
    WebMachine::new(settings, elf).unwrap_or_else(|e| panic!("{}", message(e)))
}

/// Run in 20 ms pieces, as the worker does, until the run ends.
fn run_to_end(m: &mut WebMachine) -> Value {
    for _ in 0..10_000 {
        let status = js(m.run_for(20.0));
        if status["state"] != "running" {
            return status;
        }
    }
    panic!("still running after 10000 pieces");
}

#[wasm_bindgen_test]
fn schema_has_every_section_with_help_in_both_languages() {
    let schema = json(&knob_schema());
    let sections = schema["sections"].as_array().unwrap();
    let keys: Vec<&str> = sections.iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["memory", "mmu", "jit", "code_cache", "gc", "runtime"]);
    for knob in sections.iter().flat_map(|s| s["knobs"].as_array().unwrap()) {
        for lang in ["en", "zh"] {
            assert!(knob["help"][lang].as_str().unwrap().len() > 40, "{knob}");
        }
        assert!(knob.get("default").is_some(), "{knob}");
    }
}

#[wasm_bindgen_test]
fn settings_are_checked_with_a_reason() {
    check_setting("jit.min_threshold", "10", None).unwrap();
    let e = message(check_setting("jit.min_threshold", "-5", None).unwrap_err());
    assert!(e.contains("jit.min_threshold"), "{e}");
    // Rules between knobs are checked against the other current settings.
    assert!(check_setting("jit.max_threshold", "0", None).is_err(), "max below the default min");
    let context = Some(r#"{"jit.min_threshold": "0"}"#.to_string());
    check_setting("jit.max_threshold", "0", context).unwrap();
    let e = message(check_setting("mmu.l1_entries", "8", None).unwrap_err());
    assert!(e.contains("mmu.multilevel_tlb_config.l1_entries"), "suggests the full key: {e}");
    let config = json(&effective_config(r#"{"mmu.strategy": "concurrent"}"#).unwrap());
    assert_eq!(config["mmu"]["strategy"], "concurrent");
    assert!(effective_config("[1]").is_err());
}

#[wasm_bindgen_test]
fn every_preset_is_accepted_by_the_machine() {
    let list = json(&presets());
    let list = list.as_array().unwrap();
    assert!(list.iter().any(|p| p["kind"] == "problem"));
    for p in list {
        let settings = p["settings"].to_string();
        for (key, value) in p["settings"].as_object().unwrap() {
            check_setting(key, value.as_str().unwrap(), Some(settings.clone()))
                .unwrap_or_else(|e| panic!("{}: {}", p["id"], message(e)));
        }
        let mut m = machine(&settings, HELLO);
        assert_eq!(run_to_end(&mut m)["state"], "exit", "{}", p["id"]);
    }
}

#[wasm_bindgen_test]
fn hello_runs_to_its_exit_with_its_output_and_a_report() {
    let mut m = machine("{}", HELLO);
    let status = run_to_end(&mut m);
    assert_eq!(status["state"], "exit");
    assert_eq!(status["exit_code"], 0);
    assert_eq!(m.console_take(), HELLO_OUT);
    assert_eq!(m.console_take(), "", "output is taken once");
    let report = json(&m.report());
    assert_eq!(report["stop_reason"], "exit");
    assert!(report["engine"].as_str().unwrap().starts_with("browser"), "{}", report["engine"]);
    assert!(report["instructions"].as_u64().unwrap() > 1000);
    // Further pieces change nothing once the run has ended.
    assert_eq!(js(m.run_for(5.0))["state"], "exit");
}

#[wasm_bindgen_test]
fn a_knob_changes_the_report() {
    let mut on = machine(
        r#"{"jit.min_threshold": "0", "jit.max_threshold": "0", "jit.enable_compile_time_budget": "false"}"#,
        HELLO,
    );
    run_to_end(&mut on);
    let on = js(on.live());
    assert!(on["tiers"]["baseline"]["instructions"].as_u64().unwrap() > 0, "{}", on["tiers"]);
    assert!(on.get("series").is_none(), "live() leaves the series out");
    let buckets = on["jit"]["compile_ns_histogram"].as_array().unwrap();
    let compiles: u64 = buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(compiles, on["jit"]["units_compiled"].as_u64().unwrap());

    let mut off = machine(r#"{"jit.enabled": "false"}"#, HELLO);
    run_to_end(&mut off);
    let off = js(off.live());
    assert_eq!(off["engine"], "interpreter");
    assert_eq!(off["tiers"]["baseline"]["instructions"], 0);
    assert_eq!(off["tiers"]["optimizing"]["instructions"], 0);
}

#[wasm_bindgen_test]
fn bad_files_and_bad_settings_are_refused_with_their_reason() {
    let e = message(WebMachine::new("{}", b"garbage!").err().unwrap());
    assert!(e.contains("not an ELF"), "{e}");
    let e = message(WebMachine::new("{}", &HELLO[..100]).err().unwrap());
    assert!(!e.is_empty());
    let e = message(WebMachine::new(r#"{"jit.min_threshold": "abc"}"#, HELLO).err().unwrap());
    assert!(e.contains("jit.min_threshold"), "{e}");
}

#[wasm_bindgen_test]
fn a_runaway_guest_yields_on_time_and_stops() {
    let mut m = machine("{}", SPIN);
    let now = || js_sys::Date::now();
    let mut took = Vec::new();
    for _ in 0..20 {
        let t0 = now();
        assert_eq!(js(m.run_for(20.0))["state"], "running");
        took.push(now() - t0);
    }
    // A piece ends at the first slice end past its budget; a slice that
    // compiles code (the first ones) may run longer, the rest may not.
    took.sort_by(f64::total_cmp);
    assert!(took[10] < 45.0, "20 ms pieces took {took:?} ms");
    assert!(took[19] < 1000.0, "20 ms pieces took {took:?} ms");
    let status = js(m.stop());
    assert_eq!(status["state"], "stopped");
    assert_eq!(js(m.run_for(20.0))["state"], "stopped");
    let report = json(&m.report());
    assert_eq!(report["stop_reason"], "stopped");
    // Run time is the pieces' time only.
    let wall_ms = report["wall_ns"].as_f64().unwrap() / 1e6;
    assert!((300.0..1300.0).contains(&wall_ms), "wall {wall_ms} ms for 20 pieces of 20 ms");
}

#[wasm_bindgen_test]
fn step_runs_one_instruction_or_one_block() {
    let mut m = machine(r#"{"jit.enabled": "false"}"#, HELLO);
    let before = js(m.regs());
    let s = js(m.step(false));
    assert_eq!(s["instructions"], 1);
    let after = js(m.regs());
    assert_ne!(before["pc"], after["pc"]);
    assert_eq!(after["privilege"], "M");
    let s = js(m.step(true));
    let n = s["instructions"].as_u64().unwrap();
    assert!(n > 2, "a block of more than one instruction: {n}");
    // The block ended at a jump or branch: the pc is not the next in line.
    m.reset();
    assert_eq!(js(m.regs())["pc"], before["pc"]);
    assert!(js(m.run_for(0.0))["instructions"].as_u64().unwrap() > 0);
}

#[wasm_bindgen_test]
fn hot_units_show_guest_code_beside_wasm_text() {
    let mut m = machine("{}", CPUBENCH);
    for _ in 0..5 {
        m.run_for(20.0);
    }
    let units = json(&m.hot_units(5));
    let units = units.as_array().unwrap();
    assert!(!units.is_empty(), "cpubench compiles within 100 ms");
    let view = json(&m.code_view(0));
    assert_eq!(view["vpc"], units[0]["vpc"]);
    assert!(view["guest"].as_array().unwrap().len() > 1);
    // The listing starts at the unit's entry, marked as such.
    let entry = format!("; block 0 at {}: entry", units[0]["vpc"].as_str().unwrap());
    assert!(view["guest"][0].as_str().unwrap().starts_with(&entry), "{}", view["guest"][0]);
    assert!(view["wat"].as_str().unwrap().starts_with("(module"));
    // Each guest instruction links to its wat lines (the browser backend
    // regenerates the unit byte for byte too).
    let wat_lines = view["wat"].as_str().unwrap().lines().count() as u64;
    let links = view["links"].as_array().unwrap();
    assert!(!links.is_empty(), "{view}");
    let ranged: Vec<_> = links.iter().filter_map(|l| l["wat_lines"].as_array()).collect();
    assert!(!ranged.is_empty());
    for r in ranged {
        let (first, last) = (r[0].as_u64().unwrap(), r[1].as_u64().unwrap());
        assert!(first <= last && last < wat_lines, "{r:?} of {wat_lines}");
    }
    assert_eq!(m.code_view(99), "null");
    m.stop();
}

#[wasm_bindgen_test]
fn abi_names_and_guide_targets_come_from_rust() {
    let names = abi_names();
    assert_eq!(names.len(), 32);
    assert_eq!((names[0].as_str(), names[2].as_str(), names[8].as_str()), ("zero", "sp", "s0"));
    assert_eq!((names[10].as_str(), names[31].as_str()), ("a0", "t6"));
    let targets = js(guide_targets());
    let names: Vec<&str> =
        targets.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["compile_time", "tlb_hit_rate", "cache_hit_rate", "native_speed", "gc_pause"]
    );
    assert_eq!(targets[0]["figure"], "jit.compile_ns.p99");
    assert_eq!(targets[0]["limit"], 10e6);
    // the advisor's critical compile share in the browser
    assert_eq!(targets[0]["share_limit"], tunevm::advisor::COMPILE_SHARE[0].2);
    assert_eq!(targets[1]["share_limit"], Value::Null);
    assert_eq!(targets[3]["figure"], Value::Null);
    assert_eq!(targets[4]["figure"], "gc.pause_ns.p99");
    assert_eq!(targets[4]["limit"], 1e6);
}

#[wasm_bindgen_test]
fn live_and_status_objects_equal_their_json_text() {
    let mut m = machine("{}", CPUBENCH);
    let status = js(m.run_for(20.0));
    assert_eq!(status, via_js(&m.status_json()));
    assert_eq!(js(m.status()), status);
    assert_eq!(status["state"], "running");
    assert!(status["instructions"].as_u64().unwrap() > 0);
    // the wall clock does not move between the calls: both see one report
    let live = js(m.live());
    assert_eq!(live, via_js(&m.live_json()));
    assert!(live.get("series").is_none(), "live has no series");
    let full = json(&m.report());
    assert!(full.get("series").is_some());
    let keys = |v: &Value| {
        v.as_object().unwrap().keys().filter(|k| *k != "series").cloned().collect::<Vec<_>>()
    };
    assert_eq!(keys(&live), keys(&full), "live = the report without its series");
    let text = js(m.run_for_json(20.0).into());
    assert!(text.is_string());
    assert_eq!(json(text.as_str().unwrap())["state"], "running");
}

/// With several harts the live report carries the `smp` section and the
/// `smp.*` series (the page draws its SMP card from it), and no other series.
#[wasm_bindgen_test]
fn live_report_of_several_harts_has_the_smp_figures() {
    let mut m = machine(r#"{"runtime.vcpus": 2, "jit.enabled": false}"#, SMP_SUM_SMALL);
    assert_eq!(run_to_end(&mut m)["state"], "exit");
    let live = json(&m.live_json());
    let vcpus = live["smp"]["vcpus"].as_array().expect("live.smp.vcpus");
    assert_eq!(vcpus.len(), 2, "{}", live["smp"]);
    let series = live["series"].as_object().expect("live.series");
    let mut names: Vec<_> = series.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["smp.busy_vcpus", "smp.run_queue"]);
    assert!(!series["smp.run_queue"].as_array().unwrap().is_empty());
    assert_eq!(live["smp"], json(&m.report())["smp"]);
}

/// gc-binary-trees in an 8 MiB GC heap through the page's API: the same
/// output as natively, at least one collection, and no marker: the test
/// runner starts no marker worker (the page's VM worker does), so
/// concurrent marking falls back to slices, and the report says why. The live report carries the `gc` section and the `gc.*` series.
#[wasm_bindgen_test]
fn gc_binary_trees_collects_in_a_small_heap_and_says_why_marking_is_not_concurrent_without_a_marker_worker(
) {
    let mut m = machine(r#"{"gc.heap_size_limit": "8388608"}"#, GC_BINARY_TREES);
    let status = run_to_end(&mut m);
    assert_eq!((status["state"].as_str(), status["exit_code"].as_u64()), (Some("exit"), Some(0)));
    assert_eq!(m.console_take(), GC_BINARY_TREES_OUT);
    let report = json(&m.report());
    let gc = &report["gc"];
    assert_eq!(gc["used"], true, "{gc}");
    assert_eq!(gc["heap_limit_bytes"], 8 << 20, "{gc}");
    assert!(gc["collections"].as_u64().unwrap() >= 1, "{gc}");
    assert!(gc["pause_ns"]["p99"].as_u64().is_some(), "{gc}");
    assert_eq!(gc["concurrent"], false, "{gc}");
    assert!(!gc["concurrent_reason"].as_str().unwrap().is_empty(), "{gc}");
    let live = json(&m.live_json());
    assert_eq!(live["gc"], report["gc"]);
    let series = live["series"].as_object().expect("live.series");
    let mut names: Vec<_> = series.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["gc.alloc_rate", "gc.heap_bytes", "gc.mark_progress"]);
    assert!(!series["gc.heap_bytes"].as_array().unwrap().is_empty());
    // The page hands the advisor the live report as JavaScript rewrote it:
    // the pause histogram's last bound (u64::MAX) is 2^64 there, which
    // serde reads as a float.
    let rewritten = js_sys::JSON::stringify(&js_sys::JSON::parse(&m.live_json()).unwrap())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(rewritten.contains("18446744073709552000"), "the bound went through a JS number");
    if let Err(e) = advise(&rewritten) {
        panic!("advise() refused the page's live report: {}", message(e));
    }
}

/// Live knobs: `retune` between two pieces applies a live change, marks it
/// in the live and full reports, and refuses a knob that is not live with
/// its name, changing nothing.
#[wasm_bindgen_test]
fn retune_changes_live_knobs_between_pieces_and_marks_them() {
    let mut m = machine("{}", CPUBENCH);
    assert_eq!(js(m.run_for(30.0))["state"], "running");
    let e = message(m.retune(r#"{"memory.ram_bytes": "128 MiB"}"#).err().unwrap());
    assert!(e.starts_with("memory.ram_bytes cannot change while the guest runs"), "{e}");
    let mark = json(&m.retune(r#"{"code_cache.max_entries": "8"}"#).unwrap());
    assert_eq!(mark["changes"]["code_cache.max_entries"], "8");
    assert!(mark["wall_ns"].as_u64().unwrap() > 0);
    let unchanged = json(&m.retune(r#"{"code_cache.max_entries": "8"}"#).unwrap());
    assert_eq!(unchanged["changes"], serde_json::json!({}), "no difference, no mark");
    run_to_end(&mut m);
    let live = via_js(&m.live_json());
    assert_eq!(live["retunes"].as_array().unwrap().len(), 1, "{}", live["retunes"]);
    assert_eq!(live["retunes"][0], via_js(&mark.to_string()));
    assert!(live["code_cache"]["entries"].as_u64().unwrap() <= 8);
    assert!(live["code_cache"]["evictions"].as_u64().unwrap() > 0);
    assert_eq!(live["config"]["code_cache"]["max_entries"], 8);
    assert_eq!(json(&m.report())["retunes"].as_array().unwrap().len(), 1);
}

/// Guest RAM comes from `memory.grow` untouched, and a machine's RAM is
/// reused, cleared, by the next one (`mem::ZeroedRegion`): a region written
/// all over and dropped comes back zeroed (building a machine used to write
/// every page of its 256 MiB, which took 160-200 ms in the page).
#[wasm_bindgen_test]
fn guest_ram_is_zero_whether_fresh_or_reused() {
    use tunevm::mem::ZeroedRegion;
    // SAFETY: inside the region, which this test owns.
    let bytes = |r: &ZeroedRegion| unsafe { std::slice::from_raw_parts_mut(r.as_ptr(), r.len()) };
    let len = 8 << 20;
    let a = ZeroedRegion::new(len).expect("8 MiB");
    assert!(bytes(&a).iter().all(|&b| b == 0), "new region not zero");
    bytes(&a).fill(0xab);
    let at = a.as_ptr();
    drop(a);
    // Other tests' machines left regions too: take regions until the one
    // written above comes back.
    let mut taken = Vec::new();
    let again = loop {
        let r = ZeroedRegion::new(len).expect("8 MiB");
        assert!(taken.len() < 64, "the dropped region never came back");
        if r.as_ptr() == at {
            break r;
        }
        taken.push(r);
    };
    assert!(bytes(&again).iter().all(|&x| x == 0), "reused region not cleared");
}
