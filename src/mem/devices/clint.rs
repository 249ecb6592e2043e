//! Core-local interruptor: `msip` (software interrupts), `mtimecmp` and `mtime`
//! (machine timer), laid out as SiFive's CLINT / QEMU's virt.
//!
//! mtime is *guest time*: the machine passes the current value in on every
//! access (derived from instructions retired, see `cpu`), so runs are
//! reproducible. A store to mtime moves the clock by an offset.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::BusError;

pub const RANGE: std::ops::Range<u64> = 0x0200_0000..0x0201_0000;
const MSIP: u64 = 0x0000;
const MTIMECMP: u64 = 0x4000;
const MTIME: u64 = 0xbff8;

/// The CLINT of up to 64 harts. Every register is an atomic, so harts on
/// different host threads read their interrupts without a lock; a store to
/// a hart's `msip` or `mtimecmp` also sets that hart's bit in `kicks`, which
/// the scheduler reads to wake a vCPU parked in `wfi`.
pub struct Clint {
    msip: Box<[AtomicU32]>,
    mtimecmp: Box<[AtomicU64]>,
    /// Added to guest time to give mtime (changed by stores to mtime).
    mtime_offset: AtomicU64,
    kicks: AtomicU64,
    /// Per hart: stores that set its msip (software interrupts received).
    ipis: Box<[AtomicU64]>,
}

/// Most harts a CLINT (and so a machine) has.
pub const MAX_HARTS: usize = 64;

fn merge(old: u64, offset_in_reg: u64, size: u64, val: u64) -> u64 {
    let shift = offset_in_reg * 8;
    let mask = if size == 8 { u64::MAX } else { ((1u64 << (size * 8)) - 1) << shift };
    (old & !mask) | ((val << shift) & mask)
}

impl Clint {
    pub fn new(harts: usize) -> Self {
        assert!((1..=MAX_HARTS).contains(&harts), "{harts} harts");
        Clint {
            msip: (0..harts).map(|_| AtomicU32::new(0)).collect(),
            mtimecmp: (0..harts).map(|_| AtomicU64::new(u64::MAX)).collect(),
            mtime_offset: AtomicU64::new(0),
            kicks: AtomicU64::new(0),
            ipis: (0..harts).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Harts this CLINT serves.
    pub fn harts(&self) -> usize {
        self.msip.len()
    }

    /// Hart `hart`'s software interrupt is pending.
    #[inline(always)]
    pub fn msip(&self, hart: usize) -> bool {
        self.msip[hart].load(Ordering::Acquire) & 1 != 0
    }

    /// Set or clear hart `hart`'s software interrupt (as a store to its
    /// `msip` register does).
    pub fn set_msip(&self, hart: usize, pending: bool) {
        if pending {
            self.ipis[hart].fetch_add(1, Ordering::Relaxed);
        }
        self.msip[hart].store(pending as u32, Ordering::Release);
        self.kick(hart);
    }

    /// Stores that set hart `hart`'s msip so far.
    pub fn ipis_received(&self, hart: usize) -> u64 {
        self.ipis[hart].load(Ordering::Relaxed)
    }

    #[inline(always)]
    pub fn mtimecmp(&self, hart: usize) -> u64 {
        self.mtimecmp[hart].load(Ordering::Acquire)
    }

    #[inline(always)]
    pub fn mtime_offset(&self) -> u64 {
        self.mtime_offset.load(Ordering::Acquire)
    }

    /// mtime for guest time `now`.
    pub fn mtime(&self, now: u64) -> u64 {
        now.wrapping_add(self.mtime_offset())
    }

    fn kick(&self, hart: usize) {
        self.kicks.fetch_or(1 << hart, Ordering::AcqRel);
    }

    /// Forget hart `hart`'s kick (it is about to park having seen its
    /// registers as they are: its own `mtimecmp` write must not wake it).
    pub fn clear_kick(&self, hart: usize) {
        self.kicks.fetch_and(!(1 << hart), Ordering::AcqRel);
    }

    /// Harts (a bit each) whose msip or mtimecmp was written since the last
    /// call: a parked vCPU among them must look at its interrupts again.
    pub fn take_kicks(&self) -> u64 {
        if self.kicks.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        self.kicks.swap(0, Ordering::AcqRel)
    }

    pub fn load(&self, off: u64, size: u64, now: u64) -> Result<u64, BusError> {
        let harts = self.msip.len() as u64;
        let (reg, within) = if off < MSIP + 4 * harts {
            (self.msip((off / 4) as usize) as u64, off % 4)
        } else if (MTIMECMP..MTIMECMP + 8 * harts).contains(&off) {
            (self.mtimecmp(((off - MTIMECMP) / 8) as usize), (off - MTIMECMP) % 8)
        } else if (MTIME..MTIME + 8).contains(&off) {
            (self.mtime(now), off - MTIME)
        } else {
            return Ok(0);
        };
        let v = reg >> (within * 8);
        Ok(if size == 8 { v } else { v & ((1u64 << (size * 8)) - 1) })
    }

    pub fn store(&self, off: u64, size: u64, val: u64, now: u64) -> Result<(), BusError> {
        let harts = self.msip.len() as u64;
        if off < MSIP + 4 * harts {
            if off.is_multiple_of(4) {
                self.set_msip((off / 4) as usize, val & 1 != 0);
            }
        } else if (MTIMECMP..MTIMECMP + 8 * harts).contains(&off) {
            let h = ((off - MTIMECMP) / 8) as usize;
            let new = merge(self.mtimecmp(h), (off - MTIMECMP) % 8, size, val);
            self.mtimecmp[h].store(new, Ordering::Release);
            self.kick(h);
        } else if (MTIME..MTIME + 8).contains(&off) {
            let new = merge(self.mtime(now), off - MTIME, size, val);
            self.mtime_offset.store(new.wrapping_sub(now), Ordering::Release);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_by_width_and_mtime_follows_guest_time() {
        let c = Clint::new(1);
        assert_eq!(c.load(MTIME, 8, 1000), Ok(1000));
        c.store(MTIMECMP, 4, 0x1234_5678, 0).unwrap();
        c.store(MTIMECMP + 4, 4, 0x9, 0).unwrap();
        assert_eq!(c.mtimecmp(0), 0x9_1234_5678);
        assert_eq!(c.load(MTIMECMP + 4, 4, 0), Ok(0x9));
        c.store(MSIP, 4, 1, 0).unwrap();
        assert!(c.msip(0));
        assert_eq!(c.take_kicks(), 1, "the stores kicked hart 0");
        assert_eq!(c.take_kicks(), 0);
        assert_eq!(c.load(MSIP, 4, 0), Ok(1));
        // Writing mtime moves the clock by an offset; guest time keeps running.
        c.store(MTIME, 8, 5000, 100).unwrap();
        assert_eq!(c.mtime(100), 5000);
        assert_eq!(c.load(MTIME, 8, 150), Ok(5050));
    }
}
