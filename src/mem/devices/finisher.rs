//! SiFive test finisher ("sifive,test0"), as on QEMU's virt machine: a 32-bit
//! store of `0x5555` passes, `code << 16 | 0x3333` fails with `code`, `0x7777`
//! resets.
use super::ExitRequest;

use super::BusError;

pub const RANGE: std::ops::Range<u64> = 0x0010_0000..0x0010_1000;

const PASS: u64 = 0x5555;
const FAIL: u64 = 0x3333;
const RESET: u64 = 0x7777;

#[derive(Default)]
pub struct Finisher {
    pub request: Option<ExitRequest>,
}

impl Finisher {
    pub fn store(&mut self, offset: u64, size: u64, val: u64) -> Result<(), BusError> {
        if offset != 0 || size < 4 {
            return Err(BusError);
        }
        match val & 0xffff {
            PASS => self.request = Some(ExitRequest::Exit(0)),
            FAIL => self.request = Some(ExitRequest::Exit((val >> 16) & 0xffff)),
            RESET => self.request = Some(ExitRequest::Reset),
            _ => {} // QEMU ignores other values too
        }
        Ok(())
    }
}
