//! End-to-end test support for hlaudit (the tests live in `tests/`).
