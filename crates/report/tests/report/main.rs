//! Integration tests of the reporters: snapshots of every format on the fixture reports,
//! structural checks, the SARIF multitool and a headless browser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod compliance;
mod findings_formats;
mod formats;
mod invisible;
mod json_v3;
mod multitool;
mod nothing;
mod props;
mod sarif;

use std::path::{Path, PathBuf};

use hlaudit_model::compliance::{Control, FrameworkCatalogue};
use hlaudit_model::report::Report;

/// The fixture reports, by name.
pub const FIXTURES: [&str; 6] = ["mixed", "hostile", "clean", "invisible", "empty", "jobs"];

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Reads `tests/fixtures/<name>.report.json`.
pub fn fixture(name: &str) -> Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.report.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Renders with a writer-taking function into a string.
pub fn render(
    f: impl FnOnce(&mut dyn std::io::Write) -> Result<(), hlaudit_report::ReportError>,
) -> String {
    let mut out = Vec::new();
    f(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// SARIF options with pinned directories, so snapshots do not depend on the machine.
pub fn pinned_sarif_options() -> hlaudit_report::sarif::SarifOptions {
    hlaudit_report::sarif::SarifOptions {
        working_dir: Some(PathBuf::from("/work/repo")),
        base_dir: Some(PathBuf::from("/work/repo")),
        ..Default::default()
    }
}

/// A small HIPAA catalogue for the compliance view: one control the mixed fixture maps, one
/// it does not (so NOT COVERED), one with a title that is a spreadsheet formula.
pub fn catalogue() -> Vec<FrameworkCatalogue> {
    let control = |id: &str, title: &str| Control {
        id: id.to_owned(),
        title: title.to_owned(),
    };
    vec![FrameworkCatalogue {
        framework: "HIPAA".to_owned(),
        title: "HIPAA Security Rule".to_owned(),
        scope: "three controls, for a test".to_owned(),
        controls: vec![
            control("164.312(a)(2)(iv)", "Encryption and decryption"),
            control("164.316(a)", "Policies, \"procedures\"\nand more"),
            control("164.310(b)", "=HYPERLINK(\"http://x\")"),
        ],
    }]
}
