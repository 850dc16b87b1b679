//! Markdown for `$GITHUB_STEP_SUMMARY` or a pull-request comment.
//!
//! The counts first, then a table of the failing policies, then one collapsed
//! `<details>` block per policy listing its data stores and evidence, then errors and
//! waived findings. Every value from the data goes through [`escape`], so a data store
//! name or tag value cannot inject Markdown, HTML or `@mentions`.

use std::collections::BTreeMap;
use std::io::Write;

use hlaudit_model::finding::{Finding, Severity, Status};
use hlaudit_model::report::Report;

use crate::{text, ReportError};

/// Escapes text for inline GitHub-flavoured Markdown: HTML special characters become
/// entities, Markdown punctuation is backslash-escaped, `@` cannot mention anyone and
/// line breaks become spaces (tables and list items stay on one line).
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
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes the Markdown summary.
pub fn write(report: &Report, out: &mut dyn Write) -> Result<(), ReportError> {
    crate::check_policies(report)?;
    let md = render(report);
    out.write_all(md.as_bytes())
        .map_err(ReportError::io("Markdown"))
}

fn render(report: &Report) -> String {
    let s = report.summary();
    let count = |st: Status| s.by_status.get(&st).copied().unwrap_or(0);
    let mut md = String::new();
    let verdict = if report.is_incomplete() {
        "incomplete audit, something could not be read or evaluated"
    } else if count(Status::Fail) > 0 {
        "violations found"
    } else {
        "no violations"
    };
    md.push_str(&format!("## {}: {verdict}\n\n", escape(&report.tool.name)));
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

    section(report, &mut md, Status::Fail, "Failing policies");
    section(
        report,
        &mut md,
        Status::Error,
        "Could not be evaluated or collected",
    );
    section(report, &mut md, Status::Waived, "Waived");

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
fn section(report: &Report, md: &mut String, status: Status, heading: &str) {
    let mut by_policy: BTreeMap<usize, Vec<&Finding>> = BTreeMap::new();
    for f in report.findings.iter().filter(|f| f.status == status) {
        by_policy.entry(f.policy).or_default().push(f);
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
        fs.sort_by_key(|f| f.baseline != Some(hlaudit_model::finding::BaselineState::New));
        md.push_str(&format!(
            "<details><summary>{}: {} ({} {})</summary>\n\n",
            escape(&policy.id),
            escape(&policy.title),
            fs.len(),
            text::plural(fs.len(), "finding", "findings")
        ));
        for f in fs {
            let new = match text::baseline_label(f) {
                Some(b) => format!(" **{b}**"),
                None => String::new(),
            };
            md.push_str(&format!(
                "- **{}**{new} ({}): {}\n",
                escape(&text::subject_label(report, f)),
                f.severity,
                escape(&text::message(report, f))
            ));
            for e in &f.evidence {
                md.push_str(&format!(
                    "  - <code>{}</code>: found <code>{}</code>, expected {}\n",
                    escape(&e.pointer),
                    escape(&text::found(e.found.as_ref())),
                    escape(&e.expected)
                ));
            }
            if let Some(w) = &f.waiver {
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
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
