//! The GC's write barrier, on RAM's page flags: while the collector marks,
//! every heap page carries [`super::PAGE_BARRIER`]; the first store into
//! such a page (from the interpreter, or from generated code, which leaves
//! its inline path for any page whose flag byte is not 0) clears the flag
//! and records the page as dirty in one of several shards. Later stores to
//! the page run at full speed. This is the scheme of Boehm, Demers and
//! Shenker's mostly-parallel collector (PLDI 1991), with RAM's flag byte in
//! the role of the host's dirty bits.
//!
//! Invariant: a page written since its flag was armed is either still
//! flagged (not yet written) or listed in exactly the shard
//! `page % shards` (until [`DirtyCards::take`] hands it to the collector).
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Dirty heap pages, spread over shards so that harts on different
/// workers that dirty different pages take different locks.
pub struct DirtyCards {
    shards: Vec<Shard>,
}

struct Shard {
    pages: Mutex<Vec<u32>>,
    /// Slow-path stores this shard recorded (cumulative).
    hits: AtomicU64,
    /// Times a recording found the shard's lock held by another thread.
    contended: AtomicU64,
}

impl DirtyCards {
    /// Cards with `shards` shards (at least one).
    pub fn new(shards: usize) -> Self {
        let shards = (0..shards.max(1))
            .map(|_| Shard {
                pages: Mutex::new(Vec::new()),
                hits: AtomicU64::new(0),
                contended: AtomicU64::new(0),
            })
            .collect();
        DirtyCards { shards }
    }

    pub fn shards(&self) -> usize {
        self.shards.len()
    }

    /// Record RAM page `page` (RAM offset / 4096) as dirty.
    pub fn record(&self, page: u32) {
        let shard = &self.shards[page as usize % self.shards.len()];
        shard.hits.fetch_add(1, Ordering::Relaxed);
        let mut pages = match shard.pages.try_lock() {
            Ok(p) => p,
            Err(_) => {
                shard.contended.fetch_add(1, Ordering::Relaxed);
                shard.pages.lock().unwrap_or_else(|e| e.into_inner())
            }
        };
        pages.push(page);
    }

    /// Every page recorded since the last call, emptying the shards.
    pub fn take(&self) -> Vec<u32> {
        let mut all = Vec::new();
        for s in &self.shards {
            all.append(&mut s.pages.lock().unwrap_or_else(|e| e.into_inner()));
        }
        all
    }

    /// Pages recorded and not taken yet.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.pages.lock().unwrap_or_else(|e| e.into_inner()).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Slow-path hits per shard (cumulative).
    pub fn hits(&self) -> Vec<u64> {
        self.shards.iter().map(|s| s.hits.load(Ordering::Relaxed)).collect()
    }

    /// Recordings that waited for a shard's lock (cumulative, all shards).
    pub fn contended(&self) -> u64 {
        self.shards.iter().map(|s| s.contended.load(Ordering::Relaxed)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_go_to_their_shard_and_are_taken_once() {
        let cards = DirtyCards::new(4);
        for p in [1, 5, 2, 9] {
            cards.record(p);
        }
        assert_eq!(cards.hits(), vec![0, 3, 1, 0]);
        let mut taken = cards.take();
        taken.sort();
        assert_eq!(taken, vec![1, 2, 5, 9]);
        assert!(cards.take().is_empty());
    }
}
