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
    let (uri, relative) = uri_for(options, file);
    let mut artifact = s::ArtifactLocation::builder().uri(uri).build();
    if relative && options.base().is_some() {
        // Relative to the repository root: GitHub maps it to the repository's file.
        artifact.uri_base_id = Some(SRCROOT.to_owned());
    }
    let mut p = s::PhysicalLocation::builder()
        .artifact_location(artifact)
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

/// The `uriBaseId` of paths relative to the base directory (the repository root), as
/// GitHub code scanning names it.
pub(super) const SRCROOT: &str = "%SRCROOT%";

/// The base directory as a `file://` URI ending with `/`, for `originalUriBaseIds`.
pub(super) fn base_uri(options: &SarifOptions) -> Option<String> {
    let base = normalize(options.base()?);
    let mut uri = format!("file://{}", encode_path(&base));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    Some(uri)
}

/// The URI of a file, and whether it is relative to the base directory: relative when
/// under it (however the path was given), else `file://`.
fn uri_for(options: &SarifOptions, file: &str) -> (String, bool) {
    let path = Path::new(file);
    let absolute = match (&options.working_dir, path.is_absolute()) {
        (_, true) => Some(normalize(path)),
        (Some(wd), false) => Some(normalize(&wd.join(path))),
        (None, false) => None,
    };
    let base = options.base().map(normalize);
    match (absolute, base) {
        (Some(abs), Some(base)) => match abs.strip_prefix(&base) {
            Ok(rel) => (encode_path(rel), true),
            Err(_) => (format!("file://{}", encode_path(&abs)), false),
        },
        (Some(abs), None) => (format!("file://{}", encode_path(&abs)), false),
        (None, _) => (encode_path(&normalize(path)), true),
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
        let uri = |o: &SarifOptions, f: &str| uri_for(o, f).0;
        assert_eq!(uri(&o, "snap shot.json"), "sub/snap%20shot.json");
        assert_eq!(uri(&o, "../fixtures/a.json"), "fixtures/a.json");
        assert_eq!(uri(&o, "/elsewhere/a.json"), "file:///elsewhere/a.json");
        // An absolute path inside the repository is relative to its root.
        assert_eq!(
            uri_for(&o, "/repo/infra/t.yaml"),
            ("infra/t.yaml".to_owned(), true)
        );
        assert_eq!(base_uri(&o).as_deref(), Some("file:///repo/"));
        let plain = SarifOptions::default();
        assert_eq!(uri(&plain, "./fixtures/a.json"), "fixtures/a.json");
    }
}
