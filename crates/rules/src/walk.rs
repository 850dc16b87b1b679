//! Walking a parsed YAML document while recording problems at YAML paths; the paths become
//! file, line and column (see [`crate::spans`]) when the walk is over.

use std::borrow::Cow;
use std::sync::Arc;

use serde_yaml_ng::{Mapping, Value};

use crate::diagnostics::{choice_hint, Diagnostic, Diagnostics};
use crate::spans::{line_col, locate, token_len, Seg};
use crate::value::Val;

/// A problem at a YAML path, not yet located.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub at: Vec<Seg>,
    pub at_key: bool,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

/// One file being walked.
pub(crate) struct FileWalk {
    pub file: String,
    pub text: Arc<str>,
    pub pending: Vec<Pending>,
}

impl FileWalk {
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

    /// Where a node is: (byte offset, line, column).
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

    /// Turns the recorded problems into diagnostics.
    pub fn finish(self, out: &mut Diagnostics) {
        if self.pending.is_empty() {
            return;
        }
        out.add_source(&self.file, self.text.clone());
        for p in &self.pending {
            let (offset, line, column) = self.position(&p.at, p.at_key);
            out.push(Diagnostic {
                file: self.file.clone(),
                line,
                column,
                offset,
                len: token_len(&self.text, offset),
                code: p.code,
                message: p.message.clone(),
                hint: p.hint.clone(),
            });
        }
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
pub(crate) fn child(at: &[Seg], key: &str) -> Vec<Seg> {
    let mut v = at.to_vec();
    v.push(Seg::Key(key.to_owned()));
    v
}

/// `at` plus an index.
pub(crate) fn index(at: &[Seg], i: usize) -> Vec<Seg> {
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
