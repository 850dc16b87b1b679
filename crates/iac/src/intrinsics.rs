//! CloudFormation's intrinsic functions and conditions, evaluated as far as they can be
//! before deploy.
//!
//! The design decision: a value is never guessed. What is known only after deploy (an
//! import, a parameter nobody gave, a physical id, anything built from one) evaluates to
//! [`EvValue::Unknown`] carrying the expression as written, so the reader can leave it
//! out of the record and list it; a clause that reads it is then not decided.
//!
//! A condition that cannot be decided before deploy is a variable: the evaluator is run
//! once per assignment of such variables (see `cfn_datastore`), and records which
//! undecided conditions an `Fn::If` met.
//!
//! Resources of the same template whose ARN is predictable from the account, region and
//! partition resolve to that ARN, with placeholders for what AWS assigns at deploy:
//! [`KEY_ID_PLACEHOLDER`] for a KMS key id and [`VERSION_PLACEHOLDER`] for a Lambda
//! version number.

use std::collections::BTreeMap;

mod conditions;
mod resources;
mod text;

pub(crate) use resources::partition_of;
use resources::url_suffix;
pub(crate) use text::closest;
use text::{base64, compact_json};

use crate::cfn_template::{ParamValue, Template, LANGUAGE_EXTENSIONS, SAM_TRANSFORM};
use crate::tree::{Key, Node, Value};
use crate::{IacError, Options};

/// Stands in for the id AWS gives a KMS key created by the template (the syntax of a key
/// id, all zeros).
pub(crate) const KEY_ID_PLACEHOLDER: &str = "00000000-0000-0000-0000-000000000000";
/// Stands in for the number AWS gives a Lambda version published by the template.
pub(crate) const VERSION_PLACEHOLDER: &str = "1";

/// An evaluated value with the position of what gave it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ev {
    pub value: EvValue,
    pub line: u32,
    pub column: u32,
}

/// An evaluated value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EvValue {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    List(Vec<Ev>),
    Map(Vec<(Key, Ev)>),
    /// Known only after deploy: the expression as written.
    Unknown(String),
    /// Compact JSON written by `Fn::ToJsonString`, with the value it encodes (for
    /// locating what is inside the text).
    Json(String, Box<Ev>),
    /// `AWS::NoValue`: the property is removed.
    NoValue,
}

impl Ev {
    fn at(n: &Node, value: EvValue) -> Ev {
        Ev {
            value,
            line: n.line,
            column: n.column,
        }
    }

    /// The text of a known scalar.
    pub(crate) fn text(&self) -> Option<String> {
        match &self.value {
            EvValue::String(s) | EvValue::Number(s) | EvValue::Json(s, _) => Some(s.clone()),
            EvValue::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The first unknown inside this value.
    pub(crate) fn unknown(&self) -> Option<&str> {
        match &self.value {
            EvValue::Unknown(e) => Some(e),
            EvValue::List(items) => items.iter().find_map(Ev::unknown),
            EvValue::Map(entries) => entries.iter().find_map(|(_, v)| v.unknown()),
            EvValue::Json(_, inner) => inner.unknown(),
            _ => None,
        }
    }
}

/// A condition's value: decided, or undecided because of the named condition (the one
/// that reads the undecided value directly, which becomes a variable).
pub(crate) type Decided = Result<bool, String>;

/// Evaluates intrinsic functions of one template under one assignment of undecided
/// conditions.
pub(crate) struct Evaluator<'t, 'a> {
    file: &'t str,
    t: &'t Template<'a>,
    opts: &'t Options,
    /// Values taken for conditions that are undecided before deploy.
    assume: &'t BTreeMap<String, bool>,
    /// Undecided conditions met by an `Fn::If` (or a resource's condition), in order.
    pub undecided: Vec<String>,
    /// Problems found.
    pub errors: Vec<IacError>,
    /// Conditions being evaluated (for cycles) and resources being resolved (depth).
    cond_stack: Vec<String>,
    /// Condition cycles reported (their members from the first in order), to report
    /// each once.
    cycles: Vec<Vec<String>>,
    depth: usize,
}

impl<'t, 'a> Evaluator<'t, 'a> {
    /// An evaluator for template `t` of `file`.
    pub(crate) fn new(
        file: &'t str,
        t: &'t Template<'a>,
        opts: &'t Options,
        assume: &'t BTreeMap<String, bool>,
    ) -> Self {
        Evaluator {
            file,
            t,
            opts,
            assume,
            undecided: Vec::new(),
            errors: Vec::new(),
            cond_stack: Vec::new(),
            cycles: Vec::new(),
            depth: 0,
        }
    }

    /// The template's transforms that are macros (see [`Template::macros`]).
    pub(crate) fn macros(&self) -> Vec<String> {
        self.t.macros().map(str::to_owned).collect()
    }

    /// The file, as the user named it.
    pub(crate) fn file(&self) -> &str {
        self.file
    }

    fn error(&mut self, n: &Node, message: String, hint: impl Into<String>) -> Ev {
        self.errors.push(
            IacError::new(self.file, n.line as usize, n.column as usize, message).with_hint(hint),
        );
        Ev::at(n, EvValue::Unknown("an invalid expression".into()))
    }

    /// Evaluates a node: intrinsic functions are applied, `AWS::NoValue` removed.
    pub(crate) fn eval(&mut self, n: &Node) -> Ev {
        if let Some(tag) = n.tag.as_deref() {
            if let Some(short) = tag.strip_prefix('!').filter(|t| !t.starts_with('!')) {
                let name = match short {
                    "Ref" | "Condition" => short.to_owned(),
                    _ => format!("Fn::{short}"),
                };
                return self.function(&name, n, n);
            }
        }
        match &n.value {
            Value::Null => Ev::at(n, EvValue::Null),
            Value::Bool(b) => Ev::at(n, EvValue::Bool(*b)),
            Value::Number(s) => Ev::at(n, EvValue::Number(s.clone())),
            Value::String(s) => Ev::at(n, EvValue::String(s.clone())),
            Value::Seq(items) => {
                let items = items
                    .iter()
                    .map(|i| self.eval(i))
                    .filter(|e| e.value != EvValue::NoValue)
                    .collect();
                Ev::at(n, EvValue::List(items))
            }
            Value::Map(entries) => {
                if let [(k, arg)] = entries.as_slice() {
                    if k.name == "Ref" || k.name.starts_with("Fn::") {
                        return self.function(&k.name, arg, n);
                    }
                }
                let entries = entries
                    .iter()
                    .map(|(k, v)| (k.clone(), self.eval(v)))
                    .filter(|(_, e)| e.value != EvValue::NoValue)
                    .collect();
                Ev::at(n, EvValue::Map(entries))
            }
        }
    }

    /// Applies function `name` to `arg`; `at` is the node written (for positions).
    fn function(&mut self, name: &str, arg: &Node, at: &Node) -> Ev {
        match name {
            "Ref" => self.ref_(arg, at),
            "Fn::GetAtt" => self.get_att(arg, at),
            "Fn::Sub" => self.sub(arg, at),
            "Fn::Join" => self.join(arg, at),
            "Fn::Select" => self.select(arg, at),
            "Fn::Split" => self.split(arg, at),
            "Fn::FindInMap" => self.find_in_map(arg, at),
            "Fn::If" => self.if_(arg, at),
            "Fn::ImportValue" => {
                let v = self.eval_untagged(arg, at);
                let expr = match v.text() {
                    Some(name) => format!("Fn::ImportValue {name}"),
                    None => "Fn::ImportValue (export name known at deploy)".to_owned(),
                };
                Ev::at(at, EvValue::Unknown(expr))
            }
            "Fn::Base64" => {
                let v = self.eval_untagged(arg, at);
                match (&v.value, v.text()) {
                    (EvValue::Unknown(e), _) => Ev::at(at, EvValue::Unknown(e.clone())),
                    (_, Some(s)) => Ev::at(at, EvValue::String(base64(s.as_bytes()))),
                    _ => self.shape(at, "Fn::Base64", "a string"),
                }
            }
            "Fn::ToJsonString" => self.json_text(arg, at),
            "Fn::Length" => self.length(arg, at),
            "Fn::GetAZs" => {
                let _ = self.eval_untagged(arg, at);
                Ev::at(
                    at,
                    EvValue::Unknown("Fn::GetAZs (the region's zones, known at deploy)".into()),
                )
            }
            "Fn::Cidr" => {
                let _ = self.eval_untagged(arg, at);
                Ev::at(at, EvValue::Unknown("Fn::Cidr (not evaluated)".into()))
            }
            "Fn::Transform" => Ev::at(
                at,
                EvValue::Unknown("Fn::Transform (a macro, applied at deploy)".into()),
            ),
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" | "Condition" => self.error(
                at,
                format!("`{name}` can only be used in the `Conditions` section"),
                "declare a condition and use it with `Fn::If`",
            ),
            _ => self.error(
                at,
                format!(
                    "unknown intrinsic function `{}`",
                    at.tag
                        .as_deref()
                        .filter(|_| std::ptr::eq(arg, at))
                        .unwrap_or(name)
                ),
                match closest(name, KNOWN.to_vec()) {
                    Some(s) if std::ptr::eq(arg, at) => {
                        format!("did you mean `!{}`?", s.trim_start_matches("Fn::"))
                    }
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("use one of {}", KNOWN.join(", ")),
                },
            ),
        }
    }

    /// Evaluates an argument node, ignoring the short-form tag written on it (the tag
    /// is the function being applied).
    fn eval_untagged(&mut self, arg: &Node, at: &Node) -> Ev {
        if std::ptr::eq(arg, at) {
            let plain = Node {
                tag: None,
                ..arg.clone()
            };
            return self.eval(&plain);
        }
        self.eval(arg)
    }

    fn shape(&mut self, at: &Node, name: &str, expected: &str) -> Ev {
        self.error(
            at,
            format!("`{name}` takes {expected}"),
            format!("see the `{name}` reference in the CloudFormation documentation"),
        )
    }

    /// The list items of a function argument (after the short-form tag).
    fn args<'n>(
        &mut self,
        arg: &'n Node,
        at: &Node,
        name: &str,
        expected: &str,
    ) -> Option<&'n [Node]> {
        match &arg.value {
            Value::Seq(items) => Some(items),
            _ => {
                let _ = self.shape(at, name, expected);
                None
            }
        }
    }

    fn ref_(&mut self, arg: &Node, at: &Node) -> Ev {
        let name = match (&arg.value, std::ptr::eq(arg, at) || arg.tag.is_none()) {
            (Value::String(s), true) => s.clone(),
            _ => {
                return self.shape(
                    at,
                    "Ref",
                    "the name of a parameter, resource or pseudo parameter",
                )
            }
        };
        self.reference(&name, at, "Ref")
    }

    /// What `Ref NAME` (or `${NAME}` in `Fn::Sub`) gives.
    fn reference(&mut self, name: &str, at: &Node, how: &str) -> Ev {
        if name == "AWS::NoValue" {
            return Ev::at(at, EvValue::NoValue);
        }
        if let Some(pseudo) = name.strip_prefix("AWS::") {
            return self.pseudo(pseudo, name, at, how);
        }
        if let Some(p) = self.t.parameters.get(name) {
            return match &p.value {
                ParamValue::Known(v) if p.is_list => Ev::at(
                    at,
                    EvValue::List(
                        v.split(',')
                            .map(|s| Ev::at(at, EvValue::String(s.trim().to_owned())))
                            .collect(),
                    ),
                ),
                ParamValue::Known(v) => Ev::at(at, EvValue::String(v.clone())),
                ParamValue::Unknown(why) => {
                    Ev::at(at, EvValue::Unknown(format!("{how} {name} ({why})")))
                }
            };
        }
        if self.t.resource(name).is_some() {
            return self.resource_value(name, None, at);
        }
        if self.implicit_sam_resource(name) {
            return Ev::at(
                at,
                EvValue::Unknown(format!(
                    "{how} {name} (a resource SAM creates, known at deploy)"
                )),
            );
        }
        self.error(
            at,
            format!("`{how} {name}`: there is no parameter, resource or pseudo parameter `{name}`"),
            match closest(name, self.names()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "declare it under `Parameters` or `Resources`".to_owned(),
            },
        )
    }

    fn names(&self) -> Vec<&str> {
        self.t
            .parameters
            .keys()
            .copied()
            .chain(self.t.resources.iter().map(|r| r.key.name.as_str()))
            .collect()
    }

    /// SAM creates resources named after its own (`FnRole`, `FnAliaslive`,
    /// `ServerlessRestApi`); templates may refer to them.
    fn implicit_sam_resource(&self, name: &str) -> bool {
        self.t.has_transform(SAM_TRANSFORM)
            && (name.starts_with("Serverless")
                || self.t.resources.iter().any(|r| {
                    r.type_name.starts_with("AWS::Serverless::") && name.starts_with(&r.key.name)
                }))
    }

    fn pseudo(&mut self, pseudo: &str, name: &str, at: &Node, how: &str) -> Ev {
        let ctx = &self.opts.context;
        let known = |v: Option<String>, missing: &str| match v {
            Some(v) => EvValue::String(v),
            None => EvValue::Unknown(format!("{how} {name} ({missing})")),
        };
        let value = match pseudo {
            "AccountId" => known(ctx.account.clone(), "account unknown: give --account"),
            "Region" => known(ctx.region.clone(), "region unknown: give --region"),
            "Partition" => known(self.partition(), "partition unknown: give --region"),
            "URLSuffix" => known(
                self.partition().map(|p| url_suffix(&p).to_owned()),
                "partition unknown: give --region",
            ),
            "StackName" | "StackId" | "NotificationARNs" => {
                EvValue::Unknown(format!("{how} {name} (known at deploy)"))
            }
            _ => {
                return self.error(
                    at,
                    format!("`{name}` is not a pseudo parameter"),
                    "use AWS::AccountId, AWS::Region, AWS::Partition, AWS::URLSuffix, \
                     AWS::StackName, AWS::StackId, AWS::NotificationARNs or AWS::NoValue",
                )
            }
        };
        Ev::at(at, value)
    }

    /// The partition: as given, else derived from a known region.
    pub(crate) fn partition(&self) -> Option<String> {
        partition_of(&self.opts.context)
    }

    fn get_att(&mut self, arg: &Node, at: &Node) -> Ev {
        let (id, attr) = match &arg.value {
            Value::String(s) => match s.split_once('.') {
                Some((id, attr)) => (id.to_owned(), attr.to_owned()),
                None => {
                    return self.shape(
                        at,
                        "Fn::GetAtt",
                        "`Resource.Attribute` or [Resource, Attribute]",
                    )
                }
            },
            Value::Seq(items) if items.len() == 2 => {
                let id = match items[0].as_str() {
                    Some(id) if items[0].tag.is_none() => id.to_owned(),
                    _ => return self.shape(at, "Fn::GetAtt", "a logical id as its first item"),
                };
                let attr = self.eval(&items[1]);
                match (&attr.value, attr.text()) {
                    (EvValue::Unknown(e), _) => return Ev::at(at, EvValue::Unknown(e.clone())),
                    (_, Some(a)) => (id, a),
                    _ => {
                        return self.shape(at, "Fn::GetAtt", "an attribute name as its second item")
                    }
                }
            }
            _ => {
                return self.shape(
                    at,
                    "Fn::GetAtt",
                    "`Resource.Attribute` or [Resource, Attribute]",
                )
            }
        };
        self.attribute(&id, &attr, at, "Fn::GetAtt")
    }

    /// What `Fn::GetAtt ID.ATTR` (or `${ID.ATTR}`) gives.
    fn attribute(&mut self, id: &str, attr: &str, at: &Node, how: &str) -> Ev {
        if self.t.resource(id).is_some() {
            return self.resource_value(id, Some(attr), at);
        }
        if self.implicit_sam_resource(id) {
            return Ev::at(
                at,
                EvValue::Unknown(format!(
                    "{how} {id}.{attr} (a resource SAM creates, known at deploy)"
                )),
            );
        }
        self.error(
            at,
            format!("`{how} {id}.{attr}`: there is no resource `{id}`"),
            match closest(
                id,
                self.t
                    .resources
                    .iter()
                    .map(|r| r.key.name.as_str())
                    .collect(),
            ) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "name a resource declared under `Resources`".to_owned(),
            },
        )
    }

    fn sub(&mut self, arg: &Node, at: &Node) -> Ev {
        let (template, vars): (&Node, &[(Key, Node)]) = match &arg.value {
            Value::String(_) => (arg, &[]),
            Value::Seq(items) if items.len() == 2 => match (&items[0].value, &items[1].value) {
                (Value::String(_), Value::Map(vars)) if items[1].tag.is_none() => (&items[0], vars),
                _ => return self.shape(at, "Fn::Sub", "a string, or [string, {variables}]"),
            },
            _ => return self.shape(at, "Fn::Sub", "a string, or [string, {variables}]"),
        };
        let Value::String(text) = &template.value else {
            return self.shape(at, "Fn::Sub", "a string");
        };
        let vars: Vec<(String, Ev)> = vars
            .iter()
            .map(|(k, v)| (k.name.clone(), self.eval(v)))
            .collect();
        let mut out = String::new();
        let mut unknown: Option<String> = None;
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return self.error(
                    template,
                    format!("`Fn::Sub`: `${{` without a closing `}}` in `{text}`"),
                    "close the variable with `}`, or write `${!` for a literal `${`",
                );
            };
            let var = &after[..end];
            rest = &after[end + 1..];
            if let Some(literal) = var.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let value = match vars.iter().find(|(n, _)| n == var) {
                Some((_, v)) => v.clone(),
                None => self.sub_variable(var, template, text),
            };
            match (&value.value, value.text()) {
                (EvValue::Unknown(e), _) => {
                    unknown.get_or_insert_with(|| e.clone());
                }
                (_, Some(s)) => out.push_str(&s),
                _ => {
                    return self.error(
                        template,
                        format!("`Fn::Sub`: the variable `{var}` is not text"),
                        "a variable must give a string",
                    )
                }
            }
        }
        out.push_str(rest);
        match unknown {
            Some(e) => Ev::at(at, EvValue::Unknown(format!("Fn::Sub {text:?} uses {e}"))),
            None => Ev::at(at, EvValue::String(out)),
        }
    }

    /// `${NAME}` or `${ID.ATTR}` of an `Fn::Sub` without a variable map entry.
    fn sub_variable(&mut self, var: &str, at: &Node, text: &str) -> Ev {
        let known = var.starts_with("AWS::")
            || self.t.parameters.contains_key(var)
            || self.t.resource(var).is_some()
            || self.implicit_sam_resource(var);
        if known {
            return self.reference(var, at, "Ref");
        }
        if let Some((id, attr)) = var.split_once('.') {
            if self.t.resource(id).is_some() || self.implicit_sam_resource(id) {
                return self.attribute(id, attr, at, "Fn::GetAtt");
            }
        }
        self.error(
            at,
            format!("`Fn::Sub`: `${{{var}}}` in `{text}` is not a parameter, resource, attribute or pseudo parameter"),
            match closest(var, self.names()) {
                Some(s) => format!("did you mean `${{{s}}}`? (write `${{!{var}}}` for the literal text)"),
                None => format!("declare it, or write `${{!{var}}}` for the literal text"),
            },
        )
    }

    fn join(&mut self, arg: &Node, at: &Node) -> Ev {
        let Some(items) = self.args(arg, at, "Fn::Join", "[delimiter, [values]]") else {
            return Ev::at(at, EvValue::Unknown("an invalid expression".into()));
        };
        let [delim, list] = items else {
            return self.shape(at, "Fn::Join", "[delimiter, [values]]");
        };
        let Some(delim) = delim
            .as_str()
            .filter(|_| delim.tag.is_none())
            .map(str::to_owned)
        else {
            return self.shape(at, "Fn::Join", "a string delimiter");
        };
        let list = self.eval(list);
        let parts = match &list.value {
            EvValue::Unknown(e) => return Ev::at(at, EvValue::Unknown(e.clone())),
            EvValue::List(parts) => parts,
            _ => return self.shape(at, "Fn::Join", "a list of values to join"),
        };
        let mut texts = Vec::new();
        for p in parts {
            match (&p.value, p.text()) {
                (EvValue::Unknown(e), _) => {
                    return Ev::at(at, EvValue::Unknown(format!("Fn::Join uses {e}")))
                }
                (_, Some(s)) => texts.push(s),
                _ => return self.shape(at, "Fn::Join", "values that are strings"),
            }
        }
        Ev::at(at, EvValue::String(texts.join(&delim)))
    }

    fn select(&mut self, arg: &Node, at: &Node) -> Ev {
        let Some(items) = self.args(arg, at, "Fn::Select", "[index, [values]]") else {
            return Ev::at(at, EvValue::Unknown("an invalid expression".into()));
        };
        let [index, list] = items else {
            return self.shape(at, "Fn::Select", "[index, [values]]");
        };
        let index = self.eval(index);
        let list = self.eval(list);
        let i = match (&index.value, index.text()) {
            (EvValue::Unknown(e), _) => return Ev::at(at, EvValue::Unknown(e.clone())),
            (_, Some(s)) => match s.parse::<usize>() {
                Ok(i) => i,
                Err(_) => return self.shape(at, "Fn::Select", "an index that is a whole number"),
            },
            _ => return self.shape(at, "Fn::Select", "an index that is a whole number"),
        };
        match &list.value {
            EvValue::Unknown(e) => Ev::at(at, EvValue::Unknown(e.clone())),
            EvValue::List(items) => match items.get(i) {
                Some(v) => v.clone(),
                None => self.error(
                    at,
                    format!(
                        "`Fn::Select`: index {i} is past the end of a list of {}",
                        items.len()
                    ),
                    "indexes start at 0",
                ),
            },
            _ => self.shape(at, "Fn::Select", "a list to select from"),
        }
    }

    fn split(&mut self, arg: &Node, at: &Node) -> Ev {
        let Some(items) = self.args(arg, at, "Fn::Split", "[delimiter, string]") else {
            return Ev::at(at, EvValue::Unknown("an invalid expression".into()));
        };
        let [delim, text] = items else {
            return self.shape(at, "Fn::Split", "[delimiter, string]");
        };
        let Some(delim) = delim.as_str().filter(|d| !d.is_empty()).map(str::to_owned) else {
            return self.shape(at, "Fn::Split", "a delimiter that is a non-empty string");
        };
        let text = self.eval(text);
        match (&text.value, text.text()) {
            (EvValue::Unknown(e), _) => Ev::at(at, EvValue::Unknown(e.clone())),
            (_, Some(s)) => Ev::at(
                at,
                EvValue::List(
                    s.split(delim.as_str())
                        .map(|p| Ev::at(at, EvValue::String(p.to_owned())))
                        .collect(),
                ),
            ),
            _ => self.shape(at, "Fn::Split", "a string to split"),
        }
    }

    fn find_in_map(&mut self, arg: &Node, at: &Node) -> Ev {
        let Some(items) = self.args(arg, at, "Fn::FindInMap", "[map, top key, second key]") else {
            return Ev::at(at, EvValue::Unknown("an invalid expression".into()));
        };
        let (keys, default) = match items {
            [a, b, c] => ([a, b, c], None),
            [a, b, c, d] if self.t.has_transform(LANGUAGE_EXTENSIONS) => {
                match d.get("DefaultValue") {
                    Some(dv) => ([a, b, c], Some(dv)),
                    None => {
                        return self.shape(
                            at,
                            "Fn::FindInMap",
                            "{DefaultValue: ...} as its fourth item",
                        )
                    }
                }
            }
            _ => return self.shape(at, "Fn::FindInMap", "[map, top key, second key]"),
        };
        let mut names = Vec::new();
        for k in keys {
            let v = self.eval(k);
            match (&v.value, v.text()) {
                (EvValue::Unknown(e), _) => {
                    return Ev::at(at, EvValue::Unknown(format!("Fn::FindInMap uses {e}")))
                }
                (_, Some(s)) => names.push((s, k)),
                _ => return self.shape(at, "Fn::FindInMap", "keys that are strings"),
            }
        }
        let mut node = self.t.mappings;
        for (name, k) in &names {
            node = node.and_then(|n| n.get(name));
            if node.is_none() {
                if let Some(d) = default {
                    return self.eval(d);
                }
                return self.error(
                    k,
                    format!(
                        "`Fn::FindInMap`: `{}` has no key `{name}`",
                        names
                            .iter()
                            .take_while(|(n, _)| n != name)
                            .map(|(n, _)| n.as_str())
                            .fold("Mappings".to_owned(), |a, n| format!("{a}.{n}"))
                    ),
                    "add the key under `Mappings`, or fix the name",
                );
            }
        }
        match node {
            Some(n) => {
                let v = self.eval(n);
                Ev {
                    line: at.line,
                    column: at.column,
                    ..v
                }
            }
            None => Ev::at(at, EvValue::Unknown("an invalid expression".into())),
        }
    }

    fn if_(&mut self, arg: &Node, at: &Node) -> Ev {
        let Some(items) = self.args(
            arg,
            at,
            "Fn::If",
            "[condition, value if true, value if false]",
        ) else {
            return Ev::at(at, EvValue::Unknown("an invalid expression".into()));
        };
        let [cond, yes, no] = items else {
            return self.shape(at, "Fn::If", "[condition, value if true, value if false]");
        };
        let Some(name) = cond.as_str().filter(|_| cond.tag.is_none()) else {
            return self.shape(at, "Fn::If", "a condition's name as its first item");
        };
        let decided = self.condition(name, cond);
        // Both branches are checked for errors; only the one taken is the value, and an
        // undecided condition met only in the other one is no variable.
        let seen = self.undecided.len();
        let yes = self.eval(yes);
        let after_yes = self.undecided.len();
        let no = self.eval(no);
        match decided {
            Ok(true) => {
                self.undecided.truncate(after_yes);
                yes
            }
            Ok(false) => {
                self.undecided.drain(seen..after_yes);
                no
            }
            Err(var) => {
                self.undecided.truncate(seen);
                if !self.undecided.contains(&var) {
                    self.undecided.push(var.clone());
                }
                Ev::at(
                    at,
                    EvValue::Unknown(format!("Fn::If {name} (condition {var} decided at deploy)")),
                )
            }
        }
    }

    fn json_text(&mut self, arg: &Node, at: &Node) -> Ev {
        if !self.t.has_transform(LANGUAGE_EXTENSIONS) {
            return self.error(
                at,
                "`Fn::ToJsonString` needs `Transform: AWS::LanguageExtensions`".into(),
                "add `Transform: AWS::LanguageExtensions` at the top of the template",
            );
        }
        let v = self.eval_untagged(arg, at);
        if let Some(e) = v.unknown() {
            return Ev::at(at, EvValue::Unknown(format!("Fn::ToJsonString uses {e}")));
        }
        match v.value {
            EvValue::Map(_) | EvValue::List(_) => {
                let mut text = String::new();
                compact_json(&v, &mut text);
                Ev::at(at, EvValue::Json(text, Box::new(v)))
            }
            _ => self.shape(at, "Fn::ToJsonString", "an object or a list"),
        }
    }

    fn length(&mut self, arg: &Node, at: &Node) -> Ev {
        if !self.t.has_transform(LANGUAGE_EXTENSIONS) {
            return self.error(
                at,
                "`Fn::Length` needs `Transform: AWS::LanguageExtensions`".into(),
                "add `Transform: AWS::LanguageExtensions` at the top of the template",
            );
        }
        let v = self.eval_untagged(arg, at);
        match &v.value {
            EvValue::Unknown(e) => Ev::at(at, EvValue::Unknown(e.clone())),
            EvValue::List(items) => Ev::at(at, EvValue::Number(items.len().to_string())),
            _ => self.shape(at, "Fn::Length", "a list"),
        }
    }
}

/// The functions this reader evaluates, for hints.
const KNOWN: [&str; 16] = [
    "Ref",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::FindInMap",
    "Fn::If",
    "Fn::ImportValue",
    "Fn::Base64",
    "Fn::ToJsonString",
    "Fn::Length",
    "Fn::GetAZs",
    "Fn::Cidr",
    "Fn::Transform",
    "Fn::Equals",
];
