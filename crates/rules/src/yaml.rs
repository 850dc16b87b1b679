//! Reading YAML text (policy, waiver and configuration files) without crashing or
//! hanging, whatever the bytes: one place for the checks every YAML reader needs before
//! serde_yaml_ng sees the text.
//!
//! - Bytes that are not UTF-8 are a `yaml-syntax` problem at the line and column of the
//!   first bad byte, not an I/O error that names only the file.
//! - Flow collections nested deeper than [`MAX_FLOW_DEPTH`] are refused before parsing:
//!   the YAML scanner's time grows with the square of the depth of nested flow mappings
//!   (100,000 levels of `{a: ` take minutes), and serde_yaml_ng refuses anything nested
//!   deeper than 128 levels anyway, only after scanning it all.

use serde_yaml_ng::Value;

use crate::diagnostics::Diagnostic;
use crate::spans::line_col;

/// The deepest nesting of `[` and `{` accepted before parsing. Brackets are counted
/// everywhere, strings and comments included: a real file never holds a thousand
/// unclosed brackets, and a count that cannot be fooled by a stray quote is what keeps
/// the parser's time bounded.
pub const MAX_FLOW_DEPTH: usize = 1_000;

/// The text of a file's bytes, or a `yaml-syntax` problem at the first byte that is not
/// UTF-8.
pub fn text(file: &str, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        // the valid prefix locates the bad byte
        let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let (line, column) = line_col(valid, at);
        Diagnostic {
            file: file.to_owned(),
            line,
            column,
            offset: at,
            len: 1,
            code: "yaml-syntax",
            message: format!(
                "not valid YAML: the file is not UTF-8 text (byte {:#04x})",
                bytes[at]
            ),
            hint: Some("save the file as UTF-8".to_owned()),
        }
    })
}

/// Parses YAML text into a value, or the `yaml-syntax` problem that stops it.
pub fn parse(file: &str, text: &str) -> Result<Value, Diagnostic> {
    if let Some(at) = too_deep(text) {
        let (line, column) = line_col(text, at);
        return Err(Diagnostic {
            file: file.to_owned(),
            line,
            column,
            offset: at,
            len: 1,
            code: "yaml-syntax",
            message: format!("not valid YAML: nested deeper than {MAX_FLOW_DEPTH} levels"),
            hint: None,
        });
    }
    serde_yaml_ng::from_str(text).map_err(|e| Diagnostic::yaml_syntax(file, text, &e))
}

/// The offset of the bracket that opens level [`MAX_FLOW_DEPTH`] + 1, if any.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_refused_at_once_with_its_place() {
        // found by the mutation harness: 100,000 nested `{"a":` took minutes to refuse
        let text = format!("policies:\n  - {}", "{\"a\": ".repeat(100_000));
        let started = std::time::Instant::now();
        let d = parse("p.yaml", &text).unwrap_err();
        assert!(started.elapsed().as_secs() < 1);
        assert_eq!((d.line, d.code), (2, "yaml-syntax"));
        assert_eq!(d.column, 5 + 6 * MAX_FLOW_DEPTH);
        assert!(parse("p.yaml", &"[".repeat(MAX_FLOW_DEPTH)).is_err());
        assert!(parse("p.yaml", "a: [[1], {b: 2}]\n").is_ok());
    }

    #[test]
    fn bytes_that_are_not_utf8_are_located() {
        let d = text("w.yaml", b"waivers:\n  - reason: caf\xe9\n".to_vec()).unwrap_err();
        assert_eq!((d.line, d.column, d.code), (2, 16, "yaml-syntax"));
        assert!(d.message.contains("0xe9"), "{}", d.message);
        assert_eq!(text("w.yaml", b"a: 1".to_vec()).unwrap(), "a: 1");
    }
}
