//! A bounded time series indexed by guest instructions retired.
use serde::Serialize;

/// Points `(x, y)` with increasing x. When full, every other point is dropped
/// and new points are only kept at the halved rate, so a long run keeps an
/// even picture of its whole length in bounded memory.
#[derive(Clone, Debug, Serialize)]
pub struct TimeSeries {
    points: Vec<(u64, f64)>,
    #[serde(skip)]
    max_points: usize,
    #[serde(skip)]
    stride: u64,
    #[serde(skip)]
    offered: u64,
}

impl TimeSeries {
    pub fn new(max_points: usize) -> Self {
        TimeSeries { points: Vec::new(), max_points: max_points.max(2), stride: 1, offered: 0 }
    }

    pub fn push(&mut self, x: u64, y: f64) {
        self.offered += 1;
        if !self.offered.is_multiple_of(self.stride) {
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
        assert!(s.points().len() <= 8);
        assert!(s.points().windows(2).all(|w| w[0].0 < w[1].0));
        assert!(s.last().unwrap().0 > 900);
    }
}
