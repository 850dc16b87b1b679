//! The built-in policy pack, embedded from `rules/*.yaml` at build time.

use hlaudit_model::compliance::FrameworkCatalogue;

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

/// The built-in compliance catalogues (`crates/rules/frameworks/*.yaml`): every control of HIPAA's
/// Security Rule and of the NIST SP 800-53 families the pack maps to, sorted by framework.
///
/// The files are embedded and checked by this crate's tests, so reading them cannot fail
/// in a release; a file that did not parse would be left out rather than stop an audit.
pub fn builtin_frameworks() -> Vec<FrameworkCatalogue> {
    pack::FRAMEWORKS
        .iter()
        .filter_map(|(_, text)| serde_yaml_ng::from_str(text).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_parses() {
        for (name, text) in pack::FRAMEWORKS {
            let c: Result<FrameworkCatalogue, _> = serde_yaml_ng::from_str(text);
            assert!(c.is_ok(), "{name}: {c:?}");
        }
        let names: Vec<String> = builtin_frameworks()
            .into_iter()
            .map(|c| c.framework)
            .collect();
        assert_eq!(names, ["HIPAA", "NIST-800-53"]);
    }

    #[test]
    fn no_control_is_listed_twice() {
        for c in builtin_frameworks() {
            let mut ids: Vec<&str> = c.controls.iter().map(|c| c.id.as_str()).collect();
            ids.sort_unstable();
            let before = ids.len();
            ids.dedup();
            assert_eq!(before, ids.len(), "{} lists a control twice", c.framework);
        }
    }

    /// Every control id the built-in pack maps to is in its framework's catalogue, spelled
    /// the same, so the compliance view never shows a pack control as unlisted.
    #[test]
    fn every_control_the_pack_maps_is_catalogued() {
        let frameworks = builtin_frameworks();
        let set =
            crate::compile(&builtin_sources(), &Default::default()).expect("the pack compiles");
        let mut missing = Vec::new();
        for p in set.policies() {
            for (framework, ids) in &p.meta.compliance {
                let catalogue = frameworks.iter().find(|c| &c.framework == framework);
                for id in ids {
                    if !catalogue.is_some_and(|c| c.controls.iter().any(|c| &c.id == id)) {
                        missing.push(format!("{}: {framework} {id}", p.meta.id));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "not in the catalogues: {missing:#?}");
    }
}
