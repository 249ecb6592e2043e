//! Decoder: raw instruction bits -> [`Inst`].
use super::Inst;

/// Decode the instruction whose low bits are in `raw`.
///
/// If `raw & 3 != 3` the instruction is compressed: only the low 16 bits are
/// read and the length is 2; otherwise all 32 bits are read and the length is 4.
/// Illegal and reserved encodings give `Inst::Illegal { raw }` with `raw`
/// truncated to the instruction's length.
pub fn decode(raw: u32) -> (Inst, u8) {
    let _ = raw;
    todo!("decoder")
}
