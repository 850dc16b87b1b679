//! JSON helpers for the plan and manifest readers: a scan of a file's first bytes for the
//! keys that say what it is, and positions of byte offsets.
//!
//! Plans are large (tens of MB, often on one line), so they are parsed with `serde_json`
//! and never into a positioned tree. A borrowed `&RawValue` is a slice of the text, so its
//! byte offset is known for free; [`positions`] turns the few offsets a reader needs into
//! lines and columns in one pass over the text.

use serde_json::value::RawValue;

/// Calls `visit(path, value)` for each key of the JSON object at the start of `head`
/// (`value` is `None`) and for each string value (`value` is the text), `path` being the
/// keys from the top (`["artifacts", "Stack", "type"]`; an array element adds `[]`).
/// Stops when `visit` returns false, at the end of the top-level object, or at the end of
/// `head` (which may cut the text anywhere). Text that does not start with `{` is not
/// visited.
pub(crate) fn scan_head(head: &str, mut visit: impl FnMut(&[String], Option<&str>) -> bool) {
    let b = head.trim_start_matches('\u{feff}').trim_start().as_bytes();
    if b.first() != Some(&b'{') {
        return;
    }
    // One entry per open container: the key being read in an object, `[]` in an array.
    let mut path: Vec<String> = Vec::new();
    let mut objects: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => {
                objects.push(b[i] == b'{');
                path.push(if b[i] == b'[' {
                    "[]".into()
                } else {
                    String::new()
                });
                i += 1;
            }
            b'}' | b']' => {
                objects.pop();
                path.pop();
                if objects.is_empty() {
                    return;
                }
                i += 1;
            }
            b'"' => {
                let (text, end) = string_at(b, i + 1);
                i = end;
                let mut j = i;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                let is_key = objects.last() == Some(&true) && b.get(j) == Some(&b':');
                if is_key {
                    if let Some(last) = path.last_mut() {
                        *last = text;
                    }
                    if !visit(&path, None) {
                        return;
                    }
                    i = j + 1;
                } else if !visit(&path, Some(&text)) {
                    return;
                }
            }
            _ => i += 1,
        }
    }
}

/// The text of the string whose content starts at `start` (escapes kept as written but
/// for `\"` and `\\`), and the index after its closing quote.
fn string_at(b: &[u8], start: usize) -> (String, usize) {
    let mut out = Vec::new();
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                if let Some(&c) = b.get(i + 1) {
                    if c != b'"' && c != b'\\' {
                        out.push(b'\\');
                    }
                    out.push(c);
                }
                i += 2;
            }
            b'"' => return (String::from_utf8_lossy(&out).into_owned(), i + 1),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), b.len())
}

/// The top-level keys in the head of a JSON text.
pub(crate) fn top_level_keys(head: &str) -> Vec<String> {
    let mut keys = Vec::new();
    scan_head(head, |path, value| {
        if path.len() == 1 && value.is_none() {
            keys.push(path[0].clone());
        }
        true
    });
    keys
}

/// Where `raw` (a slice of `text`, as a borrowed `RawValue` is) starts in `text`.
pub(crate) fn offset_of(text: &str, raw: &RawValue) -> usize {
    let start = text.as_ptr() as usize;
    let at = raw.get().as_ptr() as usize;
    at.saturating_sub(start).min(text.len())
}

/// 1-based line and column (in characters) of each byte offset, in one pass over the
/// text up to the last offset.
pub(crate) fn positions(text: &str, offsets: &[usize]) -> Vec<(u32, u32)> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let b = text.as_bytes();
    let mut out = vec![(1u32, 1u32); offsets.len()];
    let (mut at, mut line, mut column) = (0usize, 1u32, 1u32);
    for i in order {
        let to = offsets[i].min(b.len());
        while at < to {
            let c = b[at];
            if c == b'\n' {
                line = line.saturating_add(1);
                column = 1;
            } else if c & 0xC0 != 0x80 {
                // A character starts here (not a UTF-8 continuation byte).
                column = column.saturating_add(1);
            }
            at += 1;
        }
        out[i] = (line, column);
    }
    out
}

/// The position of one byte offset (see [`positions`]).
pub(crate) fn position(text: &str, offset: usize) -> (u32, u32) {
    positions(text, &[offset])
        .first()
        .copied()
        .unwrap_or((1, 1))
}

/// A position in a slice that starts at `base` made a position in the whole text.
pub(crate) fn shift(base: (u32, u32), line: u32, column: u32) -> (u32, u32) {
    if line <= 1 {
        (base.0, base.1.saturating_add(column.saturating_sub(1)))
    } else {
        (base.0.saturating_add(line - 1), column)
    }
}

/// Where a JSON value starts, and where its entries or items do: the positions of a
/// small piece of a plan (one resource change), for locating its attributes.
#[derive(Debug)]
pub(crate) struct Spot {
    /// 1-based line, counted in the piece.
    pub line: u32,
    /// 1-based column (characters), counted in the piece.
    pub column: u32,
    /// The entries or items.
    pub inner: Inner,
}

/// What a [`Spot`] holds.
#[derive(Debug)]
pub(crate) enum Inner {
    /// A string, number, boolean or null.
    Scalar,
    /// An object: each name (decoded), where the name starts, and its value.
    Map(Vec<(String, (u32, u32), Spot)>),
    /// An array.
    Seq(Vec<Spot>),
}

impl Spot {
    /// The entry named `name`: where its name starts, and its value.
    pub(crate) fn entry(&self, name: &str) -> Option<((u32, u32), &Spot)> {
        match &self.inner {
            Inner::Map(entries) => entries
                .iter()
                .find(|(k, _, _)| k == name)
                .map(|(_, at, v)| (*at, v)),
            _ => None,
        }
    }

    /// The value named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Spot> {
        self.entry(name).map(|(_, v)| v)
    }

    /// Item `i` of an array.
    pub(crate) fn item(&self, i: usize) -> Option<&Spot> {
        match &self.inner {
            Inner::Seq(items) => items.get(i),
            _ => None,
        }
    }
}

/// The positions in `text`, which `serde_json` has accepted (so it is valid JSON nested
/// no deeper than its recursion limit); `None` when it is not valid after all.
pub(crate) fn spots(text: &str) -> Option<Spot> {
    let mut w = Walker {
        text,
        at: 0,
        line: 1,
        column: 1,
    };
    w.space();
    w.value()
}

/// A walk over valid JSON that keeps the line and column of where it is.
struct Walker<'a> {
    text: &'a str,
    at: usize,
    line: u32,
    column: u32,
}

impl Walker<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            if c == b'\n' {
                self.line = self.line.saturating_add(1);
                self.column = 1;
            } else if c & 0xC0 != 0x80 {
                self.column = self.column.saturating_add(1);
            }
            self.at += 1;
        }
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    fn value(&mut self) -> Option<Spot> {
        let (line, column) = (self.line, self.column);
        let inner = match self.peek()? {
            b'{' => {
                self.bump();
                let mut entries = Vec::new();
                loop {
                    self.space();
                    match self.peek()? {
                        b'}' => break,
                        b',' => {
                            self.bump();
                            continue;
                        }
                        _ => {}
                    }
                    let at = (self.line, self.column);
                    let name = self.string()?;
                    self.space();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.bump();
                    self.space();
                    let value = self.value()?;
                    entries.push((name, at, value));
                }
                self.bump();
                Inner::Map(entries)
            }
            b'[' => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    self.space();
                    match self.peek()? {
                        b']' => break,
                        b',' => {
                            self.bump();
                            continue;
                        }
                        _ => items.push(self.value()?),
                    }
                }
                self.bump();
                Inner::Seq(items)
            }
            b'"' => {
                self.string()?;
                Inner::Scalar
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.bump();
                }
                Inner::Scalar
            }
        };
        Some(Spot {
            line,
            column,
            inner,
        })
    }

    /// The string starting here, decoded.
    fn string(&mut self) -> Option<String> {
        let start = self.at;
        if self.peek()? != b'"' {
            return None;
        }
        self.bump();
        loop {
            match self.peek()? {
                b'\\' => {
                    self.bump();
                    self.bump();
                }
                b'"' => {
                    self.bump();
                    break;
                }
                _ => self.bump(),
            }
        }
        serde_json::from_str(&self.text[start..self.at]).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_give_their_top_level_keys_even_when_cut() {
        let keys = top_level_keys("{\"a\": {\"b\": 1}, \"c\": [\"d\", {\"e\": 2}], \"f\": \"x");
        assert_eq!(keys, ["a", "c", "f"]);
        assert!(top_level_keys("[{\"a\": 1}]").is_empty());
        assert_eq!(top_level_keys("\u{feff} {\"k\\\"q\": 1}"), ["k\"q"]);
    }

    #[test]
    fn string_values_come_with_their_path() {
        let mut seen = Vec::new();
        scan_head(
            r#"{"artifacts": {"S": {"type": "aws:cloudformation:stack", "l": ["x"]}}}"#,
            |path, value| {
                if let Some(v) = value {
                    seen.push(format!("{}={v}", path.join("/")));
                }
                true
            },
        );
        assert_eq!(
            seen,
            [
                "artifacts/S/type=aws:cloudformation:stack",
                "artifacts/S/l/[]=x"
            ]
        );
    }

    #[test]
    fn offsets_become_lines_and_character_columns() {
        let text = "{\n  \"é\": 1,\n  \"b\": 2}";
        let b = text.find("\"b\"").unwrap();
        let e = text.find('1').unwrap();
        assert_eq!(positions(text, &[b, 0, e]), [(3, 3), (1, 1), (2, 8)]);
        assert_eq!(shift((4, 10), 1, 3), (4, 12));
        assert_eq!(shift((4, 10), 2, 3), (5, 3));
    }

    #[test]
    fn spots_locate_names_and_items() {
        let text = "{\"a\":{\"b\":1},\n \"c\\u00e9\": [ {\"d\": \"\\ud83d\\ude00 é\"}, null ],\"e\":-1.5e3}";
        let s = spots(text).unwrap();
        assert_eq!((s.line, s.column), (1, 1));
        let (at, a) = s.entry("a").unwrap();
        assert_eq!(at, (1, 2));
        assert_eq!(a.entry("b").map(|(at, _)| at), Some((1, 7)));
        let (at, c) = s.entry("cé").unwrap();
        assert_eq!(at, (2, 2));
        let first = c.item(0).unwrap();
        assert_eq!((first.line, first.column), (2, 15));
        assert_eq!(first.entry("d").map(|(at, _)| at), Some((2, 16)));
        let second = c.item(1).unwrap();
        assert_eq!((second.line, second.column), (2, 40));
        assert_eq!(s.entry("e").map(|(at, _)| at), Some((2, 47)));
        assert!(spots("{\"a\" 1}").is_none());
    }

    /// The byte offset of a 1-based line and character column.
    fn offset(text: &str, line: u32, column: u32) -> usize {
        let start: usize = text
            .split_inclusive('\n')
            .take(line as usize - 1)
            .map(str::len)
            .sum();
        start
            + text[start..]
                .char_indices()
                .nth(column as usize - 1)
                .map_or(0, |(i, _)| i)
    }

    fn json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i32>().prop_map(serde_json::Value::from),
            "[a\"é\\\n😀<]{0,6}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::btree_map("[a_\"é\\\\😀]{0,5}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn check(text: &str, spot: &Spot) {
        let at = offset(text, spot.line, spot.column);
        match &spot.inner {
            Inner::Map(entries) => {
                assert_eq!(&text[at..=at], "{");
                for (name, (line, column), value) in entries {
                    let k = offset(text, *line, *column);
                    let mut de = serde_json::Deserializer::from_str(&text[k..]);
                    let decoded: String = serde::Deserialize::deserialize(&mut de).unwrap();
                    assert_eq!(&decoded, name);
                    check(text, value);
                }
            }
            Inner::Seq(items) => {
                assert_eq!(&text[at..=at], "[");
                items.iter().for_each(|i| check(text, i));
            }
            Inner::Scalar => assert!(!text[at..].starts_with([' ', ',', ':'])),
        }
    }

    proptest::proptest! {
        #[test]
        fn spots_point_at_what_they_name(v in json(), pretty: bool) {
            let text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            check(&text, &spots(&text).unwrap());
        }
    }

    #[test]
    fn raw_values_know_their_offset() {
        let text = r#"{"a": [1, {"b": 2}]}"#;
        let v: std::collections::BTreeMap<String, &RawValue> = serde_json::from_str(text).unwrap();
        assert_eq!(offset_of(text, v["a"]), 6);
    }
}
