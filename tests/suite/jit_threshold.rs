//! The adaptive compile threshold, the compile-time budget and the tier
//! decision (`tunevm::jit::threshold`), driven with plain numbers. Windows are
//! closed through one helper, `window`, which records a window's compile time
//! and benefit and then its executions.
// Native only: needs proptest, tempfile, processes or the wall clock, none
// of which wasm32-unknown-unknown has (the browser tests are web_*.rs).
#![cfg(not(target_arch = "wasm32"))]
use proptest::prelude::*;
use tunevm::jit::threshold::{
    execution_benefit_ns, tier_for, AdaptiveThreshold, AdaptiveThresholdConfig, Admission, Tier,
    WindowSummary, DEFAULT_TIER_UP_THRESHOLD,
};

use Tier::{Baseline, Interpreter, Optimizing};

/// A controller over the default config changed by `change`.
fn control(change: impl FnOnce(&mut AdaptiveThresholdConfig)) -> AdaptiveThreshold {
    let mut config = AdaptiveThresholdConfig::default();
    change(&mut config);
    AdaptiveThreshold::new(config)
}

/// One whole window: `compile_ns` of compiling (one baseline compile when
/// above 0), `benefit_ns` saved by compiled code, then `sample_window`
/// executions, which close it.
fn window(c: &mut AdaptiveThreshold, compile_ns: u64, benefit_ns: u64) -> WindowSummary {
    if compile_ns > 0 {
        c.record_compile(Baseline, 10, compile_ns);
    }
    c.record_benefit(benefit_ns);
    let retired = (c.windows_closed() + 1) * 10_000;
    c.record_executions(c.config().sample_window, retired).expect("the window closes")
}

/// The thresholds after each of `n` windows with the same measurements.
fn thresholds(c: &mut AdaptiveThreshold, n: usize, compile_ns: u64, benefit_ns: u64) -> Vec<u64> {
    (0..n).map(|_| window(c, compile_ns, benefit_ns).threshold_after).collect()
}

// ---- configuration ----

#[test]
fn defaults_are_the_guides() {
    let c = AdaptiveThresholdConfig::default();
    assert_eq!(c.min_threshold, 50);
    assert_eq!(c.max_threshold, 500);
    assert_eq!(c.sample_window, 1000);
    assert_eq!(c.compile_time_weight, 0.3);
    assert_eq!(c.exec_benefit_weight, 0.7);
    assert_eq!(c.compile_time_budget_ns, 10_000_000);
    assert!(c.enable_compile_time_budget);
    assert_eq!(c.validate(), Ok(()));
    assert_eq!(DEFAULT_TIER_UP_THRESHOLD, 200);
}

#[test]
fn validation_names_key_value_and_what_is_allowed() {
    fn error(change: impl FnOnce(&mut AdaptiveThresholdConfig)) -> String {
        let mut c = AdaptiveThresholdConfig::default();
        change(&mut c);
        c.validate().expect_err("invalid").to_string()
    }
    for (message, expected) in [
        (
            error(|c| c.min_threshold = 600),
            "invalid value 600 for jit.min_threshold: expected at most jit.max_threshold (500)",
        ),
        (
            error(|c| c.min_threshold = 1_000_001),
            "invalid value 1000001 for jit.min_threshold: expected 0..=1000000",
        ),
        (
            error(|c| c.max_threshold = 2_000_000),
            "invalid value 2000000 for jit.max_threshold: expected 0..=1000000",
        ),
        (
            error(|c| c.sample_window = 0),
            "invalid value 0 for jit.sample_window: expected 1..=100000000",
        ),
        (
            error(|c| c.compile_time_weight = 1.5),
            "invalid value 1.5 for jit.compile_time_weight: expected 0..=1",
        ),
        (
            error(|c| c.exec_benefit_weight = -0.1),
            "invalid value -0.1 for jit.exec_benefit_weight: expected 0..=1",
        ),
        (
            error(|c| c.exec_benefit_weight = f64::NAN),
            "invalid value NaN for jit.exec_benefit_weight: expected 0..=1",
        ),
        (
            error(|c| c.compile_time_budget_ns = 0),
            "invalid value 0 for jit.compile_time_budget_ns: expected 1..=1000000000",
        ),
    ] {
        assert_eq!(message, expected);
    }
}

#[test]
fn edges_of_the_ranges_are_valid() {
    let changes: [fn(&mut AdaptiveThresholdConfig); 8] = [
        |c| (c.min_threshold, c.max_threshold) = (0, 0),
        |c| (c.min_threshold, c.max_threshold) = (1_000_000, 1_000_000),
        |c| c.sample_window = 1,
        |c| c.sample_window = 100_000_000,
        |c| (c.compile_time_weight, c.exec_benefit_weight) = (0.0, 0.0),
        |c| (c.compile_time_weight, c.exec_benefit_weight) = (1.0, 1.0),
        |c| c.compile_time_budget_ns = 1,
        |c| c.compile_time_budget_ns = 1_000_000_000,
    ];
    for change in changes {
        let mut c = AdaptiveThresholdConfig::default();
        change(&mut c);
        assert_eq!(c.validate(), Ok(()), "{c:?}");
    }
}

#[test]
fn config_reads_json_keeps_defaults_and_refuses_unknown_keys() {
    let c: AdaptiveThresholdConfig =
        serde_json::from_str(r#"{"max_threshold": 800, "enable_compile_time_budget": false}"#)
            .unwrap();
    assert_eq!(
        c,
        AdaptiveThresholdConfig {
            max_threshold: 800,
            enable_compile_time_budget: false,
            ..Default::default()
        }
    );
    let back: AdaptiveThresholdConfig =
        serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
    let e = serde_json::from_str::<AdaptiveThresholdConfig>(r#"{"min_treshold": 10}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `min_treshold`"), "{e}");
}

#[test]
#[should_panic(expected = "jit.sample_window")]
fn controller_refuses_an_invalid_config() {
    control(|c| c.sample_window = 0);
}

// ---- the rule ----

#[test]
fn threshold_starts_at_min() {
    assert_eq!(control(|_| {}).threshold(), 50);
    assert_eq!(control(|c| c.min_threshold = 120).threshold(), 120);
}

#[test]
fn window_closes_after_sample_window_executions() {
    let mut c = control(|_| {});
    assert_eq!(c.record_executions(999, 5_000), None);
    assert_eq!(c.window().executions, 999);
    let s = c.record_executions(1, 5_004).expect("the 1000th execution closes the window");
    assert_eq!((s.totals.executions, s.instructions_retired), (1000, 5_004));
    assert_eq!(c.window().executions, 0);
    // A batch that crosses the end belongs wholly to the closing window.
    assert_eq!(c.record_executions(600, 8_000), None);
    let s = c.record_executions(900, 9_000).unwrap();
    assert_eq!(s.totals.executions, 1500);
    assert_eq!(c.window().executions, 0);
    assert_eq!(c.windows_closed(), 2);
}

#[test]
fn threshold_rises_when_compile_cost_dominates() {
    let mut c = control(|_| {});
    let s = window(&mut c, 1_000_000, 100_000);
    assert!(s.score.unwrap() < 0.0);
    assert_eq!((s.threshold_before, s.threshold_after), (50, 62));
    assert_eq!(
        thresholds(&mut c, 11, 1_000_000, 100_000),
        [77, 96, 120, 150, 187, 233, 291, 363, 453, 500, 500]
    );
}

#[test]
fn threshold_falls_when_benefit_dominates() {
    let mut c = control(|_| {});
    assert_eq!(thresholds(&mut c, 3, 1_000_000, 0), [62, 77, 96]);
    let s = window(&mut c, 100_000, 1_000_000);
    assert!(s.score.unwrap() > 0.0);
    assert_eq!((s.threshold_before, s.threshold_after), (96, 77));
    assert_eq!(thresholds(&mut c, 4, 100_000, 1_000_000), [62, 50, 50, 50]);
}

#[test]
fn steps_follow_the_documented_arithmetic() {
    // Rising: t + max(1, t / 4); falling: t - max(1, t / 5); within [min, max].
    let mut c = control(|c| (c.min_threshold, c.max_threshold) = (0, 1000));
    assert_eq!(
        thresholds(&mut c, 12, 1, 0),
        [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 18],
        "rising from 0 moves by at least 1"
    );
    let mut c = control(|c| (c.min_threshold, c.max_threshold) = (0, 1000));
    thresholds(&mut c, 31, 1, 0);
    assert_eq!(c.threshold(), 1000);
    let falls = thresholds(&mut c, 32, 0, 1);
    assert_eq!(falls[..5], [800, 640, 512, 410, 328]);
    assert_eq!(falls[25..], [5, 4, 3, 2, 1, 0, 0], "falling moves by at least 1, down to min");
    // With the guide's range: 500 falls to 400 and 400 rises back to 500.
    let mut c = control(|_| {});
    thresholds(&mut c, 11, 1, 0);
    assert_eq!(thresholds(&mut c, 2, 0, 1), [400, 320]);
    assert_eq!(thresholds(&mut c, 2, 1, 0), [400, 500]);
}

#[test]
fn default_weights_fall_above_three_sevenths_of_compile_time() {
    // 0.7 B - 0.3 C > 0 exactly when B > 3/7 C.
    for (benefit_ns, moves) in [(420, 1i8), (428, 1), (429, -1), (500, -1)] {
        let mut c = control(|_| {});
        window(&mut c, 1_000, 0); // off the floor: 50 -> 62
        let s = window(&mut c, 1_000, benefit_ns);
        let moved = (s.threshold_after as i64 - s.threshold_before as i64).signum() as i8;
        assert_eq!(moved, moves, "benefit {benefit_ns} ns against 1000 ns of compiling");
    }
}

#[test]
fn weights_flip_the_outcome_for_the_same_measurements() {
    let run = |compile_time_weight, exec_benefit_weight| {
        let mut c = control(|c| {
            c.compile_time_weight = compile_time_weight;
            c.exec_benefit_weight = exec_benefit_weight;
        });
        window(&mut c, 1_000, 0); // off the floor: 50 -> 62
        window(&mut c, 600_000, 400_000)
    };
    let compile_heavy = run(0.9, 0.1);
    assert_eq!((compile_heavy.threshold_before, compile_heavy.threshold_after), (62, 77));
    assert!((compile_heavy.score.unwrap() - (0.1 * 0.4 - 0.9 * 0.6)).abs() < 1e-12);
    let benefit_heavy = run(0.1, 0.9);
    assert_eq!((benefit_heavy.threshold_before, benefit_heavy.threshold_after), (62, 50));
    assert!((benefit_heavy.score.unwrap() - (0.9 * 0.4 - 0.1 * 0.6)).abs() < 1e-12);
}

#[test]
fn a_window_with_nothing_measured_leaves_the_threshold() {
    let mut c = control(|_| {});
    window(&mut c, 1_000, 0);
    let s = window(&mut c, 0, 0);
    assert_eq!(s.score, None);
    assert_eq!((s.threshold_before, s.threshold_after), (62, 62));
    // Weights of 0 and 0 score every window 0: the threshold never moves.
    let mut c = control(|c| (c.compile_time_weight, c.exec_benefit_weight) = (0.0, 0.0));
    assert_eq!(thresholds(&mut c, 3, 1_000, 5), [50, 50, 50]);
}

// ---- the budget ----

#[test]
fn waiting_candidate_is_admitted_in_the_next_window() {
    let mut c = control(|c| c.compile_time_budget_ns = 1_000);
    assert_eq!(c.admit(700), Admission::Compile);
    c.record_compile(Baseline, 7, 700);
    assert_eq!(c.remaining_budget_ns(), Some(300));
    assert_eq!(c.admit(300), Admission::Compile, "exactly what is left fits");
    assert_eq!(c.admit(301), Admission::Wait);
    assert_eq!(c.admit(301), Admission::Wait);
    assert_eq!(c.window().waits, 2);
    let s = window(&mut c, 0, 0);
    assert_eq!((s.totals.compile_ns, s.totals.waits), (700, 2));
    assert_eq!(c.remaining_budget_ns(), Some(1_000));
    assert_eq!(c.admit(301), Admission::Compile);
}

#[test]
fn a_spent_budget_refuses_even_a_zero_estimate() {
    let mut c = control(|c| c.compile_time_budget_ns = 1_000);
    c.record_compile(Baseline, 10, 1_000);
    assert_eq!(c.admit(0), Admission::Wait, "an estimate counts as at least 1 ns");
}

#[test]
fn an_overrun_is_recorded_in_full_and_closes_the_window_to_compiles() {
    let mut c = control(|c| c.compile_time_budget_ns = 1_000);
    assert_eq!(c.admit(400), Admission::Compile);
    c.record_compile(Optimizing, 40, 1_300); // took longer than estimated
    assert_eq!(c.window().compile_ns, 1_300);
    assert_eq!(c.remaining_budget_ns(), Some(0));
    assert_eq!(c.admit(1), Admission::Wait);
    window(&mut c, 0, 0);
    assert_eq!(c.admit(1), Admission::Compile);
}

#[test]
fn candidate_larger_than_the_whole_budget_waits_for_a_window_without_compiles() {
    let mut c = control(|c| c.compile_time_budget_ns = 1_000);
    for _ in 0..5 {
        c.record_compile(Baseline, 10, 10);
        assert_eq!(c.admit(1_001), Admission::Wait, "the window has a compile already");
        window(&mut c, 0, 0);
        assert_eq!(c.admit(1_001), Admission::Compile, "a window with none yet takes one");
        c.record_compile(Baseline, 10, 1_001);
        assert_eq!(c.admit(1_001), Admission::Wait, "but only one");
        assert_eq!(c.admit(1), Admission::Wait, "and nothing else");
        window(&mut c, 0, 0);
    }
}

#[test]
fn disabled_budget_admits_everything() {
    let mut c = control(|c| (c.compile_time_budget_ns, c.enable_compile_time_budget) = (1, false));
    c.record_compile(Baseline, 10, 1_000_000_000);
    for estimate in [0, 1, 10_000_000, u64::MAX] {
        assert_eq!(c.admit(estimate), Admission::Compile);
    }
    assert_eq!(c.remaining_budget_ns(), None);
    assert_eq!(c.window().waits, 0);
}

#[test]
fn estimate_scales_the_tiers_mean_cost_per_instruction_until_sizes_differ() {
    let mut c = control(|_| {});
    assert_eq!(c.estimate_compile_ns(Baseline, 100), 0, "nothing measured yet");
    c.record_compile(Baseline, 10, 1_000);
    c.record_compile(Baseline, 10, 2_000); // 3000 ns over 20 instructions: 150 ns each
    c.record_compile(Optimizing, 10, 9_000);
    assert_eq!(c.estimate_compile_ns(Baseline, 100), 15_000);
    assert_eq!(c.estimate_compile_ns(Baseline, 1), 150);
    assert_eq!(c.estimate_compile_ns(Optimizing, 3), 2_700);
}

#[test]
fn estimate_is_a_fixed_cost_plus_a_cost_per_instruction() {
    let mut c = control(|_| {});
    // 1 ms per module plus 1 us per instruction.
    for size in [10, 100, 1000] {
        c.record_compile(Optimizing, size, 1_000_000 + 1_000 * size);
    }
    assert_eq!(c.estimate_compile_ns(Optimizing, 500), 1_500_000);
    assert_eq!(c.estimate_compile_ns(Optimizing, 1), 1_001_000);
    // The largest unit that fits a time is read off the same line.
    assert_eq!(c.max_size_within(Optimizing, 1_500_000), 500);
    assert_eq!(c.max_size_within(Optimizing, 500_000), 1, "below the fixed cost");
    assert_eq!(c.max_size_within(Baseline, 1), u64::MAX, "nothing measured");
    // A cost per instruction alone (the mean: 4.09 ms / 1110 instructions)
    // would have said 1.84 ms for 500 and 3.7 us for 1.
    // Noisy times never give a negative part: a line falling with size
    // becomes the mean time per compile.
    let mut d = control(|_| {});
    d.record_compile(Baseline, 10, 5_000);
    d.record_compile(Baseline, 20, 1_000);
    assert_eq!(d.estimate_compile_ns(Baseline, 1000), 3_000);
}

#[test]
#[should_panic(expected = "never compiled")]
fn the_interpreter_tier_is_never_recorded_as_a_compile() {
    control(|_| {}).record_compile(Interpreter, 1, 1);
}

// ---- the series ----

#[test]
fn series_has_one_point_per_window() {
    let mut c = control(|c| c.sample_window = 10);
    assert!(c.series().is_empty());
    let mut expected = Vec::new();
    for (i, compile_ns) in [5_000, 5_000, 0, 5_000].into_iter().enumerate() {
        c.record_compile(Baseline, 1, compile_ns);
        let retired = 1_000 * (i as u64 + 1);
        for _ in 0..9 {
            assert_eq!(c.record_executions(1, retired - 1), None);
        }
        let s = c.record_executions(1, retired).unwrap();
        expected.push((retired, s.threshold_after as f64));
        assert_eq!(c.series(), expected);
    }
    assert_eq!(c.series(), [(1_000, 62.0), (2_000, 77.0), (3_000, 77.0), (4_000, 96.0)]);
}

#[test]
fn series_stays_bounded_and_ends_at_the_latest_window() {
    let mut c = control(|c| c.sample_window = 1);
    for i in 1..=100_000 {
        c.record_executions(1, i);
    }
    let series = c.series();
    assert!(series.len() <= 1025, "{} points", series.len());
    assert!(series.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(series.last().unwrap().0, 100_000);
}

// ---- random inputs ----

#[derive(Clone, Debug)]
enum Op {
    Execute(u64),
    /// Ask with `estimate`; if admitted, compile for `actual` ns.
    Compile {
        estimate: u64,
        actual: u64,
    },
    Benefit(u64),
}

fn ops(honest: bool) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        (1u64..400).prop_map(Op::Execute),
        (0u64..3_000, 0u64..=150).prop_map(move |(estimate, percent)| Op::Compile {
            estimate,
            actual: estimate * if honest { percent.min(100) } else { percent } / 100,
        }),
        (0u64..20_000).prop_map(Op::Benefit),
    ];
    proptest::collection::vec(op, 0..300)
}

fn config() -> impl Strategy<Value = AdaptiveThresholdConfig> {
    (0u64..3_000, 0u64..3_000, 1u64..200, 0.0..=1.0f64, 0.0..=1.0f64, 1u64..20_000, any::<bool>())
        .prop_map(|(a, b, sample_window, cw, bw, budget, enable)| AdaptiveThresholdConfig {
            min_threshold: a.min(b),
            max_threshold: a.max(b),
            sample_window,
            compile_time_weight: cw,
            exec_benefit_weight: bw,
            compile_time_budget_ns: budget,
            enable_compile_time_budget: enable,
        })
}

/// What one op did: the admission asked for, the window it closed.
type Step = (Option<Admission>, Option<WindowSummary>);

/// Apply `op` as a JIT that respects `admit` would.
fn apply(c: &mut AdaptiveThreshold, op: &Op, retired: &mut u64) -> Step {
    match *op {
        Op::Execute(n) => {
            *retired += 7 * n;
            (None, c.record_executions(n, *retired))
        }
        Op::Compile { estimate, actual } => {
            let admission = c.admit(estimate);
            if admission == Admission::Compile {
                c.record_compile(Baseline, 1 + estimate % 50, actual);
            }
            (Some(admission), None)
        }
        Op::Benefit(ns) => {
            c.record_benefit(ns);
            (None, None)
        }
    }
}

proptest! {
    #![proptest_config(crate::proptest_config(proptest::test_runner::Config::default().cases))]
    #[test]
    fn threshold_stays_between_min_and_max(config in config(), ops in ops(false)) {
        let (min, max) = (config.min_threshold, config.max_threshold);
        let mut c = AdaptiveThreshold::new(config);
        let mut retired = 0;
        for op in &ops {
            apply(&mut c, op, &mut retired);
            prop_assert!((min..=max).contains(&c.threshold()), "{} not in {min}..={max}", c.threshold());
        }
        prop_assert!(c.series().iter().all(|&(_, t)| (min as f64..=max as f64).contains(&t)));
    }

    #[test]
    fn budget_is_exceeded_only_by_one_oversize_job_per_window(
        config in config(),
        ops in ops(true),
    ) {
        let config = AdaptiveThresholdConfig { enable_compile_time_budget: true, ..config };
        let budget = config.compile_time_budget_ns;
        let mut c = AdaptiveThreshold::new(config);
        let mut retired = 0;
        // Jobs admitted in the open window: a window may go over budget
        // only through its single job, admitted over budget when the window
        // had no compile time yet.
        let mut jobs = 0;
        for op in &ops {
            let (admission, closed) = apply(&mut c, op, &mut retired);
            if let Some(s) = closed {
                prop_assert!(s.totals.compile_ns <= budget || jobs == 1);
                jobs = 0;
            }
            if admission == Some(Admission::Compile) {
                jobs += 1;
            }
            prop_assert!(c.window().compile_ns <= budget || jobs == 1);
        }
    }

    #[test]
    fn disabled_budget_never_waits(config in config(), ops in ops(false)) {
        let mut c = AdaptiveThreshold::new(AdaptiveThresholdConfig {
            enable_compile_time_budget: false,
            ..config
        });
        let mut retired = 0;
        for op in &ops {
            let (admission, _) = apply(&mut c, op, &mut retired);
            prop_assert_ne!(admission, Some(Admission::Wait));
        }
    }

    #[test]
    fn fixed_threshold_without_budget_is_deterministic(
        config in config(),
        ops in ops(false),
    ) {
        let config = AdaptiveThresholdConfig {
            max_threshold: config.min_threshold,
            enable_compile_time_budget: false,
            ..config
        };
        let fixed = config.min_threshold;
        let run = || {
            let mut c = AdaptiveThreshold::new(config.clone());
            let mut retired = 0;
            let mut steps = Vec::new();
            for op in &ops {
                steps.push(apply(&mut c, op, &mut retired));
                assert_eq!(c.threshold(), fixed);
            }
            (steps, c.series().to_vec())
        };
        let first = run();
        prop_assert!(first.0.iter().all(|(a, _)| *a != Some(Admission::Wait)));
        prop_assert_eq!(&first, &run());
        // Tier decisions then depend only on execution counts.
        for count in 0..=fixed + DEFAULT_TIER_UP_THRESHOLD {
            prop_assert_eq!(
                tier_for(count, fixed, DEFAULT_TIER_UP_THRESHOLD, Interpreter).is_some(),
                count >= fixed
            );
        }
    }
}

// ---- tiers ----

#[test]
fn tier_for_cases() {
    fn check(count: u64, threshold: u64, tier_up: u64, current: Tier, expect: Option<Tier>) {
        assert_eq!(
            tier_for(count, threshold, tier_up, current),
            expect,
            "count {count}, threshold {threshold}, tier_up {tier_up}, {current:?}"
        );
    }
    // First compile at the threshold; baseline below tier_up.
    check(0, 50, 200, Interpreter, None);
    check(49, 50, 200, Interpreter, None);
    check(50, 50, 200, Interpreter, Some(Baseline));
    check(199, 50, 200, Interpreter, Some(Baseline));
    // A count already at tier_up goes straight to the optimizer.
    check(200, 50, 200, Interpreter, Some(Optimizing));
    check(499, 500, 200, Interpreter, None);
    check(500, 500, 200, Interpreter, Some(Optimizing));
    // A unit that waited (budget) or that the threshold dropped below.
    check(120, 60, 200, Interpreter, Some(Baseline));
    check(900, 60, 200, Interpreter, Some(Optimizing));
    // Tier-up of baseline code, whatever the threshold is now.
    check(199, 50, 200, Baseline, None);
    check(200, 50, 200, Baseline, Some(Optimizing));
    check(200, 500, 200, Baseline, Some(Optimizing));
    check(10_000, 50, 200, Optimizing, None);
    // Threshold 0: compile before the first execution.
    check(0, 0, 200, Interpreter, Some(Baseline));
    check(0, 0, 0, Interpreter, Some(Optimizing));
    check(0, 0, 0, Baseline, Some(Optimizing));
    check(0, 0, 1, Baseline, None);
    check(0, 0, 0, Optimizing, None);
}

#[test]
fn tier_names_are_the_reports() {
    let names: Vec<_> = [Interpreter, Baseline, Optimizing].map(Tier::name).into();
    assert_eq!(names, ["interpreter", "baseline", "optimizing"]);
    assert_eq!(serde_json::to_string(&Optimizing).unwrap(), "\"optimizing\"");
    assert!(Interpreter < Baseline && Baseline < Optimizing);
}

#[test]
fn benefit_is_time_saved_over_the_interpreter() {
    assert_eq!(execution_benefit_ns(0, 10.0, 1.0), 0);
    assert_eq!(execution_benefit_ns(1_000_000, 10.0, 1.0), 9_000_000);
    assert_eq!(execution_benefit_ns(3, 1.5, 1.0), 2, "rounded to the nearest ns");
    assert_eq!(execution_benefit_ns(100, 1.0, 1.0), 0);
    assert_eq!(execution_benefit_ns(100, 1.0, 4.0), 0, "slower code saves nothing");
    assert_eq!(execution_benefit_ns(100, f64::NAN, 1.0), 0);
    assert_eq!(execution_benefit_ns(u64::MAX, 1e9, 0.0), u64::MAX);
}

/// The JIT learns the interpreter's cost per instruction even when no slice
/// ran mostly interpreted (hot code compiled within the first slice): from
/// slices with different mixes. Then compiled slices yield a benefit.
#[test]
fn interpreter_cost_is_learnt_from_mixed_slices() {
    use tunevm::jit::code_cache::CacheConfig;
    use tunevm::jit::{Jit, JitConfig};
    let mut jit = Jit::new(JitConfig::default(), CacheConfig::default());
    // 10 ns per interpreted instruction, 1 ns per compiled one.
    jit.account_slice(300 * 10 + 700, 300, 700);
    assert_eq!(jit.interp_ns_per_insn(), None, "one mix does not determine two costs");
    assert_eq!(jit.controller().window().benefit_ns, 0);
    jit.account_slice(1000, 0, 1000);
    let a = jit.interp_ns_per_insn().expect("learnt from two mixes");
    assert!((a - 10.0).abs() < 0.01, "{a}");
    let before = jit.controller().window().benefit_ns;
    jit.account_slice(1000, 0, 1000);
    // 1000 instructions would have taken 10 us interpreted; they took 1 us.
    assert_eq!(jit.controller().window().benefit_ns - before, 9000);
}
