//! One hart: registers, CSRs, privilege levels, traps and interrupts, and the
//! interpreter (tier 0).
