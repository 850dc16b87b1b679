//! One `resource_changes` entry of an `awscc_healthlake_fhir_datastore` as a planned
//! record: `change.after` with its snake_case attributes named as the API names them,
//! values "known after apply" left out and listed, schema defaults filled in as the
//! CloudFormation reader fills them, and each attribute located in the plan file.
//!
//! An attribute the plan marks unknown (`after_unknown`) that the configuration does not
//! write is one the provider computes: the awscc provider marks every optional attribute
//! left out of the configuration "known after apply" on create. It is read as absent, so
//! the schema default applies, as it does for a template that leaves the property out.
//! One the configuration writes (`kms_key_id = aws_kms_key.k.arn`) is unknown.
//!
//! Sensitive values are in `after` as they will be (`after_sensitive` only marks them)
//! and are kept: a policy must see the value it checks. Null attributes are absent, and
//! attribute names this reader does not know are kept in the API's spelling
//! (PascalCase), so a policy can be written for a new attribute before hlaudit knows it.

use std::collections::BTreeMap;

use hlaudit_model::identity::Planned;
use hlaudit_model::planned::{Located, PlanDetail, Unknown};
use hlaudit_model::{Arn, Context, Record, Source};
use serde_json::{Map, Value as Json};

use crate::terraform_config::{Configuration, ResourceConfig, Written};
use crate::terraform_json::shift;
use crate::terraform_json::{spots, Spot};
use crate::IacError;

/// Attributes the service computes when the data store is created; never in the JSON.
const COMPUTED: [&str; 6] = [
    "datastore_arn",
    "datastore_endpoint",
    "datastore_id",
    "datastore_status",
    "created_at",
    "id",
];

/// What a plan does to a data store, among the changes that leave one to audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Create,
    Update,
    Replace,
    NoOp,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::NoOp => "no-op",
        }
    }
}

/// What reading a plan shares between its entries.
pub(crate) struct PlanContext<'a> {
    /// The plan as the user named it.
    pub file: &'a str,
    /// What the user said about the deploy target.
    pub context: &'a Context,
    /// The plan's configuration section, when it has one.
    pub configuration: Option<&'a Configuration<'a>>,
}

/// Reads one data store entry whose text starts at `base`: a record, or `None` with the
/// reason in `errors` or (for a data store the plan deletes) in `warnings`.
pub(crate) fn read(
    plan: &PlanContext<'_>,
    text: &str,
    base: (u32, u32),
    errors: &mut Vec<IacError>,
    warnings: &mut Vec<String>,
) -> Option<Record> {
    let error = |line: u32, column: u32, message: String, hint: &str| {
        let (l, c) = shift(base, line, column);
        IacError::new(plan.file, l as usize, c as usize, message).with_hint(hint)
    };
    let Some(node) = spots(text) else {
        errors.push(error(
            1,
            1,
            "not valid JSON".into(),
            "check the plan's JSON here",
        ));
        return None;
    };
    let entry: Json = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            errors.push(error(
                1,
                1,
                format!("not valid JSON: {e}"),
                "check the plan's JSON here",
            ));
            return None;
        }
    };
    let text_of = |name: &str| entry.get(name).and_then(Json::as_str);
    let Some(address) = text_of("address") else {
        errors.push(error(
            node.line,
            node.column,
            "a `resource_changes` entry has no `address`".into(),
            "each entry of a plan names its resource in `address`",
        ));
        return None;
    };
    let change = entry.get("change").filter(|c| c.is_object());
    let change_node = node.get("change");
    let actions: Option<Vec<&str>> = change
        .and_then(|c| c.get("actions"))
        .and_then(Json::as_array)
        .and_then(|l| l.iter().map(Json::as_str).collect());
    let (Some(change), Some(actions)) = (change, actions) else {
        let at = change_node.unwrap_or(&node);
        errors.push(error(
            at.line,
            at.column,
            format!("`{address}` has no `change` with a list of `actions`"),
            "a plan entry is `{\"address\": ..., \"change\": {\"actions\": [...], \"after\": {...}}}`",
        ));
        return None;
    };
    let action = match actions.as_slice() {
        ["create"] => Action::Create,
        ["update"] => Action::Update,
        ["delete", "create"] | ["create", "delete"] => Action::Replace,
        ["no-op"] => Action::NoOp,
        ["delete"] | ["forget"] => {
            warnings.push(format!(
                "{}: `{address}` is {} by this plan; it is not checked",
                plan.file,
                if actions[0] == "delete" {
                    "deleted"
                } else {
                    "removed from the state"
                }
            ));
            return None;
        }
        other => {
            warnings.push(format!(
                "{}: `{address}` has the actions {other:?}, which this reader does not know; it is not checked",
                plan.file
            ));
            return None;
        }
    };
    let after_node = change_node.and_then(|c| c.get("after"));
    let Some(Json::Object(after)) = change.get("after") else {
        let at = after_node.or(change_node).unwrap_or(&node);
        errors.push(error(
            at.line,
            at.column,
            format!(
                "`{address}` is planned to {} but its `change.after` is not an object",
                action.name()
            ),
            "`change.after` holds the attributes the data store will have",
        ));
        return None;
    };
    let module = text_of("module_address").unwrap_or("");
    let resource = plan.configuration.and_then(|c| {
        c.resource(
            module,
            text_of("type").unwrap_or(""),
            text_of("name").unwrap_or(""),
        )
    });
    let mut m = Mapper {
        detail: PlanDetail::default(),
        base,
        config: resource.as_ref(),
    };
    m.locate("", node.line, node.column);
    let unknown = change.get("after_unknown");
    let unknown_node = change_node.and_then(|c| c.get("after_unknown"));
    let mut snake = Vec::new();
    let marks = Marks {
        node: after_node,
        unknown,
        unode: unknown_node,
    };
    let mut props = m.object(after, marks, &mut snake, "", true);
    let tags = m.tags(after, unknown, after_node, unknown_node);
    crate::defaults::fill(&mut props, &mut m.detail);

    let before_arn = change
        .get("before")
        .and_then(|b| b.get("datastore_arn"))
        .and_then(Json::as_str);
    match (action, before_arn) {
        (Action::Update | Action::NoOp, Some(arn)) => {
            m.detail.names.insert("arn".into(), arn.to_owned());
        }
        (Action::Replace, Some(arn)) => {
            m.detail.names.insert("replaces".into(), arn.to_owned());
        }
        _ => {}
    }
    m.detail
        .names
        .insert("action".into(), action.name().to_owned());
    if !module.is_empty() {
        m.detail.names.insert("module".into(), module.to_owned());
    }
    let context = context_of(
        plan.context,
        before_arn,
        resource.as_ref(),
        plan.configuration,
    );
    let planned = Planned {
        file: plan.file.to_owned(),
        address: address.to_owned(),
    };
    let record = match Record::planned_from_value(&Json::Object(props), planned) {
        Ok(r) => r,
        Err(e) => {
            // At the attribute the message names, when it is written in the plan.
            let pointer = format!("/{}", e.path.replace('.', "/"));
            let at = m.detail.locate(plan.file, &pointer);
            let (line, column) =
                at.map_or(shift(base, node.line, node.column), |s| (s.line, s.column));
            errors.push(
                IacError::new(
                    plan.file,
                    line as usize,
                    column as usize,
                    format!("`{address}` does not give a usable data store: {e}"),
                )
                .with_hint("check the attribute named in the message in `change.after`"),
            );
            return None;
        }
    };
    let (line, column) = shift(base, node.line, node.column);
    let mut record = record
        .with_source(Source {
            file: plan.file.into(),
            line,
            column,
        })
        .with_context(context)
        .with_plan(m.detail);
    record.tags = tags;
    Some(record)
}

/// Account, region and partition: the user's first, then the ARN of the data store the
/// plan changes, then the provider configuration's region.
fn context_of(
    user: &Context,
    arn: Option<&str>,
    resource: Option<&ResourceConfig<'_>>,
    configuration: Option<&Configuration<'_>>,
) -> Context {
    let mut c = user.clone();
    if let Some(arn) = arn.and_then(|a| Arn::parse(a).ok()) {
        let of = Context::of_arn(&arn);
        c.account = c.account.or(of.account);
        c.region = c.region.or(of.region);
        c.partition = c.partition.or(of.partition);
    }
    if c.region.is_none() {
        c.region = match resource {
            Some(r) => r.region(),
            None => configuration
                .and_then(|conf| conf.default_provider().and_then(|p| conf.region_of(p))),
        };
    }
    c.partition = crate::intrinsics::partition_of(&c);
    c
}

/// Where a value of `after` sits: its node in the plan, and its marks in `after_unknown`
/// with their node.
#[derive(Clone, Copy)]
struct Marks<'n> {
    node: Option<&'n Spot>,
    unknown: Option<&'n Json>,
    unode: Option<&'n Spot>,
}

/// Builds the JSON and detail of one data store.
struct Mapper<'a> {
    detail: PlanDetail,
    base: (u32, u32),
    config: Option<&'a ResourceConfig<'a>>,
}

impl Mapper<'_> {
    fn locate(&mut self, pointer: &str, line: u32, column: u32) {
        let (line, column) = shift(self.base, line, column);
        self.detail.locations.push(Located {
            pointer: pointer.to_owned(),
            line,
            column,
        });
    }

    fn locate_key(&mut self, pointer: &str, key: Option<(u32, u32)>) {
        if let Some((line, column)) = key {
            self.locate(pointer, line, column);
        }
    }

    /// An object of `after` (`top`: the resource's attributes).
    fn object(
        &mut self,
        after: &Map<String, Json>,
        marks: Marks<'_>,
        snake: &mut Vec<String>,
        pointer: &str,
        top: bool,
    ) -> Map<String, Json> {
        let Marks {
            node,
            unknown,
            unode,
        } = marks;
        let skipped = |k: &str| top && (COMPUTED.contains(&k) || k == "tags");
        let mut out = Map::new();
        for (k, v) in after {
            if skipped(k) {
                continue;
            }
            let name = pascal(k);
            let p = format!("{pointer}/{}", escape(&name));
            snake.push(k.clone());
            let entry = node.and_then(|n| n.entry(k));
            let u = unknown.and_then(|u| u.get(k));
            let un = unode.and_then(|n| n.entry(k));
            if u == Some(&Json::Bool(true)) {
                self.unknown(snake, &p, un.map(|(k, _)| k));
            } else if let Some(value) = self.value(
                v,
                Marks {
                    node: entry.map(|(_, n)| n),
                    unknown: u,
                    unode: un.map(|(_, n)| n),
                },
                snake,
                &p,
            ) {
                self.locate_key(&p, entry.map(|(k, _)| k));
                out.insert(name, value);
            }
            snake.pop();
        }
        if let Some(Json::Object(marks)) = unknown {
            for (k, u) in marks {
                let in_after = after.get(k).is_some_and(|v| !v.is_null());
                if u != &Json::Bool(true) || in_after || skipped(k) || after.contains_key(k) {
                    continue;
                }
                snake.push(k.clone());
                let p = format!("{pointer}/{}", escape(&pascal(k)));
                self.unknown(snake, &p, unode.and_then(|n| n.entry(k)).map(|(k, _)| k));
                snake.pop();
            }
        }
        out
    }

    /// A value of `after`: `None` when null or unknown.
    fn value(
        &mut self,
        v: &Json,
        marks: Marks<'_>,
        snake: &mut Vec<String>,
        pointer: &str,
    ) -> Option<Json> {
        let Marks {
            node,
            unknown,
            unode,
        } = marks;
        match v {
            Json::Null => None,
            Json::Object(m) => Some(Json::Object(self.object(m, marks, snake, pointer, false))),
            Json::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{pointer}/{i}");
                    let n = node.and_then(|n| n.item(i));
                    let u = unknown.and_then(|u| u.get(i));
                    if let Some(n) = n {
                        self.locate(&p, n.line, n.column);
                    }
                    if u == Some(&Json::Bool(true)) {
                        self.detail.unknowns.push(Unknown {
                            pointer: p,
                            expression: self.expression(snake),
                        });
                        out.push(Json::Null);
                        continue;
                    }
                    let un = unode.and_then(|n| n.item(i));
                    let marks = Marks {
                        node: n,
                        unknown: u,
                        unode: un,
                    };
                    out.push(self.value(item, marks, snake, &p).unwrap_or(Json::Null));
                }
                Some(Json::Array(out))
            }
            other => Some(other.clone()),
        }
    }

    /// An attribute known only after apply, at `pointer`: unknown when the configuration
    /// writes it (or cannot say), absent when it leaves it to the provider.
    fn unknown(&mut self, snake: &[String], pointer: &str, key: Option<(u32, u32)>) {
        let path: Vec<&str> = snake.iter().map(String::as_str).collect();
        if self.config.map(|c| c.written(&path)) == Some(Written::No) {
            return;
        }
        self.locate_key(pointer, key);
        self.detail.unknowns.push(Unknown {
            pointer: pointer.to_owned(),
            expression: self.expression(snake),
        });
    }

    fn expression(&self, snake: &[String]) -> String {
        let path: Vec<&str> = snake.iter().map(String::as_str).collect();
        match self.config {
            Some(c) => c.unknown_expression(&path),
            None => "known after apply".to_owned(),
        }
    }

    /// The `tags` attribute (a list of `{key, value}`, or a map): `None` when unknown.
    fn tags(
        &mut self,
        after: &Map<String, Json>,
        unknown: Option<&Json>,
        node: Option<&Spot>,
        unode: Option<&Spot>,
    ) -> Option<BTreeMap<String, String>> {
        let snake = vec!["tags".to_owned()];
        let u = unknown.and_then(|u| u.get("tags"));
        let entry = node.and_then(|n| n.entry("tags"));
        if u == Some(&Json::Bool(true)) {
            let path = ["tags"];
            if self.config.map(|c| c.written(&path)) == Some(Written::No) {
                return Some(BTreeMap::new());
            }
            self.unknown(
                &snake,
                "/@tags",
                unode.and_then(|n| n.entry("tags")).map(|(k, _)| k),
            );
            return None;
        }
        self.locate_key("/@tags", entry.map(|(k, _)| k));
        let mut tags = BTreeMap::new();
        match after.get("tags") {
            Some(Json::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let (Some(k), value) = (
                        item.get("key").and_then(Json::as_str),
                        item.get("value").and_then(Json::as_str),
                    ) else {
                        // A key known only after apply: no tag can be relied on.
                        self.unknown(&snake, "/@tags", None);
                        return None;
                    };
                    let p = format!("/@tags/{}", escape(k));
                    if let Some(n) = entry.and_then(|(_, n)| n.item(i)) {
                        self.locate(&p, n.line, n.column);
                    }
                    let value_unknown = u.and_then(|u| u.get(i)).and_then(|u| u.get("value"))
                        == Some(&Json::Bool(true));
                    match value {
                        Some(v) if !value_unknown => {
                            tags.insert(k.to_owned(), v.to_owned());
                        }
                        _ => self.detail.unknowns.push(Unknown {
                            pointer: p,
                            expression: self.expression(&snake),
                        }),
                    }
                }
            }
            Some(Json::Object(map)) => {
                for (k, v) in map {
                    let p = format!("/@tags/{}", escape(k));
                    if let Some((key, _)) = entry.and_then(|(_, n)| n.entry(k)) {
                        self.locate(&p, key.0, key.1);
                    }
                    match v.as_str() {
                        Some(v) => {
                            tags.insert(k.clone(), v.to_owned());
                        }
                        None => self.detail.unknowns.push(Unknown {
                            pointer: p,
                            expression: self.expression(&snake),
                        }),
                    }
                }
            }
            _ => {}
        }
        Some(tags)
    }
}

/// `kms_key_id` as the API names it: `KmsKeyId`.
pub(crate) fn pascal(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    for part in snake.split('_') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// A JSON pointer token (`~` and `/` escaped).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_become_the_api_names() {
        assert_eq!(pascal("datastore_type_version"), "DatastoreTypeVersion");
        assert_eq!(pascal("idp_lambda_arn"), "IdpLambdaArn");
        assert_eq!(pascal("kms_encryption_config"), "KmsEncryptionConfig");
        assert_eq!(pascal("some_future_attribute"), "SomeFutureAttribute");
    }
}
