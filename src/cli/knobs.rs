//! `tunevm knobs`: every config knob with its default, what is allowed, and
//! its help text (English or Chinese), or the schema JSON the page reads.
use std::fmt::Write as _;
use std::io::Write as _;

use tunevm::config::{schema, schema_json, sections};

use super::UsageError;

#[derive(clap::Args)]
pub struct KnobsArgs {
    /// Language of the help text: `en` or `zh`.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Print the knob schema as JSON (what the playground page draws its
    /// knob panel from) instead of text.
    #[arg(long)]
    json: bool,
    /// List the presets (`tunevm run --preset ID`) instead of the knobs.
    #[arg(long)]
    presets: bool,
}

pub fn knobs(args: KnobsArgs) -> Result<i32, UsageError> {
    let zh = match args.lang.as_str() {
        "en" => false,
        "zh" => true,
        other => return Err(UsageError(format!("invalid --lang {other:?}: expected en or zh"))),
    };
    let mut out = String::new();
    if args.presets {
        for p in tunevm::config::presets() {
            let (title, text) =
                if zh { (p.title.zh, p.description.zh) } else { (p.title.en, p.description.en) };
            let _ = writeln!(out, "{} ({}; workload {}): {title}", p.id, p.figure, p.workload);
            for (key, value) in p.settings {
                let _ = writeln!(out, "    --set {key}={value}");
            }
            for line in textwrap(text, 76) {
                let _ = writeln!(out, "    {line}");
            }
            out.push('\n');
        }
    } else if args.json {
        out = serde_json::to_string_pretty(&schema_json()).expect("serializes") + "\n";
    } else {
        for section in sections() {
            let title = if zh { section.title_zh } else { section.title_en };
            let _ = writeln!(out, "[{}] {title}\n", section.key);
            let prefix = format!("{}.", section.key);
            for knob in schema().iter().filter(|k| k.key.starts_with(&prefix)) {
                let _ = writeln!(out, "  {} = {}", knob.key, knob.default);
                let label = if zh { "取值" } else { "allowed" };
                let _ = writeln!(out, "    {label}: {}", knob.allowed());
                if knob.live {
                    let text = if zh {
                        "实时：客户机运行时也可以修改（tunevm run --retune）"
                    } else {
                        "live: can change while the guest runs (tunevm run --retune)"
                    };
                    let _ = writeln!(out, "    {text}");
                }
                let help = if zh { knob.help_zh } else { knob.help_en };
                for line in textwrap(help, 76) {
                    let _ = writeln!(out, "    {line}");
                }
                out.push('\n');
            }
        }
    }
    // A closed pipe (`tunevm knobs | head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(0)
}

/// Columns a character takes in a terminal: 2 for East Asian wide characters.
fn columns(c: char) -> usize {
    if ('\u{1100}'..='\u{115f}').contains(&c)
        || ('\u{2e80}'..='\u{a4cf}').contains(&c)
        || ('\u{ac00}'..='\u{d7a3}').contains(&c)
        || ('\u{f900}'..='\u{faff}').contains(&c)
        || ('\u{fe30}'..='\u{fe4f}').contains(&c)
        || ('\u{ff00}'..='\u{ff60}').contains(&c)
        || ('\u{ffe0}'..='\u{ffe6}').contains(&c)
    {
        2
    } else {
        1
    }
}

fn width(s: &str) -> usize {
    s.chars().map(columns).sum()
}

/// Break `text` into lines of at most `max` terminal columns: at spaces, and
/// inside runs without spaces (Chinese) at any character.
fn textwrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        while width(&word) > max {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let mut head = String::new();
            let mut rest = word.chars().peekable();
            while let Some(&c) = rest.peek() {
                if width(&head) + columns(c) > max {
                    break;
                }
                head.push(c);
                rest.next();
            }
            word = rest.collect();
            lines.push(head);
        }
        if !line.is_empty() && width(&line) + 1 + width(&word) > max {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_latin_at_spaces_and_chinese_anywhere() {
        let en = textwrap("one two three four five six", 9);
        assert_eq!(en, ["one two", "three", "four five", "six"]);
        let zh = textwrap("客户机内存的大小映射在物理地址", 10);
        assert!(zh.iter().all(|l| width(l) <= 10), "{zh:?}");
        assert_eq!(zh.concat(), "客户机内存的大小映射在物理地址");
    }
}
