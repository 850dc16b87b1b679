//! `hlaudit rules docs`: write the policy reference (`docs/rules.md`) from the policies
//! themselves, or check that the committed file is up to date.
//!
//! The page is rendered from the compiled set's metadata ([`PolicyMeta`]) and declared
//! parameters, never written by hand, so it cannot drift from what `check` evaluates: CI runs
//! `hlaudit rules docs --check`, which fails while the file differs from a fresh rendering.
//! The output depends only on the policy files (policies in id order, no dates, no absolute
//! paths), so it is byte-identical on every machine.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use hlaudit_model::report::PolicyMeta;
use hlaudit_rules::{
    builtin_sources, compile, read_sources, CompiledPolicy, CompiledPolicySet, Overrides, Parameter,
};

use crate::exit::{Outcome, Problems};
use crate::stdio::{errln, out};

/// Where the built-in pack's reference lives in the repository.
pub const DEFAULT_OUTPUT: &str = "docs/rules.md";

/// Write the policy reference (a table plus a section per policy) as Markdown.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    hlaudit rules docs                      # write docs/rules.md from the built-in pack\n  \
    hlaudit rules docs --check              # exit 1 if docs/rules.md is stale (for CI)\n  \
    hlaudit rules docs my-policies/ -o docs/our-policies.md\n  \
    hlaudit rules docs -o -                 # print to standard output")]
pub struct Args {
    /// Policy files or folders to document instead of the built-in pack.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The Markdown file to write; `-` prints to standard output.
    #[arg(short, long, value_name = "FILE", default_value = DEFAULT_OUTPUT)]
    pub output: PathBuf,
    /// Do not write: exit 1 if FILE differs from a fresh rendering (a stale reference).
    #[arg(long)]
    pub check: bool,
}

/// Runs `rules docs`.
pub fn run(args: &Args) -> Result<Outcome> {
    let (set, origin) = load(&args.paths)?;
    let page = render(&set, &origin, args.paths.is_empty());
    let to_stdout = args.output.as_os_str() == "-";
    if args.check {
        if to_stdout {
            anyhow::bail!("--check needs a file to compare with (-o FILE), not `-`");
        }
        return check(&args.output, &page);
    }
    if to_stdout {
        out!("{page}")?;
        return Ok(Outcome::Clean);
    }
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    crate::output::write_atomically(&args.output, page.as_bytes())?;
    errln!("wrote {} ({} policies)", args.output.display(), set.len());
    Ok(Outcome::Clean)
}

/// Compiles the built-in pack (no paths) or the given policy files; also returns how the
/// page names what it documents.
fn load(paths: &[PathBuf]) -> Result<(CompiledPolicySet, String)> {
    let (sources, origin) = if paths.is_empty() {
        (
            builtin_sources(),
            "the built-in pack (`rules/*.yaml`)".to_owned(),
        )
    } else {
        let names: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
        (read_sources(paths)?, names.join(", "))
    };
    let set = compile(&sources, &Overrides::none()).map_err(Problems::in_policies)?;
    Ok((set, origin))
}

/// Compares the file with the fresh rendering; exit 1 with a hint when they differ.
fn check(path: &Path, page: &str) -> Result<Outcome> {
    let found = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            errln!(
                "{} does not exist; run `hlaudit rules docs -o {}` to write it",
                path.display(),
                path.display()
            );
            return Ok(Outcome::Findings);
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if found == page {
        errln!("{} is up to date", path.display());
        return Ok(Outcome::Clean);
    }
    errln!(
        "{} is stale: it differs from the policies it documents\n{}\nrun `hlaudit rules docs -o {}` (or `cargo run -- rules docs`) and commit the result",
        path.display(),
        first_difference(&found, page),
        path.display()
    );
    Ok(Outcome::Findings)
}

/// Describes the first line where two texts differ, for the stale-file hint.
fn first_difference(found: &str, expected: &str) -> String {
    let (mut f, mut e) = (found.lines(), expected.lines());
    let mut n = 0usize;
    loop {
        n += 1;
        match (f.next(), e.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => return "  the files differ only in line endings".to_owned(),
            (a, b) => {
                let show = |l: Option<&str>| match l {
                    Some(l) => format!("{:?}", shorten(l)),
                    None => "<end of file>".to_owned(),
                };
                return format!(
                    "  first difference at line {n}:\n    committed: {}\n    expected:  {}",
                    show(a),
                    show(b)
                );
            }
        }
    }
}

fn shorten(line: &str) -> String {
    const MAX: usize = 120;
    if line.chars().count() <= MAX {
        line.to_owned()
    } else {
        let cut: String = line.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

/// Renders the reference page: a summary table, then a section per policy. `builtin`
/// says the set is the built-in pack (whose shared conventions the page then states).
pub fn render(set: &CompiledPolicySet, origin: &str, builtin: bool) -> String {
    let mut policies: Vec<&CompiledPolicy> = set.policies().collect();
    policies.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
    let mut out = String::new();
    out.push_str(
        "<!-- Generated by `hlaudit rules docs` from the policy files; do not edit by hand.\n     \
         After changing a policy, run `hlaudit rules docs` and commit the result (CI runs\n     \
         `hlaudit rules docs --check`). -->\n\n",
    );
    out.push_str("# Policy reference\n\n");
    let _ = writeln!(
        out,
        "{} {} from {origin}. Each policy is evaluated on every data store (or, where it says \
         so, every export job, import job or transformation profile); where its \
         applicability condition does not hold the result is SKIP{}. Parameters can be \
         overridden per policy in the configuration file. The language the policies are written in is \
         described in [policy-language.md](policy-language.md).\n",
        policies.len(),
        if policies.len() == 1 {
            "policy"
        } else {
            "policies"
        },
        if builtin {
            " (data stores whose status is DELETED or DELETING are SKIP for every built-in policy)"
        } else {
            ""
        }
    );
    out.push_str("| Id | Severity | Title | HIPAA | NIST SP 800-53 |\n");
    out.push_str("|---|---|---|---|---|\n");
    for p in &policies {
        let m = &p.meta;
        let _ = writeln!(
            out,
            "| [{}](#{}) | {} | {} | {} | {} |",
            m.id,
            anchor(&m.id),
            m.severity,
            cell(&m.title),
            cell(&controls(m, "hipaa")),
            cell(&controls(m, "nist")),
        );
    }
    out.push('\n');
    for p in &policies {
        section(&mut out, p);
    }
    out
}

fn section(out: &mut String, p: &CompiledPolicy) {
    let m = &p.meta;
    let _ = writeln!(out, "<a id=\"{}\"></a>\n", anchor(&m.id));
    let _ = writeln!(out, "## {}: {}\n", m.id, one_line(&m.title));
    let mut facts = vec![format!("**Severity:** {}", m.severity)];
    if !m.tags.is_empty() {
        let tags: Vec<String> = m.tags.iter().map(|t| format!("`{t}`")).collect();
        facts.push(format!("**Tags:** {}", tags.join(", ")));
    }
    if let Some(file) = m.source.as_ref().map(|s| source_file(&s.file)) {
        facts.push(format!("**Defined in:** `{file}`"));
    }
    if p.kinds() != [hlaudit_model::Kind::Datastore] {
        let kinds: Vec<String> = p.kinds().iter().map(|k| format!("{}s", k.noun())).collect();
        facts.push(format!("**Applies to:** {}", kinds.join(", ")));
    }
    // Only data stores are planned in templates and plans.
    if p.applies_to(hlaudit_model::Kind::Datastore) {
        facts.push(if p.is_runtime() {
            "**Templates and plans:** not evaluated (run-time state)".to_owned()
        } else {
            "**Templates and plans:** evaluated".to_owned()
        });
    }
    let _ = writeln!(out, "{}\n", facts.join(" · "));
    paragraph(out, None, &m.description);
    paragraph(out, Some("Rationale"), &m.rationale);
    if !m.remediation.trim().is_empty() {
        let _ = writeln!(out, "**Remediation**\n\n{}\n", m.remediation.trim_end());
    }
    parameters(out, &p.parameters);
    if !m.compliance.is_empty() {
        out.push_str("**Compliance**\n\n");
        for (framework, ids) in &m.compliance {
            let _ = writeln!(out, "- {}: {}", framework_name(framework), ids.join(", "));
        }
        out.push('\n');
    }
    if !m.references.is_empty() {
        out.push_str("**References**\n\n");
        for r in &m.references {
            let _ = writeln!(out, "- <{r}>");
        }
        out.push('\n');
    }
}

fn paragraph(out: &mut String, label: Option<&str>, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    match label {
        Some(l) => {
            let _ = writeln!(out, "**{l}**\n\n{text}\n");
        }
        None => {
            let _ = writeln!(out, "{text}\n");
        }
    }
}

fn parameters(out: &mut String, params: &[Parameter]) {
    if params.is_empty() {
        return;
    }
    out.push_str("**Parameters**\n\n| Name | Type | Default | Meaning |\n|---|---|---|---|\n");
    for p in params {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            p.name,
            p.ty,
            cell(&code(&value_text(&p.default))),
            cell(&p.description)
        );
    }
    out.push('\n');
}

/// A parameter value as people write it: strings bare, lists as `[a, b]`, else JSON.
fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(value_text).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// The control ids of the frameworks whose name starts with `prefix` (case-insensitive).
fn controls(m: &PolicyMeta, prefix: &str) -> String {
    let ids: Vec<&str> = m
        .compliance
        .iter()
        .filter(|(k, _)| k.to_lowercase().starts_with(prefix))
        .flat_map(|(_, v)| v.iter().map(String::as_str))
        .collect();
    ids.join(", ")
}

fn framework_name(key: &str) -> String {
    match key.to_lowercase().as_str() {
        "hipaa" => "HIPAA Security Rule (45 CFR Part 164)".to_owned(),
        "nist-800-53" => "NIST SP 800-53 rev. 5".to_owned(),
        _ => key.to_owned(),
    }
}

/// `builtin:encryption.yaml` names a file of the repository's `rules/` folder.
fn source_file(file: &str) -> String {
    match file.strip_prefix("builtin:") {
        Some(name) => format!("rules/{name}"),
        None => file.replace('\\', "/"),
    }
}

fn anchor(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

fn code(s: &str) -> String {
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text safe inside a Markdown table cell.
fn cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlaudit_rules::PolicySource;

    const POLICY: &str = r#"
policies:
  - id: T-2
    title: Second | with a pipe
    severity: low
    description: The second policy.
    assert: {path: DatastoreName, exists: true}
  - id: T-1
    title: Retention is long enough
    severity: high
    description: >-
      Backups are kept at least `min_retention_days` days.
    rationale: Late discoveries need old restore points.
    remediation: |
      Raise the retention:

          aws healthlake update-fhir-datastore --datastore-id ID
    references: [https://example.org/backups]
    compliance:
      HIPAA: ["164.308(a)(7)(ii)(A)"]
      NIST-800-53: [CP-9]
    tags: [backup]
    parameters:
      min_retention_days: {type: integer, default: 7, description: "Shortest retention, in days."}
      keys: {type: string_list, default: [A, B], description: Some keys.}
    assert:
      path: BackupStatusInfo.Configuration.RetentionPeriodInDays
      ge: {param: min_retention_days}
"#;

    fn set_of(text: &str) -> CompiledPolicySet {
        match compile(
            &[PolicySource::from_text("t.yaml", text)],
            &Overrides::none(),
        ) {
            Ok(s) => s,
            Err(d) => panic!("{}", d.render(false)),
        }
    }

    #[test]
    fn renders_table_and_sections_in_id_order() {
        let page = render(&set_of(POLICY), "`t.yaml`", false);
        insta::assert_snapshot!(page);
    }

    #[test]
    fn documents_every_built_in_policy_with_its_parameters() {
        let (set, _) = match load(&[]) {
            Ok(v) => v,
            Err(e) => panic!("{e:#}"),
        };
        let page = render(&set, "the built-in pack", true);
        for p in set.policies() {
            assert!(
                page.contains(&format!("## {}: ", p.meta.id)),
                "{} has no section",
                p.meta.id
            );
            assert!(
                page.contains(&format!("| [{}](#", p.meta.id)),
                "{} is not in the table",
                p.meta.id
            );
            for param in &p.parameters {
                assert!(
                    page.contains(&format!("| `{}` |", param.name)),
                    "{} not documented",
                    param.name
                );
            }
        }
    }

    #[test]
    fn check_reports_the_first_differing_line() {
        let d = first_difference("a\nb\nc\n", "a\nx\nc\n");
        assert!(d.contains("line 2"), "{d}");
        assert!(d.contains("\"b\"") && d.contains("\"x\""), "{d}");
        assert!(first_difference("a\n", "a\nb\n").contains("<end of file>"));
    }

    #[test]
    fn check_exits_1_when_stale_and_0_when_fresh() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let file = dir.path().join("rules.md");
        let page = render(&set_of(POLICY), "`t.yaml`", false);
        assert_eq!(
            check(&file, &page).ok(),
            Some(Outcome::Findings),
            "missing file"
        );
        std::fs::write(&file, page.replace("Second", "2nd")).ok();
        assert_eq!(
            check(&file, &page).ok(),
            Some(Outcome::Findings),
            "stale file"
        );
        std::fs::write(&file, &page).ok();
        assert_eq!(check(&file, &page).ok(), Some(Outcome::Clean), "fresh file");
    }
}
