//! `hlaudit diff OLD.json NEW.json`: what was fixed, what is new and what changed status or
//! severity between two JSON reports.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args as ClapArgs, ValueEnum};
use hlaudit_model::finding::Status;
use hlaudit_report::baseline::{diff_results, Change, Diff, Entry};

use crate::config::read_results;
use crate::exit::Outcome;
use crate::output::FailOn;

/// Compare two JSON reports: fixed, new and changed findings.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    hlaudit check snap.json -o json=today.json && hlaudit diff yesterday.json today.json\n  \
    hlaudit diff old.json new.json --format markdown >> \"$GITHUB_STEP_SUMMARY\"\n\n\
    Findings are matched on their fingerprint (policy id + data store ARN). Only FAIL, ERROR \
    and WAIVED findings are compared. Exit code: 1 when the new report has a FAIL finding at or \
    above --fail-on that the old report did not hold as FAIL (new, or no longer waived); else 0; \
    2 when a report cannot be read.")]
pub struct Args {
    /// The earlier JSON report (`-o json=FILE` of a previous run).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The later JSON report.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// How to print the difference.
    #[arg(long, value_enum, default_value_t = DiffFormat::Terminal, value_name = "FORMAT")]
    pub format: DiffFormat,
    /// Exit 1 when a FAIL finding at or above this severity is new (`none`: always 0).
    #[arg(long, value_enum, default_value_t = FailOn::High, value_name = "SEVERITY")]
    pub fail_on: FailOn,
}

/// The output of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// A plain table.
    Terminal,
    /// JSON: `{new, fixed, changed, unchanged}`.
    Json,
    /// Markdown for a job summary or a pull-request comment.
    Markdown,
}

/// Runs `diff`.
pub fn run(args: &Args) -> Result<Outcome> {
    // Only the results are compared: two reports of a large audit are not held whole.
    let old = read_results(&args.old, "report")?;
    let new = read_results(&args.new, "report")?;
    let d = diff_results(&old, &new);
    let text = match args.format {
        DiffFormat::Terminal => terminal(&d),
        DiffFormat::Json => {
            let mut s = serde_json::to_string_pretty(&d).context("cannot serialise the diff")?;
            s.push('\n');
            s
        }
        DiffFormat::Markdown => markdown(&d),
    };
    crate::stdio::stdout().write_all(text.as_bytes())?;
    Ok(outcome(&d, args.fail_on))
}

/// 1 when a FAIL at or above the threshold is new, or was not FAIL before.
fn outcome(d: &Diff, fail_on: FailOn) -> Outcome {
    let Some(threshold) = fail_on.threshold() else {
        return Outcome::Clean;
    };
    let new_fail = d
        .new
        .iter()
        .any(|e| e.status == Status::Fail && e.severity >= threshold)
        || d.changed.iter().any(|c| {
            c.now.status == Status::Fail
                && c.old_status != Status::Fail
                && c.now.severity >= threshold
        });
    if new_fail {
        Outcome::Findings
    } else {
        Outcome::Clean
    }
}

/// Control, bidirectional and other invisible characters in data are shown escaped
/// ([`hlaudit_model::invisible`]), as in the terminal report.
fn clean(s: &str) -> String {
    hlaudit_model::invisible::escape(s).into_owned()
}

fn row(e: &Entry) -> String {
    format!(
        "  {:<7} {:<8} {:<14} {}\n",
        e.status.as_str(),
        e.severity.as_str(),
        clean(&e.policy),
        clean(&e.resource)
    )
}

fn terminal(d: &Diff) -> String {
    let mut t = String::new();
    let mut section = |title: &str, rows: Vec<String>| {
        t.push_str(&format!("{title} ({})\n", rows.len()));
        for r in rows {
            t.push_str(&r);
        }
        t.push('\n');
    };
    section("NEW", d.new.iter().map(row).collect());
    section("FIXED", d.fixed.iter().map(row).collect());
    section(
        "CHANGED",
        d.changed
            .iter()
            .map(|c: &Change| {
                format!(
                    "  {:<7} {:<8} {:<14} {} (was {} {})\n",
                    c.now.status.as_str(),
                    c.now.severity.as_str(),
                    clean(&c.now.policy),
                    clean(&c.now.resource),
                    c.old_status.as_str(),
                    c.old_severity.as_str()
                )
            })
            .collect(),
    );
    t.push_str(&format!(
        "{} new, {} fixed, {} changed, {} unchanged\n",
        d.new.len(),
        d.fixed.len(),
        d.changed.len(),
        d.unchanged
    ));
    t
}

/// Escapes text for a Markdown table cell.
fn md(s: &str) -> String {
    clean(s)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('`', "\\`")
}

fn markdown(d: &Diff) -> String {
    let mut m = String::from("## hlaudit diff\n\n");
    m.push_str(&format!(
        "**{}** new, **{}** fixed, **{}** changed, {} unchanged\n",
        d.new.len(),
        d.fixed.len(),
        d.changed.len(),
        d.unchanged
    ));
    let table = |m: &mut String, title: &str, rows: &[Entry]| {
        if rows.is_empty() {
            return;
        }
        m.push_str(&format!(
            "\n### {title}\n\n| status | severity | policy | data store |\n|---|---|---|---|\n"
        ));
        for e in rows {
            m.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                e.status.as_str(),
                e.severity.as_str(),
                md(&e.policy),
                md(&e.resource)
            ));
        }
    };
    table(&mut m, "New", &d.new);
    table(&mut m, "Fixed", &d.fixed);
    if !d.changed.is_empty() {
        m.push_str("\n### Changed\n\n| now | before | policy | data store |\n|---|---|---|---|\n");
        for c in &d.changed {
            m.push_str(&format!(
                "| {} {} | {} {} | {} | {} |\n",
                c.now.status.as_str(),
                c.now.severity.as_str(),
                c.old_status.as_str(),
                c.old_severity.as_str(),
                md(&c.now.policy),
                md(&c.now.resource)
            ));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlaudit_model::finding::Severity;

    fn entry(policy: &str, status: Status, severity: Severity) -> Entry {
        Entry {
            fingerprint: format!("fp-{policy}"),
            policy: policy.into(),
            title: "t".into(),
            resource: "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/a|b".into(),
            status,
            severity,
            message: String::new(),
        }
    }

    #[test]
    fn exit_code_counts_new_failures_only() {
        let mut d = Diff::default();
        assert_eq!(outcome(&d, FailOn::Info), Outcome::Clean);
        d.new.push(entry("A", Status::Fail, Severity::Medium));
        assert_eq!(outcome(&d, FailOn::High), Outcome::Clean);
        assert_eq!(outcome(&d, FailOn::Medium), Outcome::Findings);
        assert_eq!(outcome(&d, FailOn::None), Outcome::Clean);
        let mut d = Diff::default();
        d.new.push(entry("E", Status::Error, Severity::Critical));
        d.changed.push(Change {
            now: entry("B", Status::Fail, Severity::Critical),
            old_status: Status::Fail,
            old_severity: Severity::Low,
        });
        assert_eq!(
            outcome(&d, FailOn::High),
            Outcome::Clean,
            "known FAIL, new ERROR"
        );
        d.changed.push(Change {
            now: entry("C", Status::Fail, Severity::High),
            old_status: Status::Waived,
            old_severity: Severity::High,
        });
        assert_eq!(
            outcome(&d, FailOn::High),
            Outcome::Findings,
            "no longer waived"
        );
    }

    #[test]
    fn renders_every_section() {
        let d = Diff {
            new: vec![entry("HL-A", Status::Fail, Severity::High)],
            fixed: vec![entry("HL-B", Status::Waived, Severity::Low)],
            changed: vec![Change {
                now: entry("HL-C", Status::Fail, Severity::Critical),
                old_status: Status::Fail,
                old_severity: Severity::Low,
            }],
            unchanged: 4,
        };
        let t = terminal(&d);
        assert!(
            t.contains("NEW (1)") && t.contains("FIXED (1)") && t.contains("CHANGED (1)"),
            "{t}"
        );
        assert!(t.contains("(was FAIL low)"), "{t}");
        assert!(
            t.ends_with("1 new, 1 fixed, 1 changed, 4 unchanged\n"),
            "{t}"
        );
        let m = markdown(&d);
        assert!(
            m.contains("### New") && m.contains("### Fixed") && m.contains("### Changed"),
            "{m}"
        );
        assert!(
            m.contains("fhir/a\\|b"),
            "a pipe in data cannot break the table: {m}"
        );
    }
}
