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
