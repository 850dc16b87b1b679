//! An `AWS::HealthLake::FHIRDatastore` resource as a planned record: its properties
//! evaluated, checked against the resource's schema, turned into the API's
//! `DatastoreProperties` JSON with schema defaults filled in, and located.
//!
//! A resource that depends on conditions decided only at deploy is evaluated once per
//! assignment of them (at most [`MAX_VARIABLES`] conditions, so 16 variants): the first
//! variant is the record, the others its alternatives; a policy must hold in each.

use std::collections::BTreeMap;

use hlaudit_model::identity::Planned;
use hlaudit_model::planned::{Alternative, Located, PlanDetail, Unknown};
use hlaudit_model::{Record, Source};
use serde_json::{Map, Value as Json};

use crate::cfn_template::{Resource, Template};
use crate::intrinsics::{closest, Ev, EvValue, Evaluator};
use crate::tree::Key;
use crate::{IacError, Options};

/// The CloudFormation type read.
pub(crate) const DATASTORE_TYPE: &str = "AWS::HealthLake::FHIRDatastore";

/// Most undecided conditions one resource is expanded over (2^4 variants); past that
/// an `Fn::If` on them is an unknown value.
pub(crate) const MAX_VARIABLES: usize = 4;

/// What a property holds, per the resource schema.
enum Shape {
    /// Text, with the values allowed when they are listed.
    Text(&'static [&'static str]),
    Bool,
    Object(&'static [Field]),
}

struct Field {
    name: &'static str,
    shape: Shape,
    required: bool,
}

const fn field(name: &'static str, shape: Shape, required: bool) -> Field {
    Field {
        name,
        shape,
        required,
    }
}

const KMS: &[Field] = &[
    field(
        "CmkType",
        Shape::Text(&["CUSTOMER_MANAGED_KMS_KEY", "AWS_OWNED_KMS_KEY"]),
        true,
    ),
    field("KmsKeyId", Shape::Text(&[]), false),
];
const SSE: &[Field] = &[field("KmsEncryptionConfig", Shape::Object(KMS), true)];
const IDP: &[Field] = &[
    field(
        "AuthorizationStrategy",
        Shape::Text(&["SMART_ON_FHIR_V1", "SMART_ON_FHIR", "AWS_AUTH"]),
        true,
    ),
    field("FineGrainedAuthorizationEnabled", Shape::Bool, false),
    field("Metadata", Shape::Text(&[]), false),
    field("IdpLambdaArn", Shape::Text(&[]), false),
];
const PRELOAD: &[Field] = &[field("PreloadDataType", Shape::Text(&["SYNTHEA"]), true)];
/// The resource's properties (`Tags` is read apart).
const PROPERTIES: &[Field] = &[
    field("DatastoreName", Shape::Text(&[]), false),
    field("DatastoreTypeVersion", Shape::Text(&["R4"]), true),
    field("PreloadDataConfig", Shape::Object(PRELOAD), false),
    field("SseConfiguration", Shape::Object(SSE), false),
    field("IdentityProviderConfiguration", Shape::Object(IDP), false),
];

/// One way the resource comes out.
struct Variant {
    properties: Json,
    tags: Option<BTreeMap<String, String>>,
    detail: PlanDetail,
}

/// Reads one data store resource: `None` when its condition is false.
pub(crate) fn read(
    file: &str,
    t: &Template<'_>,
    r: &Resource<'_>,
    opts: &Options,
    errors: &mut Vec<IacError>,
) -> Option<Record> {
    let mut base: BTreeMap<String, bool> = BTreeMap::new();
    let mut assumptions: Vec<String> = Vec::new();
    if let Some(c) = r.condition {
        let none = BTreeMap::new();
        let mut ev = Evaluator::new(file, t, opts, &none);
        let at = r.node.get("Condition").unwrap_or(r.node);
        let decided = ev.condition(c, at);
        errors.append(&mut ev.errors);
        match decided {
            Ok(false) => return None,
            Ok(true) => {}
            Err(_) => {
                base.insert(c.to_owned(), true);
                assumptions.push(format!("condition {c} is true"));
            }
        }
    }
    let variants = expand(file, t, r, opts, &base, &assumptions, errors);
    let mut variants = variants.into_iter();
    let first = variants.next()?;
    let mut detail = first.detail;
    if let Some(path) = r
        .node
        .get("Metadata")
        .and_then(|m| m.get("aws:cdk:path"))
        .and_then(|p| p.as_str())
    {
        detail.names.insert("construct".into(), path.to_owned());
    }
    detail.alternatives = variants
        .map(|v| Alternative {
            properties: v.properties,
            tags: v.tags,
            detail: v.detail,
        })
        .collect();
    let planned = Planned {
        file: file.to_owned(),
        address: r.key.name.clone(),
    };
    let record = match Record::planned_from_value(&first.properties, planned) {
        Ok(rec) => rec,
        Err(e) => {
            errors.push(
                IacError::new(
                    file,
                    r.key.line as usize,
                    r.key.column as usize,
                    format!("`{}` does not give a usable data store: {e}", r.key.name),
                )
                .with_hint("check the property named in the message"),
            );
            return None;
        }
    };
    let mut context = opts.context.clone();
    context.partition = crate::intrinsics::partition_of(&context);
    let mut record = record
        .with_source(Source {
            file: file.into(),
            line: r.key.line,
            column: r.key.column,
        })
        .with_context(context)
        .with_plan(detail);
    record.tags = first.tags;
    Some(record)
}

/// Every variant of the resource over the undecided conditions its `Fn::If`s meet.
fn expand(
    file: &str,
    t: &Template<'_>,
    r: &Resource<'_>,
    opts: &Options,
    base: &BTreeMap<String, bool>,
    assumptions: &[String],
    errors: &mut Vec<IacError>,
) -> Vec<Variant> {
    let mut vars: Vec<String> = Vec::new();
    loop {
        let mut variants = Vec::new();
        let mut grew = false;
        for combo in 0..(1usize << vars.len()) {
            let mut assume = base.clone();
            let mut said = assumptions.to_vec();
            for (i, v) in vars.iter().enumerate() {
                // The first variant takes every condition as true.
                let value = combo & (1 << i) == 0;
                assume.insert(v.clone(), value);
                said.push(format!("condition {v} is {value}"));
            }
            let mut ev = Evaluator::new(file, t, opts, &assume);
            let variant = evaluate(&mut ev, r, &said);
            errors.append(&mut ev.errors);
            for u in ev.undecided {
                if !vars.contains(&u) && !base.contains_key(&u) {
                    vars.push(u);
                    grew = true;
                }
            }
            variants.push(variant);
        }
        if !grew {
            return variants;
        }
        if vars.len() > MAX_VARIABLES {
            // Too many combinations: the `Fn::If`s on undecided conditions stay unknown.
            let mut ev = Evaluator::new(file, t, opts, base);
            let variant = evaluate(&mut ev, r, assumptions);
            errors.append(&mut ev.errors);
            return vec![variant];
        }
    }
}

/// One variant: the properties evaluated under the evaluator's assumptions.
fn evaluate(ev: &mut Evaluator<'_, '_>, r: &Resource<'_>, said: &[String]) -> Variant {
    let mut b = Builder {
        detail: PlanDetail {
            assumption: (!said.is_empty()).then(|| said.join(" and ")),
            ..PlanDetail::default()
        },
        errors: Vec::new(),
        file: ev.file().to_owned(),
    };
    b.locate("", r.key.line, r.key.column);
    for transform in ev.macros() {
        // A macro rewrites the template at deploy: nothing read here is certain.
        b.unknown(
            "",
            &format!("Transform {transform} (a macro that rewrites the template at deploy)"),
        );
    }
    let mut properties = Map::new();
    let mut tags = Some(BTreeMap::new());
    if let Some(p) = r.properties {
        let props = ev.eval(p);
        match &props.value {
            EvValue::Unknown(e) => {
                b.unknown("", e);
                tags = None;
            }
            EvValue::Map(entries) => {
                for (k, v) in entries {
                    if k.name == "Tags" {
                        tags = b.tags(k, v);
                        continue;
                    }
                    b.property(PROPERTIES, k, v, "", &mut properties);
                }
                b.required(PROPERTIES, entries, &props);
            }
            _ => b.error(
                &props,
                "`Properties` must be a mapping".into(),
                "write the properties as `Name: value`",
            ),
        }
    } else {
        b.error(
            &Ev {
                value: EvValue::Null,
                line: r.key.line,
                column: r.key.column,
            },
            format!("`{}` has no `Properties`", r.key.name),
            "a data store needs at least `DatastoreTypeVersion: R4`",
        );
    }
    crate::defaults::fill(&mut properties, &mut b.detail);
    ev.errors.extend(b.errors);
    Variant {
        properties: Json::Object(properties),
        tags,
        detail: b.detail,
    }
}

/// Builds one variant's JSON and detail.
struct Builder {
    detail: PlanDetail,
    errors: Vec<IacError>,
    file: String,
}

impl Builder {
    fn locate(&mut self, pointer: &str, line: u32, column: u32) {
        self.detail.locations.push(Located {
            pointer: pointer.to_owned(),
            line,
            column,
        });
    }

    fn unknown(&mut self, pointer: &str, expression: &str) {
        self.detail.unknowns.push(Unknown {
            pointer: pointer.to_owned(),
            expression: expression.to_owned(),
        });
    }

    fn error(&mut self, at: &Ev, message: String, hint: &str) {
        self.errors.push(
            IacError::new(&self.file, at.line as usize, at.column as usize, message)
                .with_hint(hint),
        );
    }

    fn key_error(&mut self, k: &Key, message: String, hint: String) {
        self.errors.push(
            IacError::new(&self.file, k.line as usize, k.column as usize, message).with_hint(hint),
        );
    }

    /// Property `k` of an object of `fields`, written into `out`.
    fn property(
        &mut self,
        fields: &[Field],
        k: &Key,
        v: &Ev,
        parent: &str,
        out: &mut Map<String, Json>,
    ) {
        let pointer = format!("{parent}/{}", escape(&k.name));
        let Some(f) = fields.iter().find(|f| f.name == k.name) else {
            let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
            let hint = match closest(&k.name, names.clone()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the properties here are {}", names.join(", ")),
            };
            self.key_error(
                k,
                format!("unknown property `{}` of {DATASTORE_TYPE}", k.name),
                hint,
            );
            return;
        };
        self.locate(&pointer, k.line, k.column);
        if let Some(value) = self.value(&f.shape, k, v, &pointer) {
            out.insert(k.name.clone(), value);
        }
    }

    /// A value of `shape` (written under key `k`), `None` when unknown or invalid.
    fn value(&mut self, shape: &Shape, k: &Key, v: &Ev, pointer: &str) -> Option<Json> {
        if let EvValue::Unknown(e) = &v.value {
            self.unknown(pointer, e);
            return None;
        }
        match shape {
            Shape::Text(allowed) => {
                let text = match &v.value {
                    EvValue::String(_) | EvValue::Number(_) | EvValue::Bool(_) => v.text(),
                    EvValue::Json(_, inner) => {
                        self.inner_locations(inner, pointer);
                        v.text()
                    }
                    _ => None,
                };
                let Some(text) = text else {
                    self.type_error(k, v, "text");
                    return None;
                };
                if !allowed.is_empty() && !allowed.contains(&text.as_str()) {
                    self.error(
                        v,
                        format!(
                            "`{}` must be one of {}, found `{text}`",
                            k.name,
                            allowed.join(", ")
                        ),
                        "use one of the listed values",
                    );
                    return None;
                }
                Some(Json::String(text))
            }
            Shape::Bool => match (&v.value, v.text().map(|s| s.to_ascii_lowercase())) {
                (EvValue::Bool(b), _) => Some(Json::Bool(*b)),
                (EvValue::String(_), Some(s)) if s == "true" || s == "false" => {
                    Some(Json::Bool(s == "true"))
                }
                _ => {
                    self.type_error(k, v, "a boolean");
                    None
                }
            },
            Shape::Object(fields) => {
                let EvValue::Map(entries) = &v.value else {
                    self.type_error(k, v, "a mapping");
                    return None;
                };
                let mut out = Map::new();
                for (ck, cv) in entries {
                    self.property(fields, ck, cv, pointer, &mut out);
                }
                self.required(fields, entries, v);
                Some(Json::Object(out))
            }
        }
    }

    fn type_error(&mut self, k: &Key, v: &Ev, expected: &str) {
        let found = match &v.value {
            EvValue::List(_) => "a list",
            EvValue::Map(_) => "a mapping",
            EvValue::Null => "null",
            EvValue::Bool(_) => "a boolean",
            _ => "text",
        };
        self.error(
            v,
            format!("`{}` must be {expected}, found {found}", k.name),
            "see the AWS::HealthLake::FHIRDatastore reference for the property's type",
        );
    }

    /// Reports required fields that are not written (an unknown value is written).
    fn required(&mut self, fields: &[Field], written: &[(Key, Ev)], at: &Ev) {
        for f in fields.iter().filter(|f| f.required) {
            if !written.iter().any(|(k, _)| k.name == f.name) {
                self.error(
                    at,
                    format!("the required property `{}` is missing", f.name),
                    match f.name {
                        "DatastoreTypeVersion" => "add `DatastoreTypeVersion: R4`",
                        _ => "add it here",
                    },
                );
            }
        }
    }

    /// Locations inside the JSON text `Fn::ToJsonString` writes, continuing `pointer`.
    fn inner_locations(&mut self, inner: &Ev, pointer: &str) {
        match &inner.value {
            EvValue::Map(entries) => {
                for (k, v) in entries {
                    let p = format!("{pointer}/{}", escape(&k.name));
                    self.locate(&p, k.line, k.column);
                    self.inner_locations(v, &p);
                }
            }
            EvValue::List(items) => {
                for (i, v) in items.iter().enumerate() {
                    let p = format!("{pointer}/{i}");
                    self.locate(&p, v.line, v.column);
                    self.inner_locations(v, &p);
                }
            }
            _ => {}
        }
    }

    /// The `Tags` list: known tags, unknown ones listed at `/@tags/KEY`.
    fn tags(&mut self, k: &Key, v: &Ev) -> Option<BTreeMap<String, String>> {
        self.locate("/@tags", k.line, k.column);
        let items = match &v.value {
            EvValue::Unknown(e) => {
                self.unknown("/@tags", e);
                return None;
            }
            EvValue::List(items) => items,
            _ => {
                self.type_error(k, v, "a list of {Key, Value}");
                return None;
            }
        };
        let mut tags = BTreeMap::new();
        for item in items {
            let (key, value) = match &item.value {
                EvValue::Map(e) => (
                    e.iter().find(|(k, _)| k.name == "Key").map(|(_, v)| v),
                    e.iter().find(|(k, _)| k.name == "Value").map(|(_, v)| v),
                ),
                EvValue::Unknown(e) => {
                    self.unknown("/@tags", e);
                    return None;
                }
                _ => (None, None),
            };
            let (Some(key), Some(value)) = (key, value) else {
                self.error(
                    item,
                    "a tag must be {Key: ..., Value: ...}".into(),
                    "write `- Key: Owner` and `Value: team`",
                );
                continue;
            };
            let name = match (&key.value, key.text()) {
                (EvValue::Unknown(e), _) => {
                    self.unknown("/@tags", e);
                    return None;
                }
                (_, Some(s)) => s,
                _ => {
                    self.error(
                        key,
                        "a tag's `Key` must be text".into(),
                        "write the key as text",
                    );
                    continue;
                }
            };
            let pointer = format!("/@tags/{}", escape(&name));
            if let Some(first) = self.detail.locations.iter().find(|l| l.pointer == pointer) {
                let message = format!(
                    "the tag `{name}` is given twice (first at line {}, column {})",
                    first.line, first.column
                );
                self.error(item, message, "remove one of them: tag keys are unique");
                continue;
            }
            self.locate(&pointer, item.line, item.column);
            match (&value.value, value.text()) {
                (EvValue::Unknown(e), _) => self.unknown(&pointer, e),
                (_, Some(s)) => {
                    tags.insert(name, s);
                }
                _ => self.error(
                    value,
                    "a tag's `Value` must be text".into(),
                    "write the value as text",
                ),
            }
        }
        Some(tags)
    }
}

/// A JSON pointer token (`~` and `/` escaped).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(escape("a/b~c"), "a~1b~0c");
        assert_eq!(escape("Owner"), "Owner");
    }

    #[test]
    fn defaults_are_not_filled_over_unknowns() {
        let mut b = Builder {
            detail: PlanDetail::default(),
            errors: Vec::new(),
            file: "t.yaml".into(),
        };
        b.unknown("/SseConfiguration", "Fn::ImportValue Sse");
        let mut props = Map::new();
        props.insert(
            "IdentityProviderConfiguration".into(),
            serde_json::json!({"AuthorizationStrategy": "SMART_ON_FHIR"}),
        );
        crate::defaults::fill(&mut props, &mut b.detail);
        assert!(!props.contains_key("SseConfiguration"));
        assert_eq!(
            props["IdentityProviderConfiguration"]["FineGrainedAuthorizationEnabled"],
            false
        );
        assert_eq!(
            b.detail.defaults,
            vec!["/IdentityProviderConfiguration/FineGrainedAuthorizationEnabled"]
        );
    }
}
