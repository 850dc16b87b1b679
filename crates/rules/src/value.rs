//! The engine's record representation: a borrowed JSON tree ([`Val`]) that keeps only the
//! parts of a record the compiled policies read.
//!
//! A record is parsed once per evaluation with a [`Trie`] of the field names the policy set
//! uses; every other field is skipped without being kept, so the cost of reading a record
//! is close to validating it. Strings without escapes borrow from the record's text.
//!
//! Skipping is as strict as keeping: a skipped string's escapes are decoded (a lone
//! surrogate is an error), a skipped number must fit a double, and skipped nesting counts
//! against serde_json's depth limit. serde's `IgnoredAny` checks none of these, so a record
//! (or a `|json` document) with `"\ud800"` in a field no policy read was evaluated, and the
//! same record became unreadable as soon as one more policy read that field: a pair's
//! verdict depended on which other policies were loaded. A record's own text is refused
//! for such values when the record is built (`hlaudit_model::json_keys::check_record_text`),
//! so [`parse_record`] only scans past what it skips; documents held in strings rely on
//! this.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use hlaudit_model::json_keys::check_unique_keys;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// A JSON value that borrows its strings where it can.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number (as a double, like JavaScript).
    Num(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// An array.
    Arr(Vec<Val<'a>>),
    /// An object, fields in document order.
    Obj(Vec<(Cow<'a, str>, Val<'a>)>),
}

impl<'a> Val<'a> {
    /// The field `key` of an object (the first one, if repeated).
    pub fn get(&self, key: &str) -> Option<&Val<'a>> {
        match self {
            Val::Obj(fields) => fields.iter().find(|(k, _)| key_eq(k, key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The JSON type name, as the language's `type` operator spells it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "boolean",
            Val::Num(_) => "number",
            Val::Str(_) => "string",
            Val::Arr(_) => "array",
            Val::Obj(_) => "object",
        }
    }

    /// The type with an article, for evidence: `a string`, `an array`.
    pub fn a_type(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "a boolean",
            Val::Num(_) => "a number",
            Val::Str(_) => "a string",
            Val::Arr(_) => "an array",
            Val::Obj(_) => "an object",
        }
    }

    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A copy that owns all its strings.
    pub fn into_owned(self) -> Val<'static> {
        match self {
            Val::Null => Val::Null,
            Val::Bool(b) => Val::Bool(b),
            Val::Num(n) => Val::Num(n),
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Arr(a) => Val::Arr(a.into_iter().map(Val::into_owned).collect()),
            Val::Obj(o) => Val::Obj(
                o.into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
        }
    }

    /// Borrows a `serde_json` value (used for enrichments and literals).
    pub fn from_json(v: &'a serde_json::Value) -> Val<'a> {
        match v {
            serde_json::Value::Null => Val::Null,
            serde_json::Value::Bool(b) => Val::Bool(*b),
            serde_json::Value::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Val::Str(Cow::Borrowed(s)),
            serde_json::Value::Array(a) => Val::Arr(a.iter().map(Val::from_json).collect()),
            serde_json::Value::Object(o) => Val::Obj(
                o.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Val::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Borrows a tag map as an object.
    pub fn from_tags(tags: &'a BTreeMap<String, String>) -> Val<'a> {
        Val::Obj(
            tags.iter()
                .map(|(k, v)| {
                    (
                        Cow::Borrowed(k.as_str()),
                        Val::Str(Cow::Borrowed(v.as_str())),
                    )
                })
                .collect(),
        )
    }

    /// Converts to a `serde_json` value, shortening long strings (to 200 characters) and
    /// long arrays and objects (to 20 entries), for evidence.
    pub fn to_json_short(&self) -> serde_json::Value {
        const MAX_STR: usize = 200;
        const MAX_ITEMS: usize = 20;
        match self {
            Val::Null => serde_json::Value::Null,
            Val::Bool(b) => serde_json::Value::Bool(*b),
            Val::Num(n) => num_to_json(*n),
            Val::Str(s) => serde_json::Value::String(shorten(s, MAX_STR)),
            Val::Arr(a) => {
                let mut out: Vec<serde_json::Value> =
                    a.iter().take(MAX_ITEMS).map(Val::to_json_short).collect();
                if a.len() > MAX_ITEMS {
                    out.push(serde_json::Value::String(format!(
                        "... {} more",
                        a.len() - MAX_ITEMS
                    )));
                }
                serde_json::Value::Array(out)
            }
            Val::Obj(o) => {
                let mut out = serde_json::Map::new();
                for (k, v) in o.iter().take(MAX_ITEMS) {
                    out.insert(k.to_string(), v.to_json_short());
                }
                if o.len() > MAX_ITEMS {
                    out.insert(
                        "...".to_owned(),
                        serde_json::Value::String(format!("{} more", o.len() - MAX_ITEMS)),
                    );
                }
                serde_json::Value::Object(out)
            }
        }
    }

    /// Converts to a `serde_json` value without shortening.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Val::Null => serde_json::Value::Null,
            Val::Bool(b) => serde_json::Value::Bool(*b),
            Val::Num(n) => num_to_json(*n),
            Val::Str(s) => serde_json::Value::String(s.to_string()),
            Val::Arr(a) => serde_json::Value::Array(a.iter().map(Val::to_json).collect()),
            Val::Obj(o) => serde_json::Value::Object(
                o.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Renders a value for messages: strings as they are, other values as JSON, shortened.
impl fmt::Display for Val<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Str(s) => f.write_str(&shorten(s, 200)),
            other => write!(f, "{}", other.to_json_short()),
        }
    }
}

fn num_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Shortens a string to `max` characters, marking the cut with `...`.
pub fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((i, _)) => format!("{}...", &s[..i]),
    }
}

/// Field name equality, cheapest first: names of one object mostly differ in length or in
/// their first or last byte, and this avoids a call to `memcmp` for those.
#[inline]
pub(crate) fn key_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.first() == b.first() && a.last() == b.last() && a == b
}

/// JSON equality with numbers compared numerically.
pub fn val_eq(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Num(x), Val::Num(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Arr(x), Val::Arr(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| val_eq(p, q))
        }
        (Val::Obj(x), Val::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| val_eq(v, w)))
        }
        _ => false,
    }
}

/// The record fields the compiled policies read, as a tree of field names. A node marked
/// `all` keeps its whole subtree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trie {
    /// Keep everything below this node.
    pub all: bool,
    /// Children by field name.
    pub children: BTreeMap<String, Trie>,
}

impl Trie {
    /// A trie that keeps everything.
    pub fn everything() -> Self {
        Trie {
            all: true,
            children: BTreeMap::new(),
        }
    }

    /// The child for a field name (a linear scan: tries are small, and it spares the
    /// string comparisons of a tree lookup).
    pub fn child(&self, key: &str) -> Option<&Trie> {
        self.children
            .iter()
            .find(|(k, _)| key_eq(k, key))
            .map(|(_, t)| t)
    }

    /// Adds a path of field names; `whole` keeps the subtree at its end.
    pub fn insert(&mut self, keys: &[&str], whole: bool) {
        let mut node = self;
        for k in keys {
            if node.all {
                return;
            }
            node = node.children.entry((*k).to_owned()).or_default();
        }
        if whole {
            node.all = true;
            node.children.clear();
        }
    }
}

/// Parses JSON text keeping only what `trie` names (everything when `trie.all`).
pub fn parse_pruned<'a>(text: &'a str, trie: &Trie) -> Result<Val<'a>, serde_json::Error> {
    parse_with(
        text,
        Pruned {
            trie,
            checked: false,
            unique: false,
        },
    )
}

/// [`parse_pruned`] for a record's text (`hlaudit_model::Record::raw_json`), which was
/// checked as strictly as reading it whole when the record was built (every way of
/// building one goes through `hlaudit_model::json_keys::check_record_text`): what is not
/// kept is only scanned past (`IgnoredAny`), not decoded again. The result is
/// [`parse_pruned`]'s.
pub fn parse_record<'a>(text: &'a str, trie: &Trie) -> Result<Val<'a>, serde_json::Error> {
    parse_with(
        text,
        Pruned {
            trie,
            checked: true,
            unique: false,
        },
    )
}

/// Parses a JSON document held in a string ([`parse_pruned`], or the whole document
/// without a trie) and refuses one whose objects repeat a name, with
/// [`check_unique_keys`]'s message: such a document reads differently in its clients.
/// The parse finds a repeat itself, so the document is scanned once; the byte scan runs
/// only when the parse fails, to name the repeat (or to find that a repeat comes before
/// what stopped the parse, which it reports first).
pub fn parse_document<'a>(text: &'a str, trie: Option<&Trie>) -> Result<Val<'a>, String> {
    let seed = Pruned {
        trie: trie.unwrap_or(&EVERYTHING),
        checked: false,
        unique: true,
    };
    parse_with(text, seed).map_err(|e| match check_unique_keys(text) {
        Err(dup) => dup.to_string(),
        Ok(()) => e.to_string(),
    })
}

fn parse_with<'a>(text: &'a str, seed: Pruned<'_>) -> Result<Val<'a>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = seed.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Parses a whole JSON document.
pub fn parse_full(text: &str) -> Result<Val<'_>, serde_json::Error> {
    parse_pruned(text, &EVERYTHING)
}

static EVERYTHING: Trie = Trie {
    all: true,
    children: BTreeMap::new(),
};

/// Keeps what `trie` names. `checked`: the text is known to hold nothing a strict read
/// refuses, so what is not kept is scanned past rather than decoded.
#[derive(Clone, Copy)]
struct Pruned<'t> {
    trie: &'t Trie,
    checked: bool,
    /// Refuse an object that repeats a name, kept or skipped.
    unique: bool,
}

impl<'t> Pruned<'t> {
    /// The same parse, keeping what `trie` names.
    fn with(self, trie: &'t Trie) -> Pruned<'t> {
        Pruned { trie, ..self }
    }
}

impl<'de> DeserializeSeed<'de> for Pruned<'_> {
    type Value = Val<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pruned<'_> {
    type Value = Val<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_none<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Val<'de>, E> {
        Ok(Val::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Val<'de>, E> {
        Ok(Val::Num(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Val<'de>, E> {
        Ok(Val::Num(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Val<'de>, E> {
        Ok(Val::Num(n))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val<'de>, A::Error> {
        let mut out = Vec::new();
        if self.trie.all || !self.trie.children.is_empty() {
            let all = self.with(&EVERYTHING);
            while let Some(v) = seq.next_element_seed(all)? {
                out.push(v);
            }
        } else if self.checked {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        } else {
            let skip = Skip {
                unique: self.unique,
            };
            while seq.next_element_seed(skip)?.is_some() {}
        }
        Ok(Val::Arr(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val<'de>, A::Error> {
        let mut out = Vec::new();
        let mut names = Names::default();
        while let Some(key) = map.next_key_seed(Key)? {
            if self.unique && !names.insert(key.clone()) {
                return Err(de::Error::custom(REPEATED));
            }
            if self.trie.all {
                let v = map.next_value_seed(self.with(&EVERYTHING))?;
                out.push((key, v));
            } else if let Some(child) = self.trie.child(key.as_ref()) {
                let v = map.next_value_seed(self.with(child))?;
                out.push((key, v));
            } else if self.checked {
                map.next_value::<de::IgnoredAny>()?;
            } else {
                map.next_value_seed(Skip {
                    unique: self.unique,
                })?;
            }
        }
        Ok(Val::Obj(out))
    }
}

/// A name, borrowed from the text unless it holds an escape (serde's own `Cow<str>`
/// always copies).
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s))
    }
}

/// Reads a value and keeps nothing of it, with the checks of reading it whole (see the
/// module documentation): `deserialize_any` decodes strings and numbers and counts depth,
/// where `IgnoredAny` only scans past them.
#[derive(Clone, Copy)]
struct Skip {
    /// Refuse an object that repeats a name.
    unique: bool,
}

/// What a parse that refuses repeated names says when it finds one.
const REPEATED: &str = "an object repeats a name";

/// The names of one object, to find a repeat: a few compared in turn, more in a set (so
/// that an object of a million names takes linear time).
#[derive(Default)]
struct Names<'a> {
    few: Vec<Cow<'a, str>>,
    many: Option<std::collections::HashSet<Cow<'a, str>>>,
}

impl<'a> Names<'a> {
    /// How many names are compared in turn before a set takes over.
    const FEW: usize = 16;

    /// Adds `name`; false when it is there already.
    fn insert(&mut self, name: Cow<'a, str>) -> bool {
        if let Some(set) = &mut self.many {
            return set.insert(name);
        }
        if self.few.contains(&name) {
            return false;
        }
        if self.few.len() == Self::FEW {
            let mut set: std::collections::HashSet<Cow<'a, str>> = self.few.drain(..).collect();
            set.insert(name);
            self.many = Some(set);
        } else {
            self.few.push(name);
        }
        true
    }
}

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
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
    fn visit_borrowed_str<E>(self, _: &'de str) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.unique {
            let mut names = Names::default();
            while let Some(key) = map.next_key_seed(Key)? {
                if !names.insert(key) {
                    return Err(de::Error::custom(REPEATED));
                }
                map.next_value_seed(self)?;
            }
        } else {
            while map.next_key_seed(self)?.is_some() {
                map.next_value_seed(self)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_what_the_trie_names() {
        let mut t = Trie::default();
        t.insert(&["A", "B"], true);
        let v = parse_pruned(r#"{"A":{"B":[1,2],"C":3},"D":"x"}"#, &t).unwrap();
        assert_eq!(v.get("D"), None);
        assert_eq!(v.get("A").unwrap().get("C"), None);
        assert_eq!(
            v.get("A").unwrap().get("B"),
            Some(&Val::Arr(vec![Val::Num(1.0), Val::Num(2.0)]))
        );
    }

    #[test]
    fn borrows_plain_strings_and_owns_escaped_ones() {
        let v = parse_full(r#"{"a":"plain","b":"esc\"aped"}"#).unwrap();
        assert!(matches!(v.get("a"), Some(Val::Str(Cow::Borrowed("plain")))));
        assert!(matches!(v.get("b"), Some(Val::Str(Cow::Owned(_)))));
        // Names too.
        let Val::Obj(members) = parse_full(r#"{"a": 1, "e\u0073c": 2}"#).unwrap() else {
            panic!("not an object")
        };
        assert!(matches!(members[0].0, Cow::Borrowed("a")));
        assert!(matches!(&members[1].0, Cow::Owned(k) if k == "esc"));
    }

    /// On a text without unreadable values, scanning past what is skipped keeps what the
    /// strict parse keeps.
    #[test]
    fn a_record_parse_keeps_what_the_strict_parse_keeps() {
        let mut t = Trie::default();
        t.insert(&["A", "b"], false);
        t.insert(&["C"], true);
        for text in [
            r#"{"A": {"b": "x\u00e9", "c": [1, {"d": "\ud83d\ude00"}]}, "B": 1e300, "C": [1, "y"]}"#,
            r#"{"X": [[[]]], "A": null, "C": {"e": -0.5, "f": "\n"}}"#,
            r#"{"A": {"b": [1, 2], "z": 18446744073709551615}}"#,
        ] {
            assert_eq!(
                parse_record(text, &t).unwrap(),
                parse_pruned(text, &t).unwrap(),
                "{text}"
            );
        }
    }

    /// JSON documents whose objects draw their names from a few (one spelt with an
    /// escape), so that some repeat a name, at any depth.
    fn documents() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = proptest::sample::select(vec!["1", "\"x\"", "null", "[]", "{}", "\"\\u00e9\""])
            .prop_map(str::to_owned);
        leaf.prop_recursive(4, 40, 5, |inner| {
            let name = proptest::sample::select(vec!["a", "b", "c", "\\u0061", "A"]);
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(", "))),
                proptest::collection::vec((name, inner), 0..5).prop_map(|m| {
                    let members: Vec<String> = m
                        .into_iter()
                        .map(|(k, v)| format!("\"{k}\": {v}"))
                        .collect();
                    format!("{{{}}}", members.join(", "))
                }),
            ]
        })
    }

    proptest::proptest! {
        /// A document held in a string is refused exactly when the byte scan finds a
        /// repeated name, with its message, whether the repeat is in a part kept or
        /// skipped; otherwise it reads as the plain parse reads it.
        #[test]
        fn a_document_is_refused_exactly_when_it_repeats_a_name(text in documents()) {
            let mut t = Trie::default();
            t.insert(&["b"], true);
            for trie in [None, Some(&t)] {
                let read = parse_document(&text, trie);
                match check_unique_keys(&text) {
                    Err(dup) => proptest::prop_assert_eq!(read, Err(dup.to_string())),
                    Ok(()) => proptest::prop_assert_eq!(
                        read,
                        parse_pruned(&text, trie.unwrap_or(&EVERYTHING)).map_err(|e| e.to_string())
                    ),
                }
            }
        }
    }

    #[test]
    fn numbers_compare_numerically_and_long_values_shorten() {
        assert!(val_eq(&Val::Num(1.0), &parse_full("1.0").unwrap()));
        let long = "x".repeat(300);
        let s = Val::Str(Cow::Borrowed(&long)).to_json_short();
        assert_eq!(s.as_str().unwrap().len(), 203);
        assert_eq!(num_to_json(7.0), serde_json::json!(7));
    }

    /// What a full parse refuses, a pruned one refuses too, read or skipped: otherwise a
    /// pair's verdict would depend on which other policies are loaded.
    #[test]
    fn skipping_is_as_strict_as_keeping() {
        let mut t = Trie::default();
        t.insert(&["A"], true);
        let deep = format!("{}1{}", "[".repeat(150), "]".repeat(150));
        for bad in [
            r#""\ud800""#,
            "1e400",
            deep.as_str(),
            r#"{"\udc00": 1}"#,
            r#"["x", -1e999]"#,
        ] {
            let text = format!(r#"{{"A": 1, "X": {bad}}}"#);
            let full = parse_full(&text).map(|_| ()).map_err(|e| e.to_string());
            let pruned = parse_pruned(&text, &t)
                .map(|_| ())
                .map_err(|e| e.to_string());
            assert!(full.is_err(), "{bad}: {full:?}");
            assert_eq!(pruned, full, "{bad}");
        }
        // What a full parse takes, skipping takes: escapes, pairs, big and small numbers,
        // nesting within the limit.
        let nested = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let fine = format!(
            r#"{{"A": 1, "X": ["\ud83d\ude00", "\u00e9\n", 1e300, -0.5, 18446744073709551615, {nested}]}}"#
        );
        assert!(parse_full(&fine).is_ok());
        assert_eq!(
            parse_pruned(&fine, &t).unwrap(),
            Val::Obj(vec![("A".into(), Val::Num(1.0))])
        );
    }
}
