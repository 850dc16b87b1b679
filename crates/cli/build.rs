//! Records the commit the binary is built from, for `hlaudit --version`.
//!
//! `HLAUDIT_COMMIT` is set to `git rev-parse --short HEAD` when the crate is built inside
//! a git checkout with `git` available, and to `unknown` otherwise (a crates.io build, a
//! source tarball, a machine without git). Nothing here needs the network or fails the
//! build: `cargo package` and offline builds get `unknown` at worst.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=HLAUDIT_COMMIT");
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let commit = std::env::var("HLAUDIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| manifest_dir.as_deref().and_then(git_commit))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=HLAUDIT_COMMIT={commit}");
}

/// The short hash of HEAD, watching the files that change when HEAD moves.
fn git_commit(dir: &Path) -> Option<String> {
    let git_dir = git(dir, &["rev-parse", "--absolute-git-dir"])?;
    let git_dir = PathBuf::from(git_dir);
    let head = git_dir.join("HEAD");
    println!("cargo:rerun-if-changed={}", head.display());
    // A branch's ref is its own file, or a line of packed-refs once packed.
    if let Ok(text) = std::fs::read_to_string(&head) {
        if let Some(reference) = text.trim().strip_prefix("ref: ") {
            let common = git(dir, &["rev-parse", "--git-common-dir"])
                .map(|c| dir.join(c))
                .unwrap_or_else(|| git_dir.clone());
            for base in [&git_dir, &common] {
                let file = base.join(reference);
                if file.exists() {
                    println!("cargo:rerun-if-changed={}", file.display());
                }
            }
            let packed = common.join("packed-refs");
            if packed.exists() {
                println!("cargo:rerun-if-changed={}", packed.display());
            }
        }
    }
    git(dir, &["rev-parse", "--short", "HEAD"])
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
