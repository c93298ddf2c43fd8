//! Which characters text may hold, and how to show the ones it may not:
//! [`hidden`], [`check`] and [`Escaped`].
//!
//! Text in a record is written on one agency's device and read by another
//! agency's manager, in a terminal, a spreadsheet or a browser. A character
//! the reader cannot see can still act: a line break starts a forged row in
//! a table, an escape sequence moves the cursor or recolours the screen, a
//! backspace rubs out what came before, and a bidirectional override
//! (U+202E) shows the rest of the line backwards. So:
//!
//! - at capture, [`check`] refuses them: one-line fields (headlines,
//!   names, agency codes, reasons) hold no line breaks at all, and
//!   narrative fields may hold `\n` and `\t` but nothing else hidden. Every
//!   JSON parse and every decode of untrusted bytes runs it (through
//!   [`crate::Validate`]), so the agent will not capture such text and the
//!   server quarantines a record that carries it;
//! - whatever is stored already (from before these rules, or in logs),
//!   every renderer shows it through [`Escaped`], which writes each hidden
//!   character visibly as `\u{1b}`, so no value can start a new line or
//!   move the cursor.
//!
//! [`hidden`] is the one definition of "hidden" both use. It needs no
//! allocator.

use core::fmt;

/// Why a character is refused, and shown escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// A line or paragraph break: `\n`, `\r`, vertical tab, form feed,
    /// NEL (U+0085), U+2028, U+2029.
    LineBreak,
    /// Any other control character: C0 (including tab), DEL, C1.
    Control,
    /// A bidirectional override, embedding, isolate or mark (U+202A–U+202E,
    /// U+2066–U+2069, U+200E, U+200F, U+061C): it reorders what is shown.
    Bidi,
    /// An invisible formatting character: zero-width space, word joiner,
    /// invisible operators, byte-order mark, interlinear annotation, tag
    /// characters (U+E0000–U+E007F, which can carry hidden text).
    Invisible,
}

impl Hidden {
    /// What it is, in words for an error message.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::LineBreak => "a line break",
            Self::Control => "a control character",
            Self::Bidi => "a bidirectional control, which reorders the text a reader sees",
            Self::Invisible => "an invisible character",
        }
    }
}

/// Whether `c` is hidden, and how; `None` for a character a reader sees
/// (including ordinary spaces, and the zero-width joiners that scripts and
/// emoji need).
pub const fn hidden(c: char) -> Option<Hidden> {
    match c {
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
            Some(Hidden::LineBreak)
        }
        '\0'..='\u{1F}' | '\u{7F}'..='\u{9F}' => Some(Hidden::Control),
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => Some(Hidden::Bidi),
        '\u{180E}'
        | '\u{200B}'
        | '\u{2060}'..='\u{2064}'
        | '\u{206A}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0000}'..='\u{E007F}' => Some(Hidden::Invisible),
        _ => None,
    }
}

/// What a field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// One line of visible text: no hidden character at all.
    One,
    /// Narrative: line breaks (`\n`) and tabs allowed; nothing else hidden
    /// (not `\r`: a bare carriage return rewrites the line on a terminal).
    Many,
}

/// A hidden character found in text: what it is, its code point, and the
/// 1-based position (in characters) where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// How it is hidden.
    pub hidden: Hidden,
    /// Its code point.
    pub code: u32,
    /// Its position, counting characters from 1.
    pub at: usize,
    /// The rule it broke.
    pub lines: Lines,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "holds {} (U+{:04X}) at character {}; ",
            self.hidden.describe(),
            self.code,
            self.at
        )?;
        match (self.hidden, self.lines) {
            (Hidden::LineBreak, Lines::One) => {
                f.write_str("this field is one line: remove the break, or write it as a sentence")
            }
            (Hidden::LineBreak, Lines::Many) => {
                f.write_str("write line breaks as \\n alone (no carriage returns or other breaks)")
            }
            _ => f.write_str("remove it (it may have been pasted in with the text)"),
        }
    }
}

/// The first character of `text` that `lines` does not allow.
pub fn check(text: &str, lines: Lines) -> Result<(), Found> {
    for (i, c) in text.chars().enumerate() {
        let allowed = lines == Lines::Many && matches!(c, '\n' | '\t');
        if let (Some(hidden), false) = (hidden(c), allowed) {
            return Err(Found {
                hidden,
                code: c as u32,
                at: i + 1,
                lines,
            });
        }
    }
    Ok(())
}

/// Characters a reader can see in `text`: neither white space nor hidden.
pub fn visible_len(text: &str) -> usize {
    text.chars()
        .filter(|&c| !c.is_whitespace() && hidden(c).is_none())
        .count()
}

/// Shows text with every [`hidden`] character written visibly as
/// `\u{1b}` (lower-case hex, Rust's form), so that it can never start a
/// line, move the cursor or reorder what follows. Everything else is
/// written as it is.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some((i, c)) = rest.char_indices().find(|&(_, c)| hidden(c).is_some()) {
            f.write_str(&rest[..i])?;
            write!(f, "\\u{{{:x}}}", c as u32)?;
            rest = &rest[i + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

/// Makes serialised JSON safe to show: every [`hidden`] character still
/// raw in it (serde_json escapes only C0 controls) is written as a JSON
/// `\uXXXX` escape, which parses back to the same string. Line breaks and
/// spaces that lay the document out are kept: inside JSON strings every
/// line break is already escaped, so any left are layout.
#[cfg(feature = "alloc")]
pub fn json_escaped(json: alloc::string::String) -> alloc::string::String {
    use core::fmt::Write as _;
    let raw = |c: char| c != '\n' && hidden(c).is_some();
    if !json.chars().any(raw) {
        return json;
    }
    let mut out = alloc::string::String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if raw(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::{String, ToString};

    use super::*;

    /// One character of each class, with its class.
    const SAMPLES: &[(char, Hidden)] = &[
        ('\n', Hidden::LineBreak),
        ('\r', Hidden::LineBreak),
        ('\u{0B}', Hidden::LineBreak),
        ('\u{0C}', Hidden::LineBreak),
        ('\u{85}', Hidden::LineBreak),
        ('\u{2028}', Hidden::LineBreak),
        ('\u{2029}', Hidden::LineBreak),
        ('\0', Hidden::Control),
        ('\t', Hidden::Control),
        ('\u{07}', Hidden::Control),
        ('\u{08}', Hidden::Control),
        ('\u{1B}', Hidden::Control),
        ('\u{7F}', Hidden::Control),
        ('\u{9B}', Hidden::Control),
        ('\u{202A}', Hidden::Bidi),
        ('\u{202E}', Hidden::Bidi),
        ('\u{2066}', Hidden::Bidi),
        ('\u{2069}', Hidden::Bidi),
        ('\u{200F}', Hidden::Bidi),
        ('\u{061C}', Hidden::Bidi),
        ('\u{200B}', Hidden::Invisible),
        ('\u{2060}', Hidden::Invisible),
        ('\u{FEFF}', Hidden::Invisible),
        ('\u{E0041}', Hidden::Invisible),
    ];

    #[test]
    fn each_class_is_recognised() {
        for &(c, class) in SAMPLES {
            assert_eq!(hidden(c), Some(class), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn visible_text_passes_in_any_script() {
        for s in [
            "Arrived hungry, same clothes as Friday",
            "Zoë's père — «ça va» 5 €",
            "שלום עולם",
            "مرحبا",
            "नमस्ते",
            "👨\u{200D}👩\u{200D}👧",
            "\u{A0}non-breaking",
        ] {
            assert_eq!(check(s, Lines::One), Ok(()), "{s}");
            assert_eq!(Escaped(s).to_string(), s);
        }
    }

    #[test]
    fn one_line_fields_refuse_every_class() {
        for &(c, class) in SAMPLES {
            let text: String = ['a', 'b', c, 'd'].iter().collect();
            let found = check(&text, Lines::One).unwrap_err();
            assert_eq!((found.hidden, found.code, found.at), (class, c as u32, 3));
        }
    }

    #[test]
    fn narrative_fields_allow_newline_and_tab_only() {
        assert_eq!(check("first\nsecond\tthird", Lines::Many), Ok(()));
        for &(c, class) in SAMPLES {
            if matches!(c, '\n' | '\t') {
                continue;
            }
            let text: String = ['x', c].iter().collect();
            assert_eq!(check(&text, Lines::Many).unwrap_err().hidden, class);
        }
    }

    #[test]
    fn messages_say_what_and_how_to_fix() {
        let one = check("a\nb", Lines::One).unwrap_err().to_string();
        assert_eq!(
            one,
            "holds a line break (U+000A) at character 2; this field is one line: remove the break, or write it as a sentence"
        );
        let rlo = check("x\u{202E}y", Lines::Many).unwrap_err().to_string();
        assert!(rlo.contains("U+202E") && rlo.contains("reorders"), "{rlo}");
        assert!(rlo.contains("remove it"), "{rlo}");
    }

    #[test]
    fn escaping_shows_every_hidden_character_visibly() {
        for &(c, _) in SAMPLES {
            let text: String = ['a', c, 'b'].iter().collect();
            let shown = Escaped(&text).to_string();
            assert_eq!(shown, std::format!("a\\u{{{:x}}}b", c as u32));
            assert!(shown.chars().all(|c| hidden(c).is_none()), "{shown:?}");
        }
        assert_eq!(
            Escaped("x\n2026-11-01 08:30 | forged").to_string(),
            "x\\u{a}2026-11-01 08:30 | forged"
        );
        assert_eq!(Escaped("\u{1b}[2J").to_string(), "\\u{1b}[2J");
    }

    #[test]
    fn json_escaping_keeps_layout_and_meaning() {
        let v = serde_json::json!({"h": "a\u{202E}b\u{7F}c\u{E0041}\n"});
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let safe = json_escaped(pretty);
        assert!(safe.contains('\n'), "layout is kept");
        assert!(
            safe.chars().all(|c| c == '\n' || hidden(c).is_none()),
            "{safe:?}"
        );
        assert!(safe.contains("\\u202e") && safe.contains("\\udb40\\udc41"));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn visible_length_ignores_space_and_hidden() {
        assert_eq!(visible_len("  a b\u{200B}\u{202E}c  "), 3);
        assert_eq!(visible_len("strategy meeting"), 15);
    }
}
