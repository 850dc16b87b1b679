//! Text for people at a terminal: findings grouped by severity, then errors and waived
//! findings, a notice when nothing was checked, then a one-line summary.
//!
//! Colour is an explicit option (the command line decides from `--color`, `NO_COLOR` and
//! whether stdout is a terminal). Control, bidirectional and other invisible characters
//! in data values are shown escaped ([`hlaudit_model::invisible`]), so a data store name
//! cannot move the cursor, recolour the terminal or display as another name.

use std::io::Write;

use hlaudit_model::finding::{Finding, Severity, Status};
use hlaudit_model::report::Report;
use owo_colors::{OwoColorize, Style};

use crate::{text, ReportError};

/// How terminal text is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TerminalOptions {
    /// Use ANSI colours.
    pub color: bool,
    /// Also list PASS and SKIP findings (normally only counted).
    pub verbose: bool,
}

/// Writes the report as terminal text.
pub fn write(
    report: &Report,
    options: &TerminalOptions,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    crate::check_policies(report)?;
    let text = render(report, options);
    out.write_all(text.as_bytes())
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

fn render(report: &Report, options: &TerminalOptions) -> String {
    let p = Painter {
        color: options.color,
    };
    let mut t = String::new();
    t.push_str(&format!(
        "{} {}, evaluated at {}\n",
        p.paint(&clean(&report.tool.name), Style::new().bold()),
        clean(&report.tool.version),
        report.evaluated_at.to_rfc3339()
    ));
    let notable = text::notable(report);
    for sev in Severity::ALL {
        let group: Vec<&&Finding> = notable
            .iter()
            .filter(|f| f.status == Status::Fail && f.severity == sev)
            .collect();
        if group.is_empty() {
            continue;
        }
        let heading = format!("{} ({})", sev.as_str().to_uppercase(), group.len());
        t.push_str(&format!("\n{}\n", p.paint(&heading, severity_style(sev))));
        for f in group {
            finding(&mut t, &p, report, f);
        }
    }
    for (status, title, style) in [
        (Status::Error, "ERRORS", Style::new().magenta().bold()),
        (Status::Waived, "WAIVED", Style::new().cyan().bold()),
    ] {
        let group: Vec<&&Finding> = notable.iter().filter(|f| f.status == status).collect();
        if group.is_empty() {
            continue;
        }
        t.push_str(&format!(
            "\n{}\n",
            p.paint(&format!("{title} ({})", group.len()), style)
        ));
        for f in group {
            finding(&mut t, &p, report, f);
        }
    }
    if options.verbose {
        for status in [Status::Pass, Status::Skip] {
            let group: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.status == status)
                .collect();
            if group.is_empty() {
                continue;
            }
            t.push_str(&format!("\n{} ({})\n", status.as_str(), group.len()));
            for f in group {
                t.push_str(&format!(
                    "  {:<7} {:<20} {}\n",
                    status.as_str(),
                    clean(&report.policy_of(f).id),
                    clean(&text::subject_label(report, f))
                ));
            }
        }
    }
    if !report.warnings.is_empty() {
        t.push_str(&format!(
            "\n{}\n",
            p.paint(
                &format!("WARNINGS ({})", report.warnings.len()),
                Style::new().yellow()
            )
        ));
        for w in &report.warnings {
            let place = w
                .source
                .as_ref()
                .map(|s| format!(" ({})", clean(&s.to_string())))
                .unwrap_or_default();
            t.push_str(&format!(
                "  {}: {}{place}\n",
                clean(&w.code),
                clean(&w.message)
            ));
        }
    }
    if let Some(nothing) = report.nothing_checked() {
        t.push_str(&format!(
            "\n{}\n",
            p.paint(&nothing.message(), Style::new().yellow().bold())
        ));
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
    t.push_str(&format!("\n{}\n", p.paint(&summary, style)));
    t
}

fn finding(t: &mut String, p: &Painter, report: &Report, f: &Finding) {
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
    t.push_str(&format!(
        "  {status}{pad}{} {}{baseline}\n",
        p.paint(&clean(&policy.id), Style::new().bold()),
        clean(&text::subject_label(report, f))
    ));
    t.push_str(&format!("         {}\n", clean(&text::message(report, f))));
    if let Some(at) = f.location() {
        t.push_str(&format!("         at {}\n", clean(&at.to_string())));
    }
    for e in f.evidence() {
        t.push_str(&format!(
            "         {} found {}, expected {}{}\n",
            p.paint(&clean(&e.pointer), Style::new().dimmed()),
            clean(&text::found(e.found.as_ref())),
            clean(&e.expected),
            clean(&text::note(e))
        ));
    }
    if let Some(w) = &f.waiver() {
        let expires = w
            .expires
            .as_ref()
            .map(|d| format!(", expires {}", clean(d)))
            .unwrap_or_default();
        t.push_str(&format!(
            "         waived: {} (approved by {}{expires}; {})\n",
            clean(&w.reason),
            clean(&w.approved_by),
            clean(&w.source.to_string())
        ));
    }
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
