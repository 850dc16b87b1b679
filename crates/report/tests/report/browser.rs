//! The HTML report in a real headless browser (Debian's Chromium): the table renders,
//! filtering from the URL works, and markup in data values shows as text and runs nothing.
//!
//! Chromium is installed by `.ci/setup-browser.sh`; when it is missing this test fails and
//! says so (it never passes without a browser).

use std::path::{Path, PathBuf};
use std::process::Command;

use hlaudit_report::html::{self, HtmlOptions};

use crate::{fixture, render};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Loads `url` headless and returns the DOM after the page's scripts ran.
fn dump_dom(url: &str, profile: &Path) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "Chromium is not installed: run `bash .ci/setup-browser.sh` (it installs Debian's \
         chromium package)"
    );
    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && dom.contains("</html>"),
        "chromium failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    dom
}

/// The opening tags of the finding groups the page's script built (the rows of the page
/// of the table in view): (visible, tag text).
fn finding_tags(dom: &str) -> Vec<(bool, String)> {
    dom.match_indices("<tbody class=\"finding\"")
        .map(|(i, _)| {
            let end = dom[i..].find('>').map(|e| i + e).unwrap_or(dom.len());
            let tag = dom[i..end].to_owned();
            (!tag.contains(" hidden"), tag)
        })
        .collect()
}

fn visible(dom: &str) -> usize {
    finding_tags(dom).iter().filter(|(v, _)| *v).count()
}

/// The value of `attr` in each finding group's tag.
fn attrs(dom: &str, attr: &str) -> Vec<String> {
    finding_tags(dom)
        .into_iter()
        .map(|(_, t)| {
            t.split(&format!("{attr}=\""))
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// The page's data block, parsed.
fn page_data(page: &str) -> serde_json::Value {
    let start = page
        .find("<script type=\"application/json\" id=\"data\">")
        .expect("the page has its data");
    let body = &page[start..];
    let body = &body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()];
    serde_json::from_str(body).expect("the data is JSON")
}

fn write_page(dir: &Path, name: &str, html: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, html).unwrap();
    path
}

#[test]
fn the_page_renders_filters_from_the_url_and_runs_no_injected_markup() {
    let dir = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let mixed = fixture("mixed");
    // By default PASS and SKIP are counted, not listed; a PASS filter says so.
    let page = write_page(
        dir.path(),
        "summarised.html",
        &render(|o| html::write(&mixed, None, &HtmlOptions::default(), o)),
    );
    let url = format!("file://{}", page.display());
    let dom = dump_dom(&url, profile.path());
    assert_eq!(finding_tags(&dom).len(), 8, "5 FAIL + 2 ERROR + 1 WAIVED");
    assert!(dom.contains("8 of 8 findings shown (PASS and SKIP are counted above, not listed)"));
    let dom = dump_dom(&format!("{url}#status=PASS"), profile.path());
    assert!(dom.contains("; PASS findings are not listed on this page"));

    // With every row: FAIL, ERROR and WAIVED rows are shown, PASS and SKIP hidden.
    let all_rows = HtmlOptions { all_rows: true };
    let page = write_page(
        dir.path(),
        "mixed.html",
        &render(|o| html::write(&mixed, None, &all_rows, o)),
    );
    let url = format!("file://{}", page.display());

    let dom = dump_dom(&url, profile.path());
    assert_eq!(visible(&dom), 8, "5 FAIL + 2 ERROR + 1 WAIVED");
    assert_eq!(
        finding_tags(&dom).len(),
        8,
        "only the rows in view are built"
    );
    assert!(dom.contains("8 of 17 findings shown"));
    let dom = dump_dom(&format!("{url}#status=all"), profile.path());
    assert_eq!(visible(&dom), mixed.findings.len());

    // Filtering by text, from the URL fragment.
    let dom = dump_dom(&format!("{url}#q=HL-ENC-01"), profile.path());
    let shown: Vec<String> = finding_tags(&dom)
        .into_iter()
        .filter(|(v, _)| *v)
        .map(|(_, t)| t)
        .collect();
    assert_eq!(
        shown.len(),
        3,
        "FAIL, WAIVED and ERROR of HL-ENC-01: {shown:#?}"
    );
    assert!(shown
        .iter()
        .all(|t| t.contains("data-policy=\"HL-ENC-01\"")));
    let dom = dump_dom(&format!("{url}#q=HL-ENC-01&status=all"), profile.path());
    assert_eq!(visible(&dom), 4);

    // By severity and status.
    let dom = dump_dom(&format!("{url}#severity=low&status=FAIL"), profile.path());
    assert_eq!(visible(&dom), 2);
    let dom = dump_dom(&format!("{url}?status=PASS"), profile.path());
    assert_eq!(visible(&dom), 6);

    // Hostile data: the markup is text, no element was injected, nothing ran.
    let hostile = fixture("hostile");
    let text = render(|o| html::write(&hostile, None, &all_rows, o));
    let page = write_page(dir.path(), "hostile.html", &text);
    let dom = dump_dom(
        &format!("file://{}#status=all", page.display()),
        profile.path(),
    );
    assert_eq!(finding_tags(&dom).len(), hostile.findings.len());
    assert!(dom.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"));
    assert!(dom.contains("&lt;img src=x onerror=\"window.__pwned=1\"&gt;"));
    // The tag key and value (in the collapsed details) are text too.
    assert!(dom.contains("<td>&lt;img src=x onerror=\"window.__pwned=1\"&gt;</td>"));
    assert!(!dom.contains("<img"), "no image element was injected");
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "only the page's own script (its data block is dropped once read)"
    );

    // The same page with its Content-Security-Policy removed and a probe added: escaping
    // alone must keep the payloads from running.
    let csp_start = text
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let csp_end = csp_start + text[csp_start..].find('>').unwrap() + 1;
    let probe = "<script>window.addEventListener('load', function () { setTimeout(function () {\
                 document.documentElement.setAttribute('data-pwned', typeof window.__pwned);\
                 document.documentElement.setAttribute('data-images', String(document.images.length));\
                 }, 200); });</script>";
    let unprotected = format!("{}{}", &text[..csp_start], &text[csp_end..])
        .replace("</body>", &format!("{probe}</body>"));
    let page = write_page(dir.path(), "hostile-no-csp.html", &unprotected);
    let dom = dump_dom(&format!("file://{}", page.display()), profile.path());
    assert!(
        dom.contains("data-pwned=\"undefined\""),
        "an injected payload ran (or the probe did not): {}",
        &dom[..dom.len().min(400)]
    );
    assert!(dom.contains("data-images=\"0\""));
    // And the probe does see a payload that is not escaped, so the check can fail.
    let naive = unprotected.replacen(
        "<main>",
        "<main><img src=x onerror=\"window.__pwned=1\">",
        1,
    );
    let page = write_page(dir.path(), "naive.html", &naive);
    let dom = dump_dom(&format!("file://{}", page.display()), profile.path());
    assert!(dom.contains("data-pwned=\"number\""));

    // Invisible characters in data: shown as markers naming them, plain markers in
    // attributes, and none in the DOM itself.
    let invisible = fixture("invisible");
    let page = write_page(
        dir.path(),
        "invisible.html",
        &render(|o| html::write(&invisible, None, &all_rows, o)),
    );
    let dom = dump_dom(
        &format!("file://{}#status=all", page.display()),
        profile.path(),
    );
    assert!(dom.contains(
        "patient-records<span class=\"invisible\" title=\"U+202E RIGHT-TO-LEFT OVERRIDE\">\
         &lt;U+202E&gt;</span>dorp"
    ));
    assert!(dom.contains("data-resource=\"patient-records&lt;U+202E&gt;dorp&lt;U+2066&gt;x"));
    assert!(
        !dom.contains(['\u{202e}', '\u{2066}', '\u{200b}']),
        "an invisible character reached the page's text"
    );
}

/// A generated audit of `stores` data stores and 10 policies: a realistic mix of mostly
/// PASS, some SKIP, 4% FAIL and a few WAIVED and ERROR, spread over 3 accounts and 4
/// regions.
fn large_report(stores: usize) -> hlaudit_model::report::Report {
    use hlaudit_model::finding::{Evidence, Finding, Severity, Status, Subject};
    use hlaudit_model::report::{PolicyMeta, Report, Resource};
    use hlaudit_model::{Inventory, Timestamp};

    let mut report = Report::for_inventory(&Inventory::default(), Timestamp::now());
    for p in 0..10 {
        let mut meta = PolicyMeta::collection_error();
        meta.id = format!("HL-GEN-{p:02}");
        meta.title = format!("Generated policy {p}");
        meta.severity = Severity::ALL[p % 5];
        meta.description = "What the policy checks.".into();
        meta.remediation = "How to fix it.".into();
        report.policies.push(meta);
    }
    let regions = ["us-east-1", "us-west-2", "eu-west-2", "ap-southeast-2"];
    for i in 0..stores {
        let account = 100_000_000_000u64 + (i % 3) as u64;
        let region = regions[i % regions.len()];
        report.resources.push(Resource {
            name: Some(format!("store-{i}")),
            ..Resource::datastore(&format!(
                "arn:aws:healthlake:{region}:{account}:datastore/fhir/{i:032x}"
            ))
        });
        for p in 0..10 {
            let status = match (i * 10 + p) % 100 {
                0..=3 => Status::Fail,
                4..=13 => Status::Skip,
                14 if i % 7 == 0 => Status::Waived,
                15 if i % 50 == 0 => Status::Error,
                _ => Status::Pass,
            };
            let f = Finding::new(
                p,
                Subject::Record { index: i },
                status,
                report.policies[p].severity,
            );
            report.findings.push(if status == Status::Fail {
                f.with_detail(
                    format!("Data store store-{i} violates policy {p}."),
                    vec![Evidence {
                        pointer: "/SseConfiguration/KmsEncryptionConfig/CmkType".into(),
                        found: Some(serde_json::json!("AWS_OWNED_KMS_KEY")),
                        expected: "equal to \"CUSTOMER_MANAGED_KMS_KEY\"".into(),
                        note: None,
                    }],
                )
            } else {
                f
            });
        }
    }
    report.sort_findings();
    report
}

/// Rows in a page of the findings table.
const PAGE_ROWS: usize = 500;

/// Loads the page of a generated audit (issue 19): its data holds every FAIL, ERROR and
/// WAIVED finding, it opens on the first page of them, the filter, sort and page from
/// the URL work, and PASS and SKIP are counted, not listed. Returns the page's size and
/// the seconds Chromium took for each load.
fn large_page(stores: usize) -> (usize, Vec<(String, f64)>) {
    let dir = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let report = large_report(stores);
    let problem =
        |f: &&hlaudit_model::finding::Finding| !matches!(f.status.as_str(), "PASS" | "SKIP");
    let problems = report.findings.iter().filter(problem).count();
    let start = std::time::Instant::now();
    let text = render(|o| html::write(&report, None, &HtmlOptions::default(), o));
    let mut timings = vec![("write".to_owned(), start.elapsed().as_secs_f64())];
    let page = write_page(dir.path(), "large.html", &text);
    let url = format!("file://{}", page.display());

    // The data: every FAIL, ERROR and WAIVED finding (status, policy, data store), and a
    // row of counts per data store.
    let data = page_data(&text);
    let fields = data["fields"].as_u64().unwrap() as usize;
    let numbers: Vec<i64> = data["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_i64().unwrap())
        .collect();
    let statuses = ["FAIL", "ERROR", "WAIVED", "PASS", "SKIP"];
    let mut held: Vec<(String, i64, i64)> = numbers
        .chunks(fields)
        .map(|f| (statuses[f[0] as usize].to_owned(), f[2], f[3]))
        .collect();
    let mut wanted: Vec<(String, i64, i64)> = report
        .findings
        .iter()
        .filter(problem)
        .map(|f| {
            let index = f.record_index().expect("a data store finding");
            (
                f.status.as_str().to_owned(),
                f.policy_index() as i64,
                index as i64,
            )
        })
        .collect();
    held.sort();
    wanted.sort();
    assert_eq!(held.len(), problems);
    assert!(
        held == wanted,
        "the data holds every FAIL, ERROR and WAIVED finding"
    );
    assert_eq!(data["counts"].as_array().unwrap().len(), stores * 5);

    // Each load's whole Chromium run, and the time the page took to build its tables
    // (from the start of loading, as the page's script measures it).
    let mut load = |what: &str, url: &str| {
        let start = std::time::Instant::now();
        let dom = dump_dom(url, profile.path());
        timings.push((what.to_owned(), start.elapsed().as_secs_f64()));
        let ready: f64 = dom
            .split("data-ready-ms=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .and_then(|v| v.parse().ok())
            .expect("the page's script ran to the end");
        timings.push((format!("{what}: tables ready in the page"), ready / 1000.0));
        dom
    };

    // Opens on the first page of the FAIL, ERROR and WAIVED findings, in report order.
    let dom = load("open", &url);
    let tags = finding_tags(&dom);
    assert_eq!(tags.len(), PAGE_ROWS.min(problems));
    assert_eq!(visible(&dom), tags.len());
    let first: Vec<String> = attrs(&dom, "data-order");
    let expected: Vec<String> = (0..PAGE_ROWS.min(problems))
        .map(|i| i.to_string())
        .collect();
    assert_eq!(first, expected);
    assert!(tags
        .iter()
        .all(|(_, t)| !t.contains("data-status=\"PASS\"") && !t.contains("data-status=\"SKIP\"")));
    assert!(dom.contains(&format!("{problems} of {problems} findings shown")));
    assert!(dom.contains(&format!("Rows 1\u{2013}{PAGE_ROWS} of {problems}")));
    assert!(dom.contains("id=\"summarised\""));
    assert_eq!(
        dom.matches("<tr><td>store-").count(),
        PAGE_ROWS.min(stores),
        "a page of the count rows per data store"
    );
    assert!(dom.contains(&format!("Rows 1\u{2013}{PAGE_ROWS} of {stores}")));

    // A filter and a sort, from the URL: the rows of one policy by data store name,
    // descending.
    let mut names: Vec<String> = report
        .findings
        .iter()
        .filter(problem)
        .filter(|f| f.policy_index() == 3)
        .map(|f| report.resource_of(f).unwrap().name.clone().unwrap())
        .collect();
    names.sort_by(|a, b| b.cmp(a));
    let matching = names.len();
    assert!(
        matching > PAGE_ROWS,
        "the filtered rows fill more than a page"
    );
    let dom = load(
        "filter and sort",
        &format!("{url}#q=HL-GEN-03&sort=-resource"),
    );
    assert!(dom.contains(&format!("{matching} of {problems} findings shown")));
    assert!(attrs(&dom, "data-policy").iter().all(|p| p == "HL-GEN-03"));
    assert_eq!(attrs(&dom, "data-resource"), names[..PAGE_ROWS]);
    assert!(dom.contains("aria-sort=\"descending\""));

    // The next page of them.
    let dom = load(
        "filter, sort, page 2",
        &format!("{url}#q=HL-GEN-03&sort=-resource&page=2"),
    );
    let end = matching.min(2 * PAGE_ROWS);
    assert_eq!(attrs(&dom, "data-resource"), names[PAGE_ROWS..end]);
    assert!(dom.contains(&format!(
        "Rows {}\u{2013}{end} of {matching}",
        PAGE_ROWS + 1
    )));

    // Clicks, by a probe script in a copy of the page without its Content-Security-Policy:
    // Next shows the second page, a click on a row shows its details, a click on a
    // column header sorts and goes back to the first page.
    let csp_start = text
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let csp_end = csp_start + text[csp_start..].find('>').unwrap() + 1;
    let without_csp = format!("{}{}", &text[..csp_start], &text[csp_end..]);
    let probe = |script: &str| {
        without_csp.replace(
            "</body>",
            &format!("<script>(function () {{ {script} }})();</script></body>"),
        )
    };
    let next = "document.querySelector('#findings-pager button:last-of-type').click();\
                document.querySelector('#findings tbody.finding tr.row').click();";
    let page = write_page(dir.path(), "next.html", &probe(next));
    let dom = load("next page, details", &format!("file://{}", page.display()));
    let second: Vec<String> = (PAGE_ROWS..(2 * PAGE_ROWS).min(problems))
        .map(|i| i.to_string())
        .collect();
    assert_eq!(attrs(&dom, "data-order"), second);
    assert_eq!(dom.matches("aria-expanded=\"true\"").count(), 1);
    let details = dom.matches("<tr class=\"detail\"").count();
    let hidden = dom.matches("<tr class=\"detail\" hidden").count();
    assert_eq!((details, hidden), (second.len(), second.len() - 1));
    assert!(dom.contains("<h3>Evidence</h3>"));
    let sort = "document.querySelector('#findings-pager button:last-of-type').click();\
                document.querySelector('#findings th[data-key=resource]').click();";
    let page = write_page(dir.path(), "sort.html", &probe(sort));
    let dom = load("sort by a click", &format!("file://{}", page.display()));
    let mut names: Vec<String> = report
        .findings
        .iter()
        .filter(problem)
        .map(|f| report.resource_of(f).unwrap().name.clone().unwrap())
        .collect();
    names.sort();
    assert_eq!(attrs(&dom, "data-resource"), names[..PAGE_ROWS]);
    assert!(dom.contains("aria-sort=\"ascending\""));
    (text.len(), timings)
}

#[test]
fn the_page_of_a_large_audit_opens_filters_and_sorts() {
    let (size, timings) = large_page(10_000);
    // 50 MB at 100,000 data stores (issue 19), so 5 MB at 10,000.
    assert!(size < 5_000_000, "{size} bytes");
    eprintln!("10,000 data stores: {size} bytes, seconds {timings:?}");
}

/// The 100,000 data stores of issue 19; run with `--ignored --nocapture` for the timings.
#[test]
#[ignore = "a minute or so; run by hand for the timings"]
fn the_page_of_100000_data_stores_opens_filters_and_sorts() {
    let (size, timings) = large_page(100_000);
    assert!(size < 50_000_000, "{size} bytes");
    eprintln!("100,000 data stores: {size} bytes, seconds {timings:?}");
}
