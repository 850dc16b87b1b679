//! Snapshot reading and writing.
