//! Duplicate keys in JSON objects.
//!
//! JSON (RFC 8259) says the names in an object "SHOULD be unique" and leaves the meaning of
//! a repeated name to each reader: serde_json's typed reading fails or keeps the first,
//! while the parsers of Python, Ruby, JavaScript and Java keep the last. A security check
//! that reads a different value from the one AWS or a client acts on can pass a failing
//! configuration, so hlaudit never evaluates a document with a repeated name as if it were
//! clean: a record with one is an input error, and a JSON document held in a string (SMART
//! metadata) with one fails every clause that reads it.
//!
//! [`check_unique_keys`] is the one place a repeated name is detected, for records and for
//! documents held in strings alike.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// The first repeated name found in a JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The path of the object holding the name, e.g. `IdentityProviderConfiguration` or
    /// `Tags[2]`; empty for the top-level object.
    pub parent: String,
    /// The repeated name, as JSON readers decode it (escapes resolved).
    pub key: String,
    /// 1-based line of the second occurrence, within the text.
    pub line: usize,
    /// 1-based column (in bytes) of the opening quote of the second occurrence.
    pub column: usize,
}

impl DuplicateKey {
    /// The dotted path of the repeated name, e.g. `IdentityProviderConfiguration.Metadata`.
    pub fn path(&self) -> String {
        if self.parent.is_empty() {
            self.key.clone()
        } else {
            format!("{}.{}", self.parent, self.key)
        }
    }
}

impl fmt::Display for DuplicateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` appears twice (again at line {} column {}): JSON readers disagree on which \
             value counts",
            self.path(),
            self.line,
            self.column
        )
    }
}

/// Checks that no object in `text` repeats a name. A text that is not JSON is not judged
/// here (its reader reports the syntax error; this may then find a repeat or not), and
/// neither is anything after the first value.
///
/// The scan is a byte-level walk of the structure, not a parse: it skips string values
/// with `memchr` and decodes only names that hold escapes, so checking a record costs a
/// fraction of parsing it, and nesting depth costs memory, never stack.
///
/// ```
/// use hlaudit_model::json_keys::check_unique_keys;
/// assert!(check_unique_keys(r#"{"a": {"b": 1, "c": 2}, "b": 3}"#).is_ok());
/// let dup = check_unique_keys("{\"a\": {\"b\": 1,\n \"b\": 2}}").unwrap_err();
/// assert_eq!((dup.path().as_str(), dup.line), ("a.b", 2));
/// ```
pub fn check_unique_keys(text: &str) -> Result<(), DuplicateKey> {
    match walk(text, false, None) {
        Err(Problem::DuplicateKey(d)) => Err(d),
        _ => Ok(()),
    }
}

/// A value JSON readers disagree on, besides a repeated name: a lone UTF-16 surrogate
/// escape (`"\ud800"`), a number beyond a double (`1e400`), or nesting deeper than
/// serde_json reads (128 levels, the outermost counting 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The path of the value (of the object holding it, for a name), e.g. `Tags[2].Value`;
    /// empty for the top level.
    pub path: String,
    /// What is wrong with it, as serde_json says.
    pub message: String,
    /// 1-based line of the value, within the text.
    pub line: usize,
    /// 1-based column (in bytes) of the value's first byte.
    pub column: usize,
}

/// What [`check_record_text`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A name repeated in one object.
    DuplicateKey(DuplicateKey),
    /// A value readers disagree on.
    Unreadable(Unreadable),
}

/// Checks a record's text as strictly as reading every value of it: no repeated name (as
/// [`check_unique_keys`]), no lone surrogate escape, no number beyond a double and no
/// nesting beyond serde_json's limit, in fields a policy reads or not. Reading a record
/// only for the fields it needs skips the rest without decoding it, so without this a
/// record holding `"\ud800"` in a field nobody reads would be read, and one policy
/// reading that field later could not read the record at all.
///
/// ```
/// use hlaudit_model::json_keys::{check_record_text, Problem};
/// assert!(check_record_text(r#"{"a": "\ud83d\ude00", "b": 1e300}"#).is_ok());
/// let Err(Problem::Unreadable(u)) = check_record_text("{\"a\": {\"b\":\n 1e400}}") else {
///     panic!()
/// };
/// assert_eq!((u.path.as_str(), u.line, u.column), ("a.b", 2, 2));
/// ```
pub fn check_record_text(text: &str) -> Result<(), Problem> {
    walk(text, true, None).map(|_| ())
}

/// The JSON type a known field of a record must have for its typed reading to accept it
/// without question. `null` always fits (every known field is optional); anything else
/// leaves the verdict to the typed reading, which names the field when it refuses.
#[derive(Debug)]
pub(crate) enum Ty {
    /// A string.
    Str,
    /// `true` or `false`.
    Bool,
    /// A whole number within an `i64` (serde_json reads `-0` as a float, so it does not fit).
    Int,
    /// A timestamp: a number, or a string.
    Time,
    /// An object with these known fields; other fields take any value.
    Obj(&'static [(&'static str, Ty)]),
    /// An array of strings (`null` among them does not fit).
    Strs,
}

/// What [`check_record_fit`] found in a text without problems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fit {
    /// Whether the top level is an object and every known field in it has a type its
    /// [`Ty`] accepts; when not, only the typed reading can say whether it is accepted.
    pub(crate) fits: bool,
    /// Where the value of each known top-level field starts: its index in the schema, and
    /// the offset of its first byte in the text.
    pub(crate) top: Vec<(usize, usize)>,
}

/// [`check_record_text`], which also checks the types of the known fields in `schema` (a
/// record's API shape) in the same scan, and finds where the known top-level values start,
/// so that a record that fits is not parsed again to be type-checked.
pub(crate) fn check_record_fit(
    text: &str,
    schema: &'static [(&'static str, Ty)],
) -> Result<Fit, Problem> {
    walk(text, true, Some(schema)).map(|fit| {
        fit.unwrap_or(Fit {
            fits: false,
            top: Vec::new(),
        })
    })
}

/// The string value whose opening quote is at `at` in `text`, escapes decoded; `None` for
/// `null` or anything else, or a string that does not end.
pub(crate) fn string_at(text: &str, at: usize) -> Option<Cow<'_, str>> {
    let b = text.as_bytes();
    if b.get(at) != Some(&b'"') {
        return None;
    }
    let (end, _) = string_end(b, at + 1)?;
    let raw = text.get(at + 1..end)?;
    if raw.contains('\\') {
        serde_json::from_str::<String>(text.get(at..=end)?)
            .ok()
            .map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(raw))
    }
}

/// The number whose first byte is at `at` in `text`, as serde_json reads it into a double.
pub(crate) fn number_at(text: &str, at: usize) -> Option<f64> {
    serde_json::from_str::<f64>(text.get(at..at + number_len(text.as_bytes(), at))?).ok()
}

/// The length of the number token starting at `at`.
fn number_len(b: &[u8], at: usize) -> usize {
    b.get(at..).map_or(0, |rest| {
        rest.iter()
            .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .unwrap_or(rest.len())
    })
}

/// Whether the value starting at `at` has a type `ty` accepts without question.
fn fits(ty: &Ty, b: &[u8], at: usize) -> bool {
    match (ty, b[at]) {
        (_, b'n') => true,
        (Ty::Str | Ty::Time, b'"') | (Ty::Time, b'-' | b'0'..=b'9') => true,
        (Ty::Bool, b't' | b'f') => true,
        (Ty::Obj(_), b'{') | (Ty::Strs, b'[') => true,
        (Ty::Int, b'-' | b'0'..=b'9') => {
            let token = &b[at..at + number_len(b, at)];
            std::str::from_utf8(token)
                .ok()
                .and_then(|t| t.parse::<i64>().ok())
                .is_some_and(|n| n < 0 || token[0] != b'-')
        }
        _ => false,
    }
}

/// The depth at which serde_json stops reading (`[` or `{` number 128, nested).
const MAX_DEPTH: usize = 128;

/// The walk behind [`check_unique_keys`] and, `strict`, [`check_record_text`]; with a
/// `schema`, [`check_record_fit`] (which is what it returns then).
fn walk(
    text: &str,
    strict: bool,
    schema: Option<&'static [(&'static str, Ty)]>,
) -> Result<Option<Fit>, Problem> {
    let b = text.as_bytes();
    let mut frames: Vec<Frame<'_>> = Vec::new();
    // The names of the open objects, innermost last; each frame knows where its own start.
    let mut names: Vec<Cow<'_, str>> = Vec::new();
    let mut fit = schema.map(|_| Fit {
        fits: true,
        top: Vec::with_capacity(16),
    });
    // The type the next value must have, and its index when it is a top-level field.
    let mut pending: Option<(&'static Ty, Option<usize>)> = None;
    // What the object or array opened next knows: an object's known fields (the root's are
    // the schema's), or that an array must hold strings.
    let mut opening: (Option<&'static [(&'static str, Ty)]>, bool) = (None, false);
    let mut i = 0;
    while i < b.len() {
        if let Some(f) = fit.as_mut().filter(|f| f.fits) {
            let value_start = match b[i] {
                b'"' => !matches!(
                    frames.last(),
                    Some(Frame::Object {
                        want_name: true,
                        ..
                    })
                ),
                b'{' | b'[' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => true,
                _ => false,
            };
            if value_start {
                let strs = matches!(frames.last(), Some(Frame::Array { strs: true, .. }));
                match (frames.is_empty(), pending.take()) {
                    // The record itself: an object of the schema's fields.
                    (true, _) => {
                        f.fits = b[i] == b'{';
                        opening = (schema, false);
                    }
                    (false, _) if strs => f.fits = b[i] == b'"',
                    (false, Some((ty, top))) => {
                        f.fits = fits(ty, b, i);
                        if let Some(index) = top {
                            f.top.push((index, i));
                        }
                        opening = match (ty, b[i]) {
                            (Ty::Obj(fields), b'{') => (Some(fields), false),
                            (Ty::Strs, b'[') => (None, true),
                            _ => (None, false),
                        };
                    }
                    (false, None) => opening = (None, false),
                }
            }
        }
        match b[i] {
            b'{' | b'[' if strict && frames.len() + 1 >= MAX_DEPTH => {
                return Err(unreadable(
                    b,
                    i,
                    &frames,
                    "nested deeper than 127 levels (serde_json's limit)",
                ));
            }
            b'{' => {
                frames.push(Frame::Object {
                    first_name: names.len(),
                    hashed: None,
                    want_name: true,
                    last: None,
                    known: std::mem::take(&mut opening).0,
                });
                i += 1;
            }
            b'[' => {
                let strs = std::mem::take(&mut opening).1;
                frames.push(Frame::Array { index: 0, strs });
                i += 1;
            }
            b'}' | b']' => {
                if let Some(Frame::Object { first_name, .. }) = frames.pop() {
                    names.truncate(first_name);
                }
                if frames.is_empty() {
                    return Ok(fit);
                }
                i += 1;
            }
            b',' => {
                match frames.last_mut() {
                    Some(Frame::Object { want_name, .. }) => *want_name = true,
                    Some(Frame::Array { index, .. }) => *index += 1,
                    None => {}
                }
                i += 1;
            }
            b'"' => {
                let Some((end, hex_escape)) = string_end(b, i + 1) else {
                    return Ok(None);
                };
                if strict && hex_escape {
                    // Only serde_json knows exactly which escapes it refuses.
                    if let Err(e) = serde_json::from_str::<String>(&text[i..=end]) {
                        let what = format!(
                            "a UTF-16 surrogate escape without its pair ({})",
                            strip_position(&e.to_string())
                        );
                        return Err(unreadable(b, i, &frames, &what));
                    }
                }
                let frames_len = frames.len();
                let repeated = match frames.last_mut() {
                    Some(Frame::Object {
                        first_name,
                        hashed,
                        want_name: want @ true,
                        last,
                        known,
                    }) => {
                        *want = false;
                        let raw = &text[i + 1..end];
                        let name: Cow<'_, str> = if raw.contains('\\') {
                            match serde_json::from_str::<String>(&text[i..=end]) {
                                Ok(decoded) => Cow::Owned(decoded),
                                Err(_) => return Ok(None),
                            }
                        } else {
                            Cow::Borrowed(raw)
                        };
                        if let Some(fields) = known {
                            let root = frames_len == 1;
                            pending = fields
                                .iter()
                                .position(|(n, _)| *n == name)
                                .map(|k| (&fields[k].1, root.then_some(k)));
                        }
                        let fresh = insert(&mut names, *first_name, hashed, name.clone());
                        *last = Some(name);
                        !fresh
                    }
                    _ => false,
                };
                if repeated {
                    let (line, column) = line_col(b, i);
                    let key = match frames.last() {
                        Some(Frame::Object { last: Some(n), .. }) => n.to_string(),
                        _ => String::new(),
                    };
                    return Err(Problem::DuplicateKey(DuplicateKey {
                        parent: parent_path(&frames[..frames.len() - 1]),
                        key,
                        line,
                        column,
                    }));
                }
                i = end + 1;
            }
            b'-' | b'0'..=b'9' if strict => {
                let len = number_len(b, i);
                let number = &text[i..i + len];
                // A double holds every number of up to 19 digits without an exponent.
                if len > 19 || number.contains(['e', 'E']) {
                    if let Err(e) = serde_json::from_str::<f64>(number) {
                        let what = format!(
                            "`{number}` is beyond the range of a double ({})",
                            strip_position(&e.to_string())
                        );
                        return Err(unreadable(b, i, &frames, &what));
                    }
                }
                i += len;
            }
            _ => i += 1,
        }
    }
    Ok(None)
}

/// An [`Unreadable`] value starting at `at`, inside `frames`.
fn unreadable(b: &[u8], at: usize, frames: &[Frame<'_>], message: &str) -> Problem {
    let (line, column) = line_col(b, at);
    // A name is located by the object holding it, a value by its own path.
    let path = match frames.last() {
        Some(Frame::Object {
            want_name: true, ..
        }) => parent_path(&frames[..frames.len() - 1]),
        _ => parent_path(frames),
    };
    // A path 127 levels deep says no more than its start.
    let path = match path.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &path[..cut]),
        None => path,
    };
    Problem::Unreadable(Unreadable {
        path,
        message: message.to_owned(),
        line,
        column,
    })
}

/// serde_json's message without its " at line L column C" (positions are given apart).
pub(crate) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// An open object or array.
enum Frame<'a> {
    Object {
        /// Where this object's names start in the shared list.
        first_name: usize,
        /// This object's names, once it has more than [`LINEAR`].
        hashed: Option<HashSet<Cow<'a, str>>>,
        /// Whether the next string is a name.
        want_name: bool,
        /// The name whose value is being read (for the path of a repeat inside it).
        last: Option<Cow<'a, str>>,
        /// The fields a schema knows in this object, if any.
        known: Option<&'static [(&'static str, Ty)]>,
    },
    Array {
        /// The index of the element being read.
        index: usize,
        /// Whether a schema wants strings in it.
        strs: bool,
    },
}

/// Objects are mostly small, and a linear scan of borrowed names is cheapest then; past
/// this many names a hash set keeps a hostile object with a million names from taking
/// quadratic time.
const LINEAR: usize = 16;

/// Adds `name` to the names of the object whose names start at `first`; false when it is
/// there already.
fn insert<'a>(
    names: &mut Vec<Cow<'a, str>>,
    first: usize,
    hashed: &mut Option<HashSet<Cow<'a, str>>>,
    name: Cow<'a, str>,
) -> bool {
    if let Some(set) = hashed {
        return set.insert(name);
    }
    let k = name.as_bytes();
    let own = names.get(first..).unwrap_or_default();
    if own.iter().any(|n| {
        let n = n.as_bytes();
        n.len() == k.len() && n.last() == k.last() && n == k
    }) {
        return false;
    }
    if own.len() == LINEAR {
        let mut set: HashSet<Cow<'a, str>> = names.drain(first..).collect();
        set.insert(name);
        *hashed = Some(set);
    } else {
        names.push(name);
    }
    true
}

/// The index of the quote that ends the string whose text starts at `from`, and whether
/// the string holds a `\u` escape; `None` when the text ends first.
fn string_end(b: &[u8], mut from: usize) -> Option<(usize, bool)> {
    let mut hex_escape = false;
    loop {
        let j = from + memchr::memchr2(b'"', b'\\', b.get(from..)?)?;
        if b[j] == b'"' {
            return Some((j, hex_escape));
        }
        hex_escape |= b.get(j + 1) == Some(&b'u');
        from = j + 2;
    }
}

/// The path of the object holding a repeated name, from the frames around it.
fn parent_path(frames: &[Frame<'_>]) -> String {
    let mut out = String::new();
    let mut name: Option<&str> = None;
    for f in frames {
        match f {
            Frame::Object { last, .. } => {
                if let Some(n) = name.take() {
                    push_name(&mut out, n);
                }
                name = last.as_deref();
            }
            Frame::Array { index, .. } => {
                if let Some(n) = name.take() {
                    push_name(&mut out, n);
                }
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
    if let Some(n) = name {
        push_name(&mut out, n);
    }
    out
}

fn push_name(out: &mut String, name: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(name);
}

/// 1-based line and byte column of offset `at`.
fn line_col(b: &[u8], at: usize) -> (usize, usize) {
    let before = &b[..at];
    let line = 1 + memchr::memchr_iter(b'\n', before).count();
    let column = at
        - before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |n| n + 1)
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_second_occurrence_and_its_path() {
        let text = "{\"A\": [{\"x\": 1}, {\"y\": {\"k\": 1,\n\"k\": 2}}]}";
        let d = check_unique_keys(text).unwrap_err();
        assert_eq!(d.parent, "A[1].y");
        assert_eq!(d.key, "k");
        assert_eq!((d.line, d.column), (2, 1));
        assert_eq!(
            d.to_string(),
            "`A[1].y.k` appears twice (again at line 2 column 1): JSON readers disagree on \
             which value counts"
        );
        let d = check_unique_keys(r#"{"a\"b": 1, "a\"b": 2}"#).unwrap_err();
        assert_eq!((d.key.as_str(), d.column), ("a\"b", 13));
    }

    #[test]
    fn escaped_names_are_compared_as_readers_decode_them() {
        let d = check_unique_keys(r#"{"plain": 1, "pl\u0061in": 2}"#).unwrap_err();
        assert_eq!(d.key, "plain");
        assert!(check_unique_keys(r#"{"a": 1, "A": 2, "a ": 3}"#).is_ok());
    }

    #[test]
    fn the_same_name_in_different_objects_is_fine() {
        assert!(check_unique_keys(r#"{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}"#).is_ok());
        assert!(check_unique_keys("[1, 2, 3]").is_ok());
        assert!(
            check_unique_keys("not json").is_ok(),
            "syntax is the reader's job"
        );
    }

    #[test]
    fn large_objects_switch_to_hashing_and_still_find_repeats() {
        let mut text = String::from("{");
        for i in 0..5000 {
            text.push_str(&format!("\"k{i}\": {i},"));
        }
        text.push_str("\"k4321\": 0}");
        let d = check_unique_keys(&text).unwrap_err();
        assert_eq!(d.key, "k4321");
        let mut text = String::from("{");
        for i in 0..100 {
            text.push_str(&format!("\"n{i}\": {{\"n{i}\": 1}},"));
        }
        assert!(check_unique_keys(&format!("{text}\"z\": 1}}")).is_ok());
        let d = check_unique_keys(&format!("{text}\"n3\": 1}}")).unwrap_err();
        assert_eq!((d.parent.as_str(), d.key.as_str()), ("", "n3"));
    }

    /// Whether a JSON text repeats a name, as a serde visitor sees it: the reference the
    /// byte scan is checked against.
    fn repeats_by_parsing(text: &str) -> bool {
        use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
        struct Seen;
        impl<'de> DeserializeSeed<'de> for Seen {
            type Value = bool;
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
                d.deserialize_any(self)
            }
        }
        impl<'de> Visitor<'de> for Seen {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_str<E>(self, _: &str) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_unit<E>(self) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
                let mut any = false;
                while let Some(r) = seq.next_element_seed(Seen)? {
                    any |= r;
                }
                Ok(any)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
                let mut keys = HashSet::new();
                let mut any = false;
                while let Some(k) = map.next_key::<String>()? {
                    any |= !keys.insert(k);
                    any |= map.next_value_seed(Seen)?;
                }
                Ok(any)
            }
        }
        Seen.deserialize(&mut serde_json::Deserializer::from_str(text))
            .unwrap()
    }

    fn json_text() -> impl proptest::strategy::Strategy<Value = String> {
        json_text_with(&[])
    }

    /// Values and names readers disagree on, or nearly: lone surrogates, numbers at and
    /// beyond a double's range, and what looks like them but is fine.
    const ODD: &[&str] = &[
        r#""\ud800""#,
        r#""a\udfff""#,
        r#""\ud800\u0041""#,
        r#""\ud800\\u""#,
        r#""\ud83d\ude00""#,
        r#""\\ud800""#,
        "1e400",
        "-1e309",
        "1e308",
        "0e999",
        "1e-999",
        "12345678901234567890123",
    ];

    /// JSON texts of a few names and leaves, nested; `extra` joins both.
    fn json_text_with(
        extra: &'static [&'static str],
    ) -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        // Few names, some escaped or holding structure, so repeats and tricky strings are common.
        let mut names = vec![
            r#""a""#,
            r#""b""#,
            r#""\u0061""#,
            r#""a\"b""#,
            r#""{\"a\":1}""#,
            r#""\\""#,
        ];
        names.extend(extra.iter().filter(|e| e.starts_with('"')));
        let name = prop::sample::select(names);
        let mut leaves = vec![
            "1",
            "-2.5e3",
            "true",
            "null",
            r#""x""#,
            r#""}{,:\"""#,
            r#""\\""#,
            r#""[\"a\"]""#,
        ];
        leaves.extend(extra);
        let leaf = prop::sample::select(leaves).prop_map(str::to_owned);
        leaf.prop_recursive(4, 40, 5, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|v| format!("[{}]", v.join(", "))),
                prop::collection::vec((name.clone(), inner), 0..5).prop_map(|v| {
                    let body: Vec<String> =
                        v.into_iter().map(|(k, x)| format!("{k}: {x}")).collect();
                    format!("{{\n{}}}", body.join(",\n"))
                }),
            ]
        })
    }

    /// Whether serde_json reads `text` whole (decoding every string and number and
    /// counting depth), as the engine reads a record's fields.
    fn readable_by_parsing(text: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(text).is_ok()
    }

    fn unreadable_at(text: &str) -> (String, usize, usize) {
        match check_record_text(text) {
            Err(Problem::Unreadable(u)) => (u.path, u.line, u.column),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn values_readers_disagree_on_are_found_where_they_are() {
        assert_eq!(
            unreadable_at("{\"a\": [1,\n \"x\\ud800\"]}"),
            ("a[1]".to_owned(), 2, 2)
        );
        assert_eq!(
            unreadable_at(r#"{"t": {"k\udc00": 1}}"#),
            ("t".to_owned(), 1, 8)
        );
        assert_eq!(unreadable_at(r#"{"n": -1e400}"#), ("n".to_owned(), 1, 7));
        let long = format!(r#"{{"n": 1{}}}"#, "0".repeat(400));
        assert_eq!(unreadable_at(&long), ("n".to_owned(), 1, 7));
        let Err(Problem::Unreadable(u)) = check_record_text(r#"{"n": 1E309}"#) else {
            panic!()
        };
        assert_eq!(
            u.message,
            "`1E309` is beyond the range of a double (number out of range)"
        );
        // What readers agree on passes: pairs, escaped backslashes, small and huge-but-finite
        // numbers, underflow to zero.
        for ok in [
            r#"{"a": "\ud83d\ude00", "b": "\\ud800", "c": "\u00e9"}"#,
            r#"{"a": 1.7976931348623157e308, "b": 0e99999, "c": 1e-400, "d": -0}"#,
            r#"{"a": 18446744073709551616, "b": 123456789012345678901234567890}"#,
        ] {
            assert_eq!(check_record_text(ok), Ok(()), "{ok}");
            assert!(readable_by_parsing(ok), "{ok}");
        }
        // A repeated name is still found, and the lenient check ignores the rest.
        assert!(matches!(
            check_record_text(r#"{"a": 1, "a": 2}"#),
            Err(Problem::DuplicateKey(_))
        ));
        assert!(check_unique_keys(r#"{"a": "\ud800", "b": 1e400}"#).is_ok());
    }

    #[test]
    fn nesting_is_refused_exactly_where_serde_json_stops() {
        for depth in 120..135 {
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
            for t in [text, objects] {
                assert_eq!(
                    check_record_text(&t).is_ok(),
                    readable_by_parsing(&t),
                    "depth {depth}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_strict_scan_refuses_exactly_what_a_parser_cannot_read(text in json_text_with(ODD)) {
            let readable = readable_by_parsing(&text);
            match check_record_text(&text) {
                Ok(()) => proptest::prop_assert!(readable && !repeats_by_parsing(&text), "{}", text),
                Err(Problem::Unreadable(_)) => proptest::prop_assert!(!readable, "{}", text),
                // A repeat found first hides what follows it.
                Err(Problem::DuplicateKey(_)) => {
                    proptest::prop_assert!(!readable || repeats_by_parsing(&text), "{}", text)
                }
            }
        }

        #[test]
        fn the_byte_scan_finds_a_repeat_exactly_when_a_parser_does(text in json_text()) {
            proptest::prop_assert_eq!(
                check_unique_keys(&text).is_err(),
                repeats_by_parsing(&text),
                "{}", text
            );
        }
    }
}
