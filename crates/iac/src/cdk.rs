//! AWS CDK cloud assemblies (`cdk.out`): the stack templates `cdk synth` writes, read
//! through the template reader with what the assembly's `manifest.json` adds.
//!
//! The manifest lists artifacts. Each `aws:cloudformation:stack` names its template
//! (`properties.templateFile`, relative to the assembly folder) and its environment
//! (`aws://ACCOUNT/REGION`, `unknown-account`/`unknown-region` when the stack is
//! environment-agnostic), which gives the account and region the user left unknown. Each
//! `cdk:cloud-assembly` is a nested assembly (a `Stage`), read the same way from its
//! folder. Asset manifests, the construct tree and the other artifacts are not read.
//!
//! Every record gets the deployed stack name (`names["stack"]`); the template reader
//! adds the construct path from `aws:cdk:path`. Stack tags (`properties.tags`), which
//! CloudFormation applies to every resource of the stack, are added to each record's
//! tags where the resource does not set the same key.
//!
//! A folder is recognised by its `manifest.json`, and the manifest by its first 64 KiB: a
//! JSON object with `version` and `artifacts` holding a stack or nested assembly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hlaudit_model::Record;

use crate::terraform_json::scan_head;
use crate::tree::{self, Node, Value};
use crate::{IacError, IacErrors, Options, Read};

/// The manifest's file name in an assembly folder.
const MANIFEST: &str = "manifest.json";

/// Artifact types that make a manifest a cloud assembly's.
const ASSEMBLY_TYPES: [&str; 2] = ["aws:cloudformation:stack", "cdk:cloud-assembly"];

/// Deepest nesting of assemblies read (stages within stages).
const MAX_NESTING: usize = 16;

/// Whether `dir` holds a cloud assembly's `manifest.json`.
pub(crate) fn is_assembly_dir(dir: &Path) -> bool {
    use std::io::Read as _;
    let mut head = Vec::new();
    let read = std::fs::File::open(dir.join(MANIFEST))
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut head));
    read.is_ok() && is_manifest_text(&String::from_utf8_lossy(&head))
}

/// Whether the head of a file is a cloud assembly manifest.
pub(crate) fn is_manifest_text(head: &str) -> bool {
    let (mut version, mut artifacts, mut typed) = (false, false, false);
    scan_head(head, |path, value| {
        match (path, value) {
            ([k], None) if k == "version" => version = true,
            ([k], None) if k == "artifacts" => artifacts = true,
            ([a, _, t], Some(v)) if a == "artifacts" && t == "type" => {
                typed |= ASSEMBLY_TYPES.contains(&v);
            }
            _ => {}
        }
        !(version && artifacts && typed)
    });
    version && artifacts && typed
}

/// Reads the assembly in the folder `path` (or whose `manifest.json` is `path`), named
/// `display` in findings and errors.
pub(crate) fn read_assembly(path: &Path, display: &str, opts: &Options) -> Result<Read, IacErrors> {
    let (dir, base) = if path.is_dir() {
        (path.to_path_buf(), display.trim_end_matches('/').to_owned())
    } else {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = display
            .strip_suffix(MANIFEST)
            .unwrap_or(display)
            .trim_end_matches('/')
            .to_owned();
        (dir, base)
    };
    let mut errors = Vec::new();
    let read = Assembly {
        opts,
        errors: &mut errors,
    }
    .read(&dir, &base, 0);
    if errors.is_empty() {
        Ok(read)
    } else {
        Err(IacErrors(errors))
    }
}

/// `base/name`, or `name` when `base` is empty.
fn join(base: &str, name: &str) -> String {
    if base.is_empty() || base == "." {
        name.to_owned()
    } else {
        format!("{base}/{name}")
    }
}

/// Reading one assembly and those nested in it, every problem collected.
struct Assembly<'a> {
    opts: &'a Options,
    errors: &'a mut Vec<IacError>,
}

/// What the manifest says about one stack.
struct Stack<'n> {
    /// The artifact id.
    id: &'n str,
    /// `properties`.
    properties: &'n Node,
    /// The `environment` node, when present.
    environment: Option<&'n Node>,
}

impl Assembly<'_> {
    /// Reads the assembly in `dir`, shown as `base`.
    fn read(&mut self, dir: &Path, base: &str, depth: usize) -> Read {
        let mut read = Read::default();
        let shown = join(base, MANIFEST);
        let text = match std::fs::read_to_string(dir.join(MANIFEST)) {
            Ok(t) => t,
            Err(e) => {
                self.errors.push(
                    IacError::new(&shown, 0, 0, format!("cannot read the manifest: {e}"))
                        .with_hint("give a folder `cdk synth` wrote (`cdk.out`)"),
                );
                return read;
            }
        };
        let root = match tree::parse(&shown, &text) {
            Ok(n) => n,
            Err(e) => {
                self.errors.push(e);
                return read;
            }
        };
        let before = self.errors.len();
        let mut problem = |node: &Node, message: String, hint: &str| {
            IacError::new(&shown, node.line as usize, node.column as usize, message)
                .with_source(&text)
                .with_hint(hint)
        };
        if root.get("version").and_then(Node::as_str).is_none() {
            self.errors.push(problem(
                &root,
                "the manifest has no `version`".into(),
                "a cloud assembly manifest has `version` and `artifacts`; synthesise the app again",
            ));
        }
        let artifacts = match root.get("artifacts").map(|a| (&a.value, a)) {
            None => Vec::new(),
            Some((Value::Map(entries), _)) => entries.iter().collect(),
            Some((_, a)) => {
                self.errors.push(problem(
                    a,
                    format!("`artifacts` must be a mapping, found {}", a.describe()),
                    "`artifacts` maps each artifact id to `{\"type\": ..., \"properties\": {...}}`",
                ));
                Vec::new()
            }
        };
        let mut stacks = 0;
        for (key, artifact) in artifacts {
            let kind = artifact.get("type").and_then(Node::as_str);
            let properties = artifact.get("properties");
            match (kind, properties) {
                (Some("aws:cloudformation:stack"), Some(p)) => {
                    stacks += 1;
                    let stack = Stack {
                        id: &key.name,
                        properties: p,
                        environment: artifact.get("environment"),
                    };
                    match self.stack(dir, base, &stack, &mut problem) {
                        Ok(r) => merge(&mut read, r),
                        Err(e) => self.errors.push(e),
                    }
                }
                (Some("cdk:cloud-assembly"), Some(p)) => {
                    let Some(name) = p.get("directoryName").and_then(Node::as_str) else {
                        self.errors.push(problem(
                            p,
                            format!("the nested assembly `{}` has no `directoryName`", key.name),
                            "a `cdk:cloud-assembly` artifact names its folder in `properties.directoryName`",
                        ));
                        continue;
                    };
                    if depth >= MAX_NESTING {
                        self.errors.push(problem(
                            p,
                            format!("assemblies nested more than {MAX_NESTING} deep"),
                            "check that no nested assembly names a folder that contains it",
                        ));
                        continue;
                    }
                    stacks += 1;
                    let nested = self.read(&dir.join(name), &join(base, name), depth + 1);
                    merge(&mut read, nested);
                }
                (Some(t), None) if ASSEMBLY_TYPES.contains(&t) => self.errors.push(problem(
                    artifact,
                    format!("the artifact `{}` has no `properties`", key.name),
                    "a stack names its template in `properties.templateFile`",
                )),
                (None, _) => self.errors.push(problem(
                    artifact,
                    format!("the artifact `{}` has no `type`", key.name),
                    "each artifact has a `type` such as `aws:cloudformation:stack`",
                )),
                // Asset manifests, the tree, feature flag reports: nothing to audit.
                _ => {}
            }
        }
        if stacks == 0 && self.errors.len() == before {
            read.without_datastores.push(if base.is_empty() {
                shown.clone()
            } else {
                base.to_owned()
            });
        }
        read
    }

    /// Reads one stack's template with the options its manifest entry gives.
    fn stack(
        &mut self,
        dir: &Path,
        base: &str,
        stack: &Stack<'_>,
        problem: &mut impl FnMut(&Node, String, &str) -> IacError,
    ) -> Result<Read, IacError> {
        let p = stack.properties;
        let Some(file_node) = p.get("templateFile") else {
            return Err(problem(
                p,
                format!("the stack `{}` has no `templateFile`", stack.id),
                "a stack artifact names its template in `properties.templateFile`",
            ));
        };
        let Some(file) = file_node.as_str() else {
            return Err(problem(
                file_node,
                "`templateFile` must be a file name".into(),
                "for example `\"templateFile\": \"MyStack.template.json\"`",
            ));
        };
        let mut opts = self.opts.clone();
        if let Some(env) = stack.environment {
            let (account, region) = environment(env.as_str().unwrap_or("")).ok_or_else(|| {
                problem(
                    env,
                    format!(
                        "the environment of `{}` is not `aws://ACCOUNT/REGION`",
                        stack.id
                    ),
                    "for example `aws://111122223333/us-east-1` or `aws://unknown-account/unknown-region`",
                )
            })?;
            opts.context.account = opts.context.account.or(account);
            opts.context.region = opts.context.region.or(region);
        }
        for (name, value) in string_map(p.get("parameters")) {
            opts.parameters.entry(name).or_insert(value);
        }
        let path: PathBuf = dir.join(file);
        let shown = join(base, file);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "it is missing".to_owned(),
                _ => e.to_string(),
            };
            problem(
                file_node,
                format!(
                    "cannot read the template of `{}` ({shown}): {why}",
                    stack.id
                ),
                "the assembly is incomplete: synthesise the app again (`cdk synth`)",
            )
        })?;
        let name = p
            .get("stackName")
            .and_then(Node::as_str)
            .unwrap_or(stack.id);
        let tags = string_map(p.get("tags"));
        match crate::cfn::read_template(&shown, &text, &opts) {
            Ok(mut read) => {
                read.records = read
                    .records
                    .into_iter()
                    .map(|r| with_stack(r, name, &tags))
                    .collect();
                Ok(read)
            }
            Err(errors) => {
                self.errors.extend(errors.0);
                Ok(Read::default())
            }
        }
    }
}

/// The account and region of `aws://ACCOUNT/REGION`, each `None` when unknown;
/// `None` when `env` has another shape.
fn environment(env: &str) -> Option<(Option<String>, Option<String>)> {
    let (account, region) = env.strip_prefix("aws://")?.split_once('/')?;
    if account.is_empty() || region.is_empty() || region.contains('/') {
        return None;
    }
    let known = |s: &str, unknown: &str| (s != unknown).then(|| s.to_owned());
    Some((
        known(account, "unknown-account"),
        known(region, "unknown-region"),
    ))
}

/// A mapping of text values (`tags`, `parameters`), other entries left out.
fn string_map(node: Option<&Node>) -> BTreeMap<String, String> {
    match node.map(|n| &n.value) {
        Some(Value::Map(entries)) => entries
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.name.clone(), s.to_owned())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The record with its stack named and the stack's tags added.
fn with_stack(record: Record, stack: &str, tags: &BTreeMap<String, String>) -> Record {
    let mut detail = record.plan().cloned().unwrap_or_default();
    detail.names.insert("stack".into(), stack.to_owned());
    for alt in &mut detail.alternatives {
        alt.detail.names.insert("stack".into(), stack.to_owned());
        if let Some(t) = alt.tags.as_mut() {
            add_tags(t, tags);
        }
    }
    let mut record = record.with_plan(detail);
    if let Some(t) = record.tags.as_mut() {
        add_tags(t, tags);
    }
    record
}

/// Adds the stack's tags the resource does not set itself.
fn add_tags(to: &mut BTreeMap<String, String>, stack: &BTreeMap<String, String>) {
    for (k, v) in stack {
        to.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

/// Adds what reading a stack or nested assembly gave.
fn merge(into: &mut Read, from: Read) {
    into.records.extend(from.records);
    into.templates += from.templates;
    into.plans += from.plans;
    into.without_datastores.extend(from.without_datastores);
    into.warnings.extend(from.warnings);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_give_what_they_know() {
        assert_eq!(
            environment("aws://111122223333/us-east-1"),
            Some((Some("111122223333".into()), Some("us-east-1".into())))
        );
        assert_eq!(
            environment("aws://unknown-account/unknown-region"),
            Some((None, None))
        );
        assert_eq!(
            environment("aws://111122223333/unknown-region"),
            Some((Some("111122223333".into()), None))
        );
        for bad in [
            "",
            "111122223333/us-east-1",
            "aws://111122223333",
            "aws:///us-east-1",
            "aws://a/b/c",
        ] {
            assert_eq!(environment(bad), None, "{bad}");
        }
    }

    #[test]
    fn manifests_are_recognised_by_their_artifacts() {
        assert!(is_manifest_text(
            r#"{"version": "38.0.1", "artifacts": {"S": {"type": "aws:cloudformation:stack"}}}"#
        ));
        assert!(is_manifest_text(
            r#"{"version":"55.0.0","artifacts":{"assembly-Prod":{"type":"cdk:cloud-assembly","properties":{}}}}"#
        ));
        // The version file, the tree, an asset manifest, a manifest of assets only.
        assert!(!is_manifest_text(r#"{"version":"55.0.0"}"#));
        assert!(!is_manifest_text(
            r#"{"version":"tree-0.1","tree":{"id":"App"}}"#
        ));
        assert!(!is_manifest_text(
            r#"{"version":"55.0.0","files":{},"dockerImages":{}}"#
        ));
        assert!(!is_manifest_text(
            r#"{"version":"55.0.0","artifacts":{"T":{"type":"cdk:tree"}}}"#
        ));
        assert!(!is_manifest_text(
            r#"{"version":"1","other":{"a":{"type":"aws:cloudformation:stack"}},"artifacts":{}}"#
        ));
    }

    #[test]
    fn displays_join_without_doubling_slashes() {
        assert_eq!(
            join("cdk.out", "S.template.json"),
            "cdk.out/S.template.json"
        );
        assert_eq!(join("", "S.template.json"), "S.template.json");
    }
}
