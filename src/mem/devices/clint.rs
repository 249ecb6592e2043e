//! Core-local interruptor: `msip` (software interrupts), `mtimecmp` and `mtime`
//! (machine timer), laid out as SiFive's CLINT / QEMU's virt.
//!
//! mtime is *guest time*: the machine passes the current value in on every
//! access (derived from instructions retired, see `cpu`), so runs are
//! reproducible. A store to mtime moves the clock by an offset.

use super::BusError;

pub const RANGE: std::ops::Range<u64> = 0x0200_0000..0x0201_0000;
const MSIP: u64 = 0x0000;
const MTIMECMP: u64 = 0x4000;
const MTIME: u64 = 0xbff8;

pub struct Clint {
    pub msip: Vec<bool>,
    pub mtimecmp: Vec<u64>,
    /// Added to guest time to give mtime (changed by stores to mtime).
    pub mtime_offset: u64,
}

fn merge(old: u64, offset_in_reg: u64, size: u64, val: u64) -> u64 {
    let shift = offset_in_reg * 8;
    let mask = if size == 8 { u64::MAX } else { ((1u64 << (size * 8)) - 1) << shift };
    (old & !mask) | ((val << shift) & mask)
}

impl Clint {
    pub fn new(harts: usize) -> Self {
        Clint { msip: vec![false; harts], mtimecmp: vec![u64::MAX; harts], mtime_offset: 0 }
    }

    /// mtime for guest time `now`.
    pub fn mtime(&self, now: u64) -> u64 {
        now.wrapping_add(self.mtime_offset)
    }

    pub fn load(&self, off: u64, size: u64, now: u64) -> Result<u64, BusError> {
        let harts = self.msip.len() as u64;
        let (reg, within) = if off < MSIP + 4 * harts {
            (self.msip[(off / 4) as usize] as u64, off % 4)
        } else if (MTIMECMP..MTIMECMP + 8 * harts).contains(&off) {
            (self.mtimecmp[((off - MTIMECMP) / 8) as usize], (off - MTIMECMP) % 8)
        } else if (MTIME..MTIME + 8).contains(&off) {
            (self.mtime(now), off - MTIME)
        } else {
            return Ok(0);
        };
        let v = reg >> (within * 8);
        Ok(if size == 8 { v } else { v & ((1u64 << (size * 8)) - 1) })
    }

    pub fn store(&mut self, off: u64, size: u64, val: u64, now: u64) -> Result<(), BusError> {
        let harts = self.msip.len() as u64;
        if off < MSIP + 4 * harts {
            if off.is_multiple_of(4) {
                self.msip[(off / 4) as usize] = val & 1 != 0;
            }
        } else if (MTIMECMP..MTIMECMP + 8 * harts).contains(&off) {
            let h = ((off - MTIMECMP) / 8) as usize;
            self.mtimecmp[h] = merge(self.mtimecmp[h], (off - MTIMECMP) % 8, size, val);
        } else if (MTIME..MTIME + 8).contains(&off) {
            let new = merge(self.mtime(now), off - MTIME, size, val);
            self.mtime_offset = new.wrapping_sub(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_by_width_and_mtime_follows_guest_time() {
        let mut c = Clint::new(1);
        assert_eq!(c.load(MTIME, 8, 1000), Ok(1000));
        c.store(MTIMECMP, 4, 0x1234_5678, 0).unwrap();
        c.store(MTIMECMP + 4, 4, 0x9, 0).unwrap();
        assert_eq!(c.mtimecmp[0], 0x9_1234_5678);
        assert_eq!(c.load(MTIMECMP + 4, 4, 0), Ok(0x9));
        c.store(MSIP, 4, 1, 0).unwrap();
        assert!(c.msip[0]);
        assert_eq!(c.load(MSIP, 4, 0), Ok(1));
        // Writing mtime moves the clock by an offset; guest time keeps running.
        c.store(MTIME, 8, 5000, 100).unwrap();
        assert_eq!(c.mtime(100), 5000);
        assert_eq!(c.load(MTIME, 8, 150), Ok(5050));
    }
}
