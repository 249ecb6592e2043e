//! Control and status registers (priv spec v1.12, chapters 2, 3 and 4).
//!
//! Storage lives in [`Csrs`]; [`Hart::csr_read`] and [`Hart::csr_write`] apply
//! the access rules (privilege, read-only ranges, counter enables, TVM) and the
//! WARL masks. An access the rules refuse is an illegal-instruction trap.
use super::Hart;
use crate::mem::Privilege;

// Addresses (table 2.2-2.5).
pub const SSTATUS: u16 = 0x100;
pub const SIE: u16 = 0x104;
pub const STVEC: u16 = 0x105;
pub const SCOUNTEREN: u16 = 0x106;
pub const SENVCFG: u16 = 0x10a;
pub const SSCRATCH: u16 = 0x140;
pub const SEPC: u16 = 0x141;
pub const SCAUSE: u16 = 0x142;
pub const STVAL: u16 = 0x143;
pub const SIP: u16 = 0x144;
pub const SATP: u16 = 0x180;
pub const MSTATUS: u16 = 0x300;
pub const MISA: u16 = 0x301;
pub const MEDELEG: u16 = 0x302;
pub const MIDELEG: u16 = 0x303;
pub const MIE: u16 = 0x304;
pub const MTVEC: u16 = 0x305;
pub const MCOUNTEREN: u16 = 0x306;
pub const MENVCFG: u16 = 0x30a;
pub const MCOUNTINHIBIT: u16 = 0x320;
pub const MSCRATCH: u16 = 0x340;
pub const MEPC: u16 = 0x341;
pub const MCAUSE: u16 = 0x342;
pub const MTVAL: u16 = 0x343;
pub const MIP: u16 = 0x344;
pub const PMPCFG0: u16 = 0x3a0;
pub const PMPCFG2: u16 = 0x3a2;
pub const PMPADDR0: u16 = 0x3b0;
pub const TSELECT: u16 = 0x7a0;
pub const TDATA1: u16 = 0x7a1;
pub const TDATA2: u16 = 0x7a2;
pub const TDATA3: u16 = 0x7a3;
pub const TINFO: u16 = 0x7a4;
pub const MCYCLE: u16 = 0xb00;
pub const MINSTRET: u16 = 0xb02;
pub const CYCLE: u16 = 0xc00;
pub const TIME: u16 = 0xc01;
pub const INSTRET: u16 = 0xc02;
pub const MVENDORID: u16 = 0xf11;
pub const MARCHID: u16 = 0xf12;
pub const MIMPID: u16 = 0xf13;
pub const MHARTID: u16 = 0xf14;
pub const MCONFIGPTR: u16 = 0xf15;

// mstatus fields (3.1.6).
pub const MSTATUS_SIE: u64 = 1 << 1;
pub const MSTATUS_MIE: u64 = 1 << 3;
pub const MSTATUS_SPIE: u64 = 1 << 5;
pub const MSTATUS_MPIE: u64 = 1 << 7;
pub const MSTATUS_SPP: u64 = 1 << 8;
pub const MSTATUS_MPP_SHIFT: u64 = 11;
pub const MSTATUS_MPP: u64 = 3 << MSTATUS_MPP_SHIFT;
pub const MSTATUS_MPRV: u64 = 1 << 17;
pub const MSTATUS_SUM: u64 = 1 << 18;
pub const MSTATUS_MXR: u64 = 1 << 19;
pub const MSTATUS_TVM: u64 = 1 << 20;
pub const MSTATUS_TW: u64 = 1 << 21;
pub const MSTATUS_TSR: u64 = 1 << 22;
/// UXL and SXL are read-only 2 (64-bit).
const MSTATUS_UXL_SXL: u64 = (2 << 32) | (2 << 34);
const MSTATUS_WRITABLE: u64 = MSTATUS_SIE
    | MSTATUS_MIE
    | MSTATUS_SPIE
    | MSTATUS_MPIE
    | MSTATUS_SPP
    | MSTATUS_MPP
    | MSTATUS_MPRV
    | MSTATUS_SUM
    | MSTATUS_MXR
    | MSTATUS_TVM
    | MSTATUS_TW
    | MSTATUS_TSR;
/// The view of mstatus that sstatus gives (4.1.1).
const SSTATUS_MASK: u64 =
    MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR | (3 << 32);

/// RV64 ("MXL = 2") with A, C, I, M, S, U.
pub const MISA_VALUE: u64 = (2 << 62)
    | (1 << 0)   // A
    | (1 << 2)   // C
    | (1 << 8)   // I
    | (1 << 12)  // M
    | (1 << 18)  // S
    | (1 << 20); // U

/// Interrupt bits that exist (SSI, MSI, STI, MTI, SEI, MEI).
const INTERRUPTS: u64 = (1 << 1) | (1 << 3) | (1 << 5) | (1 << 7) | (1 << 9) | (1 << 11);
/// Interrupts that can be delegated to S (the S-level ones).
const S_INTERRUPTS: u64 = (1 << 1) | (1 << 5) | (1 << 9);
/// mip bits M-mode software may write (the S-level pending bits).
const MIP_WRITABLE: u64 = S_INTERRUPTS;
/// Exceptions that can be delegated: all defined causes but ecall-from-M (3.1.8).
const MEDELEG_WRITABLE: u64 = 0xb3ff;

/// The CSR storage of one hart. Counters and time are computed from the hart's
/// clocks; mip's MTIP/MSIP come from the CLINT.
#[derive(Clone, Debug, Default)]
pub struct Csrs {
    pub mstatus: u64,
    pub medeleg: u64,
    pub mideleg: u64,
    pub mie: u64,
    /// Software-writable pending bits (SSIP, STIP, SEIP). MTIP and MSIP are
    /// added from the CLINT when mip is read.
    pub mip_sw: u64,
    pub mtvec: u64,
    pub mcounteren: u64,
    pub mscratch: u64,
    pub mepc: u64,
    pub mcause: u64,
    pub mtval: u64,
    pub stvec: u64,
    pub scounteren: u64,
    pub sscratch: u64,
    pub sepc: u64,
    pub scause: u64,
    pub stval: u64,
    pub satp: u64,
    pub pmpcfg: [u64; 2],
    pub pmpaddr: [u64; 16],
}

impl Csrs {
    pub fn new() -> Self {
        Csrs { mstatus: MSTATUS_UXL_SXL, ..Default::default() }
    }
}

/// What a CSR write changed that the hart must react to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CsrEffect {
    None,
    /// Interrupt enables or pending bits may have changed.
    Interrupts,
    /// Translation changed (satp, or mstatus bits MPRV/SUM/MXR/MPP).
    Translation,
}

impl Hart {
    fn counter_enabled(&self, csr: u16) -> bool {
        let bit = 1u64 << (csr & 0x1f);
        match self.privilege {
            Privilege::Machine => true,
            Privilege::Supervisor => self.csr.mcounteren & bit != 0,
            Privilege::User => self.csr.mcounteren & self.csr.scounteren & bit != 0,
        }
    }

    /// The value of mip as software sees it.
    pub fn mip(&self) -> u64 {
        self.csr.mip_sw | self.hw_pending
    }

    /// Read a CSR; `None` means the access is illegal.
    pub fn csr_read(&self, csr: u16) -> Option<u64> {
        // Bits 9:8 give the lowest privilege that may access it (2.1).
        if (csr >> 8) & 3 > self.privilege as u16 {
            return None;
        }
        let c = &self.csr;
        Some(match csr {
            SSTATUS => c.mstatus & SSTATUS_MASK,
            SIE => c.mie & c.mideleg,
            STVEC => c.stvec,
            SCOUNTEREN => c.scounteren,
            SENVCFG | MENVCFG => 0,
            SSCRATCH => c.sscratch,
            SEPC => c.sepc,
            SCAUSE => c.scause,
            STVAL => c.stval,
            SIP => self.mip() & c.mideleg,
            SATP => {
                if self.privilege == Privilege::Supervisor && c.mstatus & MSTATUS_TVM != 0 {
                    return None;
                }
                c.satp
            }
            MSTATUS => c.mstatus,
            MISA => MISA_VALUE,
            MEDELEG => c.medeleg,
            MIDELEG => c.mideleg,
            MIE => c.mie,
            MTVEC => c.mtvec,
            MCOUNTEREN => c.mcounteren,
            MCOUNTINHIBIT => 0,
            MSCRATCH => c.mscratch,
            MEPC => c.mepc,
            MCAUSE => c.mcause,
            MTVAL => c.mtval,
            MIP => self.mip(),
            PMPCFG0 => c.pmpcfg[0],
            PMPCFG2 => c.pmpcfg[1],
            0x3b0..=0x3bf => c.pmpaddr[(csr - PMPADDR0) as usize],
            // Debug spec 5.7: no triggers. tselect reads 0 whatever is written,
            // tdata1 reads type 0 ("no trigger at this tselect"), tinfo says
            // only type 0 is supported.
            TSELECT | TDATA1 | TDATA2 | TDATA3 => 0,
            TINFO => 1,
            MCYCLE => self.mcycle(),
            MINSTRET => self.minstret(),
            0xb03..=0xb1f | 0x323..=0x33f => 0, // mhpmcounter3-31, mhpmevent3-31
            CYCLE | TIME | INSTRET | 0xc03..=0xc1f => {
                if !self.counter_enabled(csr) {
                    return None;
                }
                match csr {
                    CYCLE => self.mcycle(),
                    TIME => self.mtime(),
                    INSTRET => self.minstret(),
                    _ => 0,
                }
            }
            MVENDORID | MARCHID | MIMPID | MCONFIGPTR => 0,
            MHARTID => self.hart_id,
            _ => return None,
        })
    }

    /// Write a CSR (after a successful read check). `None` means illegal.
    pub(crate) fn csr_write(&mut self, csr: u16, val: u64) -> Option<CsrEffect> {
        // Bits 11:10 == 3 mark read-only CSRs (2.1).
        if csr >> 10 == 3 || (csr >> 8) & 3 > self.privilege as u16 {
            return None;
        }
        let c = &mut self.csr;
        let effect = match csr {
            SSTATUS => {
                let writable = SSTATUS_MASK & MSTATUS_WRITABLE;
                c.mstatus = (c.mstatus & !writable) | (val & writable);
                CsrEffect::Translation
            }
            SIE => {
                let m = c.mideleg & INTERRUPTS;
                c.mie = (c.mie & !m) | (val & m);
                CsrEffect::Interrupts
            }
            STVEC => {
                c.stvec = warl_tvec(c.stvec, val);
                CsrEffect::None
            }
            SCOUNTEREN => {
                c.scounteren = val & 0xffff_ffff;
                CsrEffect::None
            }
            SENVCFG | MENVCFG | MCOUNTINHIBIT | 0xb03..=0xb1f | 0x323..=0x33f => CsrEffect::None,
            SSCRATCH => {
                c.sscratch = val;
                CsrEffect::None
            }
            SEPC => {
                c.sepc = val & !1;
                CsrEffect::None
            }
            SCAUSE => {
                c.scause = val;
                CsrEffect::None
            }
            STVAL => {
                c.stval = val;
                CsrEffect::None
            }
            SIP => {
                // Only SSIP is writable through sip, and only when delegated.
                let m = c.mideleg & (1 << 1);
                c.mip_sw = (c.mip_sw & !m) | (val & m);
                CsrEffect::Interrupts
            }
            SATP => {
                if self.privilege == Privilege::Supervisor && c.mstatus & MSTATUS_TVM != 0 {
                    return None;
                }
                // Only Bare (0) and Sv39 (8) are supported; a write of another
                // MODE has no effect at all (4.1.11).
                let mode = val >> 60;
                if mode == 0 || mode == 8 {
                    c.satp = val;
                }
                CsrEffect::Translation
            }
            MSTATUS => {
                let mut v = (c.mstatus & !MSTATUS_WRITABLE) | (val & MSTATUS_WRITABLE);
                // MPP is WARL: 2 (reserved) keeps the old value.
                if (v & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT == 2 {
                    v = (v & !MSTATUS_MPP) | (c.mstatus & MSTATUS_MPP);
                }
                c.mstatus = v;
                CsrEffect::Translation
            }
            MISA | MVENDORID | MARCHID | MIMPID | MHARTID | MCONFIGPTR => CsrEffect::None,
            MEDELEG => {
                c.medeleg = val & MEDELEG_WRITABLE;
                CsrEffect::None
            }
            MIDELEG => {
                c.mideleg = val & S_INTERRUPTS;
                CsrEffect::Interrupts
            }
            MIE => {
                c.mie = val & INTERRUPTS;
                CsrEffect::Interrupts
            }
            MTVEC => {
                c.mtvec = warl_tvec(c.mtvec, val);
                CsrEffect::None
            }
            MCOUNTEREN => {
                c.mcounteren = val & 0xffff_ffff;
                CsrEffect::None
            }
            MSCRATCH => {
                c.mscratch = val;
                CsrEffect::None
            }
            MEPC => {
                c.mepc = val & !1;
                CsrEffect::None
            }
            MCAUSE => {
                c.mcause = val;
                CsrEffect::None
            }
            MTVAL => {
                c.mtval = val;
                CsrEffect::None
            }
            MIP => {
                c.mip_sw = (c.mip_sw & !MIP_WRITABLE) | (val & MIP_WRITABLE);
                CsrEffect::Interrupts
            }
            PMPCFG0 | PMPCFG2 => {
                // WARL storage without enforcement; R=0,W=1 is reserved, so
                // such an entry keeps W clear. Locked entries ignore writes.
                let i = ((csr - PMPCFG0) / 2) as usize;
                let mut out = 0u64;
                for b in 0..8 {
                    let old = (c.pmpcfg[i] >> (8 * b)) & 0xff;
                    let mut new = (val >> (8 * b)) & 0x9f;
                    if old & 0x80 != 0 {
                        new = old;
                    } else if new & 0b11 == 0b10 {
                        new &= !0b10;
                    }
                    out |= new << (8 * b);
                }
                c.pmpcfg[i] = out;
                CsrEffect::None
            }
            0x3b0..=0x3bf => {
                let i = (csr - PMPADDR0) as usize;
                let cfg = (c.pmpcfg[i / 8] >> (8 * (i % 8))) & 0xff;
                if cfg & 0x80 == 0 {
                    c.pmpaddr[i] = val & ((1 << 54) - 1);
                }
                CsrEffect::None
            }
            TSELECT | TDATA1 | TDATA2 | TDATA3 | TINFO => CsrEffect::None,
            MCYCLE => {
                // The write replaces this instruction's own increment.
                self.mcycle_offset = val.wrapping_sub(self.clock + 1);
                CsrEffect::None
            }
            MINSTRET => {
                self.minstret_offset = val.wrapping_sub(self.retired() + 1);
                CsrEffect::None
            }
            _ => return None,
        };
        Some(effect)
    }
}

/// xtvec is WARL: MODE 0 (direct) or 1 (vectored); reserved modes keep the old
/// mode.
fn warl_tvec(old: u64, val: u64) -> u64 {
    let mode = if val & 3 < 2 { val & 3 } else { old & 3 };
    (val & !3) | mode
}
