//! Support for hlaudit's end-to-end tests (the tests themselves live in `tests/tests/`).
//!
//! The tests drive the real `hlaudit` binary (and the `hlaudit-emulator` binary) as a user
//! or a CI job would. Binaries of other packages are not visible to a package's tests, so
//! [`binary`] builds the workspace's binaries once per test process with the same cargo,
//! target directory and profile as the running test, then returns the wanted one's path:
//! `cargo test -p hlaudit-e2e` works on its own, and inside `cargo test --workspace` the
//! build is a no-op.
//!
//! The build selects `--workspace --bins --examples` on purpose. Cargo unifies features
//! over the packages and targets a command selects, and selecting examples (there are
//! none) makes it count dev-dependencies, as `cargo test --workspace` does. The binaries
//! are then built from the very artifacts the test run already compiled; `cargo build -p
//! hlaudit` would resolve features differently (no emulator, no dev-dependencies) and
//! compile hyper, the AWS SDK crates and everything above them a second time.

#![forbid(unsafe_code)]
// Test support: a test cannot go on without its binary, so failing loudly is right.
#![allow(clippy::expect_used, clippy::panic)]

pub mod moto;
pub mod mutate;

/// The repository root, from the shared test support (kept here for the harnesses that
/// already name it through this crate).
pub use hlaudit_testkit::repo_root;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// `target/<profile>` of the running test executable (`.../target/debug/deps/name-hash`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let deps = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    deps.parent().map(Path::to_path_buf).unwrap_or(deps)
}

/// The path of binary `bin` of workspace package `package`; the first call builds every
/// binary of the workspace (see the crate documentation for why all of them).
///
/// # Panics
/// When the build fails or does not produce `bin`: a test cannot go on without it.
pub fn binary(package: &str, bin: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<bool>> = OnceLock::new();
    let profile_dir = profile_dir();
    let mut built = BUILT
        .get_or_init(|| Mutex::new(false))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if !*built {
        let target_dir = profile_dir
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| profile_dir.clone());
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut cmd = Command::new(cargo);
        // The variables cargo sets for the running test are not the caller's: a build
        // script that watches one of them (ring watches CARGO_MANIFEST_DIR) would rerun
        // and rebuild everything above it, here and again in the next `cargo test`.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_MANIFEST_")
                || matches!(
                    name.as_ref(),
                    "CARGO_CRATE_NAME"
                        | "CARGO_BIN_NAME"
                        | "CARGO_PRIMARY_PACKAGE"
                        | "CARGO_TARGET_TMPDIR"
                        | "OUT_DIR"
                )
            {
                cmd.env_remove(name.as_ref());
            }
        }
        cmd.current_dir(repo_root())
            .args([
                "build",
                "--quiet",
                "--workspace",
                "--bins",
                "--examples",
                "--target-dir",
            ])
            .arg(&target_dir);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo could not be started");
        assert!(status.success(), "building the workspace's binaries failed");
        *built = true;
    }
    let path = profile_dir.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} (binary {bin} of package {package}) was not built",
        path.display()
    );
    path
}

/// A command running the `hlaudit` binary in the repository root, with a clean
/// environment for colour and logging so output is deterministic.
pub fn hlaudit() -> Command {
    let mut cmd = Command::new(binary("hlaudit", "hlaudit"));
    cmd.current_dir(repo_root())
        .env("NO_COLOR", "1")
        .env_remove("HLAUDIT_LOG")
        .env_remove("RUST_LOG");
    cmd
}

/// The output of a finished command, for assertions.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Runs a command to completion and captures its output.
///
/// # Panics
/// When the command cannot be started.
pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("command could not be started");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
