//! Exceptions and interrupts as values (priv spec 3.1.15, table 3.6).

/// Synchronous exceptions, with their mcause codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Exception {
    InstructionAddressMisaligned = 0,
    InstructionAccessFault = 1,
    IllegalInstruction = 2,
    Breakpoint = 3,
    LoadAddressMisaligned = 4,
    LoadAccessFault = 5,
    StoreAddressMisaligned = 6,
    StoreAccessFault = 7,
    EcallFromU = 8,
    EcallFromS = 9,
    EcallFromM = 11,
    InstructionPageFault = 12,
    LoadPageFault = 13,
    StorePageFault = 15,
}

impl Exception {
    pub fn code(self) -> u64 {
        self as u64
    }

    /// Stable snake-case name used in reports (`traps.{name}`).
    pub fn name(self) -> &'static str {
        use Exception::*;
        match self {
            InstructionAddressMisaligned => "instruction_address_misaligned",
            InstructionAccessFault => "instruction_access_fault",
            IllegalInstruction => "illegal_instruction",
            Breakpoint => "breakpoint",
            LoadAddressMisaligned => "load_address_misaligned",
            LoadAccessFault => "load_access_fault",
            StoreAddressMisaligned => "store_address_misaligned",
            StoreAccessFault => "store_access_fault",
            EcallFromU => "ecall_from_u",
            EcallFromS => "ecall_from_s",
            EcallFromM => "ecall_from_m",
            InstructionPageFault => "instruction_page_fault",
            LoadPageFault => "load_page_fault",
            StorePageFault => "store_page_fault",
        }
    }

    pub const ALL: [Exception; 14] = {
        use Exception::*;
        [
            InstructionAddressMisaligned,
            InstructionAccessFault,
            IllegalInstruction,
            Breakpoint,
            LoadAddressMisaligned,
            LoadAccessFault,
            StoreAddressMisaligned,
            StoreAccessFault,
            EcallFromU,
            EcallFromS,
            EcallFromM,
            InstructionPageFault,
            LoadPageFault,
            StorePageFault,
        ]
    };
}

/// Interrupts, with their mcause codes (without the interrupt bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Interrupt {
    SupervisorSoftware = 1,
    MachineSoftware = 3,
    SupervisorTimer = 5,
    MachineTimer = 7,
    SupervisorExternal = 9,
    MachineExternal = 11,
}

impl Interrupt {
    /// In the order they are taken when several are pending (priv spec 3.1.9).
    pub const BY_PRIORITY: [Interrupt; 6] = [
        Interrupt::MachineExternal,
        Interrupt::MachineSoftware,
        Interrupt::MachineTimer,
        Interrupt::SupervisorExternal,
        Interrupt::SupervisorSoftware,
        Interrupt::SupervisorTimer,
    ];

    pub fn bit(self) -> u64 {
        1 << (self as u64)
    }

    pub fn name(self) -> &'static str {
        match self {
            Interrupt::SupervisorSoftware => "supervisor_software_interrupt",
            Interrupt::MachineSoftware => "machine_software_interrupt",
            Interrupt::SupervisorTimer => "supervisor_timer_interrupt",
            Interrupt::MachineTimer => "machine_timer_interrupt",
            Interrupt::SupervisorExternal => "supervisor_external_interrupt",
            Interrupt::MachineExternal => "machine_external_interrupt",
        }
    }
}

/// A synchronous trap raised by one instruction: the cause and the value for
/// mtval/stval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    pub cause: Exception,
    pub tval: u64,
}

impl Trap {
    pub fn new(cause: Exception, tval: u64) -> Self {
        Trap { cause, tval }
    }

    pub fn illegal(raw: u32) -> Self {
        Trap { cause: Exception::IllegalInstruction, tval: raw as u64 }
    }
}
