//! The configuration file reader never crashes: mutations of the configuration fixtures
//! (see `hlaudit_e2e::mutate`, shared with every other reader's harness in
//! `tests/tests/robustness.rs`). This one lives here because the reader is in the binary
//! crate, which no other crate can call.
//!
//! The property, for every case: no panic, an answer within the bound, and either a
//! configuration or diagnostics that each name the file, line and column.

use std::path::Path;
use std::sync::Arc;

use hlaudit_e2e::mutate::{run_reader, Budget, Seed, Syntax, Verdict};

fn read_config(bytes: &[u8]) -> Verdict {
    // as `load_config` reads it: UTF-8 text first, then the configuration
    let text = hlaudit_rules::yaml::text("ci/hlaudit.yaml", bytes.to_vec());
    let parsed = text.map_err(|d| {
        let mut ds = hlaudit_rules::Diagnostics::new();
        ds.push(d);
        ds
    });
    match parsed.and_then(|text| super::parse(Path::new("ci/hlaudit.yaml"), &text)) {
        Ok(_) => Verdict::Accepted,
        Err(d) => {
            let text = d.render(false);
            if !d.is_empty() && d.items().iter().all(|i| !i.file.is_empty() && i.line > 0) {
                Verdict::Located(text)
            } else {
                Verdict::Unlocated(text)
            }
        }
    }
}

#[test]
fn configuration_reader_never_crashes() {
    let root = hlaudit_e2e::repo_root();
    let seeds: Vec<Seed> = [
        "fixtures/config/full.yaml",
        "fixtures/config/bad.yaml",
        "fixtures/waivers/hlaudit.yaml",
    ]
    .iter()
    .map(|rel| Seed::file(&root, rel))
    .collect();
    let tally = run_reader(
        "config",
        &seeds,
        Syntax::Yaml,
        &Budget::from_env(1500),
        Arc::new(read_config),
    );
    println!("{tally}");
    tally.assert_clean();
}
