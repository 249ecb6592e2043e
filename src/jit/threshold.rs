//! When to compile a translation unit, and at which tier.
//!
//! Three pieces, all plain logic that the JIT drives with numbers it has
//! measured (nothing here reads a clock: `Instant::now()` panics on wasm32):
//!
//! - [`AdaptiveThresholdConfig`]: the tuning guide's knobs (`jit.min_threshold`,
//!   `jit.max_threshold`, `jit.sample_window`, `jit.compile_time_weight`,
//!   `jit.exec_benefit_weight`, `jit.compile_time_budget_ns`,
//!   `jit.enable_compile_time_budget`).
//! - [`AdaptiveThreshold`]: the controller. It moves the compile threshold
//!   between `min_threshold` and `max_threshold` once per sample window,
//!   weighing the time spent compiling against the time compiled code saved,
//!   and enforces the compile-time budget ([`AdaptiveThreshold::admit`]).
//! - [`tier_for`]: the tier decision of docs/DESIGN.md ("Tiers") as a pure function.
//!
//! Words used throughout:
//!
//! - An *execution* is one dispatch of a translation unit (a block or a
//!   region entered at its head by the dispatch loop), whether the unit then
//!   runs in the interpreter or in compiled code. A unit's *execution count*
//!   is how many times it was dispatched before; hotness thresholds and the
//!   sample window are both counted in executions.
//! - The *sample window* is a run of `sample_window` consecutive executions,
//!   of all units together. Compile time and benefit are summed per window.
//!
//! How the JIT uses it, at each dispatch of a unit that is not in its final
//! tier:
//!
//! ```
//! use tunevm::jit::threshold::{
//!     tier_for, AdaptiveThreshold, AdaptiveThresholdConfig, Admission, Tier,
//!     DEFAULT_TIER_UP_THRESHOLD,
//! };
//!
//! let mut control = AdaptiveThreshold::new(AdaptiveThresholdConfig::default());
//! let (count, current, unit_instructions) = (50, Tier::Interpreter, 12);
//! if let Some(tier) = tier_for(count, control.threshold(), DEFAULT_TIER_UP_THRESHOLD, current) {
//!     let estimate = control.estimate_compile_ns(tier, unit_instructions);
//!     if control.admit(estimate) == Admission::Compile {
//!         let compile_ns = 40_000; // measured around the compile by the JIT
//!         control.record_compile(tier, unit_instructions, compile_ns);
//!     } // else: keep interpreting it and ask again at a later dispatch
//! }
//! // Per slice, or per dispatch: executions, then the time compiled code saved.
//! control.record_benefit(2_000);
//! control.record_executions(1, 1_234);
//! assert_eq!(control.threshold(), 50);
//! ```
use std::fmt;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::monitor::{MonitorConfig, TimeSeries};

/// The doc comments of the fields [`AdaptiveThresholdConfig`] shares with
/// [`JitConfig`](super::JitConfig) (which lays them out flat in the `jit`
/// section): written once here and attached to both structs with
/// `#[doc = threshold_field_doc!(field)]`. The first paragraph of each is the
/// knob's English help (`jit.<field>`); a test in `config` fails when the two
/// disagree.
macro_rules! threshold_field_doc {
    (min_threshold) => {
        "The lowest the compile threshold goes, and where it starts. A unit is compiled \
         once its execution count (how many times it was dispatched) reaches the \
         threshold. The threshold then adapts: every jit.sample_window executions it \
         falls by a fifth when compiled code saved more than compiling cost (as the two \
         weights count them) and rises by a quarter when compiling cost more, always kept \
         between min_threshold and max_threshold. Lower it to compile hot code sooner \
         (short programs, tight loops); raise it so that code which runs only a few times \
         is never compiled, since it cannot earn its compile back. 0 means compile before \
         the first execution: with jit.max_threshold=0, \
         jit.enable_compile_time_budget=false and jit.background_compile=false every unit \
         goes through the JIT. Watch the \
         threshold over time (jit.threshold_series), units compiled, compile time and the \
         interpreter's share of instructions. At most jit.max_threshold.\n\n\
         Default 50, in executions, range 0..=1_000_000 and at most `max_threshold`."
    };
    (max_threshold) => {
        "The highest the compile threshold climbs when compiling does not pay (each \
         sample window whose score is below 0 raises it by a quarter, up to this value). \
         Raise it to hold back compiles in programs with much lukewarm code; too high and \
         the hot loops of a short program finish before they are compiled. Equal to \
         jit.min_threshold fixes the threshold. If jit.threshold_series sits at \
         max_threshold, compile cost dominates: look at compile time and the weights. At \
         least jit.min_threshold; 0 together with jit.min_threshold=0 (and the budget \
         off) compiles every unit before its first execution.\n\n\
         Default 500, in executions, range 0..=1_000_000 and at least `min_threshold`."
    };
    (sample_window) => {
        "How many executions (dispatches of units, all units together) make one sample \
         window. At the end of each window the threshold is re-weighed from the compile \
         time C spent in the window and the time B compiled code saved in it: score = \
         (exec_benefit_weight x B - compile_time_weight x C) / (B + C); above 0 the \
         threshold falls by a fifth, below 0 it rises by a quarter, then it is clamped to \
         [min_threshold, max_threshold]. The compile-time budget refills with every \
         window. A short window follows phase changes quickly but judges compiles on \
         little benefit (a unit compiled late in a window has had no time to pay back) \
         and refills the budget often; a long one is steadier and reacts slowly. Each \
         window adds one point to jit.threshold_series.\n\n\
         Default 1000, in executions, range 1..=100_000_000."
    };
    (compile_time_weight) => {
        "How much a nanosecond spent compiling counts against lowering the threshold: the \
         weight of C in the window score (exec_benefit_weight x B - compile_time_weight x \
         C) / (B + C). Raise it (relative to exec_benefit_weight) to make the threshold \
         climb sooner when compiles are expensive, so fewer units are compiled, later; 0 \
         ignores compile time, so the threshold never rises. With the defaults (0.3 and \
         0.7) the threshold falls when the time saved is more than 3/7 of the compile \
         time. Watch jit.threshold_series and the compile time (jit.compile_ns).\n\n\
         Default 0.3, unitless, range 0.0..=1.0."
    };
    (exec_benefit_weight) => {
        "How much a nanosecond saved by compiled code counts for lowering the threshold: \
         the weight of B in the window score (exec_benefit_weight x B - \
         compile_time_weight x C) / (B + C). B is measured per run slice: the time the \
         interpreter would have taken for the slice's instructions minus the time the \
         slice took, compile time excluded. Raise it to compile more eagerly when \
         compiled code pays off; 0 ignores the benefit, so the threshold never falls; \
         with both weights 0 the threshold never moves. Watch jit.threshold_series, the \
         interpreter's share of instructions (tiers.interpreter.instructions) and mips.\n\n\
         Default 0.7, unitless, range 0.0..=1.0."
    };
    (compile_time_budget_ns) => {
        "Compile time allowed per sample window when jit.enable_compile_time_budget is \
         on. A compile starts only if the window's compile time so far plus the compile's \
         estimate fits in the budget, so the compile time of one window does not exceed \
         it (unless a compile runs over its estimate). A unit that does not fit waits, \
         keeps running where it is, and is compiled in a later window, when the budget \
         has refilled; one whose estimate alone exceeds the budget is never compiled. \
         Lower it to spread compiles out so a start-up compile storm does not stall the \
         guest; raise it when big hot units stay interpreted. Watch compile time \
         (jit.compile_ns), the compiles that waited (jit.compile_waits), units compiled \
         and the interpreter's share of instructions. Default 10 ms.\n\n\
         Default 10_000_000 (10 ms), in nanoseconds, range 1..=1_000_000_000."
    };
    (enable_compile_time_budget) => {
        "Enforce jit.compile_time_budget_ns. Off, every compile the threshold asks for \
         happens at once, however much compile time a window adds up to: a compile storm \
         at start-up can stall the guest, but which unit is compiled to which tier, and \
         when, depends only on execution counts (fully reproducible when \
         jit.min_threshold equals jit.max_threshold). Turn it off together with \
         jit.min_threshold=0, jit.max_threshold=0 and jit.background_compile=false to force \
         every unit through the JIT. \
         Compare compile time (jit.compile_ns), compiles that waited (jit.compile_waits; \
         always 0 when off), units compiled and mips with it on and off.\n\n\
         Default true."
    };
}
pub(crate) use threshold_field_doc;

/// The tuning guide's adaptive hotness threshold (`vm_engine_jit::AdaptiveThresholdConfig`).
/// Its fields are the config keys `jit.<field>`.
///
/// ```
/// use tunevm::jit::threshold::{AdaptiveThreshold, AdaptiveThresholdConfig};
///
/// let config = AdaptiveThresholdConfig {
///     min_threshold: 50,      // compile a unit after 50 executions at the soonest
///     max_threshold: 500,     // and after 500 at the latest
///     sample_window: 1000,    // re-weigh every 1000 executions
///     compile_time_weight: 0.3,
///     exec_benefit_weight: 0.7,
///     compile_time_budget_ns: 10_000_000, // 10 ms of compiling per window
///     enable_compile_time_budget: true,
/// };
/// assert_eq!(config, AdaptiveThresholdConfig::default());
///
/// // The guide's `Jit::with_adaptive_config(config)` hands it to this controller.
/// let control = AdaptiveThreshold::new(config);
/// assert_eq!(control.threshold(), 50);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdaptiveThresholdConfig {
    #[doc = threshold_field_doc!(min_threshold)]
    pub min_threshold: u64,
    #[doc = threshold_field_doc!(max_threshold)]
    pub max_threshold: u64,
    #[doc = threshold_field_doc!(sample_window)]
    pub sample_window: u64,
    #[doc = threshold_field_doc!(compile_time_weight)]
    pub compile_time_weight: f64,
    #[doc = threshold_field_doc!(exec_benefit_weight)]
    pub exec_benefit_weight: f64,
    #[doc = threshold_field_doc!(compile_time_budget_ns)]
    pub compile_time_budget_ns: u64,
    #[doc = threshold_field_doc!(enable_compile_time_budget)]
    pub enable_compile_time_budget: bool,
}

impl AdaptiveThresholdConfig {
    /// Range of `min_threshold` and `max_threshold`, in executions. A unit
    /// dispatched a million times has long dominated any run the page makes;
    /// a higher threshold would keep everything interpreted.
    pub const THRESHOLD: RangeInclusive<u64> = 0..=1_000_000;
    /// Range of `sample_window`, in executions. At least one execution; at
    /// interpreter speed 100 million executions take several seconds, so a
    /// longer window would barely close in a run.
    pub const SAMPLE_WINDOW: RangeInclusive<u64> = 1..=100_000_000;
    /// Range of both weights: a share, so the score stays a fraction of the
    /// time measured.
    pub const WEIGHT: RangeInclusive<f64> = 0.0..=1.0;
    /// Range of `compile_time_budget_ns`: above zero (a zero budget would
    /// compile nothing: turn the JIT off instead), at most one second per
    /// window (beyond that it limits nothing a browser tab would tolerate:
    /// turn the budget off instead).
    pub const COMPILE_TIME_BUDGET_NS: RangeInclusive<u64> = 1..=1_000_000_000;

    /// Check every field against its documented range, and min against max.
    /// The error names the config key, the value and what is allowed.
    pub fn validate(&self) -> Result<(), InvalidThresholdConfig> {
        fn in_range<T: PartialOrd + fmt::Display>(
            key: &'static str,
            value: T,
            range: RangeInclusive<T>,
        ) -> Result<(), InvalidThresholdConfig> {
            if range.contains(&value) {
                Ok(())
            } else {
                Err(InvalidThresholdConfig {
                    key,
                    value: value.to_string(),
                    allowed: format!("{}..={}", range.start(), range.end()),
                })
            }
        }
        in_range("jit.min_threshold", self.min_threshold, Self::THRESHOLD)?;
        in_range("jit.max_threshold", self.max_threshold, Self::THRESHOLD)?;
        if self.min_threshold > self.max_threshold {
            return Err(InvalidThresholdConfig {
                key: "jit.min_threshold",
                value: self.min_threshold.to_string(),
                allowed: format!("at most jit.max_threshold ({})", self.max_threshold),
            });
        }
        in_range("jit.sample_window", self.sample_window, Self::SAMPLE_WINDOW)?;
        in_range("jit.compile_time_weight", self.compile_time_weight, Self::WEIGHT)?;
        in_range("jit.exec_benefit_weight", self.exec_benefit_weight, Self::WEIGHT)?;
        in_range(
            "jit.compile_time_budget_ns",
            self.compile_time_budget_ns,
            Self::COMPILE_TIME_BUDGET_NS,
        )?;
        Ok(())
    }
}

impl Default for AdaptiveThresholdConfig {
    fn default() -> Self {
        AdaptiveThresholdConfig {
            min_threshold: 50,
            max_threshold: 500,
            sample_window: 1000,
            compile_time_weight: 0.3,
            exec_benefit_weight: 0.7,
            compile_time_budget_ns: 10_000_000,
            enable_compile_time_budget: true,
        }
    }
}

/// A field of [`AdaptiveThresholdConfig`] outside what is allowed. Displayed
/// as one line in the form of the config module's errors
/// ("invalid value 0 for jit.sample_window: expected 1..=100000000").
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("invalid value {value} for {key}: expected {allowed}")]
pub struct InvalidThresholdConfig {
    /// The config key (`jit.min_threshold`, ...).
    pub key: &'static str,
    /// The value given, as text.
    pub value: String,
    /// What the key accepts.
    pub allowed: String,
}

/// The default of `jit.tier_up_threshold` (the guide's boundary between the
/// fast and the optimizing path), in executions.
pub const DEFAULT_TIER_UP_THRESHOLD: u64 = 200;

/// Where a unit's code runs. Ordered from the slowest to the fastest code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Not compiled: the interpreter runs it (tier 0).
    Interpreter,
    /// Compiled quickly with basic optimisation (the guide's fast path).
    Baseline,
    /// Compiled with full optimisation (the guide's optimizing path).
    Optimizing,
}

impl Tier {
    /// The tier's name in reports (`tiers.{interpreter,baseline,optimizing}`).
    pub fn name(self) -> &'static str {
        match self {
            Tier::Interpreter => "interpreter",
            Tier::Baseline => "baseline",
            Tier::Optimizing => "optimizing",
        }
    }
}

/// The tier a unit should be compiled to now, or `None` to leave it where it
/// is. `count` is the unit's execution count (dispatches before this one, so
/// 0 before its first execution), `threshold` the current compile threshold
/// ([`AdaptiveThreshold::threshold`]), `current` the tier its code is in.
///
/// - An interpreted unit is compiled when `count >= threshold`: to
///   [`Tier::Baseline`] if `count < tier_up_threshold`, otherwise straight to
///   [`Tier::Optimizing`].
/// - A baseline unit is recompiled by the optimizer when
///   `count >= tier_up_threshold`.
/// - An optimized unit stays.
///
/// Counts are compared with `>=`, not `==`, so a unit that missed the moment
/// (the threshold moved below its count, or its compile waited for the
/// budget) is compiled at its next dispatch. Thresholds of 0 mean "compile
/// before the first execution".
///
/// ```
/// use tunevm::jit::threshold::{tier_for, Tier};
///
/// assert_eq!(tier_for(49, 50, 200, Tier::Interpreter), None);
/// assert_eq!(tier_for(50, 50, 200, Tier::Interpreter), Some(Tier::Baseline));
/// assert_eq!(tier_for(500, 500, 200, Tier::Interpreter), Some(Tier::Optimizing));
/// assert_eq!(tier_for(200, 50, 200, Tier::Baseline), Some(Tier::Optimizing));
/// assert_eq!(tier_for(0, 0, 0, Tier::Interpreter), Some(Tier::Optimizing));
/// ```
pub fn tier_for(count: u64, threshold: u64, tier_up_threshold: u64, current: Tier) -> Option<Tier> {
    match current {
        Tier::Interpreter if count >= threshold => {
            Some(if count < tier_up_threshold { Tier::Baseline } else { Tier::Optimizing })
        }
        Tier::Baseline if count >= tier_up_threshold => Some(Tier::Optimizing),
        _ => None,
    }
}

/// The execution benefit of compiled code, in nanoseconds, as
/// [`AdaptiveThreshold::record_benefit`] takes it: the time saved by running
/// `compiled_instructions` guest instructions in compiled code rather than in
/// the interpreter, `(interpreted_ns_per_insn - compiled_ns_per_insn) x
/// compiled_instructions`, rounded to the nearest nanosecond. Compiled code
/// slower than the interpreter saves nothing (0), as do non-finite inputs.
///
/// The JIT measures both costs per instruction over the same period (its
/// slices' wall time per tier over their instructions).
///
/// ```
/// use tunevm::jit::threshold::execution_benefit_ns;
///
/// assert_eq!(execution_benefit_ns(1_000, 12.0, 2.5), 9_500);
/// assert_eq!(execution_benefit_ns(1_000, 2.0, 3.0), 0);
/// ```
pub fn execution_benefit_ns(
    compiled_instructions: u64,
    interpreted_ns_per_insn: f64,
    compiled_ns_per_insn: f64,
) -> u64 {
    let saved = (interpreted_ns_per_insn - compiled_ns_per_insn) * compiled_instructions as f64;
    if saved.is_finite() && saved > 0.0 {
        saved.round() as u64 // `as` saturates at u64::MAX
    } else {
        0
    }
}

/// What [`AdaptiveThreshold::admit`] answers for a compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Compile now.
    Compile,
    /// Not in this window: keep the unit where it is and ask again later.
    Wait,
}

/// Totals of one sample window (the open one, or one just closed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowTotals {
    /// Executions counted in the window.
    pub executions: u64,
    /// Compiles recorded in the window.
    pub compiles: u64,
    /// Their compile time, in nanoseconds.
    pub compile_ns: u64,
    /// Time saved by compiled code in the window, in nanoseconds.
    pub benefit_ns: u64,
    /// Compiles refused by the budget in the window.
    pub waits: u64,
}

/// What happened at the end of a sample window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowSummary {
    /// The window's totals.
    pub totals: WindowTotals,
    /// Guest instructions retired when it closed (the series' x).
    pub instructions_retired: u64,
    /// The weighed score (see [`AdaptiveThreshold`]), or `None` when the
    /// window measured neither compile time nor benefit.
    pub score: Option<f64>,
    /// The threshold during the window.
    pub threshold_before: u64,
    /// The threshold from now on.
    pub threshold_after: u64,
}

/// Compiles recorded so far for one tier, for estimating the next one.
#[derive(Clone, Copy, Debug, Default)]
struct CompileTotals {
    compiles: u64,
    guest_instructions: u64,
    compile_ns: u64,
    /// Sums of size² and size × time, for the least-squares line.
    size_sq: f64,
    size_time: f64,
}

impl CompileTotals {
    /// (fixed ns, ns per instruction) of the least-squares line through the
    /// compiles so far, both kept >= 0; `None` until two sizes differ.
    fn line(&self) -> Option<(f64, f64)> {
        let n = self.compiles as f64;
        let (sx, sy) = (self.guest_instructions as f64, self.compile_ns as f64);
        let var = n * self.size_sq - sx * sx;
        if self.compiles < 2 || var <= 1e-9 * n * self.size_sq {
            return None;
        }
        let slope = (n * self.size_time - sx * sy) / var;
        let fixed = (sy - slope * sx) / n;
        Some(if slope < 0.0 {
            (sy / n, 0.0)
        } else if fixed < 0.0 {
            (0.0, self.size_time / self.size_sq)
        } else {
            (fixed, slope)
        })
    }
}

/// The adaptive compile threshold and the compile-time budget.
///
/// **The rule.** The threshold starts at `min_threshold`. At the end of every
/// sample window (`sample_window` executions), let C be the compile time
/// recorded in the window and B the time compiled code saved in it, both in
/// nanoseconds. If B + C is 0 there was nothing to measure and the threshold
/// stays. Otherwise the score is
/// (`exec_benefit_weight` x B - `compile_time_weight` x C) / (B + C),
/// a unitless number between -`compile_time_weight` and
/// +`exec_benefit_weight`. If the score is above 0 the benefit dominates and
/// the threshold falls by a fifth (units are compiled sooner); below 0 the
/// compile cost dominates and it rises by a quarter (units are compiled
/// later); at exactly 0 it stays. In integers: falling, t becomes
/// t - max(1, t / 5); rising, t becomes t + max(1, t / 4) (divisions round
/// down, so 500 falls to 400 and 400 rises back to 500). The result is then
/// kept between `min_threshold` and `max_threshold`, inclusive. With the
/// default weights (0.7 and 0.3) the threshold falls when the benefit is more
/// than 3/7 of the compile time.
///
/// **The budget.** With `enable_compile_time_budget`, [`admit`] answers
/// [`Admission::Compile`] when the compile time already recorded in the open
/// window plus the compile's estimate (an estimate of 0 counts as 1 ns) is
/// at most `compile_time_budget_ns`, and [`Admission::Wait`] otherwise. Every
/// window starts with the whole budget again, so a unit that waited is
/// admitted in a later window. A job whose estimate alone exceeds the budget
/// is admitted only in a window with no compile recorded yet (so at most
/// one such job per window, and nothing else in that window). Apart
/// from such jobs, if the caller compiles only what was admitted, and each
/// compile takes no longer than the estimate it was admitted with, the
/// compile time recorded in one window never exceeds the budget. A compile that overruns
/// its estimate is recorded in full: its window can end over budget by that
/// overrun, and nothing more is admitted in it. With the budget off,
/// [`admit`] always answers [`Admission::Compile`].
///
/// Compile time and benefit count in the window that is open when they are
/// recorded. Ask [`admit`] once per compile job (one unit, or several compiled
/// into one module, with their summed estimate) and record the job before
/// asking again.
///
/// With the budget off and `min_threshold == max_threshold` the threshold
/// never changes and every compile is admitted, so which unit is compiled to
/// which tier, and when, depends only on execution counts.
///
/// [`admit`]: AdaptiveThreshold::admit
#[derive(Clone, Debug)]
pub struct AdaptiveThreshold {
    config: AdaptiveThresholdConfig,
    threshold: u64,
    window: WindowTotals,
    windows_closed: u64,
    /// Compiles so far, per compiled tier (baseline, optimizing).
    compiled: [CompileTotals; 2],
    /// (guest instructions retired, threshold) at each window's end.
    series: TimeSeries,
}

impl AdaptiveThreshold {
    /// A controller at `config.min_threshold` with an empty window.
    ///
    /// Panics if `config` fails [`AdaptiveThresholdConfig::validate`]: user
    /// input is validated by the `config` module before a machine is built,
    /// so an invalid config here is a bug.
    pub fn new(config: AdaptiveThresholdConfig) -> Self {
        if let Err(e) = config.validate() {
            panic!("AdaptiveThreshold::new: {e}");
        }
        AdaptiveThreshold {
            threshold: config.min_threshold,
            config,
            window: WindowTotals::default(),
            windows_closed: 0,
            compiled: [CompileTotals::default(); 2],
            series: TimeSeries::new(MonitorConfig::default().max_points),
        }
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &AdaptiveThresholdConfig {
        &self.config
    }

    /// Take `config` (validated) from now on, keeping what was measured
    /// (the open window, the compile-cost estimates, the series). The
    /// threshold is clamped into the new bounds at once; when that moves it,
    /// a point at `instructions_retired` joins the series. The open window
    /// closes at its next execution if it already holds the new
    /// `sample_window`.
    ///
    /// Panics if `config` fails [`AdaptiveThresholdConfig::validate`], as
    /// [`AdaptiveThreshold::new`] does.
    pub fn retune(&mut self, config: AdaptiveThresholdConfig, instructions_retired: u64) {
        if let Err(e) = config.validate() {
            panic!("AdaptiveThreshold::retune: {e}");
        }
        let before = self.threshold;
        self.threshold = before.clamp(config.min_threshold, config.max_threshold);
        self.config = config;
        if self.threshold != before {
            self.series.push(instructions_retired, self.threshold as f64);
        }
    }

    /// The compile threshold now, in executions; always between
    /// `min_threshold` and `max_threshold`, inclusive.
    pub fn threshold(&self) -> u64 {
        self.threshold
    }

    /// Totals of the open window so far.
    pub fn window(&self) -> WindowTotals {
        self.window
    }

    /// How many windows have closed.
    pub fn windows_closed(&self) -> u64 {
        self.windows_closed
    }

    /// Count `executions` dispatches of units (one, or a batch). When this
    /// brings the open window to `sample_window` executions or more, the
    /// window closes: the rule moves the threshold, a point
    /// (`instructions_retired`, new threshold) joins the series, and a new
    /// window opens. All executions of the closing call belong to the window
    /// that closes, so with batches a window runs over `sample_window` by
    /// less than one batch. `instructions_retired` is the guest instruction
    /// count of the whole run (the x of the report's series, docs/DESIGN.md
    /// "Report JSON").
    pub fn record_executions(
        &mut self,
        executions: u64,
        instructions_retired: u64,
    ) -> Option<WindowSummary> {
        self.window.executions = self.window.executions.saturating_add(executions);
        if self.window.executions < self.config.sample_window {
            return None;
        }
        let totals = std::mem::take(&mut self.window);
        let score = self.score(&totals);
        let threshold_before = self.threshold;
        self.threshold = match score {
            Some(s) if s > 0.0 => self.threshold.saturating_sub((self.threshold / 5).max(1)),
            Some(s) if s < 0.0 => self.threshold.saturating_add((self.threshold / 4).max(1)),
            _ => self.threshold,
        }
        .clamp(self.config.min_threshold, self.config.max_threshold);
        self.windows_closed += 1;
        self.series.push(instructions_retired, self.threshold as f64);
        Some(WindowSummary {
            totals,
            instructions_retired,
            score,
            threshold_before,
            threshold_after: self.threshold,
        })
    }

    /// The rule's score for a window, `None` when it measured nothing.
    fn score(&self, w: &WindowTotals) -> Option<f64> {
        let (b, c) = (w.benefit_ns as f64, w.compile_ns as f64);
        let total = b + c;
        (total > 0.0).then(|| {
            (self.config.exec_benefit_weight * b - self.config.compile_time_weight * c) / total
        })
    }

    /// Record one finished compile job to `tier` ([`Tier::Baseline`] or
    /// [`Tier::Optimizing`]) of `guest_instructions` instructions that took
    /// `compile_ns` nanoseconds (the whole compile: code generation and the
    /// engine's compile and instantiation). It counts against the open
    /// window's budget and feeds [`AdaptiveThreshold::estimate_compile_ns`].
    ///
    /// Panics for [`Tier::Interpreter`], which is never compiled.
    pub fn record_compile(&mut self, tier: Tier, guest_instructions: u64, compile_ns: u64) {
        let totals = &mut self.compiled[Self::compiled_index(tier)];
        totals.compiles += 1;
        totals.guest_instructions = totals.guest_instructions.saturating_add(guest_instructions);
        totals.compile_ns = totals.compile_ns.saturating_add(compile_ns);
        let x = guest_instructions as f64;
        totals.size_sq += x * x;
        totals.size_time += x * compile_ns as f64;
        self.window.compiles += 1;
        self.window.compile_ns = self.window.compile_ns.saturating_add(compile_ns);
    }

    /// Record `saved_ns` nanoseconds that compiled code saved over
    /// interpreting the same instructions (see [`execution_benefit_ns`]).
    /// Sums within the window, so the JIT may report per slice or per unit.
    pub fn record_benefit(&mut self, saved_ns: u64) {
        self.window.benefit_ns = self.window.benefit_ns.saturating_add(saved_ns);
    }

    /// An estimate of how long compiling `guest_instructions` instructions to
    /// `tier` takes, in nanoseconds: a fixed cost per module plus a cost per
    /// instruction, the least-squares line through that tier's compiles so
    /// far (engines such as wasmtime spend about a millisecond on any
    /// module, so a cost per instruction alone would overestimate large
    /// units many times over). Until two compiles of different sizes were
    /// seen, the tier's mean cost per instruction times
    /// `guest_instructions`, rounded up; 0 before it compiled anything.
    ///
    /// Panics for [`Tier::Interpreter`].
    pub fn estimate_compile_ns(&self, tier: Tier, guest_instructions: u64) -> u64 {
        let totals = self.compiled[Self::compiled_index(tier)];
        if totals.guest_instructions == 0 {
            return 0;
        }
        if let Some((fixed, per_insn)) = totals.line() {
            return (fixed + per_insn * guest_instructions as f64).ceil() as u64;
        }
        let ns = (totals.compile_ns as u128 * guest_instructions as u128)
            .div_ceil(totals.guest_instructions as u128);
        ns.try_into().unwrap_or(u64::MAX)
    }

    /// The largest unit (guest instructions, at least 1) whose estimate
    /// ([`AdaptiveThreshold::estimate_compile_ns`]) fits in `ns`
    /// nanoseconds; `u64::MAX` before `tier` compiled anything.
    pub fn max_size_within(&self, tier: Tier, ns: u64) -> u64 {
        let totals = self.compiled[Self::compiled_index(tier)];
        if totals.guest_instructions == 0 || totals.compile_ns == 0 {
            return u64::MAX;
        }
        let size = match totals.line() {
            Some((_, per_insn)) if per_insn <= 0.0 => u64::MAX,
            Some((fixed, per_insn)) => ((ns as f64 - fixed) / per_insn).floor().max(0.0) as u64,
            None => (ns as u128 * totals.guest_instructions as u128 / totals.compile_ns as u128)
                .try_into()
                .unwrap_or(u64::MAX),
        };
        size.max(1)
    }

    /// May a compile job estimated at `estimate_ns` nanoseconds start now?
    /// See "The budget" above. A [`Admission::Wait`] is counted in the
    /// window's `waits`.
    pub fn admit(&mut self, estimate_ns: u64) -> Admission {
        if !self.config.enable_compile_time_budget {
            return Admission::Compile;
        }
        let needed = self.window.compile_ns.saturating_add(estimate_ns.max(1));
        let budget = self.config.compile_time_budget_ns;
        // A job estimated over the whole budget may start only in a window
        // with no compile yet: one such job per window. Refusing it for
        // good would let one slow compile (a loaded host inflates the
        // learnt estimate) shut the JIT off for the rest of the run, since
        // nothing compiled means the estimate is never corrected.
        if needed <= budget || (self.window.compiles == 0 && estimate_ns > budget) {
            Admission::Compile
        } else {
            self.window.waits += 1;
            Admission::Wait
        }
    }

    /// Compile time still allowed in the open window, in nanoseconds, or
    /// `None` when the budget is off.
    pub fn remaining_budget_ns(&self) -> Option<u64> {
        self.config
            .enable_compile_time_budget
            .then(|| self.config.compile_time_budget_ns.saturating_sub(self.window.compile_ns))
    }

    /// The threshold at the end of each window: (guest instructions retired,
    /// threshold in executions), oldest first: the report's
    /// `jit.threshold_series` (docs/DESIGN.md "Report JSON"). One point per
    /// window until it holds [`MonitorConfig::max_points`] points; then, like
    /// every series of the monitor, it keeps every other point and halves its
    /// rate, and its last point is always the latest window's.
    pub fn series(&self) -> &[(u64, f64)] {
        self.series.points()
    }

    fn compiled_index(tier: Tier) -> usize {
        match tier {
            Tier::Baseline => 0,
            Tier::Optimizing => 1,
            Tier::Interpreter => panic!("the interpreter tier is never compiled"),
        }
    }
}
