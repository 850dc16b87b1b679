//! The counts section of the HTML page: findings by status per policy, per account and
//! region, and (when PASS and SKIP findings are not listed one by one) per data store.
//!
//! A large audit is mostly PASS and SKIP: at 100,000 data stores and the built-in pack,
//! some 3 million findings, and a row for each made a page of gigabytes that no browser
//! opens. By default the page lists FAIL, ERROR and WAIVED findings in full and counts
//! PASS and SKIP here, so its size follows the problems, not the audit. The per-data-store
//! table still grows with the inventory, so it is collapsed and kept to one short row per
//! data store (its id, not its ARN: the ARN is the account, region and id beside it),
//! built by the page's script a page at a time from the counts in the page's data.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hlaudit_model::finding::Status;
use hlaudit_model::report::Report;

use super::{escape, escape_text, severity_rank};
use crate::text;

/// Findings per status, in the order of [`COLUMNS`].
pub(super) type Counts = [usize; 5];

/// The columns of the count tables, in the order of [`Counts`].
const COLUMNS: [(Status, &str); 5] = [
    (Status::Fail, "Failed"),
    (Status::Error, "Errors"),
    (Status::Waived, "Waived"),
    (Status::Pass, "Passed"),
    (Status::Skip, "Skipped"),
];

fn column(s: Status) -> usize {
    match s {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Waived => 2,
        Status::Pass => 3,
        Status::Skip => 4,
    }
}

/// Every count the section shows, from one pass over the findings.
struct Tally<'a> {
    by_policy: Vec<Counts>,
    by_place: BTreeMap<(Option<&'a str>, Option<&'a str>), Counts>,
    /// Indexed like `report.resources`.
    by_resource: Vec<Counts>,
}

impl<'a> Tally<'a> {
    /// Counts per data store first and adds them up per place once per data store: a
    /// lookup by (account, region) per finding was most of the section's time at 3
    /// million findings.
    fn of(report: &'a Report) -> Self {
        let mut t = Tally {
            by_policy: vec![[0; 5]; report.policies.len()],
            by_place: BTreeMap::new(),
            by_resource: vec![[0; 5]; report.resources.len()],
        };
        let mut unknown: Counts = [0; 5];
        for f in &report.findings {
            let c = column(f.status);
            if let Some(p) = t.by_policy.get_mut(f.policy_index()) {
                p[c] += 1;
            }
            if let Some(s) = f.scope() {
                t.by_place
                    .entry((s.account.as_deref(), s.region.as_deref()))
                    .or_default()[c] += 1;
            } else if let Some(r) = f.record_index().and_then(|i| t.by_resource.get_mut(i)) {
                r[c] += 1;
            } else {
                unknown[c] += 1;
            }
        }
        for (r, counts) in report.resources.iter().zip(&t.by_resource) {
            if counts.iter().all(|n| *n == 0) {
                continue;
            }
            let place = t
                .by_place
                .entry((r.account.as_deref(), r.region.as_deref()))
                .or_default();
            for (sum, n) in place.iter_mut().zip(counts) {
                *sum += n;
            }
        }
        if unknown.iter().any(|n| *n > 0) {
            let place = t.by_place.entry((None, None)).or_default();
            for (sum, n) in place.iter_mut().zip(&unknown) {
                *sum += n;
            }
        }
        t
    }
}

/// Appends the section to `h`. `listed` says whether the findings table lists PASS and
/// SKIP findings too; when it does not, the section says so first and adds the table per
/// data store, whose rows the page's script builds from the counts this returns (one
/// per data store, in report order; see [`super::data`]).
pub(super) fn section(h: &mut String, report: &Report, listed: bool) -> Option<Vec<Counts>> {
    let tally = Tally::of(report);
    let total = |s: Status| tally.by_policy.iter().map(|c| c[column(s)]).sum::<usize>();
    h.push_str("<section class=\"counts\" id=\"counts\"><h2>Findings by status</h2>\n");
    if !listed {
        let (pass, skip) = (total(Status::Pass), total(Status::Skip));
        let _ = writeln!(
            h,
            "<p class=\"notice\" id=\"summarised\" data-pass=\"{pass}\" data-skip=\"{skip}\">\
             <strong>PASS and SKIP findings are counted, not listed:</strong> the findings \
             table lists every FAIL, ERROR and WAIVED finding; the {pass} PASS and {skip} SKIP \
             {} are counted in the tables below, per policy, per account and region and per \
             data store. Run <code>hlaudit check</code> with <code>--html-all-rows</code> for a \
             page that lists every finding.</p>",
            text::plural(pass + skip, "finding", "findings"),
        );
    }
    policies(h, report, &tally);
    places(h, &tally);
    if !listed {
        resources(h, report);
    }
    h.push_str("</section>\n");
    (!listed).then_some(tally.by_resource)
}

/// The header cells of the status columns.
fn status_headers(h: &mut String) {
    for (st, label) in COLUMNS {
        let _ = write!(
            h,
            "<th data-numeric=\"1\" class=\"n {}\">{label}</th>",
            st.as_str()
        );
    }
}

/// The status cells of a row (end tags left out, as HTML allows, to keep rows short).
fn status_cells(h: &mut String, c: &Counts) {
    for n in c {
        let _ = write!(h, "<td class=\"n\">{n}");
    }
}

fn policies(h: &mut String, report: &Report, tally: &Tally<'_>) {
    h.push_str(
        "<h3>Per policy</h3><div class=\"tablewrap\"><table class=\"counts sortable\" \
         id=\"counts-policy\"><thead><tr><th>Policy</th><th>Title</th>\
         <th data-numeric=\"1\">Severity</th>",
    );
    status_headers(h);
    h.push_str("</tr></thead><tbody>\n");
    for (p, c) in report.policies.iter().zip(&tally.by_policy) {
        let sev = p.severity.as_str();
        let _ = write!(
            h,
            "<tr data-policy=\"{}\"><td class=\"nw\">{}<td>{}<td data-v=\"{}\">\
             <span class=\"sev {sev}\">{sev}</span>",
            escape(&p.id),
            escape_text(&p.id),
            escape_text(&p.title),
            severity_rank(p.severity),
        );
        status_cells(h, c);
        h.push('\n');
    }
    h.push_str("</tbody></table></div>\n");
}

fn places(h: &mut String, tally: &Tally<'_>) {
    h.push_str(
        "<h3>Per account and region</h3><div class=\"tablewrap\"><table class=\"counts \
         sortable\" id=\"counts-place\"><thead><tr><th>Account</th><th>Region</th>",
    );
    status_headers(h);
    h.push_str("</tr></thead><tbody>\n");
    for ((account, region), c) in &tally.by_place {
        let _ = write!(
            h,
            "<tr><td class=\"nw\">{}<td class=\"nw\">{}",
            escape_text(account.unwrap_or("unknown")),
            escape_text(region.unwrap_or("unknown")),
        );
        status_cells(h, c);
        h.push('\n');
    }
    h.push_str("</tbody></table></div>\n");
}

/// The shell of the table per data store: 100,000 data stores make 100,000 rows, which
/// the page's script builds a page at a time.
fn resources(h: &mut String, report: &Report) {
    let _ = write!(
        h,
        "<details class=\"per-resource\"><summary>Per data store ({} {})</summary>\
         <div class=\"tablewrap\"><table class=\"counts\" id=\"counts-resource\">\
         <thead><tr><th data-key=\"name\">Data store</th><th data-key=\"id\">Id</th>\
         <th data-key=\"account\">Account</th><th data-key=\"region\">Region</th>",
        report.resources.len(),
        text::plural(report.resources.len(), "row", "rows"),
    );
    for (i, (st, label)) in COLUMNS.iter().enumerate() {
        let _ = write!(
            h,
            "<th data-key=\"{i}\" data-numeric=\"1\" class=\"n {}\">{label}</th>",
            st.as_str()
        );
    }
    h.push_str(
        "</tr></thead></table></div><div class=\"pager\" id=\"counts-resource-pager\">\
         </div></details>\n",
    );
}
