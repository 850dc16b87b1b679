//! Physical locations: file paths as URIs relative to the base directory.
//!
//! Every result has one, and a large audit's results point at few files (the snapshot,
//! the policies, the waivers), so [`Uris`] works each file's URI out once.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use serde::Serialize;

use super::SarifOptions;

/// A SARIF `physicalLocation`: a file and a line (and, for template locations, a
/// column). Fields are in serde-sarif's order (alphabetical), so results written from it
/// read as serde-sarif's `PhysicalLocation` would.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Physical {
    artifact_location: Artifact,
    region: Region,
}

/// A SARIF `artifactLocation`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    uri: Rc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

/// A SARIF `region`: where in the file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    start_line: u32,
}

/// The URIs of the files results point at, each worked out once.
pub(super) struct Uris<'a> {
    options: &'a SarifOptions,
    known: HashMap<&'a str, (Rc<str>, bool)>,
}

impl<'a> Uris<'a> {
    pub(super) fn new(options: &'a SarifOptions) -> Self {
        Uris {
            options,
            known: HashMap::new(),
        }
    }

    /// The file a result points at when nothing else names one.
    pub(super) fn fallback(&self) -> &'a str {
        &self.options.fallback_uri
    }

    /// Line `line` (1-based; 0 for unknown) and column `column` (0 for none) of `file`.
    pub(super) fn physical(&mut self, file: &'a str, line: u32, column: u32) -> Physical {
        let options = self.options;
        let (uri, relative) = self
            .known
            .entry(file)
            .or_insert_with(|| {
                let (uri, relative) = uri_for(options, file);
                (Rc::from(uri), relative)
            })
            .clone();
        Physical {
            artifact_location: Artifact {
                uri,
                // Relative to the repository root: GitHub maps it to the repository's file.
                uri_base_id: (relative && options.base().is_some()).then_some(SRCROOT),
            },
            region: Region {
                // Line 0 means unknown: point at the file's first line, as a whole-file
                // finding.
                start_line: line.max(1),
                start_column: (line > 0 && column > 0).then_some(column),
            },
        }
    }
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
