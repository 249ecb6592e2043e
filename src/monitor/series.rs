//! A bounded time series indexed by guest instructions retired.
use serde::Serialize;

/// Points `(x, y)` with increasing x. When full, every other point is dropped
/// and new points are only kept at the halved rate, so a long run keeps an
/// even picture of its whole length in bounded memory. The newest point is
/// always present (as a provisional last point when it falls between kept
/// points), so a chart shows the current value. At most `max_points + 1` points.
#[derive(Clone, Debug, Serialize)]
pub struct TimeSeries {
    points: Vec<(u64, f64)>,
    #[serde(skip)]
    max_points: usize,
    #[serde(skip)]
    stride: u64,
    #[serde(skip)]
    offered: u64,
    /// The last point is the newest one and is not on the kept grid.
    #[serde(skip)]
    provisional_tail: bool,
}

impl TimeSeries {
    pub fn new(max_points: usize) -> Self {
        TimeSeries {
            points: Vec::new(),
            max_points: max_points.max(2),
            stride: 1,
            offered: 0,
            provisional_tail: false,
        }
    }

    pub fn push(&mut self, x: u64, y: f64) {
        self.offered += 1;
        if self.provisional_tail {
            self.points.pop();
        }
        self.provisional_tail = !self.offered.is_multiple_of(self.stride);
        if self.provisional_tail {
            self.points.push((x, y));
            return;
        }
        if self.points.len() == self.max_points {
            let mut i = 0;
            self.points.retain(|_| {
                i += 1;
                i % 2 == 0
            });
            self.stride *= 2;
        }
        self.points.push((x, y));
    }

    pub fn points(&self) -> &[(u64, f64)] {
        &self.points
    }

    pub fn last(&self) -> Option<(u64, f64)> {
        self.points.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_bounded_and_ordered() {
        let mut s = TimeSeries::new(8);
        for i in 0..1000 {
            s.push(i, i as f64);
        }
        assert!(s.points().len() <= 9);
        assert!(s.points().windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(s.last().unwrap().0, 999);
    }
}
