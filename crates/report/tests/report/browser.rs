//! The HTML report in a real headless browser (Debian's Chromium): the table renders,
//! filtering from the URL works, and markup in data values shows as text and runs nothing.
//!
//! Chromium is installed by `.ci/setup-browser.sh`; when it is missing this test fails and
//! says so (it never passes without a browser).

use std::path::{Path, PathBuf};
use std::process::Command;

use hlaudit_report::html;

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

/// The opening tags of the finding groups: (visible, tag text).
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
    let page = write_page(
        dir.path(),
        "mixed.html",
        &render(|o| html::write(&mixed, None, o)),
    );
    let url = format!("file://{}", page.display());

    // Renders: by default FAIL, ERROR and WAIVED rows are shown, PASS and SKIP hidden.
    let dom = dump_dom(&url, profile.path());
    let all = finding_tags(&dom).len();
    assert_eq!(all, mixed.findings.len());
    assert_eq!(visible(&dom), 8, "5 FAIL + 2 ERROR + 1 WAIVED");
    assert!(dom.contains("8 of 17 findings shown"));

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
    let text = render(|o| html::write(&hostile, None, o));
    let page = write_page(dir.path(), "hostile.html", &text);
    let dom = dump_dom(&format!("file://{}", page.display()), profile.path());
    assert_eq!(finding_tags(&dom).len(), hostile.findings.len());
    assert!(dom.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"));
    assert!(dom.contains("&lt;img src=x onerror=\"window.__pwned=1\"&gt;"));
    // The tag key and value (in the collapsed details) are text too.
    assert!(dom.contains("<td>&lt;img src=x onerror=\"window.__pwned=1\"&gt;</td>"));
    assert!(!dom.contains("<img"), "no image element was injected");
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "only the page's own script"
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
}
