//! The `hlaudit` command line.
fn main() {}
