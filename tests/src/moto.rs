//! moto's server (from PyPI, installed in `.venv` by `.ci/setup-python.sh`): the
//! third-party stand-in for AWS services the emulator does not serve (KMS, STS, Security
//! Hub), started on a free port of 127.0.0.1 and stopped when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::repo_root;

/// A running moto server, stopped when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A program of the test virtualenv, e.g. `moto_server`, `aws`, `python`.
pub fn venv_bin(name: &str) -> PathBuf {
    repo_root().join(".venv").join("bin").join(name)
}

/// Runs `tests/python/SCRIPT ARGS...` with the test virtualenv's Python (the scripts that
/// build state in moto) and returns what it prints as JSON.
///
/// # Panics
/// When the script fails (with its stderr) or prints something else than JSON.
pub fn python_json(script: &str, args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(venv_bin("python"))
        .arg(repo_root().join("tests/python").join(script))
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Serialises [`start`] within a test process: between choosing a free port and moto
/// listening on it, another test's server could take the same port, and this test would
/// then talk to a server whose state another test builds.
static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Starts moto's server and waits until it listens.
///
/// # Panics
/// When moto is not installed or does not listen within 30 s.
pub fn start() -> Moto {
    let server = venv_bin("moto_server");
    assert!(
        server.exists(),
        "moto's server is not installed at {}: run `bash .ci/setup-python.sh` (CI does it \
         through .ci/test.sh) to install moto[server] and the AWS CLI in .venv",
        server.display()
    );
    let _one_at_a_time = STARTING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = Command::new(&server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
    let mut moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = moto.child.try_wait() {
            panic!("moto's server exited before listening on port {port}: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "moto did not listen on port {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}
