//! Where indirect jumps went: the targets the interpreter saw each `jalr`
//! (other than a return) jump to, so that an optimizing unit can keep the
//! common ones inside itself (`jit.jump_targets`, `region::Block::guards`).
//!
//! A `switch` compiled to a jump table, a call through a function pointer
//! or a vtable, a tail call through a register: each is a `jalr` whose
//! target is computed, so without a profile the unit ends there and the
//! target is entered again from outside (by chaining or the dispatcher).
//! The interpreter runs every unit many times before it is compiled, so by
//! then the profile has seen where its jumps go.
//!
//! A profile is a hint and nothing more: a unit compares the computed
//! target with each profiled one before it goes to that block, so a stale
//! or colliding entry costs a compare, never a wrong jump.
//!
//! Returns (`jalr x0, 0(ra)` or through `t0`, the link registers by the
//! RISC-V calling convention's hint) are not profiled: the return-address
//! guards of the calls inside a unit cover them.

/// Jump sites the profile remembers (direct-mapped by site pc).
pub const SITES: usize = 256;
/// Targets remembered per site.
pub const TARGETS_PER_SITE: usize = 16;

/// One jump site and the targets seen there, with their counts (a count of
/// 0 marks a free place).
#[derive(Clone, Copy, Debug, Default)]
struct Site {
    pc: u64,
    targets: [u64; TARGETS_PER_SITE],
    counts: [u32; TARGETS_PER_SITE],
}

/// See the module documentation. One per hart (its JIT).
pub struct JumpProfile {
    sites: Box<[Site]>,
}

impl Default for JumpProfile {
    fn default() -> Self {
        JumpProfile { sites: vec![Site::default(); SITES].into_boxed_slice() }
    }
}

fn site_index(pc: u64) -> usize {
    (((pc >> 1) ^ (pc >> 9)) as usize) & (SITES - 1)
}

/// Whether a `jalr` with these registers is a return (`jalr x0, rs1` with
/// `rs1` = `ra` or `t0`), which the profile leaves out.
pub fn is_return(rd: u8, rs1: u8) -> bool {
    rd == 0 && (rs1 == 1 || rs1 == 5)
}

impl JumpProfile {
    /// The `jalr` at `site` jumped to `target`. A new site takes the place
    /// of whatever other site shared its slot. At a site with every place
    /// taken, a new target lowers every count by one instead (so targets
    /// that stop being taken make room, and the frequent ones stay).
    pub fn record(&mut self, site: u64, target: u64) {
        let s = &mut self.sites[site_index(site)];
        if s.pc != site {
            *s = Site { pc: site, ..Site::default() };
        }
        let mut free = None;
        for k in 0..TARGETS_PER_SITE {
            if s.counts[k] == 0 {
                free.get_or_insert(k);
            } else if s.targets[k] == target {
                s.counts[k] = s.counts[k].saturating_add(1);
                return;
            }
        }
        match free {
            Some(k) => {
                s.targets[k] = target;
                s.counts[k] = 1;
            }
            None => {
                for c in &mut s.counts {
                    *c -= 1;
                }
            }
        }
    }

    /// Up to `max` targets of the `jalr` at `site`, most frequent first:
    /// those seen at least twice and on at least 1/32 of the jumps the
    /// profile still counts there.
    pub fn targets(&self, site: u64, max: usize) -> Vec<u64> {
        let s = &self.sites[site_index(site)];
        if s.pc != site || max == 0 {
            return Vec::new();
        }
        let total: u64 = s.counts.iter().map(|&c| c as u64).sum();
        let mut seen: Vec<(u32, u64)> = (0..TARGETS_PER_SITE)
            .filter(|&k| s.counts[k] >= 2 && s.counts[k] as u64 * 32 >= total)
            .map(|k| (s.counts[k], s.targets[k]))
            .collect();
        // Most frequent first; equal counts by address, so the order (and
        // the generated code) does not depend on where each was stored.
        seen.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        seen.into_iter().take(max).map(|(_, t)| t).collect()
    }

    /// Forget everything (the hart's code changed under it, or a test).
    pub fn clear(&mut self) {
        self.sites.fill(Site::default());
    }

    /// Host bytes held.
    pub fn bytes(&self) -> u64 {
        std::mem::size_of_val(&*self.sites) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frequent targets come first; rare ones and other sites' are left
    /// out; a colliding site replaces the old one.
    #[test]
    fn keeps_the_frequent_targets_of_each_site() {
        let mut p = JumpProfile::default();
        let site = 0x8000_0100;
        for _ in 0..10 {
            p.record(site, 0x8000_0200);
        }
        for _ in 0..30 {
            p.record(site, 0x8000_0300);
        }
        p.record(site, 0x8000_0400); // seen once: not a target yet
        assert_eq!(p.targets(site, 8), vec![0x8000_0300, 0x8000_0200]);
        assert_eq!(p.targets(site, 1), vec![0x8000_0300]);
        assert_eq!(p.targets(site, 0), Vec::<u64>::new());
        assert!(p.targets(site + 2, 8).is_empty());
        let other = (1..).map(|k| site + 2 * k).find(|&o| site_index(o) == site_index(site));
        let other = other.unwrap();
        p.record(other, 0x8000_0500);
        p.record(other, 0x8000_0500);
        assert!(p.targets(site, 8).is_empty());
        assert_eq!(p.targets(other, 8), vec![0x8000_0500]);
        p.clear();
        assert!(p.targets(other, 8).is_empty());
    }

    /// With every place taken, new targets wear the old ones down: a site
    /// whose jumps change over to new targets ends up with those.
    #[test]
    fn new_targets_displace_old_ones() {
        let mut p = JumpProfile::default();
        let site = 0x8000_0100;
        for t in 0..TARGETS_PER_SITE as u64 {
            for _ in 0..3 {
                p.record(site, 0x9000_0000 + 4 * t);
            }
        }
        assert_eq!(p.targets(site, TARGETS_PER_SITE).len(), TARGETS_PER_SITE);
        for _ in 0..20 {
            p.record(site, 0xa000_0000);
            p.record(site, 0xa000_0004);
        }
        let mut now = p.targets(site, 8);
        now.sort_unstable();
        assert_eq!(now, vec![0xa000_0000, 0xa000_0004]);
    }
}
