//! Finding a field's value in a record's JSON text, to point an error at it.

/// The byte offset of the value at a field path (`A.B`, `A.B[2]`) in a JSON object's text.
pub(crate) fn path_offset(text: &str, path: &str) -> Option<usize> {
    if path == "." || path.is_empty() {
        return None;
    }
    let mut off = 0;
    for seg in path.split('.') {
        let (key, indexes) = seg.split_at(seg.find('[').unwrap_or(seg.len()));
        if !key.is_empty() {
            off += value_offset(text.get(off..)?, key)?;
        }
        for idx in indexes.split('[').filter(|s| !s.is_empty()) {
            let n: usize = idx.trim_end_matches(']').parse().ok()?;
            off += element_offset(text.get(off..)?, n)?;
        }
    }
    Some(off)
}

/// Skips JSON whitespace from `j`.
fn skip_ws(b: &[u8], mut j: usize) -> usize {
    while j < b.len() && b" \t\r\n".contains(&b[j]) {
        j += 1;
    }
    j
}

/// Skips a JSON string starting at its opening quote `b[i]`; returns the index of its
/// closing quote.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() && b[i] != b'"' {
        if b[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    i
}

/// The byte offset of the value of a key of the JSON object `text` starts with.
fn value_offset(text: &str, key: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return None;
                }
            }
            b'"' => {
                let start = i + 1;
                i = skip_string(b, i);
                let name = b.get(start..i.min(b.len()))?;
                if depth == 1 && name == key.as_bytes() {
                    let j = skip_ws(b, i + 1);
                    if b.get(j) == Some(&b':') {
                        return Some(skip_ws(b, j + 1));
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The byte offset of element `n` of the JSON array `text` starts with.
fn element_offset(text: &str, n: usize) -> Option<usize> {
    let b = text.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let mut depth = 0usize;
    let mut seen = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => {
                depth += 1;
                if depth == 1 && n == 0 {
                    return Some(skip_ws(b, i + 1));
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return None;
                }
            }
            b'"' => i = skip_string(b, i),
            b',' if depth == 1 => {
                seen += 1;
                if seen == n {
                    return Some(skip_ws(b, i + 1));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::position::line_col;

    #[test]
    fn finds_values_by_field_path() {
        let text = r#"{"A": {"DatastoreArn": 1, "s": "}\"{"}, "DatastoreArn" :
  "x", "P": {"L": [1, {"k": 2}, [3]]}}"#;
        let off = path_offset(text, "DatastoreArn").unwrap();
        assert_eq!(&text[off..off + 3], "\"x\"");
        assert_eq!(line_col(text, off), (2, 3));
        let off = path_offset(text, "A.DatastoreArn").unwrap();
        assert_eq!(&text[off..off + 1], "1");
        let off = path_offset(text, "P.L[1].k").unwrap();
        assert_eq!(&text[off..off + 1], "2");
        let off = path_offset(text, "P.L[2]").unwrap();
        assert_eq!(&text[off..off + 3], "[3]");
        assert_eq!(path_offset(text, "Nope"), None);
        assert_eq!(path_offset(text, "A.s.x"), None);
        assert_eq!(path_offset(text, "."), None);
    }
}
