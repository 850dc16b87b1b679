//! Resolving a compiled [`Path`] against one record: the record tree, its context, the
//! current quantifier element and the per-record cache of `|json` documents.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};

use hlaudit_model::{Arn, Record, Timestamp};

use crate::path::{push_token, Context, Path, Root, Step, Transform};
use crate::value::{key_eq, parse_document, Trie, Val};

/// A `|json` document of one record: the parsed value, or why the string is not JSON.
pub(crate) type JsonDoc<'x> = Result<Val<'x>, String>;

/// Everything a path may reach for one record.
pub(crate) struct Env<'x> {
    pub rec: &'x Record,
    pub root: &'x Val<'x>,
    /// The data store a job belongs to, when it is in the inventory: its record and
    /// the fields of it the set reads.
    pub datastore: Option<(&'x Record, &'x Val<'x>)>,
    pub tags: Option<&'x Val<'x>>,
    pub enrichments: &'x Val<'x>,
    /// One cell per `|json` point of the policy set, filled on first use.
    pub json: &'x [OnceCell<JsonDoc<'x>>],
    /// The prefix path of each `|json` point.
    pub json_points: &'x [Path],
    /// The fields of each `|json` point's document that the set reads.
    pub json_tries: &'x [Trie],
    /// One slot per memoised clause of the set: 0 not yet evaluated, 1 false, 2 true.
    pub memo: &'x [Cell<u8>],
    /// The record's label (`Data store NAME (ID)`), made on first use and shared by the
    /// messages of its failures.
    pub label: OnceCell<std::sync::Arc<str>>,
    pub as_of: Timestamp,
}

/// The current element of a quantifier and its pointer (empty unless collecting evidence).
#[derive(Clone, Copy)]
pub(crate) struct Cur<'t> {
    pub val: &'t Val<'t>,
    pub ptr: &'t str,
}

/// A value reached by a path: borrowed from the record, or made by a transform.
#[derive(Debug)]
pub(crate) enum ValRef<'t> {
    Ref(&'t Val<'t>),
    Own(Val<'t>),
}

impl<'t> ValRef<'t> {
    pub fn get(&self) -> &Val<'t> {
        match self {
            ValRef::Ref(v) => v,
            ValRef::Own(v) => v,
        }
    }
}

/// The outcome of resolving a path.
#[derive(Debug)]
pub(crate) enum Resolved<'t> {
    Present(ValRef<'t>),
    Absent,
    /// A value in the way has the wrong type, or a string is not JSON / not an ARN.
    Bad {
        found: serde_json::Value,
        expected: String,
        /// The pointer, relative to the value in the way, of what the path went on to
        /// read (`/token_endpoint` when the metadata string is not JSON); empty when the
        /// value in the way is the one the path names. With a pointer asked for, the
        /// pointer names the value in the way, so evidence of one cause, read through
        /// several paths, is the same and said once.
        unread: String,
    },
}

fn ctx_str(s: &str) -> ValRef<'_> {
    ValRef::Own(Val::Str(Cow::Borrowed(s)))
}

/// Resolves `path`. When `ptr` is given, the JSON pointer of the value (or of where it
/// would be) is appended to it.
pub(crate) fn resolve<'x: 't, 't>(
    path: &'t Path,
    env: &'t Env<'x>,
    cur: Option<Cur<'t>>,
    mut ptr: Option<&mut String>,
) -> Resolved<'t> {
    let root: Option<ValRef<'t>> = match &path.root {
        Root::Current => match cur {
            Some(c) => {
                if let Some(p) = ptr.as_deref_mut() {
                    p.push_str(c.ptr);
                }
                Some(ValRef::Ref(c.val))
            }
            None => None,
        },
        Root::Param(name, val) => {
            if let Some(p) = ptr.as_deref_mut() {
                p.push_str("/$");
                p.push_str(name);
            }
            Some(ValRef::Ref(val))
        }
        Root::Context(c) => {
            if let Some(p) = ptr.as_deref_mut() {
                p.push_str("/@");
                p.push_str(c.name());
            }
            let r = env.rec;
            // A job lives where its data store does.
            let place = env.datastore.map_or(r, |(d, _)| d);
            match c {
                // Context a record does not know (a planned data store has no ARN yet) is
                // absent, so a policy reading it fails closed.
                Context::Id => r.id().map(ctx_str),
                Context::Arn => r.arn().map(ctx_str),
                Context::Account => place.account().map(ctx_str),
                Context::Region => place.region().map(ctx_str),
                Context::Partition => place.partition().map(ctx_str),
                Context::Name => r.name().map(ctx_str),
                Context::Status => r.status().map(ctx_str),
                Context::Tags => env.tags.map(ValRef::Ref),
                Context::Enrichments => Some(ValRef::Ref(env.enrichments)),
                Context::Datastore => env.datastore.map(|(_, v)| ValRef::Ref(v)),
            }
        }
        Root::Record => Some(ValRef::Ref(env.root)),
    };
    let Some(mut v) = root else {
        if let Some(p) = ptr {
            finish_pointer(p, &path.steps, cur);
        }
        return Resolved::Absent;
    };
    for (i, step) in path.steps.iter().enumerate() {
        let before = ptr.as_deref().map_or(0, String::len);
        let next = match step {
            Step::Key(k) => {
                if let Some(p) = ptr.as_deref_mut() {
                    push_token(p, k);
                }
                key(v, k)
            }
            Step::CurrentKey => match cur.and_then(|c| c.val.as_str()) {
                Some(k) => {
                    if let Some(p) = ptr.as_deref_mut() {
                        push_token(p, k);
                    }
                    key(v, k)
                }
                None => Err(Resolved::Absent),
            },
            Step::Index(n) => {
                if let Some(p) = ptr.as_deref_mut() {
                    p.push('/');
                    p.push_str(&n.to_string());
                }
                index(v, *n)
            }
            Step::Json(id) => json(v, *id, env),
            Step::Transform(t) => {
                if let Some(p) = ptr.as_deref_mut() {
                    match t {
                        Transform::Arn => p.push_str("/@arn"),
                        Transform::S3 => p.push_str("/@s3"),
                        _ => {}
                    }
                }
                transform(v, *t)
            }
        };
        match next {
            Ok(n) => v = n,
            Err(Resolved::Bad {
                found, expected, ..
            }) => {
                // The pointer stays at the value in the way; what the path meant to read
                // beyond it is told apart by `unread`.
                if let Some(p) = ptr {
                    p.truncate(before);
                }
                let mut unread = String::new();
                finish_pointer(&mut unread, &path.steps[i..], cur);
                return Resolved::Bad {
                    found,
                    expected,
                    unread,
                };
            }
            Err(e) => {
                if let Some(p) = ptr {
                    finish_pointer(p, &path.steps[i + 1..], cur);
                }
                return e;
            }
        }
    }
    Resolved::Present(v)
}

/// What [`resolve_fast`] found.
pub(crate) enum Fast<'t> {
    /// The value, borrowed from the record, a document, a parameter or an element.
    Present(&'t Val<'t>),
    /// Not there.
    Absent,
    /// Needs the general [`resolve`]: a transform, a context value made on the fly, or a
    /// value of the wrong type (whose evidence the general path builds).
    Slow,
}

/// The common case of [`resolve`] without building anything: fields, indexes and `|json`
/// documents from the record, a parameter, `@tags` or the current element. The outcome
/// agrees with `resolve` whenever it is not [`Fast::Slow`].
pub(crate) fn resolve_fast<'x: 't, 't>(
    path: &'t Path,
    env: &'t Env<'x>,
    cur: Option<Cur<'t>>,
) -> Fast<'t> {
    let mut v: &'t Val<'t> = match &path.root {
        Root::Record => env.root,
        Root::Current => match cur {
            Some(c) => c.val,
            None => return Fast::Absent,
        },
        Root::Param(_, val) => val,
        Root::Context(Context::Tags) => match env.tags {
            Some(t) => t,
            None => return Fast::Absent,
        },
        Root::Context(Context::Datastore) => match env.datastore {
            Some((_, d)) => d,
            None => return Fast::Absent,
        },
        Root::Context(_) => return Fast::Slow,
    };
    for step in path.steps.iter() {
        v = match (step, v) {
            (Step::Key(k), Val::Obj(fields)) => match fields.iter().find(|(n, _)| key_eq(n, k)) {
                Some((_, x)) => x,
                None => return Fast::Absent,
            },
            (Step::Index(n), Val::Arr(a)) => match a.get(*n) {
                Some(x) => x,
                None => return Fast::Absent,
            },
            (Step::Key(_) | Step::Index(_), Val::Null) => return Fast::Absent,
            (Step::Json(id), Val::Str(_)) => {
                let (Some(cell), Some(prefix)) = (env.json.get(*id), env.json_points.get(*id))
                else {
                    return Fast::Slow;
                };
                match cell.get_or_init(|| json_doc(prefix, env.json_tries.get(*id), env)) {
                    Ok(d) => d,
                    Err(_) => return Fast::Slow,
                }
            }
            _ => return Fast::Slow,
        };
    }
    Fast::Present(v)
}

/// Appends the pointer tokens of steps not reached (so "not present" names the full path).
fn finish_pointer(p: &mut String, steps: &[Step], cur: Option<Cur<'_>>) {
    for s in steps {
        match s {
            Step::Key(k) => push_token(p, k),
            Step::Index(n) => {
                p.push('/');
                p.push_str(&n.to_string());
            }
            Step::Transform(Transform::Arn) => p.push_str("/@arn"),
            Step::Transform(Transform::S3) => p.push_str("/@s3"),
            Step::CurrentKey => match cur.and_then(|c| c.val.as_str()) {
                Some(k) => push_token(p, k),
                None => p.push_str("/."),
            },
            _ => {}
        }
    }
}

fn wrong(v: &Val<'_>, expected: &str) -> Resolved<'static> {
    Resolved::Bad {
        found: v.to_json_short(),
        expected: expected.to_owned(),
        unread: String::new(),
    }
}

type StepResult<'t> = Result<ValRef<'t>, Resolved<'t>>;

fn key<'t>(v: ValRef<'t>, k: &str) -> StepResult<'t> {
    match v {
        ValRef::Ref(Val::Obj(fields)) => fields
            .iter()
            .find(|(n, _)| key_eq(n, k))
            .map(|(_, x)| ValRef::Ref(x))
            .ok_or(Resolved::Absent),
        ValRef::Own(Val::Obj(fields)) => fields
            .into_iter()
            .find(|(n, _)| key_eq(n, k))
            .map(|(_, x)| ValRef::Own(x))
            .ok_or(Resolved::Absent),
        ValRef::Ref(Val::Null) | ValRef::Own(Val::Null) => Err(Resolved::Absent),
        other => Err(wrong(
            other.get(),
            &format!("an object with the field `{k}`"),
        )),
    }
}

fn index<'t>(v: ValRef<'t>, n: usize) -> StepResult<'t> {
    match v {
        ValRef::Ref(Val::Arr(a)) => a.get(n).map(ValRef::Ref).ok_or(Resolved::Absent),
        ValRef::Own(Val::Arr(a)) => a
            .into_iter()
            .nth(n)
            .map(ValRef::Own)
            .ok_or(Resolved::Absent),
        ValRef::Ref(Val::Null) | ValRef::Own(Val::Null) => Err(Resolved::Absent),
        other => Err(wrong(other.get(), &format!("an array with an element {n}"))),
    }
}

fn json<'x: 't, 't>(v: ValRef<'t>, id: usize, env: &'t Env<'x>) -> StepResult<'t> {
    if !matches!(v.get(), Val::Str(_)) {
        return Err(wrong(v.get(), "a string holding a JSON document"));
    }
    let (Some(cell), Some(prefix)) = (env.json.get(id), env.json_points.get(id)) else {
        return Err(Resolved::Bad {
            found: v.get().to_json_short(),
            expected: "a compiled JSON point (internal error)".to_owned(),
            unread: String::new(),
        });
    };
    let doc: &'x JsonDoc<'x> = cell.get_or_init(|| json_doc(prefix, env.json_tries.get(id), env));
    match doc {
        Ok(d) => Ok(ValRef::Ref(d)),
        Err(e) => Err(Resolved::Bad {
            found: v.get().to_json_short(),
            expected: format!("a string holding a JSON document ({e})"),
            unread: String::new(),
        }),
    }
}

/// Parses the string at a fixed `|json` prefix path of the record.
fn json_doc<'x>(prefix: &Path, trie: Option<&Trie>, env: &Env<'x>) -> JsonDoc<'x> {
    // The prefix is fixed (no current element), so it resolves within the record's
    // lifetime; a borrowed string lets the document borrow from the record's text.
    let s: &'x str = match &prefix.root {
        Root::Record => {
            let mut v: &'x Val<'x> = env.root;
            for step in &prefix.steps {
                v = match step {
                    Step::Key(k) => match v.get(k) {
                        Some(x) => x,
                        None => return Err("not present".to_owned()),
                    },
                    Step::Index(n) => match v {
                        Val::Arr(a) => match a.get(*n) {
                            Some(x) => x,
                            None => return Err("not present".to_owned()),
                        },
                        _ => return Err("not an array".to_owned()),
                    },
                    _ => return Err("unsupported step before |json".to_owned()),
                };
            }
            match v {
                Val::Str(s) => s.as_ref(),
                _ => return Err("not a string".to_owned()),
            }
        }
        _ => return Err("unsupported root before |json".to_owned()),
    };
    // A repeated name makes the document read differently by its clients: refused.
    parse_document(s, trie)
}

fn transform<'t>(v: ValRef<'t>, t: Transform) -> StepResult<'t> {
    match t {
        Transform::Json => Err(wrong(v.get(), "a string holding a JSON document")),
        Transform::Lower => match v.get() {
            Val::Str(s) => Ok(ValRef::Own(Val::Str(Cow::Owned(s.to_lowercase())))),
            other => Err(wrong(other, "a string")),
        },
        Transform::Keys => match v.get() {
            Val::Obj(o) => Ok(ValRef::Own(Val::Arr(
                o.iter().map(|(k, _)| Val::Str(k.clone())).collect(),
            ))),
            other => Err(wrong(other, "an object")),
        },
        Transform::Values => match v {
            ValRef::Ref(Val::Obj(o)) => Ok(ValRef::Own(Val::Arr(
                o.iter().map(|(_, x)| x.clone()).collect(),
            ))),
            ValRef::Own(Val::Obj(o)) => Ok(ValRef::Own(Val::Arr(
                o.into_iter().map(|(_, x)| x).collect(),
            ))),
            other => Err(wrong(other.get(), "an object")),
        },
        Transform::Arn => arn(v),
        Transform::S3 => s3(v),
        Transform::Date => match crate::ops::timestamp(v.get()) {
            Some(t) => Ok(ValRef::Own(Val::Str(Cow::Owned(crate::ops::iso_date(t))))),
            None => Err(wrong(v.get(), "a timestamp")),
        },
    }
}

/// `s3://BUCKET/KEY` as `{bucket, key}` (the key empty when the URI names only a bucket).
fn s3(v: ValRef<'_>) -> StepResult<'_> {
    let split = |s: &str| -> Option<(usize, usize)> {
        let rest = s.strip_prefix("s3://")?;
        let end = rest.find('/').unwrap_or(rest.len());
        (end > 0).then_some((5, 5 + end))
    };
    let bad = |s: &str| Resolved::Bad {
        found: serde_json::Value::String(s.to_owned()),
        expected: "an S3 URI (s3://BUCKET/KEY)".to_owned(),
        unread: String::new(),
    };
    match v {
        ValRef::Ref(Val::Str(s)) => {
            let s: &str = s;
            let (a, b) = split(s).ok_or_else(|| bad(s))?;
            let key = s.get(b + 1..).unwrap_or("");
            Ok(ValRef::Own(s3_parts(
                Val::Str(Cow::Borrowed(&s[a..b])),
                Val::Str(Cow::Borrowed(key)),
            )))
        }
        ValRef::Own(Val::Str(s)) => {
            let (a, b) = split(&s).ok_or_else(|| bad(&s))?;
            let key = s.get(b + 1..).unwrap_or("").to_owned();
            Ok(ValRef::Own(s3_parts(
                Val::Str(Cow::Owned(s[a..b].to_owned())),
                Val::Str(Cow::Owned(key)),
            )))
        }
        other => Err(wrong(other.get(), "a string holding an S3 URI")),
    }
}

/// The object `|s3` makes.
fn s3_parts<'t>(bucket: Val<'t>, key: Val<'t>) -> Val<'t> {
    Val::Obj(vec![
        (Cow::Borrowed("bucket"), bucket),
        (Cow::Borrowed("key"), key),
    ])
}

fn arn(v: ValRef<'_>) -> StepResult<'_> {
    let parts = |s: &str| -> Result<[(usize, usize); 5], String> {
        let fields = Arn::split(s).map_err(|e| e.to_string())?;
        // Byte ranges, so that the parts can borrow from the string whatever its lifetime.
        let at = |f: &str| (f.as_ptr() as usize).saturating_sub(s.as_ptr() as usize);
        Ok(fields.map(|f| (at(f), at(f) + f.len())))
    };
    let build = |s: &str, r: [(usize, usize); 5]| -> Vec<(&'static str, String)> {
        ["partition", "service", "region", "account", "resource"]
            .iter()
            .zip(r)
            .map(|(n, (a, b))| (*n, s[a..b].to_owned()))
            .collect()
    };
    match v {
        ValRef::Ref(Val::Str(s)) => match parts(s) {
            Ok(r) => {
                let s: &str = s;
                Ok(ValRef::Own(Val::Obj(
                    ["partition", "service", "region", "account", "resource"]
                        .iter()
                        .zip(r)
                        .map(|(n, (a, b))| (Cow::Borrowed(*n), Val::Str(Cow::Borrowed(&s[a..b]))))
                        .collect(),
                )))
            }
            Err(e) => Err(Resolved::Bad {
                found: serde_json::Value::String(s.to_string()),
                expected: format!("an ARN (this string {e})"),
                unread: String::new(),
            }),
        },
        ValRef::Own(Val::Str(s)) => match parts(&s) {
            Ok(r) => Ok(ValRef::Own(Val::Obj(
                build(&s, r)
                    .into_iter()
                    .map(|(n, x)| (Cow::Borrowed(n), Val::Str(Cow::Owned(x))))
                    .collect(),
            ))),
            Err(e) => Err(Resolved::Bad {
                found: serde_json::Value::String(s.to_string()),
                expected: format!("an ARN (this string {e})"),
                unread: String::new(),
            }),
        },
        other => Err(wrong(other.get(), "a string holding an ARN")),
    }
}
