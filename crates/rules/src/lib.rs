//! The hlaudit policy language and rules engine: loading, validation, compilation and
//! parallel evaluation of YAML policies over an inventory of HealthLake data stores.
//!
//! The language is described in `docs/policy-language.md`. The main design decision is
//! the record representation: a record's raw `DatastoreProperties` JSON is parsed once per
//! evaluation into a borrowed tree ([`value::Val`]) that keeps only the fields the compiled
//! policies read (a trie of field names; everything else is skipped without allocating),
//! and a JSON document held in a string (SMART metadata) is parsed at most once per record.
//! Evaluation runs on rayon over records (every policy of a record in one pass), computes
//! only outcomes on the fast path and collects evidence by re-evaluating failing policies.
//!
//! Loading is strict and reports every problem of a file set in one pass as
//! [`Diagnostics`] (file, line, column, code, message, hint; rendered with a caret).
//!
//! Modules depend only on those below them. Compiling goes `load` (files and the whole
//! set) -> `compile_policy` (one policy: metadata, kinds, parameters, inline tests) ->
//! `compile_cond` (conditions and paths) -> `set` and `shared` (what the compiled set holds
//! and what its policies share, such as the memo slots keyed by `clause_key`) -> the
//! compiled forms (`cond`, `path`, `value`, `params`). `overrides`, `walk` and
//! `diagnostics` sit at the bottom and know nothing of the policy language.
//!
//! ```
//! use hlaudit_model::{Inventory, Record, Timestamp};
//! use hlaudit_rules::{compile, evaluate, EvalOptions, Overrides, PolicySource};
//! let set = compile(&[PolicySource::from_text("p.yaml", r#"
//! policies:
//!   - id: X-1
//!     title: Fine-grained authorization
//!     severity: medium
//!     description: SMART data stores enable fine-grained authorization.
//!     applies_when:
//!       path: IdentityProviderConfiguration.AuthorizationStrategy
//!       in: [SMART_ON_FHIR_V1, SMART_ON_FHIR]
//!     assert: {path: IdentityProviderConfiguration.FineGrainedAuthorizationEnabled, is: true}
//! "#)], &Overrides::none()).unwrap();
//! let inv = Inventory::default();
//! assert!(evaluate(&set, &inv, EvalOptions::at(Timestamp::now())).is_empty());
//! ```

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod builtin;
mod clause_key;
mod compile_cond;
mod compile_policy;
pub mod cond;
pub mod diagnostics;
mod engine;
mod error;
mod eval;
mod explain;
mod load;
mod ops;
mod overrides;
pub mod params;
pub mod path;
mod planned;
mod resolve;
mod set;
mod shared;
pub mod spans;
mod testing;
pub mod value;
pub mod waiver;
pub mod walk;
pub mod yaml;

pub use builtin::{builtin_frameworks, builtin_sources};
pub use diagnostics::{Diagnostic, Diagnostics};
pub use engine::{evaluate, evaluate_outcomes, EvalOptions, Evaluation};
pub use error::RulesError;
pub use explain::{explain, ExplainNode, Explanation};
pub use load::{compile, read_sources, PolicySource};
pub use overrides::{Origin, Override, Overrides};
pub use params::{ParamType, Parameter};
pub use set::{
    default_test_time, CompiledPolicy, CompiledPolicySet, Selection, SelectionError, TestCase,
    TestInput,
};
pub use testing::{run_tests, Coverage, FixtureReader, TestReport, TestResult};

/// The operator names of the language, as the reference lists them.
pub const OPERATORS: &[&str] = &compile_cond::OPERATORS;
