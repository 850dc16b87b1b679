//! The compliance section of the Markdown summary.
//!
//! Per framework: a tally, the failing controls in a table, then the passing and
//! not-evaluated controls in a collapsed table and the controls no evaluated policy maps to
//! in a collapsed list, so the summary never implies coverage the pack lacks. Its size
//! depends on the catalogues, not on the number of data stores; when even that is more than
//! the summary may spend on it, the collapsed blocks go first, then the failing tables,
//! leaving the tallies and a pointer to the full view.

use hlaudit_model::compliance::{ComplianceView, ControlStatus, ControlView, FrameworkView};

use super::escape;
use crate::text;

/// How much of the view is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// Every control.
    All,
    /// The tallies and the failing controls.
    Failing,
    /// The tallies only.
    Tallies,
}

/// The section, at most `max_bytes` long unless the tallies alone are longer; empty when
/// the view has no framework.
pub(super) fn section(view: &ComplianceView, max_bytes: usize) -> String {
    if view.frameworks.is_empty() {
        return String::new();
    }
    [Detail::All, Detail::Failing]
        .into_iter()
        .map(|d| render(view, d))
        .find(|md| md.len() <= max_bytes)
        .unwrap_or_else(|| render(view, Detail::Tallies))
}

/// One line near the top of the summary: each framework's tally, pointing at the section.
pub(super) fn headline(view: &ComplianceView) -> String {
    if view.frameworks.is_empty() {
        return String::new();
    }
    let tallies: Vec<String> = view
        .frameworks
        .iter()
        .map(|f| {
            format!(
                "{} ({})",
                escape(&f.framework),
                escape(&text::control_tally(f))
            )
        })
        .collect();
    format!(
        "**Compliance** (controls listed below): {}.\n\n",
        tallies.join("; ")
    )
}

fn render(view: &ComplianceView, detail: Detail) -> String {
    let mut md = String::from("### Compliance\n\n");
    md.push_str(
        "Counts are (policy, resource) pairs over the evaluated policies mapped to each control. \
         A control no evaluated policy maps to is NOT COVERED: nothing in this audit shows it \
         is met.\n\n",
    );
    for f in &view.frameworks {
        framework(&mut md, f, detail);
    }
    if detail != Detail::All {
        md.push_str(
            "_Some controls are not listed to keep this summary within its size limit; the JSON \
             and HTML reports and `-o compliance-csv=PATH` have every control._\n\n",
        );
    }
    md
}

fn framework(md: &mut String, f: &FrameworkView, detail: Detail) {
    md.push_str(&format!("#### {}\n\n", escape(&f.title)));
    let scope = if f.scope.is_empty() {
        String::new()
    } else {
        format!(" Catalogue: {}.", escape(&f.scope))
    };
    md.push_str(&format!(
        "<code>{}</code>, {}.{scope}\n\n",
        escape(&f.framework),
        escape(&text::control_tally(f))
    ));
    if detail == Detail::Tallies {
        return;
    }
    let failing = text::controls_with(f, ControlStatus::Failing);
    if !failing.is_empty() {
        table(md, &failing);
    }
    if detail == Detail::Failing {
        return;
    }
    let mut rest = text::controls_with(f, ControlStatus::Passing);
    rest.extend(text::controls_with(f, ControlStatus::NotEvaluated));
    if !rest.is_empty() {
        md.push_str(&format!(
            "<details><summary>Passing and not evaluated ({})</summary>\n\n",
            rest.len()
        ));
        table(md, &rest);
        md.push_str("</details>\n\n");
    }
    let uncovered = text::controls_with(f, ControlStatus::NotCovered);
    if !uncovered.is_empty() {
        md.push_str(&format!(
            "<details><summary>Not covered by any evaluated policy ({})</summary>\n\n",
            uncovered.len()
        ));
        for c in uncovered {
            md.push_str(&format!("- {} {}\n", escape(&c.id), escape(&c.title)));
        }
        md.push_str("\n</details>\n\n");
    }
}

fn table(md: &mut String, controls: &[&ControlView]) {
    md.push_str(
        "| Status | Control | Title | Policies | Passing | Failing | Waived | Errors | Not evaluated |\n\
         |---|---|---|---|---:|---:|---:|---:|---:|\n",
    );
    for c in controls {
        let n = c.counts;
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.status.label(),
            escape(&c.id),
            escape(&c.title),
            escape(&c.policies.join(", ")),
            n.passing,
            n.failing,
            n.waived,
            n.erroring,
            n.not_evaluated
        ));
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlaudit_model::compliance::ControlCounts;

    fn view(controls: usize) -> ComplianceView {
        let control = |i: usize| {
            let status = match i % 4 {
                0 => ControlStatus::Failing,
                1 => ControlStatus::Passing,
                2 => ControlStatus::NotEvaluated,
                _ => ControlStatus::NotCovered,
            };
            ControlView {
                id: format!("C-{i}"),
                title: format!("Control {i}"),
                status,
                policies: if status == ControlStatus::NotCovered {
                    Vec::new()
                } else {
                    vec!["HL-A".to_owned()]
                },
                counts: ControlCounts::default(),
            }
        };
        ComplianceView {
            frameworks: vec![FrameworkView {
                framework: "F".to_owned(),
                title: "Framework F".to_owned(),
                scope: String::new(),
                controls: (0..controls).map(control).collect(),
            }],
        }
    }

    #[test]
    fn failing_controls_come_first_and_the_rest_are_collapsed() {
        let md = section(&view(8), usize::MAX);
        let failing = md.find("| FAILING | C-0 ").unwrap();
        let passing = md.find("| PASSING | C-1 ").unwrap();
        assert!(failing < md.find("<details>").unwrap() && md.find("<details>").unwrap() < passing);
        assert!(md.contains("Not covered by any evaluated policy (2)"));
        assert!(md.contains("- C-3 Control 3\n"));
        assert!(md.contains("8 controls: 2 failing, 2 passing, 2 not evaluated, 2 not covered"));
        assert!(!md.contains("not listed to keep this summary"));
        assert_eq!(section(&ComplianceView::default(), usize::MAX), "");
    }

    #[test]
    fn a_small_budget_drops_detail_but_keeps_the_tallies() {
        let full = section(&view(400), usize::MAX);
        let failing = section(&view(400), full.len() - 1);
        assert!(failing.contains("| FAILING | C-0 ") && !failing.contains("C-1 "));
        assert!(failing.contains("not listed to keep this summary"));
        let tallies = section(&view(400), 10);
        assert!(!tallies.contains("| FAILING"));
        assert!(tallies.contains("400 controls: 100 failing"));
    }
}
