//! The built-in policy pack, embedded from `rules/*.yaml` at build time.

use crate::load::PolicySource;

mod pack {
    include!(concat!(env!("OUT_DIR"), "/builtin_pack.rs"));
}

/// The built-in pack's files as sources named `builtin:FILE`. Empty while no file exists.
pub fn builtin_sources() -> Vec<PolicySource> {
    pack::FILES
        .iter()
        .map(|(name, text)| PolicySource::from_text(format!("builtin:{name}"), *text))
        .collect()
}
