//! Stride prefetcher for the TLB (`enable_prefetch`, `prefetch_history_window`,
//! `prefetch_distance`).
//!
//! **Training stream.** The pages of demand misses whose walk succeeded, plus
//! first hits on prefetched entries (an access that would have missed without
//! the prefetcher — as in the prefetch buffers of Kandiraju & Sivasubramaniam,
//! ISCA 2002). Without the second kind a successful prefetcher would starve
//! itself: its hits would leave gaps of `distance` pages between misses.
//! A page equal to the previous one (a re-walk of the same page, e.g. to set
//! D) is ignored. Pages are signed page numbers (`vaddr as i64 >> 12`), so the
//! two halves of the Sv39 address space are not adjacent.
//!
//! **Rule.** Keep the last `window` pages and the deltas between consecutive
//! ones (`window - 1` of them). When a new page arrives with delta `d` from the
//! previous one, `d` is the stride if it occurs at least twice among the
//! window's deltas and accounts for *more than half* of them. Then the
//! prefetcher proposes pages `page + d*k` for `k = 1..=distance`. (Because the
//! newest delta must be the majority one, "a stride exists" and "this miss
//! continues it" are one test, kept in O(1) per miss by counting deltas.)
//!
//! **What the window does.** A small window reacts fast to a new stride and
//! forgets noise fast, but two equal deltas in a row in otherwise irregular
//! misses are enough to fire it (with `window = 3`, any repeated delta). A large
//! window ignores such accidents, but after a phase of irregular misses it
//! needs as many stride misses as the window holds noise before the stride is
//! a majority again. Both effects are in `tests/suite/mmu_knobs.rs`.
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// Smallest useful window: the rule needs two equal deltas, i.e. three pages.
pub const MIN_HISTORY_WINDOW: usize = 3;

/// Detects strides among recent miss pages.
pub struct StridePrefetcher {
    window: usize,
    distance: usize,
    history: VecDeque<i64>,
    /// How many times each delta occurs between consecutive pages of `history`.
    delta_counts: FxHashMap<i64, u32>,
}

impl StridePrefetcher {
    pub fn new(window: usize, distance: usize) -> Self {
        let window = window.max(MIN_HISTORY_WINDOW);
        StridePrefetcher {
            window,
            distance,
            history: VecDeque::with_capacity(window + 1),
            delta_counts: FxHashMap::default(),
        }
    }

    /// Record `page` in the training stream; return the pages to prefetch
    /// (empty unless the rule fires).
    pub fn record(&mut self, page: i64) -> impl Iterator<Item = i64> {
        let stride = self.observe(page);
        let distance = if stride.is_some() { self.distance as i64 } else { 0 };
        let stride = stride.unwrap_or(0);
        (1..=distance).map(move |k| page.wrapping_add(stride.wrapping_mul(k)))
    }

    /// Update the history with `page`; the stride if the rule fires.
    fn observe(&mut self, page: i64) -> Option<i64> {
        let last = *self.history.back().unwrap_or(&page.wrapping_add(1));
        if last == page {
            return None;
        }
        let newest = page.wrapping_sub(last);
        if !self.history.is_empty() {
            *self.delta_counts.entry(newest).or_insert(0) += 1;
        }
        self.history.push_back(page);
        if self.history.len() > self.window {
            let old = self.history.pop_front().expect("history is not empty");
            let next = self.history[0];
            let d = next.wrapping_sub(old);
            if let Some(c) = self.delta_counts.get_mut(&d) {
                *c -= 1;
                if *c == 0 {
                    self.delta_counts.remove(&d);
                }
            }
        }
        let deltas = self.history.len() as u32 - 1;
        let count = self.delta_counts.get(&newest).copied().unwrap_or(0);
        (count >= 2 && 2 * count > deltas).then_some(newest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposals(p: &mut StridePrefetcher, page: i64) -> Vec<i64> {
        p.record(page).collect()
    }

    #[test]
    fn fires_on_the_third_page_of_a_stride() {
        let mut p = StridePrefetcher::new(100, 2);
        assert!(proposals(&mut p, 10).is_empty());
        assert!(proposals(&mut p, 13).is_empty());
        assert_eq!(proposals(&mut p, 16), vec![19, 22]);
        assert_eq!(proposals(&mut p, 19), vec![22, 25]);
    }

    #[test]
    fn descending_strides_and_repeats() {
        let mut p = StridePrefetcher::new(8, 1);
        for page in [50, 49, 49, 48] {
            let _ = proposals(&mut p, page);
        }
        assert_eq!(proposals(&mut p, 47), vec![46]);
    }

    #[test]
    fn needs_a_majority_of_the_window() {
        let mut p = StridePrefetcher::new(100, 1);
        for page in [0, 100, 37, 5, 900, 250] {
            assert!(proposals(&mut p, page).is_empty());
        }
        // 5 noise deltas in the window: the stride needs 6 deltas to win.
        let fired: Vec<bool> = (1..=7).map(|k| !proposals(&mut p, 250 + k).is_empty()).collect();
        assert_eq!(fired, [false, false, false, false, false, true, true]);
    }

    #[test]
    fn old_deltas_leave_the_window() {
        let mut p = StridePrefetcher::new(3, 1);
        for page in [0, 7, 100] {
            let _ = proposals(&mut p, page);
        }
        let _ = proposals(&mut p, 101);
        assert_eq!(proposals(&mut p, 102), vec![103]);
    }
}
