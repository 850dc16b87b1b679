//! Finding where a YAML node is in its file.
//!
//! `serde_yaml_ng` parses into values without positions, but it attaches the position of
//! the node being read to an error raised while reading it. [`locate`] uses exactly that:
//! it walks the document along a path of keys and indexes, skipping everything else, and
//! raises an error at the target node; the error's location is the node's. This costs one
//! parse per lookup, and lookups only happen for diagnostics and for the source line of
//! each policy, so it is cheap where it matters and exact for every YAML syntax.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a path into a YAML document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

impl fmt::Display for Seg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seg::Key(k) => write!(f, ".{k}"),
            Seg::Index(i) => write!(f, "[{i}]"),
        }
    }
}

const MARKER: &str = "\u{0}hlaudit-locate";

/// The byte offset of the node at `path` in `text` (of its key, when `key` is true and the
/// last step is a key). `None` when the path does not exist.
pub fn locate(text: &str, path: &[Seg], key: bool) -> Option<usize> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    // Only the first document is used by policy files.
    let result = Finder { path, key }.deserialize(de.into_iter().next()?);
    match result {
        Err(e) if e.to_string().contains(MARKER) => e.location().map(|l| l.index()),
        _ => None,
    }
}

/// The 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.chars().count(), |i| before[i + 1..].chars().count())
        + 1;
    (line, col)
}

/// The length of the token at `offset`: a quoted string, or up to the end of the plain
/// scalar, flow punctuation or line.
pub fn token_len(text: &str, offset: usize) -> usize {
    let rest = match text.get(offset..) {
        Some(r) => r,
        None => return 1,
    };
    let mut chars = rest.char_indices();
    match chars.next() {
        Some((_, q @ ('"' | '\''))) => {
            let mut prev = ' ';
            for (i, c) in chars {
                if c == q && (q == '\'' || prev != '\\') {
                    return i + 1;
                }
                if c == '\n' {
                    return i;
                }
                prev = c;
            }
            rest.len()
        }
        Some((_, '{' | '[' | '|' | '>')) => 1,
        Some(_) => {
            let end = rest.find(['\n', ',', '}', ']']).unwrap_or(rest.len());
            let mut s = &rest[..end];
            if let Some(i) = s.find(" #") {
                s = &s[..i];
            }
            if let Some(i) = s.find(": ") {
                s = &s[..i];
            }
            s.trim_end().trim_end_matches(':').len().max(1)
        }
        None => 1,
    }
}

struct Finder<'p> {
    path: &'p [Seg],
    key: bool,
}

fn here<E: de::Error>() -> E {
    E::custom(MARKER)
}

impl<'de> DeserializeSeed<'de> for Finder<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Finder<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (first, rest) = match self.path.split_first() {
            None => return Err(here()),
            Some(x) => x,
        };
        let Seg::Index(target) = first else {
            return Ok(());
        };
        let mut i = 0;
        loop {
            if i == *target {
                return match seq.next_element_seed(Finder {
                    path: rest,
                    key: self.key,
                })? {
                    Some(()) => Ok(()),
                    None => Ok(()),
                };
            }
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (first, rest) = match self.path.split_first() {
            None => return Err(here()),
            Some(x) => x,
        };
        let Seg::Key(target) = first else {
            return Ok(());
        };
        let at_key = rest.is_empty() && self.key;
        while let Some(found) = map.next_key_seed(KeySeed {
            target,
            raise: at_key,
        })? {
            if found {
                return map.next_value_seed(Finder {
                    path: rest,
                    key: self.key,
                });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

impl Finder<'_> {
    fn scalar<E: de::Error>(self) -> Result<(), E> {
        if self.path.is_empty() {
            Err(here())
        } else {
            Ok(())
        }
    }
}

/// Reads a mapping key; raises the marker at it when it is the target and `raise`.
struct KeySeed<'k> {
    target: &'k str,
    raise: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<bool, E> {
        let hit = s == self.target;
        if hit && self.raise {
            Err(here())
        } else {
            Ok(hit)
        }
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<bool, E> {
        self.visit_str(if b { "true" } else { "false" })
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<bool, E> {
        self.visit_str(&n.to_string())
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<bool, E> {
        self.visit_str(&n.to_string())
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<bool, E> {
        self.visit_str(&n.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.visit_str("null")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "policies:\n  - id: A\n    severty: high\n    tags: [x, y]\n    assert: {path: P, equals: 1}\n";

    fn at(path: &[Seg], key: bool) -> (usize, usize) {
        line_col(DOC, locate(DOC, path, key).unwrap())
    }

    fn k(s: &str) -> Seg {
        Seg::Key(s.to_owned())
    }

    #[test]
    fn finds_block_and_flow_nodes() {
        assert_eq!(
            at(&[k("policies"), Seg::Index(0), k("severty")], true),
            (3, 5)
        );
        assert_eq!(
            at(&[k("policies"), Seg::Index(0), k("severty")], false),
            (3, 14)
        );
        assert_eq!(
            at(
                &[k("policies"), Seg::Index(0), k("tags"), Seg::Index(1)],
                false
            ),
            (4, 15)
        );
        assert_eq!(
            at(
                &[k("policies"), Seg::Index(0), k("assert"), k("equals")],
                true
            ),
            (5, 23)
        );
        assert_eq!(at(&[k("policies"), Seg::Index(0)], false), (2, 5));
        assert_eq!(locate(DOC, &[k("nope")], true), None);
    }

    #[test]
    fn measures_tokens() {
        assert_eq!(token_len("severty: high", 0), 7);
        assert_eq!(token_len("\"a b\" x", 0), 5);
        assert_eq!(token_len("abc, d", 0), 3);
    }
}
