//! Embeds the built-in policy pack (`rules/*.yaml` at the workspace root) and lists the
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

    let pack = manifest.join("../../rules");
    println!("cargo:rerun-if-changed={}", pack.display());
    let mut src = String::from("/// The built-in pack: (file name, YAML text), sorted by name.\npub static FILES: &[(&str, &str)] = &[\n");
    for f in yaml_files(&pack) {
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

    let cases = manifest.join("tests/cases");
    println!("cargo:rerun-if-changed={}", cases.display());
    let mut t = String::new();
    for f in yaml_files(&cases) {
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
            "#[test]\nfn case_{ident}() {{\n    run_case({:?});\n}}\n",
            f.display().to_string()
        );
    }
    let _ = std::fs::write(out_dir.join("cases.rs"), t);

    // The waiver cases (`tests/waivers/*.yaml`), one test each, the same way.
    let waivers = manifest.join("tests/waivers");
    println!("cargo:rerun-if-changed={}", waivers.display());
    let mut t = String::new();
    for f in yaml_files(&waivers) {
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
            "#[test]\nfn waiver_{ident}() {{\n    run_case({:?});\n}}\n",
            f.display().to_string()
        );
    }
    let _ = std::fs::write(out_dir.join("waiver_cases.rs"), t);
}
