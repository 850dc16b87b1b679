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
//! [`KeySet`] is the one place a repeated name is detected; [`Unique`] walks a whole value
//! with it, without building anything, and [`check_unique_keys`] says where the first
//! repeated name of a text is.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

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
/// here (its reader reports the syntax error), and neither is anything after the first
/// value.
///
/// ```
/// use hlaudit_model::json_keys::check_unique_keys;
/// assert!(check_unique_keys(r#"{"a": {"b": 1, "c": 2}, "b": 3}"#).is_ok());
/// let dup = check_unique_keys("{\"a\": {\"b\": 1,\n \"b\": 2}}").unwrap_err();
/// assert_eq!((dup.path().as_str(), dup.line), ("a.b", 2));
/// ```
pub fn check_unique_keys(text: &str) -> Result<(), DuplicateKey> {
    let trail = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    match (Unique {
        trail: Some(&trail),
    })
    .deserialize(&mut de)
    {
        Ok(()) => Ok(()),
        Err(e) => match trail.into_inner() {
            Some(t) => {
                let (line, column) = key_start(text, e.line(), e.column());
                Err(DuplicateKey {
                    parent: t.parent(),
                    key: t.key,
                    line,
                    column,
                })
            }
            None => Ok(()),
        },
    }
}

/// The line and column of the opening quote of the name whose closing quote is at
/// `line`:`column` (where the JSON reader stops after a name); the same place when the
/// quote cannot be found.
fn key_start(text: &str, line: usize, column: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let line_start = if line <= 1 {
        Some(0)
    } else {
        memchr::memchr_iter(b'\n', bytes)
            .nth(line - 2)
            .map(|i| i + 1)
    };
    let Some(close) = line_start.map(|s| s + column.saturating_sub(1)) else {
        return (line, column);
    };
    if bytes.get(close) != Some(&b'"') {
        return (line, column);
    }
    // A quote opens the name unless an odd number of backslashes escapes it.
    let mut i = close;
    while i > 0 {
        i -= 1;
        if bytes[i] == b'"' {
            let escapes = bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count();
            if escapes % 2 == 0 {
                let before = &bytes[..i];
                let l = 1 + memchr::memchr_iter(b'\n', before).count();
                let c = i - before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |n| n + 1)
                    + 1;
                return (l, c);
            }
        }
    }
    (line, column)
}

/// The names of one object seen so far. Objects are mostly small, and a linear scan of
/// borrowed names is cheapest then; past [`KeySet::LINEAR`] names a hash set keeps a
/// hostile object with a million names from taking quadratic time.
#[derive(Default)]
pub struct KeySet<'de> {
    names: Vec<Cow<'de, str>>,
    hashed: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> KeySet<'de> {
    const LINEAR: usize = 16;

    /// An empty set.
    pub fn new() -> Self {
        KeySet::default()
    }

    /// Adds a name; false when it was there already.
    pub fn insert(&mut self, key: &Cow<'de, str>) -> bool {
        if let Some(set) = &mut self.hashed {
            return set.insert(key.clone());
        }
        let k = key.as_bytes();
        let seen = self.names.iter().any(|n| {
            let n = n.as_bytes();
            n.len() == k.len() && n.last() == k.last() && n == k
        });
        if seen {
            return false;
        }
        if self.names.len() == Self::LINEAR {
            let mut set: HashSet<Cow<'de, str>> = self.names.drain(..).collect();
            set.insert(key.clone());
            self.hashed = Some(set);
        } else {
            self.names.push(key.clone());
        }
        true
    }
}

/// The error a visitor returns for a repeated name: the message names it, and the JSON
/// reader adds where it stopped (just past the name).
pub fn duplicate_error<E: de::Error>(key: &str) -> E {
    E::custom(format_args!(
        "duplicate key `{key}`: JSON readers disagree on which value counts"
    ))
}

/// Where a repeated name was found: the name, and the keys and indexes of the objects and
/// arrays around it (innermost first, added as the error travels out).
struct Trail {
    key: String,
    around: Vec<Segment>,
}

enum Segment {
    Key(String),
    Index(usize),
}

impl Trail {
    fn parent(&self) -> String {
        let mut out = String::new();
        for seg in self.around.iter().rev() {
            match seg {
                Segment::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Segment::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

/// Walks a JSON value without keeping it, failing on the first object that repeats a name.
/// With a trail, the path to the name is recorded for [`check_unique_keys`]; without one
/// it is a drop-in for `IgnoredAny` that also checks names.
#[derive(Clone, Copy, Default)]
pub struct Unique<'t> {
    trail: Option<&'t RefCell<Option<Trail>>>,
}

impl Unique<'_> {
    /// A walker that records no path (the error message still names the key).
    pub fn untracked() -> Self {
        Unique { trail: None }
    }

    fn note(&self, seg: impl FnOnce() -> Segment) {
        if let Some(t) = self.trail {
            if let Some(trail) = t.borrow_mut().as_mut() {
                trail.around.push(seg());
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for Unique<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            match seq.next_element_seed(self) {
                Ok(Some(())) => i += 1,
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.note(|| Segment::Index(i));
                    return Err(e);
                }
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = KeySet::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if !seen.insert(&key) {
                if let Some(t) = self.trail {
                    *t.borrow_mut() = Some(Trail {
                        key: key.to_string(),
                        around: Vec::new(),
                    });
                }
                return Err(duplicate_error(&key));
            }
            if let Err(e) = map.next_value_seed(self) {
                self.note(|| Segment::Key(key.to_string()));
                return Err(e);
            }
        }
        Ok(())
    }
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
        let mut set = KeySet::new();
        for i in 0..100 {
            assert!(set.insert(&Cow::Owned(format!("n{i}"))));
        }
        assert!(!set.insert(&Cow::Borrowed("n3")));
        assert!(!set.insert(&Cow::Borrowed("n99")));
    }
}
