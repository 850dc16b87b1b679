//! Waivers: exceptions a security team grants, kept in their own YAML files, that turn a
//! FAIL into WAIVED until they expire.
//!
//! The design decision: a waiver is *data about findings*, applied after evaluation and
//! never inside it. The engine always computes the true status; [`apply_waivers`] then
//! rewrites FAIL findings of a [`Report`](hlaudit_model::report::Report) that an unexpired
//! waiver covers, and says what else the waiver files need (expired waivers that no longer
//! apply, waivers about to expire, waivers that matched nothing). So `--no-waivers` is
//! simply not calling it, and every report shows the same decision.
//!
//! A waiver file is loaded as strictly as a policy file: every problem of every file is
//! reported at once as [`Diagnostics`](crate::Diagnostics) with file, line, column, a code
//! and a hint. The format and the semantics (scope keys, globs, the expiry boundary) are
//! documented in `docs/waivers.md`.
//!
//! ```
//! use hlaudit_model::{Inventory, Timestamp};
//! use hlaudit_model::report::Report;
//! use hlaudit_rules::waiver::{apply_waivers, load_waivers, WaiverOptions, WaiverSource};
//! let set = load_waivers(&[WaiverSource::from_text("waivers.yaml", r#"
//! waivers:
//!   - policy: HL-ENC-01
//!     account: "111122223333"
//!     reason: Legacy data store, migration tracked in SEC-42.
//!     approved_by: security@example.com
//!     expires: 2026-06-30
//! "#)]).unwrap();
//! let mut report = Report::for_inventory(&Inventory::default(), Timestamp::now());
//! let as_of = Timestamp::parse("2026-06-01T00:00:00Z").unwrap();
//! let outcome = apply_waivers(&mut report, &set, &WaiverOptions::at(as_of));
//! assert_eq!(outcome.applied, 0);
//! assert_eq!(outcome.unused.len(), 1);
//! ```

mod apply;
mod load;

pub use apply::{
    apply_waivers, WaiverNote, WaiverOptions, WaiverOutcome, DEFAULT_WARN_EXPIRING_DAYS,
};
pub use load::{load_waivers, read_waiver_files, Pattern, Waiver, WaiverSet, WaiverSource};
