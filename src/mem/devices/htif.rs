//! HTIF `tohost`/`fromhost` (the Spike and riscv-tests convention).
//!
//! A store that completes the 64-bit `tohost` word (a store covering its high
//! half, or a 64-bit store) is a command: device = bits 63:56, command = bits
//! 55:48, payload = bits 47:0. Device 0 with payload bit 0 set exits with code
//! `payload >> 1`; device 1 command 1 prints the payload's low byte. tunevm
//! then clears `tohost` and writes `fromhost` as Spike does. `tohost` lives in
//! RAM, so the cpu hands stores in its range to [`Htif::after_store`].
use super::ExitRequest;

pub struct Htif {
    /// Physical address of `tohost` (8 bytes).
    pub tohost: u64,
    /// Physical address of `fromhost`, if the ELF defines it.
    pub fromhost: Option<u64>,
    pub request: Option<ExitRequest>,
}

/// What the caller must do after an HTIF command.
#[derive(Debug, PartialEq, Eq)]
pub struct HtifEffect {
    /// Console byte to print.
    pub output: Option<u8>,
    /// Write this value to `fromhost` (and zero to `tohost`).
    pub fromhost: Option<u64>,
}

impl Htif {
    pub fn new(tohost: u64, fromhost: Option<u64>) -> Self {
        Htif { tohost, fromhost, request: None }
    }

    /// True if a store of `size` bytes at `paddr` touches `tohost`.
    #[inline(always)]
    pub fn covers(&self, paddr: u64, size: u64) -> bool {
        paddr < self.tohost + 8 && paddr + size > self.tohost
    }

    /// Called after a store touched `tohost`; `value` is the whole `tohost`
    /// word as it now stands in RAM. Returns None if the command is not
    /// complete yet (only the low half was written).
    pub fn after_store(&mut self, paddr: u64, size: u64, value: u64) -> Option<HtifEffect> {
        if paddr + size <= self.tohost + 4 || value == 0 {
            return None;
        }
        let device = value >> 56;
        let command = (value >> 48) & 0xff;
        let payload = value & 0xffff_ffff_ffff;
        let mut effect = HtifEffect { output: None, fromhost: None };
        match (device, command) {
            (0, _) if payload & 1 == 1 => {
                self.request = Some(ExitRequest::Exit(payload >> 1));
            }
            (1, 1) => {
                effect.output = Some(payload as u8);
                effect.fromhost = Some((device << 56) | (command << 48));
            }
            _ => {} // unsupported commands are acknowledged and ignored
        }
        Some(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_complete_on_the_high_half() {
        let mut h = Htif::new(0x8000_1000, Some(0x8000_1040));
        // riscv-tests write the low half first: nothing happens yet.
        assert_eq!(h.after_store(0x8000_1000, 4, 1), None);
        let done = h.after_store(0x8000_1004, 4, 1).unwrap();
        assert_eq!(done.output, None);
        assert_eq!(h.request, Some(ExitRequest::Exit(0)));
        let mut h = Htif::new(0x8000_1000, None);
        h.after_store(0x8000_1000, 8, (5 << 1) | 1);
        assert_eq!(h.request, Some(ExitRequest::Exit(5)));
    }

    #[test]
    fn console_output_is_acknowledged_in_fromhost() {
        let mut h = Htif::new(0x8000_1000, Some(0x8000_1040));
        let cmd = (1 << 56) | (1 << 48) | b'x' as u64;
        let e = h.after_store(0x8000_1000, 8, cmd).unwrap();
        assert_eq!(e.output, Some(b'x'));
        assert_eq!(e.fromhost, Some((1 << 56) | (1 << 48)));
        assert_eq!(h.request, None);
        assert!(h.covers(0x8000_1004, 4) && !h.covers(0x8000_1008, 8) && h.covers(0x8000_0ffc, 8));
    }
}
