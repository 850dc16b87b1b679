//! Embeds the built-in policy pack (`pack/*.yaml`, which the workspace root's `rules/`
//! links to, so the pack travels inside the published crate) and lists the
//! data-driven test cases (`tests/cases/*.yaml`), so adding a file needs no code change.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());

    let pack = manifest.join("pack");
    println!("cargo:rerun-if-changed={}", pack.display());
    let policies = yaml_files(&pack);
    // A crate without its pack would build a tool that checks nothing: refuse.
    assert!(
        !policies.is_empty(),
        "the built-in policy pack {} holds no YAML file",
        pack.display()
    );
    let mut src = String::from("/// The built-in pack: (file name, YAML text), sorted by name.\npub static FILES: &[(&str, &str)] = &[\n");
    for f in policies {
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let _ = writeln!(
            src,
            "    ({name:?}, include_str!({:?})),",
            f.display().to_string()
        );
    }
    src.push_str("];\n");
    // The compliance catalogues (`crates/rules/frameworks/*.yaml`, beside the crate, not in
    // `rules/`, which holds only policy files that `hlaudit rules test rules/` reads): every
    // control of each framework, so a control no policy maps to is reported as not covered.
    let frameworks = manifest.join("frameworks");
    println!("cargo:rerun-if-changed={}", frameworks.display());
    src.push_str("/// The framework catalogues: (file name, YAML text), sorted by name.\npub static FRAMEWORKS: &[(&str, &str)] = &[\n");
    for f in yaml_files(&frameworks) {
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let _ = writeln!(
            src,
            "    ({name:?}, include_str!({:?})),",
            f.display().to_string()
        );
    }
    src.push_str("];\n");
    let _ = std::fs::write(out_dir.join("builtin_pack.rs"), src);

    // The engine's cases (`tests/cases/*.yaml`) and the waiver cases
    // (`tests/waivers/*.yaml`): one generated test per file.
    let _ = std::fs::write(
        out_dir.join("cases.rs"),
        case_tests(&manifest.join("tests/cases"), "case"),
    );
    let _ = std::fs::write(
        out_dir.join("waiver_cases.rs"),
        case_tests(&manifest.join("tests/waivers"), "waiver"),
    );
}

/// One `#[test] fn PREFIX_<file stem>()` calling `run_case(path)` per YAML file in `dir`.
fn case_tests(dir: &Path, prefix: &str) -> String {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut t = String::new();
    for f in yaml_files(dir) {
        let stem = f.file_stem().and_then(|n| n.to_str()).unwrap_or_default();
        let ident: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let _ = writeln!(
            t,
            "#[test]\nfn {prefix}_{ident}() {{\n    run_case({:?});\n}}\n",
            f.display().to_string()
        );
    }
    t
}
