//! A 16550-compatible UART (registers one byte apart, as on QEMU's virt).
//! Transmitted bytes collect in `output` for the host to drain (the console);
//! `push_input` feeds the receive buffer. No interrupts are raised (there is
//! no PLIC): guests poll LSR.
use std::collections::VecDeque;

pub const RANGE: std::ops::Range<u64> = 0x1000_0000..0x1000_0100;

const LSR_DATA_READY: u8 = 0x01;
const LSR_THR_EMPTY: u8 = 0x20;
const LSR_TX_IDLE: u8 = 0x40;
const LCR_DLAB: u8 = 0x80;

#[derive(Default)]
pub struct Uart {
    pub output: Vec<u8>,
    input: VecDeque<u8>,
    ier: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    dll: u8,
    dlm: u8,
}

impl Uart {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queue bytes for the guest to read.
    pub fn push_input(&mut self, bytes: &[u8]) {
        self.input.extend(bytes);
    }

    /// Take everything transmitted so far.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    pub fn load(&mut self, off: u64) -> u64 {
        let dlab = self.lcr & LCR_DLAB != 0;
        (match off {
            0 if dlab => self.dll,
            0 => self.input.pop_front().unwrap_or(0),
            1 if dlab => self.dlm,
            1 => self.ier,
            2 => 0xc1, // IIR: no interrupt pending, FIFOs enabled
            3 => self.lcr,
            4 => self.mcr,
            5 => {
                let ready = if self.input.is_empty() { 0 } else { LSR_DATA_READY };
                ready | LSR_THR_EMPTY | LSR_TX_IDLE
            }
            6 => 0xb0, // MSR: CTS, DSR, DCD
            7 => self.scr,
            _ => 0,
        }) as u64
    }

    pub fn store(&mut self, off: u64, val: u8) {
        let dlab = self.lcr & LCR_DLAB != 0;
        match off {
            0 if dlab => self.dll = val,
            0 => self.output.push(val),
            1 if dlab => self.dlm = val,
            1 => self.ier = val & 0x0f,
            3 => self.lcr = val,
            4 => self.mcr = val,
            7 => self.scr = val,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmit_receive_and_line_status() {
        let mut u = Uart::new();
        assert_eq!(u.load(5) as u8 & LSR_DATA_READY, 0, "nothing received yet");
        assert_ne!(u.load(5) as u8 & LSR_THR_EMPTY, 0, "always ready to send");
        u.store(0, b'h');
        u.store(0, b'i');
        assert_eq!(u.take_output(), b"hi");
        assert!(u.take_output().is_empty());
        u.push_input(b"ok");
        assert_ne!(u.load(5) as u8 & LSR_DATA_READY, 0);
        assert_eq!((u.load(0), u.load(0)), (b'o' as u64, b'k' as u64));
        assert_eq!(u.load(5) as u8 & LSR_DATA_READY, 0);
    }

    #[test]
    fn divisor_latch_hides_the_data_registers() {
        let mut u = Uart::new();
        u.store(3, LCR_DLAB);
        u.store(0, 0x12); // DLL, not THR
        u.store(1, 0x34); // DLM, not IER
        assert!(u.take_output().is_empty());
        assert_eq!((u.load(0), u.load(1)), (0x12, 0x34));
        u.store(3, 0x03);
        assert_eq!(u.load(1), 0, "IER untouched by the DLM write");
        u.store(7, 0x5a);
        assert_eq!(u.load(7), 0x5a, "scratch register");
    }
}
