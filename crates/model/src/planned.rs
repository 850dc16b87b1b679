//! What a template or plan says about a planned data store beyond its JSON: where each
//! property is written, which values are known only after deploy, which properties were
//! left to the resource's defaults, and the other ways the resource may come out when a
//! condition cannot be decided before deploy.
//!
//! A reader of templates or plans builds a planned [`Record`](crate::Record) whose JSON
//! is the resolved `DatastoreProperties` shape and attaches a [`PlanDetail`] to it with
//! [`Record::with_plan`](crate::Record::with_plan). The rules engine reads it to decide
//! (or leave undecided) each policy and to point each finding at the line that decided it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::record::Source;

/// A property's position in the template or plan file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Located {
    /// A JSON pointer into the record (`/SseConfiguration/KmsEncryptionConfig/CmkType`),
    /// or into its context (`/@tags/Owner`). The empty pointer is the resource itself.
    pub pointer: String,
    /// 1-based line in the file.
    pub line: u32,
    /// 1-based column in the file.
    pub column: u32,
}

/// A value known only after deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unknown {
    /// Where it sits in the record (the value is absent from the record's JSON).
    pub pointer: String,
    /// The expression that gives it, as written (`Fn::ImportValue SharedKeyArn`,
    /// `Ref KeyArnParam (no Default and no --parameter)`, `after_unknown`).
    pub expression: String,
}

/// A planned data store beyond its JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanDetail {
    /// Where each property is written, for pointing findings at the line to change.
    /// The entry with the longest pointer that is a prefix of a finding's evidence
    /// pointer gives the finding's location; the empty pointer (the resource) is the
    /// fallback.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Located>,
    /// Values known only after deploy: a clause that reads one is not decided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknowns: Vec<Unknown>,
    /// Pointers of properties the template leaves out whose resource-schema default was
    /// filled in (`/SseConfiguration` for the AWS owned key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defaults: Vec<String>,
    /// More names for the resource, for people: the CDK construct path
    /// (`construct: Stack/Store/Resource`), the Terraform module, the stack.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
    /// Under which assumption this variant holds, when the resource depends on a
    /// condition decided only at deploy (`condition UseCmk is true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumption: Option<String>,
    /// The other ways the resource may come out (each a complete planned record of the
    /// same identity, with its own detail and assumption). A policy must hold in every
    /// one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Alternative>,
}

/// Another way a planned resource may come out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alternative {
    /// The resolved `DatastoreProperties` JSON of this variant.
    pub properties: serde_json::Value,
    /// Its tags (`None` when unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Its detail (locations, unknowns, defaults, assumption); `alternatives` is empty.
    pub detail: PlanDetail,
}

impl PlanDetail {
    /// The position of the property at `pointer` (or of the closest enclosing one that
    /// is written in the file), in `file`.
    ///
    /// ```
    /// use hlaudit_model::planned::{Located, PlanDetail};
    /// let d = PlanDetail { locations: vec![
    ///     Located { pointer: String::new(), line: 3, column: 3 },
    ///     Located { pointer: "/SseConfiguration".into(), line: 7, column: 7 },
    /// ], ..PlanDetail::default() };
    /// let at = d.locate("t.yaml", "/SseConfiguration/KmsEncryptionConfig/CmkType").unwrap();
    /// assert_eq!(at.to_string(), "t.yaml:7:7");
    /// ```
    pub fn locate(&self, file: &str, pointer: &str) -> Option<Source> {
        self.locations
            .iter()
            .filter(|l| is_prefix(&l.pointer, pointer))
            .max_by_key(|l| l.pointer.len())
            .map(|l| Source {
                file: file.into(),
                line: l.line,
                column: l.column,
            })
    }

    /// The unknown value a read of `pointer` depends on: one at `pointer`, inside it or
    /// enclosing it.
    pub fn unknown_at(&self, pointer: &str) -> Option<&Unknown> {
        self.unknowns
            .iter()
            .find(|u| is_prefix(&u.pointer, pointer) || is_prefix(pointer, &u.pointer))
    }

    /// Whether `pointer` (or a property enclosing it) was filled from the schema default.
    pub fn is_default(&self, pointer: &str) -> bool {
        self.defaults.iter().any(|d| is_prefix(d, pointer))
    }
}

/// Whether JSON pointer `a` is `b` or encloses it (`/A` encloses `/A/B`, not `/AB`).
pub fn is_prefix(a: &str, b: &str) -> bool {
    b.starts_with(a) && (a.len() == b.len() || b.as_bytes().get(a.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_pointer_tokens() {
        assert!(is_prefix("", "/A"));
        assert!(is_prefix("/A", "/A/B"));
        assert!(is_prefix("/A", "/A"));
        assert!(!is_prefix("/A", "/AB"));
        assert!(!is_prefix("/A/B", "/A"));
    }

    #[test]
    fn unknowns_match_both_ways() {
        let d = PlanDetail {
            unknowns: vec![Unknown {
                pointer: "/SseConfiguration/KmsEncryptionConfig/KmsKeyId".into(),
                expression: "Fn::ImportValue Key".into(),
            }],
            ..PlanDetail::default()
        };
        assert!(d.unknown_at("/SseConfiguration").is_some());
        assert!(d
            .unknown_at("/SseConfiguration/KmsEncryptionConfig/KmsKeyId")
            .is_some());
        assert!(d
            .unknown_at("/SseConfiguration/KmsEncryptionConfig/CmkType")
            .is_none());
    }
}
