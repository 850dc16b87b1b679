//! Loading waiver files strictly: every problem of every file at once, with file, line,
//! column, a stable code and a hint.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use globset::{Glob, GlobMatcher};
use hlaudit_model::{Kind, Source};
use serde_yaml_ng::{Mapping, Value};

use crate::diagnostics::{did_you_mean, Diagnostics};
use crate::error::RulesError;
use crate::spans::Seg;
use crate::walk::{child, index, kind, FileWalk};

const FILE_KEYS: [&str; 2] = ["waivers", "allow_permanent"];
const WAIVER_KEYS: [&str; 11] = [
    "policy",
    "resource",
    "kinds",
    "arn",
    "account",
    "region",
    "tags",
    "reason",
    "approved_by",
    "expires",
    "note",
];
/// The keys that say which resources a waiver covers; a waiver needs one. `kinds` is not
/// among them: it only narrows, so "every export job" is written `resource: "*"` with
/// `kinds: [export-job]`, explicitly.
const SCOPE_KEYS: [&str; 5] = ["resource", "arn", "account", "region", "tags"];

/// The text of one waiver file.
#[derive(Debug, Clone)]
pub struct WaiverSource {
    /// The name shown in diagnostics and in applied waivers (the path as the user gave it).
    pub name: String,
    /// The YAML text.
    pub text: String,
}

impl WaiverSource {
    /// A source from text.
    pub fn from_text(name: impl Into<String>, text: impl Into<String>) -> Self {
        WaiverSource {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// Reads waiver files (each path is one file).
pub fn read_waiver_files(paths: &[PathBuf]) -> Result<Vec<WaiverSource>, RulesError> {
    paths
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).map_err(|source| RulesError::Io {
                path: p.clone(),
                source,
            })?;
            let name = p.display().to_string();
            let text = crate::yaml::text(&name, bytes).map_err(RulesError::located)?;
            Ok(WaiverSource { name, text })
        })
        .collect()
}

/// A value that is matched exactly or, when it holds `*`, `?`, `[` or `{`, as a glob
/// (globset syntax; `*` also matches `/`). Matching is case-sensitive.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    glob: Option<GlobMatcher>,
}

impl Pattern {
    /// Compiles a pattern; the error is globset's message.
    pub fn new(text: &str) -> Result<Self, String> {
        let glob = if text.contains(['*', '?', '[', '{']) {
            Some(
                Glob::new(text)
                    .map_err(|e| e.kind().to_string())?
                    .compile_matcher(),
            )
        } else {
            None
        };
        Ok(Pattern {
            text: text.to_owned(),
            glob,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match &self.glob {
            Some(g) => g.is_match(value),
            None => self.text == value,
        }
    }
}

/// One waiver: which findings it covers, why, who approved it and until when.
#[derive(Debug, Clone)]
pub struct Waiver {
    /// The policy id or glob.
    pub policy: Pattern,
    /// The resource's identity key (exact or glob), when scoped by identity: the ARN of
    /// an existing data store, `FILE#ADDRESS` of a planned one, `DATASTORE_ID/KIND/JOB_ID`
    /// of a job (see [`Resource::key`](hlaudit_model::report::Resource::key)).
    pub resource: Option<Pattern>,
    /// The kinds of resource covered, each once in the order of [`Kind::ALL`]; `None`
    /// covers every kind.
    pub kinds: Option<Vec<Kind>>,
    /// The data store ARN (exact or glob), when scoped by ARN.
    pub arn: Option<Pattern>,
    /// The account id (exact or glob), when scoped by account.
    pub account: Option<Pattern>,
    /// The region (exact or glob), when scoped by region.
    pub region: Option<Pattern>,
    /// Tag key -> value (exact or glob); every one must match.
    pub tags: BTreeMap<String, Pattern>,
    /// Why the violation is accepted.
    pub reason: String,
    /// Who approved it.
    pub approved_by: String,
    /// The last day (UTC) it applies; `None` for a permanent waiver.
    pub expires: Option<NaiveDate>,
    /// Where it is written (the file and the line of its list item).
    pub source: Source,
}

/// Every waiver of a set of files, in file order then list order (the first unexpired
/// waiver that matches a finding is the one applied).
#[derive(Debug, Clone, Default)]
pub struct WaiverSet {
    /// The waivers.
    pub waivers: Vec<Waiver>,
}

impl WaiverSet {
    /// The number of waivers.
    pub fn len(&self) -> usize {
        self.waivers.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.waivers.is_empty()
    }
}

/// Loads waiver files. On any problem, returns every problem of every file (sorted by
/// file, line and column).
pub fn load_waivers(sources: &[WaiverSource]) -> Result<WaiverSet, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut set = WaiverSet::default();
    for src in sources {
        let text: Arc<str> = Arc::from(src.text.as_str());
        let doc: Value = match crate::yaml::parse(&src.name, &src.text) {
            Ok(v) => v,
            Err(d) => {
                diags.add_source(&src.name, text.clone());
                diags.push(d);
                continue;
            }
        };
        let mut w = FileWalk::new(&src.name, text);
        load_file(&doc, &mut w, &mut set);
        w.finish(&mut diags);
    }
    if diags.is_empty() {
        Ok(set)
    } else {
        diags.sort();
        Err(diags)
    }
}

fn load_file(doc: &Value, w: &mut FileWalk, set: &mut WaiverSet) {
    let Value::Mapping(top) = doc else {
        w.hint_error(
            &[],
            "wrong-type",
            format!(
                "a waiver file is a mapping with `waivers`, found {}",
                kind(doc)
            ),
            "start the file with `waivers:` followed by a list of waivers",
        );
        return;
    };
    let entries = w.keys(top, &[], &FILE_KEYS, "a waiver file");
    let get = |k: &str| entries.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let allow_permanent = get("allow_permanent")
        .and_then(|v| w.boolean(v, &child(&[], "allow_permanent"), "`allow_permanent`"))
        .unwrap_or(false);
    let at = child(&[], "waivers");
    let items = match get("waivers") {
        Some(Value::Sequence(items)) => items,
        // `waivers:` with nothing after it: an empty file of waivers is fine.
        Some(Value::Null) => return,
        Some(other) => {
            w.error(
                &at,
                "wrong-type",
                format!("`waivers` must be a list, found {}", kind(other)),
            );
            return;
        }
        None => {
            w.error(&[], "missing-key", "this file has no `waivers` (required)");
            return;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let at = index(&at, i);
        match item {
            Value::Mapping(m) => {
                if let Some(wv) = waiver(m, &at, allow_permanent, w) {
                    set.waivers.push(wv);
                }
            }
            other => w.error(
                &at,
                "wrong-type",
                format!("a waiver must be a mapping, found {}", kind(other)),
            ),
        }
    }
}

fn waiver(m: &Mapping, at: &[Seg], allow_permanent: bool, w: &mut FileWalk) -> Option<Waiver> {
    let entries = w.keys(m, at, &WAIVER_KEYS, "a waiver");
    let get = |k: &str| entries.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let mut ok = entries.len() == m.len();
    for r in ["policy", "reason", "approved_by"] {
        if get(r).is_none() {
            w.error(
                at,
                "missing-key",
                format!("this waiver has no `{r}` (required)"),
            );
            ok = false;
        }
    }
    if !SCOPE_KEYS.iter().any(|k| get(k).is_some()) {
        w.hint_error(
            at,
            "missing-scope",
            "this waiver does not say which resources it covers",
            "add `resource`, `arn`, `account`, `region` or `tags`; write `arn: \"*\"` to cover \
             every existing data store, `resource: \"*\"` to cover every resource",
        );
        ok = false;
    }
    let policy = get("policy").and_then(|v| pattern(v, &child(at, "policy"), "`policy`", w));
    let scope = |k: &str, w: &mut FileWalk| -> Result<Option<Pattern>, ()> {
        match get(k) {
            None => Ok(None),
            Some(v) => pattern(v, &child(at, k), &format!("`{k}`"), w)
                .map(Some)
                .ok_or(()),
        }
    };
    let resource = scope("resource", w);
    let kinds = match get("kinds") {
        None => Some(None),
        Some(v) => kinds(v, &child(at, "kinds"), w).map(Some),
    };
    let arn = scope("arn", w);
    let account = scope("account", w);
    let region = scope("region", w);
    let tags = match get("tags") {
        None => Some(BTreeMap::new()),
        Some(v) => tags(v, &child(at, "tags"), w),
    };
    let text = |k: &str, w: &mut FileWalk| -> Option<String> {
        let v = get(k)?;
        let s = w.string(v, &child(at, k), &format!("`{k}`"))?;
        if s.trim().is_empty() {
            w.error(&child(at, k), "bad-value", format!("`{k}` is empty"));
            return None;
        }
        Some(s)
    };
    let reason = text("reason", w);
    let approved_by = text("approved_by", w);
    if let Some(v) = get("note") {
        ok &= w.string(v, &child(at, "note"), "`note`").is_some();
    }
    let expires = match get("expires") {
        Some(v) => date(v, &child(at, "expires"), w).map(Some),
        None if allow_permanent => Some(None),
        None => {
            w.hint_error(
                at,
                "missing-expiry",
                "this waiver has no `expires` date",
                "add `expires: YYYY-MM-DD`, or set `allow_permanent: true` at the top of the file \
                 if it may hold permanent waivers",
            );
            None
        }
    };
    let (_, line, column) = w.position(at, false);
    let source = Source {
        file: Arc::from(w.file.as_str()),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    };
    if !ok {
        return None;
    }
    Some(Waiver {
        policy: policy?,
        resource: resource.ok()?,
        kinds: kinds?,
        arn: arn.ok()?,
        account: account.ok()?,
        region: region.ok()?,
        tags: tags?,
        reason: reason?,
        approved_by: approved_by?,
        expires: expires?,
        source,
    })
}

fn pattern(v: &Value, at: &[Seg], what: &str, w: &mut FileWalk) -> Option<Pattern> {
    let s = match v {
        // An account id written without quotes is a YAML number.
        Value::Number(n) if n.is_u64() => n.to_string(),
        other => w.string(other, at, what)?,
    };
    if s.is_empty() {
        w.error(at, "bad-value", format!("{what} is empty"));
        return None;
    }
    match Pattern::new(&s) {
        Ok(p) => Some(p),
        Err(e) => {
            w.hint_error(
                at,
                "bad-glob",
                format!("`{s}` is not a valid pattern: {e}"),
                "patterns use `*`, `?`, `[abc]` and `{a,b}`",
            );
            None
        }
    }
}

/// The kinds a waiver is limited to: a non-empty list of kind names, each once, returned
/// in the order of [`Kind::ALL`].
fn kinds(v: &Value, at: &[Seg], w: &mut FileWalk) -> Option<Vec<Kind>> {
    let names = Kind::ALL.map(Kind::as_str);
    let listing = names.join(", ");
    let mut out: Vec<Kind> = Vec::new();
    let read = w.list(v, at, "`kinds`", "kind names", |w, item, at_i, what| {
        let name = w.string(item, at_i, what)?;
        match name.parse::<Kind>() {
            Ok(k) if out.contains(&k) => {
                w.error(
                    at_i,
                    "bad-value",
                    format!("the kind `{k}` is listed twice in `kinds`"),
                );
                None
            }
            Ok(k) => {
                out.push(k);
                Some(())
            }
            Err(_) => {
                let hint = match did_you_mean(&name, &names) {
                    Some(x) => format!("did you mean `{x}`? the kinds are {listing}"),
                    None => format!("the kinds are {listing}"),
                };
                w.hint_error(at_i, "bad-value", format!("unknown kind `{name}`"), hint);
                None
            }
        }
    })?;
    if read.is_empty() {
        w.hint_error(
            at,
            "bad-value",
            "`kinds` is empty: a waiver covers at least one kind of resource",
            format!("name some of {listing}, or leave `kinds` out to cover every kind"),
        );
        return None;
    }
    out.sort();
    Some(out)
}

fn tags(v: &Value, at: &[Seg], w: &mut FileWalk) -> Option<BTreeMap<String, Pattern>> {
    let Value::Mapping(m) = v else {
        w.error(
            at,
            "wrong-type",
            format!(
                "`tags` must be a mapping of tag key to value, found {}",
                kind(v)
            ),
        );
        return None;
    };
    if m.is_empty() {
        w.error(at, "bad-value", "`tags` is empty");
        return None;
    }
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (k, val) in m {
        let Some(key) = k.as_str() else {
            w.error(at, "wrong-type", "a tag key must be a string");
            ok = false;
            continue;
        };
        let vat = child(at, key);
        let val = match val {
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => match w.string(other, &vat, &format!("the value of tag `{key}`")) {
                Some(s) => s,
                None => {
                    ok = false;
                    continue;
                }
            },
        };
        match Pattern::new(&val) {
            Ok(p) => {
                out.insert(key.to_owned(), p);
            }
            Err(e) => {
                w.error(
                    &vat,
                    "bad-glob",
                    format!("`{val}` is not a valid pattern: {e}"),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn date(v: &Value, at: &[Seg], w: &mut FileWalk) -> Option<NaiveDate> {
    let s = w.string(v, at, "`expires`")?;
    match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        Ok(d) if s.trim().len() == 10 => Some(d),
        _ => {
            w.hint_error(
                at,
                "bad-date",
                format!("`{s}` is not a date"),
                "write the last day the waiver applies as YYYY-MM-DD, e.g. 2026-12-31",
            );
            None
        }
    }
}
