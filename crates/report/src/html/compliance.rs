//! The compliance section of the HTML page.
//!
//! Per framework: a tally, one table of the controls evaluated policies map to (failing
//! first, then passing and not evaluated), and the controls no evaluated policy maps to in
//! a collapsed table of their own, each marked NOT COVERED, so the page never implies
//! coverage the pack lacks. The section is built from the view the caller hands in; it is
//! small (its size depends on the catalogues, not on the number of data stores).

use std::fmt::Write as _;

use hlaudit_model::compliance::{ComplianceView, ControlStatus, ControlView, FrameworkView};

use super::{escape, escape_text};
use crate::text;

/// Appends the section to `h`; nothing when the view has no framework.
pub(super) fn section(h: &mut String, view: &ComplianceView) {
    if view.frameworks.is_empty() {
        return;
    }
    h.push_str(
        "<section class=\"compliance\" id=\"compliance\"><h2>Compliance</h2>\
         <p class=\"note\">Counts are (policy, resource) pairs over the evaluated policies \
         mapped to each control. A control no evaluated policy maps to is NOT COVERED: nothing \
         in this audit shows it is met.</p>\n",
    );
    for f in &view.frameworks {
        framework(h, f);
    }
    h.push_str("</section>\n");
}

fn framework(h: &mut String, f: &FrameworkView) {
    let e = escape_text;
    let scope = if f.scope.is_empty() {
        String::new()
    } else {
        format!(" &middot; catalogue: {}", e(&f.scope))
    };
    let _ = writeln!(
        h,
        "<div class=\"framework\" data-framework=\"{}\"><h3>{}</h3>\
         <p class=\"meta\"><code>{}</code> &middot; {}{scope}</p>",
        escape(&f.framework),
        e(&f.title),
        e(&f.framework),
        e(&text::control_tally(f)),
    );
    let covered: Vec<&ControlView> = text::CONTROL_ORDER
        .iter()
        .filter(|&&st| st != ControlStatus::NotCovered)
        .flat_map(|&st| text::controls_with(f, st))
        .collect();
    if covered.is_empty() {
        h.push_str(
            "<p class=\"empty\">No evaluated policy maps to a control of this framework.</p>\n",
        );
    } else {
        h.push_str(
            "<div class=\"tablewrap\"><table class=\"compliance\"><thead><tr><th>Status</th>\
             <th>Control</th><th>Title</th><th>Policies</th><th>Passing</th><th>Failing</th>\
             <th>Waived</th><th>Errors</th><th>Not evaluated</th></tr></thead><tbody>\n",
        );
        for c in covered {
            let n = c.counts;
            let _ = writeln!(
                h,
                "<tr data-control-status=\"{class}\">{}<td class=\"nw\">{}</td><td>{}</td>\
                 <td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                badge(c.status),
                e(&c.id),
                e(&c.title),
                e(&c.policies.join(", ")),
                n.passing,
                n.failing,
                n.waived,
                n.erroring,
                n.not_evaluated,
                class = class(c.status),
            );
        }
        h.push_str("</tbody></table></div>\n");
    }
    let uncovered = text::controls_with(f, ControlStatus::NotCovered);
    if !uncovered.is_empty() {
        let _ = writeln!(
            h,
            "<details class=\"not-covered\"><summary>{} {} not covered by any evaluated \
             policy</summary><div class=\"tablewrap\"><table class=\"compliance\"><thead><tr>\
             <th>Status</th><th>Control</th><th>Title</th></tr></thead><tbody>",
            uncovered.len(),
            text::plural(uncovered.len(), "control", "controls"),
        );
        for c in uncovered {
            let _ = writeln!(
                h,
                "<tr data-control-status=\"{}\">{}<td class=\"nw\">{}</td><td>{}</td></tr>",
                class(c.status),
                badge(c.status),
                e(&c.id),
                e(&c.title),
            );
        }
        h.push_str("</tbody></table></div></details>\n");
    }
    h.push_str("</div>\n");
}

fn badge(status: ControlStatus) -> String {
    format!(
        "<td><span class=\"badge {}\">{}</span></td>",
        class(status),
        status.label()
    )
}

/// The status as a class name and `data-control-status` value, as the JSON report spells
/// it.
fn class(status: ControlStatus) -> &'static str {
    match status {
        ControlStatus::Failing => "failing",
        ControlStatus::Passing => "passing",
        ControlStatus::NotEvaluated => "not-evaluated",
        ControlStatus::NotCovered => "not-covered",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlaudit_model::compliance::ControlCounts;

    #[test]
    fn failing_controls_come_first_and_uncovered_ones_are_marked() {
        let control = |id: &str, status| ControlView {
            id: id.to_owned(),
            title: format!("<b>{id}</b>"),
            status,
            policies: vec!["HL-A".to_owned()],
            counts: ControlCounts::default(),
        };
        let view = ComplianceView {
            frameworks: vec![FrameworkView {
                framework: "F".to_owned(),
                title: "Framework F".to_owned(),
                scope: String::new(),
                controls: vec![
                    control("P-1", ControlStatus::Passing),
                    control("U-1", ControlStatus::NotCovered),
                    control("F-1", ControlStatus::Failing),
                ],
            }],
        };
        let mut h = String::new();
        section(&mut h, &view);
        let at = |s: &str| h.find(s).unwrap();
        assert!(at("F-1") < at("P-1") && at("P-1") < at("<details") && at("<details") < at("U-1"));
        assert!(h.contains("1 control not covered by any evaluated policy"));
        assert!(h.contains("<span class=\"badge not-covered\">NOT COVERED</span>"));
        assert!(h.contains("&lt;b&gt;F-1&lt;/b&gt;") && !h.contains("<b>"));
        // The class names are the JSON report's spelling of the status.
        for st in text::CONTROL_ORDER {
            assert_eq!(
                serde_json::to_value(st).unwrap(),
                serde_json::Value::from(class(st))
            );
        }
    }
}
