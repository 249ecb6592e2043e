//! A histogram of u64 values with exact quantiles over a bounded reservoir.

/// Values recorded; quantiles are exact while fewer than `CAP` values were
/// recorded, and computed over an evenly thinned reservoir beyond that.
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    values: Vec<u64>,
    count: u64,
    max: u64,
    sum: u128,
}

const CAP: usize = 16_384;

impl Histogram {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&mut self, v: u64) {
        self.count += 1;
        self.max = self.max.max(v);
        self.sum += v as u128;
        if self.values.len() == CAP {
            // Keep every other value: the reservoir stays spread over the run.
            let mut i = 0;
            self.values.retain(|_| {
                i += 1;
                i % 2 == 0
            });
        }
        self.values.push(v);
    }

    /// Add every value `other` holds (its reservoir, with its count, sum
    /// and maximum), as if they had been recorded here.
    pub fn merge(&mut self, other: &Histogram) {
        let (count, sum, max) = (self.count, self.sum, self.max);
        for &v in &other.values {
            self.record(v);
        }
        self.count = count + other.count;
        self.sum = sum + other.sum;
        self.max = max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of all values recorded.
    pub fn total(&self) -> u64 {
        self.sum.min(u64::MAX as u128) as u64
    }

    /// Counts of the kept values per bucket: one bucket per upper bound in
    /// `bounds` (ascending; a value `v` goes to the first bound `>= v`), then
    /// one with bound `u64::MAX` for the rest. Past the reservoir's capacity
    /// the counts are of the thinned reservoir, so they keep the shape of the
    /// distribution, not its absolute numbers.
    pub fn buckets(&self, bounds: &[u64]) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> =
            bounds.iter().chain(std::iter::once(&u64::MAX)).map(|&b| (b, 0)).collect();
        for &v in &self.values {
            let i = bounds.partition_point(|&b| b < v);
            out[i].1 += 1;
        }
        out
    }

    pub fn max(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// The `q` quantile (0..=1), nearest-rank.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        self.quantiles([q])[0]
    }

    /// Several nearest-rank quantiles from one copy of the reservoir, each
    /// found by selection rather than a sort (the live report asks for two
    /// of each of several histograms, every 40-150 ms while a run goes).
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [Option<u64>; N] {
        let mut out = [None; N];
        if self.values.is_empty() {
            return out;
        }
        let mut values = self.values.clone();
        let n = values.len();
        let mut wanted: Vec<(usize, usize)> = qs
            .iter()
            .enumerate()
            .map(|(i, q)| (((q * n as f64).ceil() as usize).clamp(1, n) - 1, i))
            .collect();
        wanted.sort_unstable();
        // Each selection leaves the values below its index before it, so
        // the next (higher) index is searched for in what lies after it.
        let mut from = 0;
        for (index, i) in wanted {
            if index >= from {
                values[from..].select_nth_unstable(index - from);
                from = index;
            }
            out[i] = Some(values[index]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_split_at_their_upper_bounds() {
        let mut h = Histogram::new();
        for v in [1, 10, 11, 20, 21, 1000] {
            h.record(v);
        }
        assert_eq!(h.buckets(&[10, 20]), vec![(10, 2), (20, 2), (u64::MAX, 2)]);
        assert_eq!(h.total(), 1063);
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let mut h = Histogram::new();
        for v in 1..=100 {
            h.record(v);
        }
        assert_eq!(h.quantile(0.5), Some(50));
        assert_eq!(h.quantile(0.99), Some(99));
        assert_eq!(h.max(), Some(100));
        assert_eq!(Histogram::new().quantile(0.5), None);
    }

    /// Selection gives what sorting the whole reservoir gives, for any
    /// order of the quantiles asked for and for repeated values.
    #[test]
    fn quantiles_by_selection_match_a_sort() {
        let mut h = Histogram::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..1001 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            h.record(x % 97);
        }
        let mut sorted = h.values.clone();
        sorted.sort_unstable();
        let rank =
            |q: f64| sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        let qs = [0.99, 0.0, 0.5, 0.5, 1.0, 0.25];
        assert_eq!(h.quantiles(qs), qs.map(|q| Some(rank(q))));
        assert_eq!(Histogram::new().quantiles([0.5, 0.99]), [None, None]);
    }
}
