//! What compiled code saves: the interpreter's cost per guest instruction,
//! learnt from run slices, and the benefit of a slice (the time the
//! interpreter would have taken minus the time the slice took without its
//! compiles), which the threshold controller weighs against compile time.

/// See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct CostModel {
    /// Compile time spent since the last [`CostModel::slice_benefit`].
    slice_compile_ns: u64,
    /// Estimated interpreter cost per instruction (ns).
    interp_ns_per_insn: Option<f64>,
    /// Decayed sums over slices for the fit time = a × interpreted + b ×
    /// compiled: [Σi², Σic, Σc², Σi·t, Σc·t].
    fit: [f64; 5],
}

impl CostModel {
    /// Count `ns` of compiling in the current slice (not run time).
    pub fn add_compile_ns(&mut self, ns: u64) {
        self.slice_compile_ns += ns;
    }

    /// The interpreter's estimated cost per guest instruction, if learnt.
    pub fn interp_ns_per_insn(&self) -> Option<f64> {
        self.interp_ns_per_insn
    }

    /// A run slice of `slice_ns` host nanoseconds ended, in which
    /// `interpreted` and `compiled` guest instructions retired: learn from
    /// it and return the time compiled code saved (ns), if known.
    ///
    /// The interpreter's cost per instruction is measured directly on slices
    /// that ran at least 95 % interpreted; before there is one (hot code is
    /// often compiled within the first slice), it is the `a` of a
    /// least-squares fit `time = a × interpreted + b × compiled` over recent
    /// slices, once slices with different mixes make it determined.
    pub fn slice_benefit(&mut self, slice_ns: u64, interpreted: u64, compiled: u64) -> Option<u64> {
        let compile_ns = std::mem::take(&mut self.slice_compile_ns);
        let total = interpreted + compiled;
        if total == 0 {
            return None;
        }
        let run_ns = slice_ns.saturating_sub(compile_ns) as f64;
        let (i, c) = (interpreted as f64, compiled as f64);
        if compiled * 20 <= total {
            let cost = run_ns / total as f64;
            self.interp_ns_per_insn = Some(match self.interp_ns_per_insn {
                Some(old) => 0.8 * old + 0.2 * cost,
                None => cost,
            });
        } else {
            let f = &mut self.fit;
            for (sum, v) in f.iter_mut().zip([i * i, i * c, c * c, i * run_ns, c * run_ns]) {
                *sum = 0.9 * *sum + v;
            }
            let det = f[0] * f[2] - f[1] * f[1];
            if self.interp_ns_per_insn.is_none() && det > 1e-3 * f[0] * f[2] {
                let a = (f[3] * f[2] - f[4] * f[1]) / det;
                if a > 0.0 {
                    self.interp_ns_per_insn = Some(a);
                }
            }
        }
        let would = self.interp_ns_per_insn? * total as f64;
        (would > run_ns).then_some((would - run_ns) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mostly_interpreted_slice_sets_the_cost_and_a_compiled_one_has_a_benefit() {
        let mut m = CostModel::default();
        // 1000 instructions interpreted in 10 µs: 10 ns each.
        assert_eq!(m.slice_benefit(10_000, 1000, 0), None);
        assert_eq!(m.interp_ns_per_insn(), Some(10.0));
        // 1000 compiled in 2 µs plus 3 µs of compiling: saved 8 µs.
        m.add_compile_ns(3_000);
        assert_eq!(m.slice_benefit(5_000, 0, 1000), Some(8_000));
    }

    #[test]
    fn the_fit_finds_the_interpreter_cost_from_mixed_slices() {
        let mut m = CostModel::default();
        // time = 10 × interpreted + 1 × compiled.
        for (i, c) in [(400u64, 600u64), (100, 900), (300, 700)] {
            m.slice_benefit(10 * i + c, i, c);
        }
        let a = m.interp_ns_per_insn().expect("determined");
        assert!((a - 10.0).abs() < 1e-6, "{a}");
    }
}
