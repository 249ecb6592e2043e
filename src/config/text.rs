//! Reading knob values written as text (`--set key=value`, URL parameters)
//! and writing sizes back for messages; making text from files and arguments
//! safe to print in a one-line message. Pure functions; the knob schema
//! decides which parser applies.
use std::fmt::Write;

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

/// Most characters of one message line [`one_line`] keeps by default: room
/// for any honest message (a file name, a list of knobs), not for a
/// megabyte-long string from a file.
pub const MAX_LINE_CHARS: usize = 1000;

/// `text` made safe to print as (part of) one line on a terminal: line
/// breaks, escape sequences and every other character that does not print
/// are written as escapes (`\n`, `\x1b`, `\u{202e}`), and past `max_chars`
/// characters the rest is cut, saying how much was cut. Printable text,
/// Chinese included, is kept as it is.
pub fn one_line(text: &str, max_chars: usize) -> String {
    one_line_bytes(text.as_bytes(), max_chars)
}

/// [`one_line`] for bytes that may not be UTF-8 (a string read from a file):
/// bytes that are not UTF-8 are written as `\xNN`.
pub fn one_line_bytes(bytes: &[u8], max_chars: usize) -> String {
    let mut out = String::new();
    let mut kept = 0;
    let mut rest = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if kept < max_chars {
                push_printable(&mut out, c);
                kept += 1;
            } else {
                rest += 1;
            }
        }
        for &b in chunk.invalid() {
            if kept < max_chars {
                let _ = write!(out, "\\x{b:02x}");
                kept += 1;
            } else {
                rest += 1;
            }
        }
    }
    if rest > 0 {
        let _ = write!(out, "... ({rest} more)");
    }
    out
}

/// `c` itself if it prints, else its escape. "Prints" is what Rust's
/// `char::escape_debug` leaves alone (it escapes control and format
/// characters, separators other than the space, unassigned code points),
/// except the quotes and the backslash it escapes for Rust's own syntax.
fn push_printable(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '"' | '\'' | '\\' => out.push(c),
        c if c.escape_debug().len() == 1 => out.push(c),
        c if u32::from(c) <= 0xff => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
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

    #[test]
    fn one_line_escapes_what_does_not_print_and_cuts_long_text() {
        assert_eq!(
            one_line("plain text, 中文 and \"quotes\" \\ stay", 100),
            "plain text, 中文 and \"quotes\" \\ stay"
        );
        assert_eq!(one_line("a\nb\r\tc", 100), "a\\nb\\r\\tc");
        assert_eq!(one_line("\x1b[31mred\x1b[0m", 100), "\\x1b[31mred\\x1b[0m");
        assert_eq!(one_line("\u{7f}\u{85}\u{a0}", 100), "\\x7f\\x85\\xa0");
        assert_eq!(one_line("rtl\u{202e}txt\u{200b}", 100), "rtl\\u{202e}txt\\u{200b}");
        assert_eq!(one_line_bytes(b"ok\xff\xfe!", 100), "ok\\xff\\xfe!");
        assert_eq!(one_line("abcdef", 4), "abcd... (2 more)");
        assert_eq!(one_line_bytes(b"ab\xff\xff", 3), "ab\\xff... (1 more)");
        let once = one_line("\x1b]0;title\x07", 100);
        assert_eq!(one_line(&once, 100), once, "escaping twice changes nothing");
    }
}
