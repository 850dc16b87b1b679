//! Loading policy files: reading files and folders, parsing YAML, compiling every policy
//! with the configured overrides, and reporting every problem of the whole set at once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_yaml_ng::Value;

use crate::compile_cond::Named;
use crate::compile_policy::PolicyCx;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::error::RulesError;
use crate::overrides::Overrides;
use crate::set::CompiledPolicySet;
use crate::shared::Shared;
use crate::spans::Seg;
use crate::walk::{child, index, kind, FileWalk};

/// The text of one policy file.
#[derive(Debug, Clone)]
pub struct PolicySource {
    /// The name shown in diagnostics and `PolicyMeta::source` (the path as the user gave
    /// it, or `builtin:NAME.yaml`).
    pub name: String,
    /// The YAML text.
    pub text: String,
    /// The folder that `fixture` paths of inline tests are relative to (`None` for the
    /// built-in pack).
    pub base_dir: Option<PathBuf>,
}

impl PolicySource {
    /// A source from text (tests, the built-in pack).
    pub fn from_text(name: impl Into<String>, text: impl Into<String>) -> Self {
        PolicySource {
            name: name.into(),
            text: text.into(),
            base_dir: None,
        }
    }
}

/// Reads policy files and folders (every `*.yaml` / `*.yml` below a folder, sorted).
pub fn read_sources(paths: &[PathBuf]) -> Result<Vec<PolicySource>, RulesError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| RulesError::Io {
            path: p.clone(),
            source: e,
        })?;
        let mut files = Vec::new();
        if meta.is_dir() {
            collect_yaml(p, &mut files)?;
            files.sort();
        } else {
            files.push(p.clone());
        }
        for f in files {
            let bytes = std::fs::read(&f).map_err(|e| RulesError::Io {
                path: f.clone(),
                source: e,
            })?;
            let name = f.display().to_string();
            let text = crate::yaml::text(&name, bytes).map_err(RulesError::located)?;
            out.push(PolicySource {
                name,
                text,
                base_dir: f.parent().map(Path::to_path_buf),
            });
        }
    }
    Ok(out)
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), RulesError> {
    let rd = std::fs::read_dir(dir).map_err(|e| RulesError::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    for entry in rd {
        let entry = entry.map_err(|e| RulesError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let path = entry.path();
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// Compiles every policy of `sources` with `overrides`. On any problem, returns every
/// problem of every file (sorted by file, line, column).
///
/// ```
/// use hlaudit_rules::{compile, Overrides, PolicySource};
/// let src = PolicySource::from_text("p.yaml", r#"
/// policies:
///   - id: X-1
///     title: Encrypted with a CMK
///     severity: high
///     description: The data store uses a customer managed key.
///     assert: {path: SseConfiguration.KmsEncryptionConfig.CmkType, equals: CUSTOMER_MANAGED_KMS_KEY}
/// "#);
/// let set = compile(&[src], &Overrides::none()).unwrap();
/// assert_eq!(set.len(), 1);
/// ```
pub fn compile(
    sources: &[PolicySource],
    overrides: &Overrides,
) -> Result<CompiledPolicySet, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut shared = Shared::default();
    let mut policies = Vec::new();
    let mut ids = Ids::default();
    for src in sources {
        let text: Arc<str> = Arc::from(src.text.as_str());
        let mut w = FileWalk::new(&src.name, text.clone());
        let doc: Value = match crate::yaml::parse(&src.name, &src.text) {
            Ok(v) => v,
            Err(d) => {
                diags.add_source(&src.name, text.clone());
                diags.push(d);
                continue;
            }
        };
        let duplicates = ids.declare(&doc, src, &text, &mut w);
        for (i, p) in compile_file(&doc, src, overrides, &mut w, &mut shared) {
            if !duplicates.contains(&i) {
                policies.push(Arc::new(p));
            }
        }
        w.finish(&mut diags);
    }
    report_unloaded_overrides(overrides, &ids.declared);
    for d in overrides.take_problems() {
        diags.push(d);
    }
    if let Some(d) = too_many_policies(policies.len()) {
        diags.push(d);
    }
    if !diags.is_empty() {
        diags.sort();
        return Err(diags);
    }
    policies.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
    Ok(CompiledPolicySet {
        policies,
        shared: Arc::new(shared),
    })
}

/// The `too-many-policies` diagnostic of a set of `n` policies, when it is one too many:
/// a finding keeps its policy's index in two bytes, and the collection-error
/// pseudo-policy takes one more index.
fn too_many_policies(n: usize) -> Option<Diagnostic> {
    if n < hlaudit_model::finding::MAX_POLICIES {
        return None;
    }
    Some(Diagnostic {
        file: String::new(),
        line: 0,
        column: 0,
        offset: 0,
        len: 0,
        code: "too-many-policies",
        message: format!(
            "{n} policies are loaded; one audit evaluates at most {}",
            hlaudit_model::finding::MAX_POLICIES - 1
        ),
        hint: Some("split the policies across runs with --only or --tag".to_owned()),
    })
}

/// The policy ids met so far, across files.
#[derive(Default)]
struct Ids {
    /// id -> (file, its text, path) of the first definition; the line is only looked up
    /// (one YAML parse) when the id turns up again.
    first: HashMap<String, (String, Arc<str>, [Seg; 2])>,
    /// Every id written in a file, compiled or not (overrides of a broken policy are not
    /// "for a policy that is not loaded").
    declared: HashSet<String>,
}

impl Ids {
    /// Records the ids of a file's policies, reporting each one defined before; returns
    /// the indexes of those second definitions (they are left out of the set).
    fn declare(
        &mut self,
        doc: &Value,
        src: &PolicySource,
        text: &Arc<str>,
        w: &mut FileWalk,
    ) -> HashSet<usize> {
        let mut duplicates = HashSet::new();
        let Some(Value::Sequence(items)) = doc.get("policies") else {
            return duplicates;
        };
        for (i, p) in items.iter().enumerate() {
            let Some(id) = p.get("id").and_then(Value::as_str) else {
                continue;
            };
            let at = [Seg::Key("policies".to_owned()), Seg::Index(i)];
            if let Some((f, first_text, first_at)) = self.first.get(id) {
                let l = FileWalk::new(f, first_text.clone())
                    .position(first_at, false)
                    .1;
                let mut at_id = at.to_vec();
                at_id.push(Seg::Key("id".to_owned()));
                w.hint_error(
                    &at_id,
                    "duplicate-id",
                    format!("the policy id `{id}` is used twice"),
                    format!("first defined at {f}:{l}"),
                );
                duplicates.insert(i);
            } else {
                self.first
                    .insert(id.to_owned(), (src.name.clone(), text.clone(), at));
            }
            self.declared.insert(id.to_owned());
        }
        duplicates
    }
}

/// Reports overrides configured for policies no file declares.
fn report_unloaded_overrides(overrides: &Overrides, declared: &HashSet<String>) {
    for (id, ps) in &overrides.params {
        if !declared.contains(id) {
            if let Some(o) = ps.values().next() {
                overrides.report(
                    o,
                    format!("parameter overrides for `{id}`, which is not loaded"),
                );
            }
        }
    }
    for (id, o) in &overrides.severities {
        if !declared.contains(id) {
            overrides.report(
                o,
                format!("a severity override for `{id}`, which is not loaded"),
            );
        }
    }
}

fn compile_file(
    doc: &Value,
    src: &PolicySource,
    overrides: &Overrides,
    w: &mut FileWalk,
    shared: &mut Shared,
) -> Vec<(usize, crate::set::CompiledPolicy)> {
    let mut out = Vec::new();
    let Value::Mapping(top) = doc else {
        w.hint_error(
            &[],
            "wrong-type",
            format!(
                "a policy file is a mapping with `policies`, found {}",
                kind(doc)
            ),
            "start the file with `policies:` followed by a list of policies",
        );
        return out;
    };
    let entries = w.keys(top, &[], &["policies", "conditions"], "a policy file");
    let get = |k: &str| entries.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let named = get("conditions")
        .map(|c| named_conditions(c, w))
        .unwrap_or_default();
    let Some(items) = policy_list(get("policies"), w) else {
        return out;
    };
    let mut cx = PolicyCx {
        w,
        shared,
        named: &named,
        overrides,
        base_dir: src.base_dir.as_deref(),
    };
    let at_p = child(&[], "policies");
    for (i, p) in items.iter().enumerate() {
        let at = index(&at_p, i);
        match p {
            Value::Mapping(m) => {
                if let Some(cp) = cx.policy(m, &at) {
                    out.push((i, cp));
                }
            }
            other => cx.w.error(
                &at,
                "wrong-type",
                format!("a policy must be a mapping, found {}", kind(other)),
            ),
        }
    }
    out
}

/// A file's `conditions`: a mapping of names to conditions, compiled where they are used.
fn named_conditions<'v>(v: &'v Value, w: &mut FileWalk) -> BTreeMap<String, Named<'v>> {
    let at = child(&[], "conditions");
    let mut named = BTreeMap::new();
    let Value::Mapping(m) = v else {
        w.error(
            &at,
            "wrong-type",
            format!(
                "`conditions` must be a mapping of named conditions, found {}",
                kind(v)
            ),
        );
        return named;
    };
    for (k, v) in m {
        match k.as_str() {
            Some(name) => {
                named.insert(
                    name.to_owned(),
                    Named {
                        value: v,
                        at: child(&at, name),
                    },
                );
            }
            None => w.error(&at, "wrong-type", "a condition name must be a string"),
        }
    }
    named
}

/// A file's `policies`: a list of at least one policy.
fn policy_list<'v>(v: Option<&'v Value>, w: &mut FileWalk) -> Option<&'v Vec<Value>> {
    let at = child(&[], "policies");
    match v {
        Some(Value::Sequence(items)) if !items.is_empty() => Some(items),
        Some(Value::Sequence(_)) => {
            w.error(&at, "bad-value", "`policies` is empty");
            None
        }
        Some(other) => {
            w.error(
                &at,
                "wrong-type",
                format!("`policies` must be a list, found {}", kind(other)),
            );
            None
        }
        None => {
            w.error(&[], "missing-key", "this file has no `policies` (required)");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_leaves_a_policy_index_for_collection_errors() {
        assert!(too_many_policies(65_534).is_none());
        let d = too_many_policies(65_535).expect("one too many");
        assert_eq!(d.code, "too-many-policies");
        assert!(d.message.contains("at most 65534"), "{}", d.message);
    }
}
