//! Report files that go to disk while they are being written.
//!
//! A report is written to a temporary file, synced to disk and only then renamed over its
//! target, so a killed run, a crash or a full disk never leaves a half-written report.
//! Syncing only once the whole file is written makes the run wait, after rendering, for
//! every byte to reach the disk: 2.5 s for a 1.7 GB JUnit report on the development
//! machine. Here a thread syncs what has been written so far each time another
//! [`STEP`] bytes have been written, while rendering goes on, so the final sync has only
//! the last piece left to write. A failed sync fails the report, as a failed final sync
//! does (Linux reports a writeback error to one sync only, so it is kept, not retried).

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// How many bytes are written between two requests to sync.
pub(crate) const STEP: u64 = 32 << 20;

/// A temporary file being written, with the thread that syncs it.
pub(crate) struct Syncing {
    /// The temporary file (removed if this is dropped before it is persisted).
    tmp: tempfile::NamedTempFile,
    /// Asks the thread to sync; `None` once finished.
    ask: Option<SyncSender<()>>,
    thread: Option<JoinHandle<io::Result<()>>>,
    /// Bytes written since the last request.
    since: u64,
}

impl Syncing {
    /// Starts syncing `tmp` as it is written. Without a second handle to the file (or a
    /// thread) the file is only synced at the end, as before.
    pub(crate) fn new(tmp: tempfile::NamedTempFile) -> Self {
        let (ask, asked) = sync_channel::<()>(1);
        let thread = tmp.as_file().try_clone().ok().and_then(|file: File| {
            std::thread::Builder::new()
                .name("report-sync".into())
                .spawn(move || {
                    for () in asked {
                        file.sync_data()?;
                    }
                    Ok(())
                })
                .ok()
        });
        Syncing {
            ask: thread.as_ref().map(|_| ask),
            tmp,
            thread,
            since: 0,
        }
    }

    /// Waits for the syncs asked for so far and returns the file, or the first error a
    /// sync met. The file still needs its final sync. (A file dropped instead is removed
    /// at once; its thread ends after the sync it is in, if any.)
    pub(crate) fn into_file(mut self) -> io::Result<tempfile::NamedTempFile> {
        self.finish()?;
        Ok(self.tmp)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.ask = None;
        match self.thread.take().map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the thread syncing the file stopped")),
        }
    }
}

impl Write for Syncing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.tmp.as_file_mut().write(buf)?;
        self.since += n as u64;
        if self.since >= STEP {
            self.since = 0;
            if let Some(ask) = &self.ask {
                match ask.try_send(()) {
                    // A full queue: a sync asked for earlier has not started yet and
                    // will take these bytes too.
                    Ok(()) | Err(TrySendError::Full(())) => {}
                    // The thread stopped on an error: `finish` returns it.
                    Err(TrySendError::Disconnected(())) => self.ask = None,
                }
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tmp.as_file_mut().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn every_byte_is_written_across_many_syncs() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
        let mut file = Syncing::new(tmp);
        assert!(file.thread.is_some());
        let block: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        let blocks = 3 * (STEP >> 20) + 1;
        for _ in 0..blocks {
            file.write_all(&block).unwrap();
        }
        file.flush().unwrap();
        let tmp = file.into_file().unwrap();
        let mut back = Vec::new();
        File::open(tmp.path())
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back.len() as u64, blocks << 20);
        assert!(back.chunks(1 << 20).all(|c| c == block.as_slice()));
    }

    #[test]
    fn a_dropped_file_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
        let path = tmp.path().to_owned();
        let mut file = Syncing::new(tmp);
        file.write_all(&vec![7u8; (STEP + 1) as usize]).unwrap();
        drop(file);
        assert!(!path.exists());
    }
}
