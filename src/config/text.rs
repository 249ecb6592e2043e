//! Reading knob values written as text (`--set key=value`, URL parameters)
//! and writing sizes back for messages. Pure functions; the knob schema
//! decides which one applies.

pub(crate) const KIB: u64 = 1 << 10;
pub(crate) const MIB: u64 = 1 << 20;
pub(crate) const GIB: u64 = 1 << 30;

/// `true` or `false`, nothing else (no 1/0/yes/no: one spelling everywhere).
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// An unsigned integer: decimal, `0x` hex, `0o` octal or `0b` binary, with
/// `_` between digits. With `sizes`, a `KiB`, `MiB` or `GiB` suffix
/// (optionally after a space) multiplies it. None on overflow or junk.
pub(crate) fn parse_uint(text: &str, sizes: bool) -> Option<u64> {
    let mut s = text.trim();
    let mut scale = 1;
    if sizes {
        for (suffix, factor) in [("KiB", KIB), ("MiB", MIB), ("GiB", GIB)] {
            if let Some(head) = s.strip_suffix(suffix) {
                s = head.trim_end();
                scale = factor;
                break;
            }
        }
    }
    let (digits, radix) = match s.get(..2) {
        Some("0x" | "0X") => (&s[2..], 16),
        Some("0o" | "0O") => (&s[2..], 8),
        Some("0b" | "0B") => (&s[2..], 2),
        _ => (s, 10),
    };
    // Underscores only between digits: "1_000" yes, "_1", "1_" and "" no.
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return None;
    }
    let cleaned: String = digits.chars().filter(|&c| c != '_').collect();
    // from_str_radix would accept a leading '+'; a knob value has no sign.
    if !cleaned.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(&cleaned, radix).ok()?.checked_mul(scale)
}

/// A finite decimal number (`0.3`, `1e-3`, `2`). NaN and infinities are refused.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    let s = text.trim();
    // Rust's parser also takes "inf", "nan" and "infinity"; only digits here.
    if !s.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+')) {
        return None;
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// `n` as a human size when it is a whole number of KiB/MiB/GiB
/// ("256 MiB"), else as bytes ("1000 bytes").
pub(crate) fn format_size(n: u64) -> String {
    for (unit, factor) in [("GiB", GIB), ("MiB", MIB), ("KiB", KIB)] {
        if n >= factor && n.is_multiple_of(factor) {
            return format!("{} {unit}", n / factor);
        }
    }
    format!("{n} bytes")
}

/// Edit distance between two keys, for "did you mean" suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1).min(row[j] + 1).min(diag + usize::from(ca != cb));
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_every_spelling() {
        assert_eq!(parse_uint("4096", false), Some(4096));
        assert_eq!(parse_uint("0x1000", false), Some(4096));
        assert_eq!(parse_uint("0b1_0000", false), Some(16));
        assert_eq!(parse_uint("268_435_456", false), Some(256 * MIB));
        assert_eq!(parse_uint("256MiB", true), Some(256 * MIB));
        assert_eq!(parse_uint("4 KiB", true), Some(4 * KIB));
        assert_eq!(parse_uint("256MiB", false), None);
        for bad in ["", "_1", "1_", "-1", "+1", "0x", "1.5", "99999999999999999999", "16GiBB"] {
            assert_eq!(parse_uint(bad, true), None, "{bad:?}");
        }
        assert_eq!(parse_uint("17179869184GiB", true), None, "overflow");
    }

    #[test]
    fn floats_and_bools() {
        assert_eq!(parse_float("0.3"), Some(0.3));
        assert_eq!(parse_float("1e-3"), Some(0.001));
        assert_eq!(parse_float("nan"), None);
        assert_eq!(parse_float("inf"), None);
        assert_eq!(parse_bool("true"), Some(true));
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn sizes_and_distances() {
        assert_eq!(format_size(256 * MIB), "256 MiB");
        assert_eq!(format_size(4096), "4 KiB");
        assert_eq!(format_size(1000), "1000 bytes");
        assert_eq!(edit_distance("l1_entry", "l1_entries"), 3);
        assert_eq!(edit_distance("mmu", "mmu"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
