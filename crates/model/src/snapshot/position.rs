//! Positions in an input: a line, a column and a byte offset, and the conversions from
//! positions counted inside a piece of the input (a record, a line, serde_json's view of a
//! value) to positions in the whole input. Depends on nothing else in the module.

/// A 1-based line and column (in bytes), plus the byte offset from the start of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in bytes.
    pub column: usize,
    /// Byte offset of the position from the start of the input.
    pub offset: u64,
}

/// Converts a serde_json position counted from `base` (line 1 is `base`'s line, whose
/// column 1 is `base`'s column) to a position in the input.
pub(crate) fn relative_to(base: Pos, line: usize, column: usize) -> Pos {
    if line <= 1 {
        Pos {
            line: base.line,
            column: base.column + column.max(1) - 1,
            offset: 0,
        }
    } else {
        Pos {
            line: base.line + line - 1,
            column: column.max(1),
            offset: 0,
        }
    }
}

/// The 1-based line and column of a byte offset in a text.
pub(crate) fn line_col(text: &str, off: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..off.min(text.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, off - line_start + 1)
}

/// Where the last JSON value that starts in `bytes` begins, as an offset into `bytes`,
/// which must start at an object key (keys count as values; strings are skipped whole).
///
/// serde_json reports a value of the wrong type at different places in a slice and in a
/// stream: after a number its stream reader has also taken the next byte (a line break
/// moves it to the next line), and after a string or a literal the slice reader points one
/// byte further than the stream reader. Both have read the offending value last, so its
/// start, found this way in what each has read, is one place for both, and the place a
/// reader should look.
pub(crate) fn last_value_start(bytes: &[u8]) -> Option<usize> {
    let (mut expecting, mut in_string, mut escaped) = (true, false, false);
    let mut last = None;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b',' | b':' => expecting = true,
            b']' | b'}' => expecting = false,
            _ => {
                if expecting {
                    last = Some(i);
                }
                in_string = b == b'"';
                expecting = matches!(b, b'{' | b'[');
            }
        }
    }
    last
}

/// The position `bytes.len()` bytes after `from`, given those bytes.
pub(crate) fn advance(from: Pos, bytes: &[u8]) -> Pos {
    let mut p = from;
    for &b in bytes {
        if b == b'\n' {
            p.line += 1;
            p.column = 1;
        } else {
            p.column += 1;
        }
    }
    p.offset += bytes.len() as u64;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_value_read_is_found_past_strings_and_structure() {
        fn start(s: &str) -> Option<&str> {
            last_value_start(s.as_bytes()).map(|i| &s[i..])
        }
        assert_eq!(start(r#""a": 0"#), Some("0"));
        assert_eq!(start("\"a\": 12\n"), Some("12\n"));
        assert_eq!(start(r#""a": "x, \"y\": 1""#), Some(r#""x, \"y\": 1""#));
        assert_eq!(start(r#""a": [1, {"b": true"#), Some("true"));
        assert_eq!(start(r#""a": {"#), Some("{"));
        assert_eq!(start(r#""a": 0""#), Some(r#"0""#));
        assert_eq!(start(r#""a\\": null}"#), Some("null}"));
        assert_eq!(start(""), None);
        let p = advance(
            Pos {
                line: 2,
                column: 3,
                offset: 10,
            },
            b"ab\ncd",
        );
        assert_eq!((p.line, p.column, p.offset), (3, 3, 15));
    }

    #[test]
    fn relative_positions_become_absolute() {
        let base = Pos {
            line: 10,
            column: 9,
            offset: 0,
        };
        let p = relative_to(base, 1, 5);
        assert_eq!((p.line, p.column), (10, 13));
        let p = relative_to(base, 3, 5);
        assert_eq!((p.line, p.column), (12, 5));
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 9), (1, 10));
    }
}
