//! Markdown for `$GITHUB_STEP_SUMMARY` or a pull-request comment.
//!
//! A warning first when nothing was checked, the counts, then a table of the failing
//! policies, then one collapsed
//! `<details>` block per policy listing its data stores and evidence, then errors and
//! waived findings, then the compliance view when one is given (see its `compliance` module). The
//! compliance section is rendered first and its size taken out of the budget for the
//! findings, since its size depends only on the catalogues. Every value from the data goes through [`escape`], so a data store
//! name or tag value cannot inject Markdown, HTML or `@mentions`.

mod compliance;

use std::collections::BTreeMap;
use std::io::Write;

use hlaudit_model::compliance::ComplianceView;
use hlaudit_model::finding::{Finding, Severity, Status};
use hlaudit_model::invisible;
use hlaudit_model::report::Report;

use crate::{text, ReportError};

/// Escapes text for inline GitHub-flavoured Markdown: HTML special characters become
/// entities, Markdown punctuation is backslash-escaped, `@` cannot mention anyone, line
/// breaks become spaces (tables and list items stay on one line) and other invisible
/// characters (controls, bidirectional and format characters, see
/// [`hlaudit_model::invisible`]) are shown by code point, `\u{202e}`, as in the terminal.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '@' => out.push_str("&#64;"),
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            c if invisible::is_invisible(c) => {
                // `\u{202e}`, its backslash and braces escaped so it shows as written.
                let mut shown = String::new();
                invisible::push_escape(&mut shown, c);
                for e in shown.chars() {
                    if matches!(e, '\\' | '{' | '}') {
                        out.push('\\');
                    }
                    out.push(e);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Size limits of the Markdown output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// Stop adding details once the output reaches this many bytes (a closing note still
    /// follows).
    pub max_bytes: usize,
    /// Findings listed per policy; the rest are counted.
    pub max_findings_per_policy: usize,
}

impl MarkdownOptions {
    /// For `$GITHUB_STEP_SUMMARY` (GitHub's limit: 1 MiB per step).
    pub const STEP_SUMMARY: MarkdownOptions = MarkdownOptions {
        max_bytes: 900 * 1024,
        max_findings_per_policy: 50,
    };
    /// For a pull-request comment (GitHub's limit: 65,536 characters).
    pub const PR_COMMENT: MarkdownOptions = MarkdownOptions {
        max_bytes: 60_000,
        max_findings_per_policy: 10,
    };
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions::STEP_SUMMARY
    }
}

/// Writes the Markdown summary, sized for a job summary ([`MarkdownOptions::STEP_SUMMARY`]),
/// with a section for `compliance` when given.
pub fn write(
    report: &Report,
    compliance: Option<&ComplianceView>,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    write_with(report, compliance, &MarkdownOptions::default(), out)
}

/// Writes the Markdown summary within the given size limits.
pub fn write_with(
    report: &Report,
    compliance: Option<&ComplianceView>,
    options: &MarkdownOptions,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    crate::check_policies(report)?;
    let md = render(report, compliance, options);
    out.write_all(md.as_bytes())
        .map_err(ReportError::io("Markdown"))
}

/// The size budget, and how many findings it left out.
struct Budget {
    max_bytes: usize,
    per_policy: usize,
    omitted: usize,
}

fn render(
    report: &Report,
    compliance: Option<&ComplianceView>,
    options: &MarkdownOptions,
) -> String {
    // At most a quarter of the budget; what it takes, the findings' details cannot.
    let controls = compliance
        .map(|v| compliance::section(v, options.max_bytes / 4))
        .unwrap_or_default();
    let mut budget = Budget {
        max_bytes: options.max_bytes.saturating_sub(controls.len()),
        per_policy: options.max_findings_per_policy.max(1),
        omitted: 0,
    };
    let s = report.summary();
    let count = |st: Status| s.by_status.get(&st).copied().unwrap_or(0);
    let mut md = String::new();
    let nothing = report.nothing_checked();
    let verdict = if report.is_incomplete() {
        "incomplete audit, something could not be read or evaluated"
    } else if count(Status::Fail) > 0 {
        "violations found"
    } else if nothing.is_some() {
        "nothing checked"
    } else {
        "no violations"
    };
    md.push_str(&format!("## {}: {verdict}\n\n", escape(&report.tool.name)));
    if let Some(n) = nothing {
        // A GitHub alert block: shown highlighted in job summaries and comments.
        md.push_str(&format!("> [!WARNING]\n> {}\n\n", escape(&n.message())));
    }
    md.push_str(&format!("{}\n\n", escape(&text::summary_line(report))));
    md.push_str("| Status | Findings |\n|---|---:|\n");
    for st in Status::ALL {
        md.push_str(&format!("| {} | {} |\n", st.as_str(), count(st)));
    }
    md.push('\n');
    if count(Status::Fail) > 0 {
        md.push_str("| Severity | Failed |\n|---|---:|\n");
        for sev in Severity::ALL {
            let n = s.failures_by_severity.get(&sev).copied().unwrap_or(0);
            md.push_str(&format!("| {sev} | {n} |\n"));
        }
        md.push('\n');
    }
    md.push_str(&compliance.map(compliance::headline).unwrap_or_default());
    md.push_str(&crate::coverage::markdown(&report.coverage));

    section(
        report,
        &mut md,
        &mut budget,
        Status::Fail,
        "Failing policies",
    );
    section(
        report,
        &mut md,
        &mut budget,
        Status::Error,
        "Could not be evaluated or collected",
    );
    section(report, &mut md, &mut budget, Status::Waived, "Waived");
    if budget.omitted > 0 {
        md.push_str(&format!(
            "_{} {} not listed to keep this summary within its size limit; the JSON, SARIF \
             and HTML reports have every finding._\n\n",
            budget.omitted,
            text::plural(budget.omitted, "finding is", "findings are")
        ));
    }

    md.push_str(&controls);

    if !report.warnings.is_empty() {
        md.push_str(&format!("### Warnings ({})\n\n", report.warnings.len()));
        for w in &report.warnings {
            let place = w
                .source
                .as_ref()
                .map(|s| format!(" ({})", escape(&s.to_string())))
                .unwrap_or_default();
            md.push_str(&format!(
                "- {}: {}{place}\n",
                escape(&w.code),
                escape(&w.message)
            ));
        }
        md.push('\n');
    }
    md.push_str(&format!(
        "<sub>{} {}, evaluated at {}, generated at {}.</sub>\n",
        escape(&report.tool.name),
        escape(&report.tool.version),
        report.evaluated_at.to_rfc3339(),
        report.generated_at.to_rfc3339()
    ));
    md
}

/// A table of the policies with findings of `status`, then a collapsed block per policy.
fn section(report: &Report, md: &mut String, budget: &mut Budget, status: Status, heading: &str) {
    let mut by_policy: BTreeMap<usize, Vec<&Finding>> = BTreeMap::new();
    for f in report.findings.iter().filter(|f| f.status == status) {
        by_policy.entry(f.policy_index()).or_default().push(f);
    }
    if by_policy.is_empty() {
        return;
    }
    let mut policies: Vec<(usize, Vec<&Finding>)> = by_policy.into_iter().collect();
    // Most severe first, new findings first within a policy.
    policies.sort_by_key(|(p, fs)| {
        let worst = fs.iter().map(|f| f.severity).max();
        (std::cmp::Reverse(worst), report.policies[*p].id.clone())
    });
    let total: usize = policies.iter().map(|(_, fs)| fs.len()).sum();
    md.push_str(&format!("### {heading} ({total})\n\n"));
    md.push_str("| Severity | Policy | Data stores |\n|---|---|---:|\n");
    for (p, fs) in &policies {
        let policy = &report.policies[*p];
        let worst = fs
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(policy.severity);
        md.push_str(&format!(
            "| {worst} | {} {} | {} |\n",
            escape(&policy.id),
            escape(&policy.title),
            fs.len()
        ));
    }
    md.push('\n');
    for (p, mut fs) in policies {
        let policy = &report.policies[p];
        if md.len() >= budget.max_bytes {
            budget.omitted += fs.len();
            continue;
        }
        fs.sort_by_key(|f| f.baseline() != Some(hlaudit_model::finding::BaselineState::New));
        let shown = fs.len().min(budget.per_policy);
        let hidden = fs.len() - shown;
        md.push_str(&format!(
            "<details><summary>{}: {} ({} {})</summary>\n\n",
            escape(&policy.id),
            escape(&policy.title),
            fs.len(),
            text::plural(fs.len(), "finding", "findings")
        ));
        for f in fs.iter().take(shown) {
            let new = match text::baseline_label(f) {
                Some(b) => format!(" **{b}**"),
                None => String::new(),
            };
            let at = f
                .location()
                .map(|l| format!(" at <code>{}</code>", escape(&l.to_string())))
                .unwrap_or_default();
            md.push_str(&format!(
                "- **{}**{new} ({}): {}{at}\n",
                escape(&text::subject_label(report, f)),
                f.severity,
                escape(&text::message(report, f))
            ));
            for e in f.evidence() {
                md.push_str(&format!(
                    "  - <code>{}</code>: found <code>{}</code>, expected {}{}\n",
                    escape(&e.pointer),
                    escape(&text::found(e.found.as_ref())),
                    escape(&e.expected),
                    escape(&text::note(e))
                ));
            }
            if let Some(w) = &f.waiver() {
                let expires = w
                    .expires
                    .as_ref()
                    .map(|d| format!(", expires {}", escape(d)))
                    .unwrap_or_default();
                md.push_str(&format!(
                    "  - waived: {} (approved by {}{expires}; {})\n",
                    escape(&w.reason),
                    escape(&w.approved_by),
                    escape(&w.source.to_string())
                ));
            }
        }
        if hidden > 0 {
            budget.omitted += hidden;
            md.push_str(&format!("- and {hidden} more\n"));
        }
        if !policy.remediation.trim().is_empty() {
            // A <pre> block keeps the remediation's lines and commands as written; inside
            // it GitHub reads no Markdown, so HTML escaping is all it needs.
            md.push_str(&format!(
                "\n**Remediation**\n\n<pre>{}</pre>\n",
                html_escape(policy.remediation.trim_end())
            ));
        }
        if !policy.references.is_empty() {
            let refs: Vec<String> = policy
                .references
                .iter()
                .map(|r| format!("<{}>", r.replace(['<', '>', ' '], "")))
                .collect();
            md.push_str(&format!("\n**References:** {}\n", refs.join(", ")));
        }
        md.push_str("\n</details>\n\n");
    }
}

/// Escapes text for an HTML block (`<pre>`): only `&`, `<`, `>` and `"` matter there.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '@' => out.push_str("&#64;"),
            '\n' | '\t' => out.push(c),
            c if invisible::is_invisible(c) => invisible::push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_stays_within_its_budget() {
        use hlaudit_model::finding::{Finding, Severity, Subject};
        use hlaudit_model::report::PolicyMeta;
        let mut report = Report::for_inventory(
            &hlaudit_model::Inventory::default(),
            hlaudit_model::Timestamp::now(),
        );
        for p in 0..30 {
            let mut meta = PolicyMeta::collection_error();
            meta.id = format!("HL-T-{p:02}");
            report.policies.push(meta);
            for i in 0..200 {
                let mut f = Finding::new(
                    p,
                    Subject::scope(None, None, format!("thing {i}")),
                    Status::Fail,
                    Severity::High,
                );
                f.set_message("x".repeat(200));
                report.findings.push(f);
            }
        }
        let md = render(&report, None, &MarkdownOptions::PR_COMMENT);
        // The budget is checked per policy block, so allow one block beyond it.
        assert!(md.len() < 60_000 + 10 * 300 + 2_000, "{} bytes", md.len());
        assert!(md.contains("- and 190 more"));
        assert!(md.contains("not listed to keep this summary within its size limit"));
        // The failing-policies table still names every policy.
        assert!(md.contains("| high | HL-T-29 "));
    }

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            escape("<img src=x onerror=\"a\">"),
            "&lt;img src=x onerror=&quot;a&quot;&gt;"
        );
        assert_eq!(
            escape("a|b *c* [d](e) @team"),
            "a\\|b \\*c\\* \\[d\\](e) &#64;team"
        );
        assert_eq!(escape("two\nlines"), "two lines");
    }

    #[test]
    fn escape_shows_invisible_characters_by_code_point() {
        // Rendered by GitHub as `prod\u{202e}x\u{2066}\u{1b}`.
        assert_eq!(
            escape("prod\u{202e}x\u{2066}\u{1b}"),
            "prod\\\\u\\{202e\\}x\\\\u\\{2066\\}\\\\u\\{1b\\}"
        );
        assert_eq!(html_escape("a\u{200b}\nb"), "a\\u{200b}\nb");
    }
}
