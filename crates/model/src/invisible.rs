//! Characters that are not shown as themselves, and how hlaudit shows them to people.
//!
//! A data store name, a tag or a metadata document is text someone else chose. Some
//! characters in it act on the screen instead of appearing: control characters (a
//! terminal reads `ESC [31m` as "turn red"), bidirectional controls (U+202E makes what
//! follows read right to left, so `evil\u{202e}gpj.exe` looks like `evilexe.jpg`) and
//! other invisible format characters (a zero-width space makes two names that look equal
//! differ). Every place that shows record text to a person (terminal, Markdown and HTML
//! reports, `inventory`, `explain`, warnings on stderr, error snippets) shows these
//! characters by code point instead, with the functions of this module; data formats
//! (JSON, SARIF, JUnit) keep the text exactly as it is.
//!
//! The set, [`is_invisible`], is fixed here, once:
//! - every control character (Unicode general category Cc: C0, DEL and C1), tab and line
//!   feed included;
//! - every format character (category Cf, as of Unicode 15.1): among them the soft hyphen
//!   U+00AD, the Arabic letter mark U+061C, the zero-width space, joiners and marks
//!   U+200B–U+200F, the bidirectional embeddings and overrides U+202A–U+202E, the word
//!   joiner and invisible operators U+2060–U+2064, the bidirectional isolates
//!   U+2066–U+2069 and the deprecated format characters U+206A–U+206F, the byte order
//!   mark U+FEFF, the interlinear annotation characters U+FFF9–U+FFFB and the tag
//!   characters U+E0001 and U+E0020–U+E007F;
//! - the line and paragraph separators U+2028 and U+2029 (categories Zl and Zp).
//!
//! Letters and spaces that happen to look blank (U+3164 Hangul filler, U+2800 Braille
//! blank, the many space characters of category Zs) are not in the set: they are
//! ordinary text that a person sees as a gap, and escaping them would make names in
//! Korean or with wide spaces unreadable.
//!
//! This module lives in the model, the crate every other one depends on, so the set and
//! its spelling exist once for the reporters, the rules engine and the command line.

use std::borrow::Cow;

/// The format characters (Unicode general category Cf, Unicode 15.1), as inclusive
/// ranges in code point order.
const FORMAT: [(u32, u32); 21] = [
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// Whether a character is not shown as itself: a control character, a format character
/// or a line or paragraph separator (the exact set is in the module docs).
pub fn is_invisible(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
        return true;
    }
    let cp = u32::from(c);
    FORMAT
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Whether the text holds any invisible character.
pub fn contains_invisible(s: &str) -> bool {
    s.chars().any(is_invisible)
}

/// Shows every invisible character as its code point in Rust's escape syntax
/// (`\u{202e}`, `\u{1b}`, `\u{a}` for a line feed), so the text reads the same on any
/// screen as it is stored. Text without one is returned as it is, without copying.
///
/// ```
/// use hlaudit_model::invisible::escape;
/// assert_eq!(escape("invoice\u{202e}fdp.exe"), "invoice\\u{202e}fdp.exe");
/// assert_eq!(escape("\u{1b}[31mred"), "\\u{1b}[31mred");
/// assert_eq!(escape("plain"), "plain");
/// ```
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_except(s, &[])
}

/// As [`escape`], but keeps the line feeds (and tabs): for text of several lines that
/// hlaudit laid out itself, whose record values were escaped with [`escape`].
pub fn escape_lines(s: &str) -> Cow<'_, str> {
    escape_except(s, &['\n', '\t'])
}

fn escape_except<'a>(s: &'a str, keep: &[char]) -> Cow<'a, str> {
    if !s.chars().any(|c| is_invisible(c) && !keep.contains(&c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_invisible(c) && !keep.contains(&c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Appends the escape of one character (`\u{202e}`) to `out`.
pub fn push_escape(out: &mut String, c: char) {
    out.extend(c.escape_unicode());
}

/// The code point in Unicode's notation, `U+202E`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The Unicode name of the invisible characters most often met in text (controls people
/// know by name, the bidirectional controls, the zero-width characters), for tooltips;
/// `None` for the others.
pub fn name(c: char) -> Option<&'static str> {
    Some(match c {
        '\t' => "CHARACTER TABULATION",
        '\n' => "LINE FEED",
        '\r' => "CARRIAGE RETURN",
        '\u{1b}' => "ESCAPE",
        '\u{7f}' => "DELETE",
        '\u{ad}' => "SOFT HYPHEN",
        '\u{61c}' => "ARABIC LETTER MARK",
        '\u{200b}' => "ZERO WIDTH SPACE",
        '\u{200c}' => "ZERO WIDTH NON-JOINER",
        '\u{200d}' => "ZERO WIDTH JOINER",
        '\u{200e}' => "LEFT-TO-RIGHT MARK",
        '\u{200f}' => "RIGHT-TO-LEFT MARK",
        '\u{2028}' => "LINE SEPARATOR",
        '\u{2029}' => "PARAGRAPH SEPARATOR",
        '\u{202a}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202b}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202c}' => "POP DIRECTIONAL FORMATTING",
        '\u{202d}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202e}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2060}' => "WORD JOINER",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        '\u{feff}' => "ZERO WIDTH NO-BREAK SPACE",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_is_controls_format_characters_and_separators() {
        let invisible = [
            '\u{0}',
            '\t',
            '\n',
            '\r',
            '\u{1b}',
            '\u{7f}',
            '\u{80}',
            '\u{9b}',
            '\u{ad}',
            '\u{600}',
            '\u{61c}',
            '\u{180e}',
            '\u{200b}',
            '\u{200d}',
            '\u{200f}',
            '\u{2028}',
            '\u{2029}',
            '\u{202a}',
            '\u{202e}',
            '\u{2060}',
            '\u{2064}',
            '\u{2066}',
            '\u{2069}',
            '\u{206f}',
            '\u{feff}',
            '\u{fffb}',
            '\u{1343f}',
            '\u{e0001}',
            '\u{e0041}',
            '\u{e007f}',
        ];
        for c in invisible {
            assert!(is_invisible(c), "{} is invisible", code_point(c));
        }
        let visible = [
            ' ',
            'a',
            '~',
            '\u{a0}',
            '\u{200a}',
            '\u{2010}',
            '\u{2027}',
            '\u{202f}',
            '\u{2065}',
            '\u{3164}',
            '\u{2800}',
            '\u{fe0f}',
            '\u{fffc}',
            '\u{fffd}',
            'é',
            '名',
            '😀',
            '\u{e0000}',
            '\u{e0080}',
        ];
        for c in visible {
            assert!(!is_invisible(c), "{} is shown as itself", code_point(c));
        }
    }

    #[test]
    fn escapes_show_the_code_point() {
        assert_eq!(
            escape("prod\u{202e}\u{2066}x\u{2069}\u{200b}"),
            "prod\\u{202e}\\u{2066}x\\u{2069}\\u{200b}"
        );
        assert_eq!(escape("a\nb\tc"), "a\\u{a}b\\u{9}c");
        assert_eq!(escape_lines("a\nb\tc\u{202e}"), "a\nb\tc\\u{202e}");
        assert!(matches!(escape("patient-records"), Cow::Borrowed(_)));
        assert_eq!(code_point('\u{202e}'), "U+202E");
        assert_eq!(code_point('\u{e0041}'), "U+E0041");
        assert_eq!(name('\u{202e}'), Some("RIGHT-TO-LEFT OVERRIDE"));
        assert!(contains_invisible("a\u{feff}") && !contains_invisible("a b"));
    }

    #[test]
    fn every_named_character_is_invisible() {
        for cp in 0..0x11_0000u32 {
            if let Some(c) = char::from_u32(cp) {
                if name(c).is_some() {
                    assert!(is_invisible(c), "{}", code_point(c));
                }
            }
        }
    }
}
