//! moto's server (from PyPI, installed in `.venv` by `.ci/setup-python.sh`): the
//! third-party stand-in for AWS services the emulator does not serve (KMS, STS, Security
//! Hub), started on a free port of 127.0.0.1 and stopped when dropped.

use std::io::{Read, Write};
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

/// Starts moto's server and waits until it answers.
///
/// # Panics
/// When moto is not installed, or does not answer on a port of its own after five tries
/// of 30 s at most.
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
    let mut failures = Vec::new();
    for _ in 0..5 {
        match try_start(&server) {
            Ok(moto) => return moto,
            Err(why) => failures.push(why),
        }
    }
    panic!("moto's server did not start: {}", failures.join("; "));
}

/// One try: a free port, moto started on it, and moto itself answering there. The
/// mutex above keeps other moto servers of this process off the port, but not what else
/// a test starts on a free port (the emulator) between the port being chosen and moto
/// binding it: moto then exits, and a connection alone would reach the other server.
fn try_start(server: &std::path::Path) -> Result<Moto, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))?;
    let child = Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", server.display()))?;
    let mut moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = moto.child.try_wait() {
            return Err(format!(
                "it exited before answering on port {port}: {status}"
            ));
        }
        if answers_as_moto(port) {
            return Ok(moto);
        }
        if Instant::now() >= deadline {
            return Err(format!("it did not answer on port {port} within 30 s"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether moto answers on `port`: its own API (`GET /moto-api/config`) gives a 2xx
/// status, which no other server of the tests does.
fn answers_as_moto(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = b"GET /moto-api/config HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    let mut status = [0u8; 12];
    stream.write_all(request).is_ok()
        && stream.read_exact(&mut status).is_ok()
        && status.starts_with(b"HTTP/1.")
        && status[9] == b'2'
}
