//! Text for people at a terminal: findings grouped by severity, then errors and waived
//! findings, a notice when nothing was checked, then a one-line summary.
//!
//! Within each section the findings are grouped by policy, and the default view lists the
//! first few of each policy ([`DEFAULT_PER_POLICY`]) and counts the rest, so a run with
//! thousands of failures stays readable in a CI log;
//! [`TerminalOptions::per_policy`] set to `None` lists every one. The text is written as
//! it is built.
//!
//! Colour is an explicit option (the command line decides from `--color`, `NO_COLOR` and
//! whether stdout is a terminal). Control, bidirectional and other invisible characters
//! in data values are shown escaped ([`hlaudit_model::invisible`]), so a data store name
//! cannot move the cursor, recolour the terminal or display as another name.

use std::io::{self, Write};

use hlaudit_model::finding::{Finding, Severity, Status};
use hlaudit_model::report::Report;
use owo_colors::{OwoColorize, Style};

use crate::{text, ReportError};

/// How many FAIL, ERROR and WAIVED findings of each policy the default view lists in
/// each section before it counts the rest.
pub const DEFAULT_PER_POLICY: usize = 5;

/// How terminal text is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalOptions {
    /// Use ANSI colours.
    pub color: bool,
    /// Also list PASS and SKIP findings (normally only counted).
    pub verbose: bool,
    /// How many FAIL, ERROR and WAIVED findings of each policy are listed in each section;
    /// a line counts the rest. `None` lists every one. Default: [`DEFAULT_PER_POLICY`].
    pub per_policy: Option<usize>,
}

impl Default for TerminalOptions {
    fn default() -> Self {
        TerminalOptions {
            color: false,
            verbose: false,
            per_policy: Some(DEFAULT_PER_POLICY),
        }
    }
}

/// Writes the report as terminal text.
pub fn write(
    report: &Report,
    options: &TerminalOptions,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    crate::check_policies(report)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    render(report, options, &mut out)
        .and_then(|()| out.flush())
        .map_err(ReportError::io("terminal"))
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, s: &str, style: Style) -> String {
        if self.color {
            s.style(style).to_string()
        } else {
            s.to_owned()
        }
    }
}

fn severity_style(sev: Severity) -> Style {
    match sev {
        Severity::Critical => Style::new().bright_red().bold(),
        Severity::High => Style::new().red().bold(),
        Severity::Medium => Style::new().yellow().bold(),
        Severity::Low => Style::new().blue().bold(),
        Severity::Info => Style::new().dimmed(),
    }
}

/// Shows control, bidirectional and other invisible characters as escapes (`\u{1b}`,
/// `\u{202e}`), so data can neither drive the terminal nor read differently from what
/// it is.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    hlaudit_model::invisible::escape(s)
}

fn render(report: &Report, options: &TerminalOptions, t: &mut dyn Write) -> io::Result<()> {
    let p = Painter {
        color: options.color,
    };
    writeln!(
        t,
        "{} {}, evaluated at {}",
        p.paint(&clean(&report.tool.name), Style::new().bold()),
        clean(&report.tool.version),
        report.evaluated_at.to_rfc3339()
    )?;
    let notable = text::notable(report);
    for sev in Severity::ALL {
        let group: Vec<&Finding> = notable
            .iter()
            .copied()
            .filter(|f| f.status == Status::Fail && f.severity == sev)
            .collect();
        if group.is_empty() {
            continue;
        }
        let heading = format!("{} ({})", sev.as_str().to_uppercase(), group.len());
        writeln!(t, "\n{}", p.paint(&heading, severity_style(sev)))?;
        section(t, &p, report, options, &group)?;
    }
    for (status, title, style) in [
        (Status::Error, "ERRORS", Style::new().magenta().bold()),
        (Status::Waived, "WAIVED", Style::new().cyan().bold()),
    ] {
        let group: Vec<&Finding> = notable
            .iter()
            .copied()
            .filter(|f| f.status == status)
            .collect();
        if group.is_empty() {
            continue;
        }
        writeln!(
            t,
            "\n{}",
            p.paint(&format!("{title} ({})", group.len()), style)
        )?;
        section(t, &p, report, options, &group)?;
    }
    if options.verbose {
        for status in [Status::Pass, Status::Skip] {
            let n = report
                .findings
                .iter()
                .filter(|f| f.status == status)
                .count();
            if n == 0 {
                continue;
            }
            writeln!(t, "\n{} ({n})", status.as_str())?;
            for f in report.findings.iter().filter(|f| f.status == status) {
                writeln!(
                    t,
                    "  {:<7} {:<20} {}",
                    status.as_str(),
                    clean(&report.policy_of(f).id),
                    clean(&text::subject_label(report, f))
                )?;
            }
        }
    }
    if !report.warnings.is_empty() {
        writeln!(
            t,
            "\n{}",
            p.paint(
                &format!("WARNINGS ({})", report.warnings.len()),
                Style::new().yellow()
            )
        )?;
        for w in &report.warnings {
            let place = w
                .source
                .as_ref()
                .map(|s| format!(" ({})", clean(&s.to_string())))
                .unwrap_or_default();
            writeln!(t, "  {}: {}{place}", clean(&w.code), clean(&w.message))?;
        }
    }
    if let Some(nothing) = report.nothing_checked() {
        writeln!(
            t,
            "\n{}",
            p.paint(&nothing.message(), Style::new().yellow().bold())
        )?;
    }
    let coverage = crate::coverage::text_lines(&report.coverage);
    if !coverage.is_empty() {
        writeln!(t)?;
        for line in coverage {
            writeln!(t, "{line}")?;
        }
    }
    let summary = text::summary_line(report);
    let style = if report.is_incomplete() {
        Style::new().magenta().bold()
    } else if report.findings.iter().any(|f| f.status == Status::Fail) {
        Style::new().red().bold()
    } else if report.nothing_checked().is_some() {
        Style::new().yellow().bold()
    } else {
        Style::new().green().bold()
    };
    writeln!(t, "\n{}", p.paint(&summary, style))
}

/// The findings of one section (a severity, ERRORS or WAIVED), grouped by policy in the
/// order the policies first appear, each group cut to `options.per_policy` findings and
/// a line that counts the rest: thousands of failures of one policy make a few lines, as
/// CI logs want.
fn section(
    t: &mut dyn Write,
    p: &Painter,
    report: &Report,
    options: &TerminalOptions,
    findings: &[&Finding],
) -> io::Result<()> {
    let mut slot = vec![usize::MAX; report.policies.len()];
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    for &f in findings {
        if slot[f.policy_index()] == usize::MAX {
            slot[f.policy_index()] = groups.len();
            groups.push(Vec::new());
        }
        groups[slot[f.policy_index()]].push(f);
    }
    for group in groups {
        let shown = options.per_policy.unwrap_or(usize::MAX).min(group.len());
        for f in &group[..shown] {
            finding(t, p, report, f)?;
        }
        let rest = group.len() - shown;
        if let Some(f) = group.first().filter(|_| rest > 0) {
            let line = format!(
                "... and {} more {} {} of {}; --all-findings lists every one",
                text::thousands(rest),
                f.status.as_str(),
                text::plural(rest, "finding", "findings"),
                clean(&report.policy_of(f).id)
            );
            writeln!(t, "  {}", p.paint(&line, Style::new().dimmed()))?;
        }
    }
    Ok(())
}

fn finding(t: &mut dyn Write, p: &Painter, report: &Report, f: &Finding) -> io::Result<()> {
    let policy = report.policy_of(f);
    let status = match f.status {
        Status::Fail => p.paint("FAIL", severity_style(f.severity)),
        Status::Error => p.paint("ERROR", Style::new().magenta().bold()),
        Status::Waived => p.paint("WAIVED", Style::new().cyan()),
        other => other.as_str().to_owned(),
    };
    let pad = " ".repeat(7usize.saturating_sub(f.status.as_str().len()));
    let baseline = text::baseline_label(f)
        .map(|b| format!(" [{}]", p.paint(b, Style::new().bold())))
        .unwrap_or_default();
    writeln!(
        t,
        "  {status}{pad}{} {}{baseline}",
        p.paint(&clean(&policy.id), Style::new().bold()),
        clean(&text::subject_label(report, f))
    )?;
    writeln!(t, "         {}", clean(&text::message(report, f)))?;
    if let Some(at) = f.location() {
        writeln!(t, "         at {}", clean(&at.to_string()))?;
    }
    for e in f.evidence() {
        writeln!(
            t,
            "         {} found {}, expected {}{}",
            p.paint(&clean(&e.pointer), Style::new().dimmed()),
            clean(&text::found(e.found.as_ref())),
            clean(&e.expected),
            clean(&text::note(e))
        )?;
    }
    if let Some(w) = &f.waiver() {
        let expires = w
            .expires
            .as_ref()
            .map(|d| format!(", expires {}", clean(d)))
            .unwrap_or_default();
        writeln!(
            t,
            "         waived: {} (approved by {}{expires}; {})",
            clean(&w.reason),
            clean(&w.approved_by),
            clean(&w.source.to_string())
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("a\u{1b}[31mb"), "a\\u{1b}[31mb");
    }

    #[test]
    fn bidirectional_and_format_characters_are_escaped() {
        assert_eq!(
            clean("prod\u{202e}dorp\u{2066}x\u{2069}\u{200b}\u{feff}\u{ad}"),
            "prod\\u{202e}dorp\\u{2066}x\\u{2069}\\u{200b}\\u{feff}\\u{ad}"
        );
    }
}
