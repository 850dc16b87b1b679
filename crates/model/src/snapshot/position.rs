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

#[cfg(test)]
mod tests {
    use super::*;

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
