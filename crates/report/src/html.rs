//! One self-contained HTML page: summary cards, bar charts (by severity, by policy, by
//! account and region), counts by status (module `summary`), a filterable, sortable,
//! paged findings table with the evidence of each finding, the description, remediation
//! and references of each failing policy once (each finding's details link to it), and
//! the compliance view when the caller hands one in (see its `compliance` module).
//!
//! The findings table lists every FAIL, ERROR and WAIVED finding; PASS and SKIP findings
//! are only counted (per policy, per account and region, per data store) unless
//! [`HtmlOptions::all_rows`] asks for a row each. A large audit is mostly PASS: a row per
//! finding made the page for 100,000 data stores 4.2 GB, which no browser opens.
//!
//! The main design decision: the findings and the counts per data store are data, not
//! markup. A row of HTML per finding is some 1.5 KB, and 100,000 data stores fail 530,000
//! (policy, data store) pairs of the built-in pack: 800 MB of rows. The page holds them as
//! one compact JSON block instead (module `data`: strings written once, a finding a few
//! numbers), and its script builds the rows of one page of the table at a time (500),
//! so the page stays tens of megabytes and the DOM small. The rest of the page (cards,
//! charts, the small count tables, policies, compliance) is rendered on this side.
//!
//! Every value from the data goes through [`escape`] into text or quoted attributes, or
//! into the JSON block with `<`, `>` and `&` escaped so it cannot end the element; the
//! script builds elements and sets `textContent`, never HTML. A Content-Security-Policy
//! allows no network access and no script but the page's own (by its SHA-256), so even a
//! value that escaped escaping could not run. The filters, the sort and the page can be
//! set from the URL (`report.html#q=HL-ENC-01&severity=high&status=FAIL&sort=-resource`).

mod compliance;
mod data;
mod summary;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use hlaudit_model::compliance::ComplianceView;
use hlaudit_model::finding::{Finding, Severity, Status};
use hlaudit_model::invisible;
use hlaudit_model::report::Report;
use sha2::{Digest, Sha256};

use crate::{text, ReportError};

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// Escapes text for HTML text and double- or single-quoted attribute values. Invisible
/// characters (controls other than line feed and tab, bidirectional and format
/// characters, see [`hlaudit_model::invisible`]) become a plain `<U+202E>` marker; page
/// text uses [`escape_text`], which styles it.
pub fn escape(s: &str) -> String {
    escape_with(s, false)
}

/// Escapes text for the content of an element: as [`escape`], but each invisible
/// character is shown as a styled `<U+202E>` marker whose tooltip names the character,
/// so a name that would display as another one shows what it holds.
pub fn escape_text(s: &str) -> String {
    escape_with(s, true)
}

fn escape_with(s: &str, styled: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if invisible::is_invisible(c) => {
                let cp = invisible::code_point(c);
                if styled {
                    let name = invisible::name(c).unwrap_or("invisible character");
                    let _ = write!(
                        out,
                        "<span class=\"invisible\" title=\"{cp} {name}\">&lt;{cp}&gt;</span>"
                    );
                } else {
                    let _ = write!(out, "&lt;{cp}&gt;");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// What the HTML page lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HtmlOptions {
    /// List PASS and SKIP findings in the findings table too, a row each. Without it they
    /// are counted per policy, per account and region and per data store, and the table
    /// lists FAIL, ERROR and WAIVED findings only.
    pub all_rows: bool,
}

/// Writes the report as one HTML page, with a section for `compliance` when given.
pub fn write(
    report: &Report,
    compliance: Option<&ComplianceView>,
    options: &HtmlOptions,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    crate::check_policies(report)?;
    render(report, compliance, options, out, FLUSH_AT).map_err(ReportError::io("HTML"))
}

/// The page is built in a buffer that the long tables hand on to `out` whenever it holds
/// this much, so memory does not grow with the number of findings or data stores.
const FLUSH_AT: usize = 1 << 20;

/// Hands `h` on to `out` once it holds `flush_at` bytes.
fn hand_on(h: &mut String, out: &mut dyn Write, flush_at: usize) -> std::io::Result<()> {
    if h.len() >= flush_at {
        out.write_all(h.as_bytes())?;
        h.clear();
    }
    Ok(())
}

/// The rank the severity column sorts by: critical 4 down to info 0.
fn severity_rank(sev: Severity) -> usize {
    4 - Severity::ALL.iter().position(|s| *s == sev).unwrap_or(4)
}

fn render(
    report: &Report,
    controls: Option<&ComplianceView>,
    options: &HtmlOptions,
    out: &mut dyn Write,
    flush_at: usize,
) -> std::io::Result<()> {
    let e = escape_text;
    let s = report.summary();
    let count = |st: Status| s.by_status.get(&st).copied().unwrap_or(0);
    let line = text::summary_line(report);
    let script_hash = base64(&Sha256::digest(JS.as_bytes()));
    let mut h = String::with_capacity(flush_at.min(FLUSH_AT) * 2);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; img-src data:; \
         base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape(&report.tool.name),
        escape(&line)
    );
    let accounts = report.coverage.accounts.join(", ");
    let regions = report.coverage.regions.join(", ");
    let _ = write!(
        h,
        "<header><h1>HealthLake audit report</h1><div class=\"meta\">{} {} &middot; evaluated at \
         {} &middot; generated at {}{}{}</div></header>\n<main>\n",
        e(&report.tool.name),
        e(&report.tool.version),
        e(&report.evaluated_at.to_rfc3339()),
        e(&report.generated_at.to_rfc3339()),
        if accounts.is_empty() {
            String::new()
        } else {
            format!(" &middot; accounts {}", e(&accounts))
        },
        if regions.is_empty() {
            String::new()
        } else {
            format!(" &middot; regions {}", e(&regions))
        },
    );
    if report.is_incomplete() {
        let _ = writeln!(
            h,
            "<div class=\"banner\" role=\"alert\"><strong>Incomplete audit.</strong> {} {} \
             could not be collected, read or evaluated; data stores may be missing from this \
             report.</div>",
            count(Status::Error).max(report.errors.len()),
            text::plural(
                count(Status::Error).max(report.errors.len()),
                "part",
                "parts"
            )
        );
    }
    if let Some(nothing) = report.nothing_checked() {
        let _ = writeln!(
            h,
            "<div class=\"notice\" role=\"status\" data-nothing-checked=\"{}\">\
             <strong>Nothing was checked:</strong> {}</div>",
            nothing.code(),
            e(nothing.reason())
        );
    }
    let _ = write!(
        h,
        "<p class=\"summary\" id=\"summary\">{}</p>\n<div class=\"cards\">",
        e(&line)
    );
    for (st, label) in [
        (Status::Fail, "Failed"),
        (Status::Error, "Errors"),
        (Status::Waived, "Waived"),
        (Status::Pass, "Passed"),
        (Status::Skip, "Skipped"),
    ] {
        let _ = write!(
            h,
            "<div class=\"card {}\"><div class=\"n\">{}</div><div class=\"l\">{label}</div></div>",
            st.as_str(),
            count(st)
        );
    }
    h.push_str("</div>\n");
    h.push_str(&crate::coverage::html(&report.coverage));
    h.push_str("<section class=\"charts\">\n");
    charts(&mut h, report);
    h.push_str("</section>\n");
    let counts = summary::section(&mut h, report, options.all_rows);
    let mut listed: Vec<&Finding> = text::notable(report);
    if options.all_rows {
        listed.extend(
            report
                .findings
                .iter()
                .filter(|f| matches!(f.status, Status::Pass | Status::Skip)),
        );
    }
    table(&mut h, options.all_rows, listed.len());
    policies(&mut h, report);
    if let Some(view) = controls {
        compliance::section(&mut h, view);
    }
    if !report.warnings.is_empty() {
        h.push_str("<h2>Warnings</h2><ul>");
        for w in &report.warnings {
            let place = w
                .source
                .as_ref()
                .map(|s| format!(" ({})", e(&s.to_string())))
                .unwrap_or_default();
            let _ = write!(h, "<li>{}: {}{place}</li>", e(&w.code), e(&w.message));
        }
        h.push_str("</ul>\n");
    }
    if !report.coverage.inputs.is_empty() {
        let _ = writeln!(
            h,
            "<footer>Inputs: {}</footer>",
            e(&report.coverage.inputs.join(", "))
        );
    }
    h.push_str("</main>\n");
    data::write(&mut h, report, &listed, counts.as_deref(), out, flush_at)?;
    let _ = write!(h, "<script>{JS}</script>\n</body>\n</html>\n");
    out.write_all(h.as_bytes())
}

fn charts(h: &mut String, report: &Report) {
    let fails: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .collect();
    let by_sev: Vec<(String, usize, &str)> = Severity::ALL
        .iter()
        .map(|sev| {
            (
                sev.as_str().to_owned(),
                fails.iter().filter(|f| f.severity == *sev).count(),
                sev.as_str(),
            )
        })
        .collect();
    chart(h, "Failures by severity", &by_sev);

    let mut by_policy: BTreeMap<String, (usize, Severity)> = BTreeMap::new();
    for f in &fails {
        let p = report.policy_of(f);
        let entry = by_policy.entry(p.id.clone()).or_insert((0, f.severity));
        entry.0 += 1;
        entry.1 = entry.1.max(f.severity);
    }
    let mut rows: Vec<(String, usize, &str)> = by_policy
        .into_iter()
        .map(|(id, (n, sev))| (id, n, sev.as_str()))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    rows.truncate(12);
    chart(h, "Failures by policy", &rows);

    // Per data store first, then per place: a keyed lookup for each of hundreds of
    // thousands of failures cost more than the rest of the chart.
    let mut per_store = vec![0usize; report.resources.len()];
    let mut by_place: BTreeMap<String, usize> = BTreeMap::new();
    let place = |a: Option<&str>, r: Option<&str>| {
        format!("{} / {}", a.unwrap_or("unknown"), r.unwrap_or("unknown"))
    };
    for f in &fails {
        match f.record_index() {
            Some(index) if index < per_store.len() => per_store[index] += 1,
            _ => {
                let (a, r) = text::place(report, f);
                *by_place
                    .entry(place(a.as_deref(), r.as_deref()))
                    .or_default() += 1;
            }
        }
    }
    let mut by_store_place: BTreeMap<(Option<&str>, Option<&str>), usize> = BTreeMap::new();
    for (r, n) in report.resources.iter().zip(&per_store) {
        if *n > 0 {
            *by_store_place
                .entry((r.account.as_deref(), r.region.as_deref()))
                .or_default() += n;
        }
    }
    for ((a, r), n) in by_store_place {
        *by_place.entry(place(a, r)).or_default() += n;
    }
    let mut rows: Vec<(String, usize, &str)> =
        by_place.into_iter().map(|(k, n)| (k, n, "")).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    rows.truncate(12);
    chart(h, "Failures by account and region", &rows);
}

fn chart(h: &mut String, title: &str, rows: &[(String, usize, &str)]) {
    let _ = write!(h, "<div class=\"chart\"><h2>{}</h2>", escape(title));
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0);
    if max == 0 {
        h.push_str("<div class=\"empty\">No failures.</div>");
    }
    if max > 0 {
        for (label, n, class) in rows {
            let pct = (*n as f64 / max as f64 * 100.0).round();
            let _ = write!(
                h,
                "<div class=\"bar\"><span class=\"k\" title=\"{}\">{}</span><span class=\"t\">\
                 <span class=\"f {}\" style=\"width:{pct}%\"></span></span><span class=\"v\">{n}</span></div>",
                escape(label),
                escape_text(label),
                escape(class),
            );
        }
    }
    h.push_str("</div>\n");
}

fn table(h: &mut String, all_rows: bool, total: usize) {
    h.push_str(
        "<section><h2 id=\"findings-title\">Findings</h2><div class=\"controls\">\
         <input id=\"q\" type=\"search\" placeholder=\"Filter: policy, data store, ARN, message\" aria-label=\"Filter findings\">\
         <select id=\"severity\" aria-label=\"Severity\"><option value=\"\">All severities</option>",
    );
    for sev in Severity::ALL {
        let _ = write!(h, "<option value=\"{0}\">{0}</option>", sev.as_str());
    }
    h.push_str(
        "</select><select id=\"status\" aria-label=\"Status\">\
         <option value=\"problems\" selected>FAIL, ERROR, WAIVED</option><option value=\"\">All statuses</option>",
    );
    let listed: &[Status] = if all_rows {
        &Status::ALL
    } else {
        &[Status::Fail, Status::Error, Status::Waived]
    };
    for st in listed {
        let _ = write!(h, "<option value=\"{0}\">{0}</option>", st.as_str());
    }
    let _ = write!(
        h,
        "</select><span class=\"count\" id=\"count\"></span></div>\n\
         <noscript><p class=\"notice\">The {total} listed {} are in this page's data; the \
         table is built by the page's script, which needs JavaScript.</p></noscript>\n\
         <div class=\"tablewrap\"><table id=\"findings\" data-rows=\"{}\" data-total=\"{total}\">\
         <thead><tr>\
         <th data-key=\"srank\" data-numeric=\"1\">Status</th>\
         <th data-key=\"sevrank\" data-numeric=\"1\">Severity</th>\
         <th data-key=\"policy\">Policy</th><th data-key=\"resource\">Resource</th>\
         <th data-key=\"account\">Account</th><th data-key=\"region\">Region</th>\
         <th data-key=\"order\" data-numeric=\"1\">Finding</th></tr></thead></table></div>\n\
         <div class=\"pager\" id=\"findings-pager\"></div></section>\n",
        text::plural(total, "finding", "findings"),
        if all_rows { "all" } else { "problems" },
    );
}

/// Which policies the Policies section lists (by index in the report): those with a
/// FAIL, ERROR or WAIVED finding.
fn listed_policies(report: &Report) -> Vec<bool> {
    let mut listed = vec![false; report.policies.len()];
    for f in &report.findings {
        if matches!(f.status, Status::Fail | Status::Error | Status::Waived) {
            if let Some(l) = listed.get_mut(f.policy_index()) {
                *l = true;
            }
        }
    }
    listed
}

/// The Policies section: the text of each policy with a FAIL, ERROR or WAIVED finding,
/// once, for the findings' details to link to (`#policy-N`, N its index in the report).
fn policies(h: &mut String, report: &Report) {
    let listed = listed_policies(report);
    if !listed.contains(&true) {
        return;
    }
    h.push_str("<section class=\"policies\" id=\"policies\"><h2>Policies</h2>\n");
    for (i, policy) in report.policies.iter().enumerate() {
        if !listed[i] {
            continue;
        }
        let sev = policy.severity.as_str();
        let _ = write!(
            h,
            "<article class=\"detail\" id=\"policy-{i}\" data-policy=\"{}\"><h3 class=\"head\">\
             <span class=\"sev {sev}\">{sev}</span> <strong>{}</strong> {}</h3>",
            escape(&policy.id),
            escape_text(&policy.id),
            escape_text(&policy.title),
        );
        policy_details(h, policy);
        h.push_str("</article>\n");
    }
    h.push_str("</section>\n");
}

fn policy_details(h: &mut String, policy: &hlaudit_model::report::PolicyMeta) {
    let e = escape_text;
    if !policy.description.trim().is_empty() {
        let _ = write!(h, "<h3>Policy</h3><p>{}</p>", e(&policy.description));
    }
    if !policy.rationale.trim().is_empty() {
        let _ = write!(h, "<h3>Why it matters</h3><p>{}</p>", e(&policy.rationale));
    }
    if !policy.remediation.trim().is_empty() {
        let _ = write!(
            h,
            "<h3>Remediation</h3><pre>{}</pre>",
            e(&policy.remediation)
        );
    }
    if !policy.compliance.is_empty() {
        h.push_str("<h3>Compliance</h3><ul>");
        for (fw, controls) in &policy.compliance {
            let _ = write!(h, "<li>{}: {}</li>", e(fw), e(&controls.join(", ")));
        }
        h.push_str("</ul>");
    }
    if !policy.references.is_empty() {
        h.push_str("<h3>References</h3><ul>");
        for r in &policy.references {
            // Only web links become links; anything else is shown as text.
            if r.starts_with("https://") || r.starts_with("http://") {
                let _ = write!(
                    h,
                    "<li><a href=\"{}\" rel=\"noopener noreferrer\">{}</a></li>",
                    escape(r),
                    e(r)
                );
            } else {
                let _ = write!(h, "<li>{}</li>", e(r));
            }
        }
        h.push_str("</ul>");
    }
}

/// Standard base64 (RFC 4648, with padding), for the script hash of the CSP.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>x</script> \"a\" 'b' & c"),
            "&lt;script&gt;x&lt;/script&gt; &quot;a&quot; &#39;b&#39; &amp; c"
        );
    }

    #[test]
    fn invisible_characters_are_shown_as_markers() {
        assert_eq!(escape("a\u{202e}b\u{1b}"), "a&lt;U+202E&gt;b&lt;U+001B&gt;");
        assert_eq!(
            escape_text("a\u{2066}b\u{ad}"),
            "a<span class=\"invisible\" title=\"U+2066 LEFT-TO-RIGHT ISOLATE\">&lt;U+2066&gt;</span>b\
             <span class=\"invisible\" title=\"U+00AD SOFT HYPHEN\">&lt;U+00AD&gt;</span>"
        );
        assert_eq!(escape_text("two\n\tlines"), "two\n\tlines");
        assert!(
            !escape_text("\u{202e}\u{2066}\u{200b}\u{feff}\u{e0041}\u{2028}")
                .contains(hlaudit_model::invisible::is_invisible)
        );
    }

    #[test]
    fn the_page_is_the_same_however_often_it_is_handed_on() {
        let report: Report =
            serde_json::from_str(include_str!("../tests/fixtures/mixed.report.json")).unwrap();
        for all_rows in [false, true] {
            let options = HtmlOptions { all_rows };
            let page = |flush_at| {
                let mut out = Vec::new();
                render(&report, None, &options, &mut out, flush_at).unwrap();
                String::from_utf8(out).unwrap()
            };
            let whole = page(usize::MAX);
            assert!(whole.contains("<script type=\"application/json\" id=\"data\">"));
            assert_eq!(page(1), whole);
            assert_eq!(page(FLUSH_AT), whole);
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
