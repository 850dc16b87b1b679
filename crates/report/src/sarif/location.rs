//! Physical locations: file paths as URIs relative to the base directory.

use std::path::{Component, Path, PathBuf};

use serde_sarif::sarif as s;

use super::SarifOptions;

pub(super) fn physical_location(
    options: &SarifOptions,
    file: &str,
    line: u32,
    column: u32,
) -> s::PhysicalLocation {
    let mut p = s::PhysicalLocation::builder()
        .artifact_location(
            s::ArtifactLocation::builder()
                .uri(uri_for(options, file))
                .build(),
        )
        .build();
    // Line 0 means unknown: point at the file's first line, as a whole-file finding.
    let mut region = s::Region::builder()
        .start_line(i64::from(line.max(1)))
        .build();
    if line > 0 && column > 0 {
        region.start_column = Some(i64::from(column));
    }
    p.region = Some(region);
    p
}

/// Whether a source names a file (not standard input or a live collection).
pub(super) fn is_file(file: &str) -> bool {
    !file.is_empty() && file != "-" && !file.contains("://")
}

/// The URI of a file: relative to the base directory when under it, else `file://`.
fn uri_for(options: &SarifOptions, file: &str) -> String {
    let path = Path::new(file);
    let absolute = match (&options.working_dir, path.is_absolute()) {
        (_, true) => Some(normalize(path)),
        (Some(wd), false) => Some(normalize(&wd.join(path))),
        (None, false) => None,
    };
    let base = options
        .base_dir
        .as_ref()
        .or(options.working_dir.as_ref())
        .map(|b| normalize(b));
    match (absolute, base) {
        (Some(abs), Some(base)) => match abs.strip_prefix(&base) {
            Ok(rel) => encode_path(rel),
            Err(_) => format!("file://{}", encode_path(&abs)),
        },
        (Some(abs), None) => format!("file://{}", encode_path(&abs)),
        (None, _) => encode_path(&normalize(path)),
    }
}

/// Removes `.` and resolves `..` lexically (no file system access).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Percent-encodes a path for a URI (RFC 3986 unreserved characters and `/` stay).
fn encode_path(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_uris() {
        let o = SarifOptions {
            working_dir: Some(PathBuf::from("/repo/sub")),
            base_dir: Some(PathBuf::from("/repo")),
            ..SarifOptions::default()
        };
        assert_eq!(uri_for(&o, "snap shot.json"), "sub/snap%20shot.json");
        assert_eq!(uri_for(&o, "../fixtures/a.json"), "fixtures/a.json");
        assert_eq!(uri_for(&o, "/elsewhere/a.json"), "file:///elsewhere/a.json");
        let plain = SarifOptions::default();
        assert_eq!(uri_for(&plain, "./fixtures/a.json"), "fixtures/a.json");
    }
}
