//! Walking a parsed YAML document while recording problems at YAML paths; the paths become
//! file, line and column (see [`crate::spans`]) when the walk is over.
//!
//! The main design decision: a reader records *where* a problem is as a path of keys and
//! indexes ([`Seg`]), never as a line, so it can keep walking and report every problem of
//! a file in one pass. Locating a path means re-reading the text, so it is done once per
//! problem, at the end ([`FileWalk::finish`], [`FileWalk::into_diagnostics`]), and a file
//! without problems never pays for it.
//!
//! Policy files, waiver files and the command line's configuration file are all read
//! through this one walker, so a wrong type, an unknown key or an empty value is worded,
//! coded (`wrong-type`, `unknown-key`, `bad-value`) and located the same way in each.
//!
//! ```
//! use std::sync::Arc;
//! use hlaudit_rules::spans::Seg;
//! use hlaudit_rules::walk::{child, FileWalk};
//!
//! let text = "fail_on: hihg\nbuiltin: yes please\n";
//! let doc = hlaudit_rules::yaml::parse("ci.yaml", text).unwrap();
//! let map = doc.as_mapping().unwrap();
//! let mut w = FileWalk::new("ci.yaml", Arc::from(text));
//! for (key, value) in w.keys(map, &[], &["fail_on", "builtin"], "the configuration") {
//!     let at = child(&[], key);
//!     match key {
//!         "builtin" => {
//!             w.boolean(value, &at, "`builtin`");
//!         }
//!         _ => {
//!             w.non_empty_string(value, &at, "`fail_on`");
//!         }
//!     }
//! }
//! let problems = w.into_diagnostics();
//! let found: Vec<_> = problems.items().iter().map(|d| (d.line, d.column, d.code)).collect();
//! assert_eq!(found, [(2, 10, "wrong-type")]);
//! assert_eq!(
//!     problems.items()[0].message,
//!     "`builtin` must be true or false, found a string"
//! );
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use serde_yaml_ng::{Mapping, Value};

use crate::diagnostics::{choice_hint, Diagnostic, Diagnostics};
use crate::spans::{line_col, locate, token_len, Seg};
use crate::value::Val;
use crate::Origin;

/// A problem at a YAML path, not yet located.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub at: Vec<Seg>,
    pub at_key: bool,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

/// One YAML file being walked: its name and text, and the problems recorded so far at
/// YAML paths. The reading methods ([`FileWalk::string`], [`FileWalk::keys`], ...) record
/// a problem and return `None` (or skip the entry) when a value is not what they read, so
/// a reader goes on and every problem of the file is reported at once.
pub struct FileWalk {
    pub(crate) file: String,
    pub(crate) text: Arc<str>,
    pub(crate) pending: Vec<Pending>,
}

impl FileWalk {
    /// Starts walking `text`; `file` is how problems name it.
    pub fn new(file: &str, text: Arc<str>) -> Self {
        FileWalk {
            file: file.to_owned(),
            text,
            pending: Vec::new(),
        }
    }

    /// Records a problem at the value at `at`.
    pub fn error(&mut self, at: &[Seg], code: &'static str, message: impl Into<String>) {
        self.pending.push(Pending {
            at: at.to_vec(),
            at_key: false,
            code,
            message: message.into(),
            hint: None,
        });
    }

    /// Records a problem at the key of the last step of `at`, with a hint.
    pub fn key_error(
        &mut self,
        at: &[Seg],
        code: &'static str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.pending.push(Pending {
            at: at.to_vec(),
            at_key: true,
            code,
            message: message.into(),
            hint,
        });
    }

    /// Records a problem at a value with a hint.
    pub fn hint_error(
        &mut self,
        at: &[Seg],
        code: &'static str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.pending.push(Pending {
            at: at.to_vec(),
            at_key: false,
            code,
            message: message.into(),
            hint: Some(hint.into()),
        });
    }

    /// Where a node is: (byte offset, line, column). A path that does not exist falls
    /// back to its closest ancestor that does, and the whole document to 1:1.
    pub fn position(&self, at: &[Seg], at_key: bool) -> (usize, usize, usize) {
        // Fall back to the closest ancestor that exists.
        let mut n = at.len();
        loop {
            let key = at_key && n == at.len();
            if let Some(off) = locate(&self.text, &at[..n], key) {
                let (l, c) = line_col(&self.text, off);
                return (off, l, c);
            }
            if n == 0 {
                return (0, 1, 1);
            }
            n -= 1;
        }
    }

    /// Where a node is, as an [`Origin`] (file, line, column) that outlives the walk.
    pub fn origin(&self, at: &[Seg]) -> Origin {
        let (_, line, column) = self.position(at, false);
        Origin {
            file: self.file.clone(),
            line,
            column,
        }
    }

    /// Locates one recorded problem.
    fn located(&self, p: &Pending) -> Diagnostic {
        let (offset, line, column) = self.position(&p.at, p.at_key);
        Diagnostic {
            file: self.file.clone(),
            line,
            column,
            offset,
            len: token_len(&self.text, offset),
            code: p.code,
            message: p.message.clone(),
            hint: p.hint.clone(),
        }
    }

    /// Turns the recorded problems into diagnostics, in the order they were recorded,
    /// added to `out` (with the file's text, for the caret) for a caller that gathers
    /// the problems of several files and sorts them once.
    pub fn finish(self, out: &mut Diagnostics) {
        if self.pending.is_empty() {
            return;
        }
        out.add_source(&self.file, self.text.clone());
        for p in &self.pending {
            out.push(self.located(p));
        }
    }

    /// The recorded problems of this one file as diagnostics sorted by line and column
    /// (two identical problems are both kept), with the file's text for the caret; empty
    /// when nothing was recorded.
    pub fn into_diagnostics(self) -> Diagnostics {
        let mut located: Vec<Diagnostic> = self.pending.iter().map(|p| self.located(p)).collect();
        located.sort();
        let mut out = Diagnostics::new();
        if !located.is_empty() {
            out.add_source(&self.file, self.text.clone());
        }
        for d in located {
            out.push(d);
        }
        out
    }

    /// Checks a mapping's keys against the allowed ones; reports unknown keys with a hint.
    /// Returns the entries with string keys.
    pub fn keys<'v>(
        &mut self,
        map: &'v Mapping,
        at: &[Seg],
        allowed: &[&str],
        what: &str,
    ) -> Vec<(&'v str, &'v Value)> {
        let mut out = Vec::new();
        for (k, v) in map {
            let Some(name) = k.as_str() else {
                self.error(
                    at,
                    "wrong-type",
                    format!("a key of {what} must be a string"),
                );
                continue;
            };
            if !allowed.contains(&name) {
                let hint = choice_hint(name, allowed);
                self.key_error(
                    &child(at, name),
                    "unknown-key",
                    format!("unknown key `{name}` in {what}"),
                    Some(hint),
                );
                continue;
            }
            out.push((name, v));
        }
        out
    }

    /// A required string.
    pub fn string(&mut self, v: &Value, at: &[Seg], what: &str) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            other => {
                self.error(
                    at,
                    "wrong-type",
                    format!("{what} must be a string, found {}", kind(other)),
                );
                None
            }
        }
    }

    /// A list of strings (a single string is not accepted: lists are explicit).
    pub fn strings(&mut self, v: &Value, at: &[Seg], what: &str) -> Vec<String> {
        match v {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, x)| self.string(x, &index(at, i), &format!("each of {what}")))
                .collect(),
            other => {
                self.error(
                    at,
                    "wrong-type",
                    format!("{what} must be a list of strings, found {}", kind(other)),
                );
                Vec::new()
            }
        }
    }

    /// A required string that is not empty (`bad-value` "{what} is empty" when it is).
    pub fn non_empty_string(&mut self, v: &Value, at: &[Seg], what: &str) -> Option<String> {
        let s = self.string(v, at, what)?;
        if s.is_empty() {
            self.error(at, "bad-value", format!("{what} is empty"));
            return None;
        }
        Some(s)
    }

    /// A list read item by item with `item`, each at its own path and described as
    /// `each of {what}`; a value that is not a list is reported as not being `a list of
    /// {items}`. Every item is read, so every bad one is reported, and the list is `None`
    /// unless all of them were read (unlike [`FileWalk::strings`], which keeps the good
    /// ones).
    pub fn list<T>(
        &mut self,
        v: &Value,
        at: &[Seg],
        what: &str,
        items: &str,
        mut item: impl FnMut(&mut FileWalk, &Value, &[Seg], &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let Value::Sequence(values) = v else {
            self.error(
                at,
                "wrong-type",
                format!("{what} must be a list of {items}, found {}", kind(v)),
            );
            return None;
        };
        let each = format!("each of {what}");
        let mut out = Vec::with_capacity(values.len());
        let mut all = true;
        for (i, x) in values.iter().enumerate() {
            match item(self, x, &index(at, i), &each) {
                Some(t) => out.push(t),
                None => all = false,
            }
        }
        all.then_some(out)
    }

    /// A boolean.
    pub fn boolean(&mut self, v: &Value, at: &[Seg], what: &str) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.error(
                    at,
                    "wrong-type",
                    format!("{what} must be true or false, found {}", kind(other)),
                );
                None
            }
        }
    }
}

/// `at` plus a key.
pub fn child(at: &[Seg], key: &str) -> Vec<Seg> {
    let mut v = at.to_vec();
    v.push(Seg::Key(key.to_owned()));
    v
}

/// `at` plus an index.
pub fn index(at: &[Seg], i: usize) -> Vec<Seg> {
    let mut v = at.to_vec();
    v.push(Seg::Index(i));
    v
}

pub(crate) use crate::diagnostics::yaml_kind as kind;

/// A YAML value as an owned [`Val`]; `None` for tagged values and non-string keys.
pub(crate) fn yaml_to_val(v: &Value) -> Option<Val<'static>> {
    Some(match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => Val::Num(n.as_f64()?),
        Value::String(s) => Val::Str(Cow::Owned(s.clone())),
        Value::Sequence(a) => Val::Arr(a.iter().map(yaml_to_val).collect::<Option<_>>()?),
        Value::Mapping(m) => Val::Obj(
            m.iter()
                .map(|(k, v)| Some((Cow::Owned(k.as_str()?.to_owned()), yaml_to_val(v)?)))
                .collect::<Option<_>>()?,
        ),
        Value::Tagged(_) => return None,
    })
}

/// A YAML value as JSON; `None` for tagged values and non-string keys.
pub(crate) fn yaml_to_json(v: &Value) -> Option<serde_json::Value> {
    yaml_to_val(v).map(|x| x.to_json())
}
