//! Which HealthLake data events a trail's event selectors record, evaluated as
//! CloudTrail evaluates them.
//!
//! HealthLake data events (reads and writes of FHIR resources) are recorded only by
//! *advanced* event selectors: basic `EventSelectors` take `DataResources` of S3, Lambda
//! and DynamoDB only, so they never select `AWS::HealthLake::FHIRDatastore` (a basic
//! selector naming it is read and counts for nothing). An advanced selector records an
//! event when every one of its field selectors matches it (fields are ANDed); a trail
//! records an event when any of its selectors does (selectors are ORed). Within one field
//! selector the values of the positive operators (`Equals`, `StartsWith`, `EndsWith`) are
//! ORed, and the event must match none of the values of the negative operators
//! (`NotEquals`, `NotStartsWith`, `NotEndsWith`). Matching is case-sensitive.
//!
//! For one data store the fields `eventCategory` (`Data`), `resources.type`,
//! `resources.ARN`, `eventSource` (`healthlake.amazonaws.com`) and `readOnly` (`true` for
//! reads, `false` for writes) have known values, so a selector over those fields only
//! records all of the data store's reads, writes or both, or none. A condition on any
//! other field (`eventName`, `userIdentity.arn`, `errorCode`, `vpcEndpointId`, ...) varies
//! from event to event: the selector then records *some* events at most, and this module
//! says which fields narrowed it. That is the fail-closed reading: a trail that records
//! every `ReadResource` but not `SearchWithPost` does not record the data store's reads.
//! A selector without `eventCategory = Data` or without `resources.type` selects no data
//! event of HealthLake (CloudTrail rejects such a data selector anyway).

use std::collections::BTreeSet;

use serde_json::Value;

/// The `resources.type` of HealthLake data events.
pub(crate) const FHIR_DATASTORE_TYPE: &str = "AWS::HealthLake::FHIRDatastore";
/// The `eventSource` of HealthLake events.
const EVENT_SOURCE: &str = "healthlake.amazonaws.com";

/// How much of one kind of access (reads or writes) a trail records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Extent {
    /// No event of that kind.
    None,
    /// Only the events that a condition on another field lets through.
    Some,
    /// Every event of that kind.
    All,
}

impl Extent {
    /// The name the enrichment carries: `none`, `some`, `all`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Extent::None => "none",
            Extent::Some => "some",
            Extent::All => "all",
        }
    }
}

/// What a trail's selectors record of one data store's data events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selection {
    /// Reads (`readOnly` = `true`).
    pub reads: Extent,
    /// Writes (`readOnly` = `false`).
    pub writes: Extent,
    /// The fields whose conditions make a selector record only some events.
    pub narrowed_by: BTreeSet<String>,
}

impl Selection {
    /// Whether any event of the data store is recorded.
    pub(crate) fn records_any(&self) -> bool {
        self.reads != Extent::None || self.writes != Extent::None
    }
}

/// What the `AdvancedEventSelectors` of a `GetEventSelectors` answer (or of an event
/// data store) record of the data events of the data store `arn`. Anything that is not
/// a list of selectors records nothing.
pub(crate) fn evaluate(advanced: Option<&Value>, arn: &str) -> Selection {
    let mut out = Selection {
        reads: Extent::None,
        writes: Extent::None,
        narrowed_by: BTreeSet::new(),
    };
    let selectors = advanced
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for selector in selectors {
        for (read_only, extent) in [("true", &mut out.reads), ("false", &mut out.writes)] {
            let (e, narrowed) = selector_extent(selector, arn, read_only);
            if e == Extent::Some {
                out.narrowed_by.extend(narrowed);
            }
            *extent = (*extent).max(e);
        }
    }
    // Fields that only narrowed a selector whose events another selector records in
    // full do not matter.
    if out.reads != Extent::Some && out.writes != Extent::Some {
        out.narrowed_by.clear();
    }
    out
}

/// What one advanced selector records of the events of `arn` with `readOnly` =
/// `read_only`, and the fields that narrowed it.
fn selector_extent(selector: &Value, arn: &str, read_only: &str) -> (Extent, Vec<String>) {
    let Some(fields) = selector.get("FieldSelectors").and_then(Value::as_array) else {
        return (Extent::None, Vec::new());
    };
    let (mut category, mut resource_type) = (false, false);
    let mut narrowed = Vec::new();
    for field in fields {
        let Some(name) = field.get("Field").and_then(Value::as_str) else {
            return (Extent::None, Vec::new());
        };
        let known = match name {
            "eventCategory" => {
                category = true;
                Some("Data")
            }
            "resources.type" => {
                resource_type = true;
                Some(FHIR_DATASTORE_TYPE)
            }
            "resources.ARN" => Some(arn),
            "readOnly" => Some(read_only),
            "eventSource" => Some(EVENT_SOURCE),
            _ => None,
        };
        match known {
            Some(value) if !field_matches(field, value) => return (Extent::None, Vec::new()),
            Some(_) => {}
            None => narrowed.push(name.to_owned()),
        }
    }
    if !category || !resource_type {
        return (Extent::None, Vec::new());
    }
    if narrowed.is_empty() {
        (Extent::All, narrowed)
    } else {
        (Extent::Some, narrowed)
    }
}

/// Whether `value` passes one field selector: it matches a value of a positive operator
/// (when there is one) and no value of a negative operator.
fn field_matches(field: &Value, value: &str) -> bool {
    let values = |op: &str| -> Vec<&str> {
        field
            .get(op)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    };
    let equals = values("Equals");
    let starts = values("StartsWith");
    let ends = values("EndsWith");
    let positive = !(equals.is_empty() && starts.is_empty() && ends.is_empty());
    let included = !positive
        || equals.contains(&value)
        || starts.iter().any(|v| value.starts_with(v))
        || ends.iter().any(|v| value.ends_with(v));
    let excluded = values("NotEquals").contains(&value)
        || values("NotStartsWith").iter().any(|v| value.starts_with(v))
        || values("NotEndsWith").iter().any(|v| value.ends_with(v));
    included && !excluded
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/aaaa";
    const OTHER: &str = "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/bbbb";

    fn base(extra: Value) -> Value {
        let mut fields = vec![
            json!({"Field": "eventCategory", "Equals": ["Data"]}),
            json!({"Field": "resources.type", "Equals": [FHIR_DATASTORE_TYPE]}),
        ];
        if let Value::Array(more) = extra {
            fields.extend(more);
        }
        json!([{"Name": "s", "FieldSelectors": fields}])
    }

    fn extents(selectors: &Value, arn: &str) -> (Extent, Extent) {
        let s = evaluate(Some(selectors), arn);
        (s.reads, s.writes)
    }

    #[test]
    fn all_data_stores_are_recorded_in_full() {
        assert_eq!(extents(&base(json!([])), ARN), (Extent::All, Extent::All));
    }

    #[test]
    fn arn_conditions_are_evaluated_like_cloudtrail() {
        let eq_other = base(json!([{"Field": "resources.ARN", "Equals": [OTHER]}]));
        assert_eq!(extents(&eq_other, ARN), (Extent::None, Extent::None));
        assert_eq!(extents(&eq_other, OTHER), (Extent::All, Extent::All));
        // Values of positive operators are ORed, across operators too.
        let either =
            base(json!([{"Field": "resources.ARN", "Equals": [OTHER], "EndsWith": ["/aaaa"]}]));
        assert_eq!(extents(&either, ARN), (Extent::All, Extent::All));
        let prefix = base(json!([{"Field": "resources.ARN",
            "StartsWith": ["arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/"]}]));
        assert_eq!(extents(&prefix, ARN), (Extent::All, Extent::All));
        let other_account = base(json!([{"Field": "resources.ARN",
            "StartsWith": ["arn:aws:healthlake:us-east-1:444455556666:"]}]));
        assert_eq!(extents(&other_account, ARN), (Extent::None, Extent::None));
        // Negative operators exclude; any of their values excludes.
        let not_this = base(json!([{"Field": "resources.ARN", "NotEquals": [OTHER, ARN]}]));
        assert_eq!(extents(&not_this, ARN), (Extent::None, Extent::None));
        assert_eq!(
            extents(
                &base(json!([{"Field": "resources.ARN", "NotEquals": [OTHER]}])),
                ARN
            ),
            (Extent::All, Extent::All)
        );
        let not_prefix = base(
            json!([{"Field": "resources.ARN", "NotStartsWith": ["arn:aws:healthlake:us-east-1:"]}]),
        );
        assert_eq!(extents(&not_prefix, ARN), (Extent::None, Extent::None));
        let not_suffix = base(json!([{"Field": "resources.ARN", "NotEndsWith": ["/bbbb"]}]));
        assert_eq!(extents(&not_suffix, ARN), (Extent::All, Extent::All));
        // A positive and a negative operator on one field: both must hold.
        let both = base(json!([{"Field": "resources.ARN",
            "StartsWith": ["arn:aws:healthlake:"], "NotEndsWith": ["/aaaa"]}]));
        assert_eq!(extents(&both, ARN), (Extent::None, Extent::None));
        assert_eq!(extents(&both, OTHER), (Extent::All, Extent::All));
        // Matching is case-sensitive.
        let upper = base(json!([{"Field": "resources.ARN", "Equals": [ARN.to_uppercase()]}]));
        assert_eq!(extents(&upper, ARN), (Extent::None, Extent::None));
    }

    #[test]
    fn read_only_splits_reads_from_writes() {
        let reads = base(json!([{"Field": "readOnly", "Equals": ["true"]}]));
        assert_eq!(extents(&reads, ARN), (Extent::All, Extent::None));
        let writes = base(json!([{"Field": "readOnly", "Equals": ["false"]}]));
        assert_eq!(extents(&writes, ARN), (Extent::None, Extent::All));
        // Two selectors are ORed.
        let mut two = reads.as_array().unwrap().clone();
        two.extend(writes.as_array().unwrap().clone());
        assert_eq!(extents(&Value::Array(two), ARN), (Extent::All, Extent::All));
    }

    #[test]
    fn other_fields_narrow_to_some_events() {
        let names = base(json!([{"Field": "eventName", "Equals": ["ReadResource"]},
                                {"Field": "readOnly", "Equals": ["true"]}]));
        let s = evaluate(Some(&names), ARN);
        assert_eq!((s.reads, s.writes), (Extent::Some, Extent::None));
        assert_eq!(s.narrowed_by, BTreeSet::from(["eventName".to_owned()]));
        // Narrowing does not matter where another selector records everything.
        let mut both = names.as_array().unwrap().clone();
        both.extend(base(json!([])).as_array().unwrap().clone());
        let s = evaluate(Some(&Value::Array(both)), ARN);
        assert_eq!((s.reads, s.writes), (Extent::All, Extent::All));
        assert!(s.narrowed_by.is_empty());
        // eventSource is known: HealthLake's matches, another service's does not.
        let source =
            base(json!([{"Field": "eventSource", "Equals": ["healthlake.amazonaws.com"]}]));
        assert_eq!(extents(&source, ARN), (Extent::All, Extent::All));
        let s3 = base(json!([{"Field": "eventSource", "Equals": ["s3.amazonaws.com"]}]));
        assert_eq!(extents(&s3, ARN), (Extent::None, Extent::None));
    }

    #[test]
    fn selectors_of_other_events_record_nothing() {
        let management =
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]);
        assert_eq!(extents(&management, ARN), (Extent::None, Extent::None));
        let s3 = json!([{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]);
        assert_eq!(extents(&s3, ARN), (Extent::None, Extent::None));
        // A data selector without resources.type is not one CloudTrail accepts.
        let untyped = json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}]);
        assert_eq!(extents(&untyped, ARN), (Extent::None, Extent::None));
        assert_eq!(
            extents(&json!({"not": "a list"}), ARN),
            (Extent::None, Extent::None)
        );
        let s = evaluate(None, ARN);
        assert!(!s.records_any());
    }
}
