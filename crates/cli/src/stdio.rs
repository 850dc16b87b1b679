//! Standard output and standard error for readers that may go away.
//!
//! `hlaudit check ... | head` closes the pipe while hlaudit is still writing. Rust ignores
//! SIGPIPE, so every later write fails with `BrokenPipe`, and `println!` and `eprintln!`
//! panic on it (exit 101, not the run's exit code). Every byte the command line writes to
//! either stream goes through [`stdout`] and [`stderr`] instead (the [`out!`], [`outln!`]
//! and [`errln!`] macros, the log subscriber and the completion scripts): once a stream's
//! reader has gone, the stream drops what follows and the run goes on to the exit code it
//! would have had, since a reader that stopped reading says nothing about the audit.
//!
//! Any other failure to write standard output (`> report.txt` on a full disk) is an error of
//! the run, named as such. Failures to write standard error are dropped: there is nowhere
//! left to report them, and the exit code still says how the run ended.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once standard output's reader has gone.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
/// Set once standard error's reader has gone.
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

/// Standard output that drops what is written once its reader has gone; other write
/// errors say they are about standard output.
#[derive(Debug, Clone, Copy)]
pub struct Stdout;

/// Standard error that never fails: what cannot be written is dropped.
#[derive(Debug, Clone, Copy)]
pub struct Stderr;

/// Standard output (see [`Stdout`]).
pub fn stdout() -> Stdout {
    Stdout
}

/// Standard error (see [`Stderr`]).
pub fn stderr() -> Stderr {
    Stderr
}

/// What a write to a stream whose reader may have gone comes to: `done` when the reader
/// has gone (now or before), the error otherwise.
fn settle<T>(gone: &AtomicBool, result: io::Result<T>, done: T) -> io::Result<T> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            gone.store(true, Ordering::Relaxed);
            Ok(done)
        }
        other => other,
    }
}

fn on_stdout(e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("cannot write to standard output: {e}"))
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if STDOUT_GONE.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        settle(&STDOUT_GONE, io::stdout().write(buf), buf.len()).map_err(on_stdout)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if STDOUT_GONE.load(Ordering::Relaxed) {
            return Ok(());
        }
        settle(&STDOUT_GONE, io::stdout().lock().write_all(buf), ()).map_err(on_stdout)
    }

    fn flush(&mut self) -> io::Result<()> {
        if STDOUT_GONE.load(Ordering::Relaxed) {
            return Ok(());
        }
        settle(&STDOUT_GONE, io::stdout().flush(), ()).map_err(on_stdout)
    }
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !STDERR_GONE.load(Ordering::Relaxed) {
            let _ = settle(&STDERR_GONE, io::stderr().write_all(buf), ());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Stderr {
    type Writer = Stderr;

    fn make_writer(&'a self) -> Self::Writer {
        Stderr
    }
}

/// Writes one line to standard error, dropping it if it cannot be written (for [`errln!`]).
pub fn err_line(args: fmt::Arguments<'_>) {
    // Formatted first so a line reaches the stream in one write, not interleaved with
    // the log subscriber's.
    let mut line = args.to_string();
    line.push('\n');
    let _ = Stderr.write_all(line.as_bytes());
}

/// `print!` to [`stdout`]: an `io::Result`, `Err` only for a failure other than a closed
/// pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        ::std::io::Write::write_fmt(&mut $crate::stdio::stdout(), format_args!($($arg)*))
    };
}

/// `println!` to [`stdout`]: an `io::Result`, `Err` only for a failure other than a closed
/// pipe.
macro_rules! outln {
    () => {
        $crate::stdio::out!("\n")
    };
    ($($arg:tt)*) => {
        $crate::stdio::out!("{}\n", format_args!($($arg)*))
    };
}

/// `eprintln!` to [`stderr`], which never fails and never panics.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::stdio::err_line(format_args!($($arg)*))
    };
}

pub(crate) use {errln, out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_remembered_and_other_errors_are_kept() {
        let gone = AtomicBool::new(false);
        let full = io::Error::from_raw_os_error(28); // ENOSPC
        assert_eq!(
            settle(&gone, Err::<usize, _>(full), 3)
                .map_err(on_stdout)
                .unwrap_err()
                .to_string(),
            format!(
                "cannot write to standard output: {}",
                io::Error::from_raw_os_error(28)
            )
        );
        assert!(!gone.load(Ordering::Relaxed));
        let closed = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(settle(&gone, Err(closed), 3).unwrap(), 3);
        assert!(gone.load(Ordering::Relaxed));
    }
}
