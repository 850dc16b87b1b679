//! Signals that would end a run without its exit code.
//!
//! A write past the file-size limit (`ulimit -f`, a CI runner's quota) raises SIGXFSZ,
//! whose default action kills the process: no message, no exit code 2, and the temporary
//! file of a report or snapshot left behind. With a handler installed the write fails with
//! `EFBIG` instead, which the writers report like a full disk: an error naming the file,
//! the temporary file removed, the previous file untouched, exit 2.
//!
//! (SIGPIPE needs nothing here: Rust ignores it, and `stdio` handles the `BrokenPipe` that
//! follows.)

/// SIGXFSZ where its number is known: 25 on Linux (but MIPS), Android, macOS and the BSDs.
#[cfg(unix)]
const SIGXFSZ: Option<i32> = if cfg!(all(
    any(
        target_os = "linux",
        target_os = "android",
        target_vendor = "apple",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly"
    ),
    not(any(target_arch = "mips", target_arch = "mips64"))
)) {
    Some(25)
} else {
    None
};

/// Turns SIGXFSZ into an `EFBIG` write error for the rest of the process.
///
/// tokio's signal listener installs a process-wide handler that only records the signal,
/// and never uninstalls it (documented), so a short-lived runtime is enough; this keeps
/// `unsafe` out of the crate.
#[cfg(unix)]
pub fn survive_file_size_limit() {
    let Some(number) = SIGXFSZ else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    else {
        tracing::debug!("cannot install the SIGXFSZ handler: no async runtime");
        return;
    };
    let _context = runtime.enter();
    let kind = tokio::signal::unix::SignalKind::from_raw(number);
    if let Err(e) = tokio::signal::unix::signal(kind) {
        tracing::debug!("cannot install the SIGXFSZ handler: {e}");
    }
}

/// Nothing to do where there is no SIGXFSZ.
#[cfg(not(unix))]
pub fn survive_file_size_limit() {}
