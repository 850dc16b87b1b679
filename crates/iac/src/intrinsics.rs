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
                format!("use one of {}", KNOWN.join(", ")),
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

    /// `Ref` (attr `None`) or `Fn::GetAtt` of a resource of this template.
    fn resource_value(&mut self, id: &str, attr: Option<&str>, at: &Node) -> Ev {
        let written = match attr {
            Some(a) => format!("Fn::GetAtt {id}.{a}"),
            None => format!("Ref {id}"),
        };
        let Some(r) = self.t.resource(id) else {
            return Ev::at(at, EvValue::Unknown(written));
        };
        if self.depth > 16 {
            return Ev::at(
                at,
                EvValue::Unknown(format!("{written} (refers to itself)")),
            );
        }
        let (type_name, props) = (r.type_name, r.properties);
        self.depth += 1;
        let value = self.predicted(type_name, props, attr, &written);
        self.depth -= 1;
        Ev::at(at, value)
    }

    /// What AWS will give for a resource's `Ref` or attribute, when predictable.
    fn predicted(
        &mut self,
        type_name: &str,
        props: Option<&Node>,
        attr: Option<&str>,
        written: &str,
    ) -> EvValue {
        let prop = |me: &mut Self, name: &str| -> Result<String, String> {
            match props.and_then(|p| p.get(name)) {
                None => Err(format!("{written} ({name} generated at deploy)")),
                Some(n) => {
                    let v = me.eval(n);
                    match (&v.value, v.text()) {
                        (EvValue::Unknown(e), _) => Err(e.clone()),
                        (_, Some(s)) => Ok(s),
                        _ => Err(format!("{written} ({name} not text)")),
                    }
                }
            }
        };
        let result: Result<String, String> = match (type_name, attr) {
            ("AWS::KMS::Key", None | Some("KeyId")) => Ok(KEY_ID_PLACEHOLDER.to_owned()),
            ("AWS::KMS::Key", Some("Arn")) => {
                self.arn("kms", &format!("key/{KEY_ID_PLACEHOLDER}"), written)
            }
            ("AWS::KMS::Alias", None) => prop(self, "AliasName"),
            ("AWS::Lambda::Function" | "AWS::Serverless::Function", None) => {
                prop(self, "FunctionName")
            }
            ("AWS::Lambda::Function" | "AWS::Serverless::Function", Some("Arn")) => {
                match prop(self, "FunctionName") {
                    Ok(name) => self.arn("lambda", &format!("function:{name}"), written),
                    Err(e) => Err(e),
                }
            }
            ("AWS::Lambda::Version", None) => self
                .function_arn(props, written)
                .map(|f| format!("{f}:{VERSION_PLACEHOLDER}")),
            ("AWS::Lambda::Version", Some("Version")) => Ok(VERSION_PLACEHOLDER.to_owned()),
            ("AWS::Lambda::Alias", None | Some("AliasArn")) => {
                match (self.function_arn(props, written), prop(self, "Name")) {
                    (Ok(f), Ok(name)) => Ok(format!("{f}:{name}")),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                }
            }
            (_, None) => Err(format!(
                "{written} (the physical id of a {type_name}, known at deploy)"
            )),
            (_, Some(_)) => Err(format!("{written} (known at deploy)")),
        };
        match result {
            Ok(s) => EvValue::String(s),
            Err(e) => EvValue::Unknown(e),
        }
    }

    /// The ARN of the function a Lambda version or alias names in `FunctionName` (a
    /// name, a partial ARN or an ARN).
    fn function_arn(&mut self, props: Option<&Node>, written: &str) -> Result<String, String> {
        let Some(n) = props.and_then(|p| p.get("FunctionName")) else {
            return Err(format!("{written} (no FunctionName)"));
        };
        let v = self.eval(n);
        let name = match (&v.value, v.text()) {
            (EvValue::Unknown(e), _) => return Err(e.clone()),
            (_, Some(s)) => s,
            _ => return Err(format!("{written} (FunctionName not text)")),
        };
        if name.starts_with("arn:") {
            return Ok(name);
        }
        self.arn("lambda", &format!("function:{name}"), written)
    }

    /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, when the context is known.
    fn arn(&self, service: &str, resource: &str, written: &str) -> Result<String, String> {
        let ctx = &self.opts.context;
        match (self.partition(), &ctx.region, &ctx.account) {
            (Some(p), Some(r), Some(a)) => Ok(format!("arn:{p}:{service}:{r}:{a}:{resource}")),
            (_, None, _) => Err(format!("{written} (region unknown: give --region)")),
            (_, _, None) => Err(format!("{written} (account unknown: give --account)")),
            (None, _, _) => Err(format!("{written} (partition unknown)")),
        }
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

    /// The value of the condition named `name` (referred to at `at`).
    pub(crate) fn condition(&mut self, name: &str, at: &Node) -> Decided {
        if let Some(v) = self.assume.get(name) {
            return Ok(*v);
        }
        let Some(node) = self.t.conditions.get(name).copied() else {
            let _ = self.error(
                at,
                format!("there is no condition `{name}`"),
                match closest(name, self.t.conditions.keys().copied().collect()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "declare it under `Conditions`".to_owned(),
                },
            );
            return Ok(false);
        };
        if let Some(start) = self.cond_stack.iter().position(|c| c == name) {
            self.cycle(start);
            return Ok(false);
        }
        self.cond_stack.push(name.to_owned());
        let v = self.cond_expr(node, name);
        self.cond_stack.pop();
        v
    }

    /// Reports the cycle of conditions from `cond_stack[start]` once, the same way
    /// whichever condition it was entered from: starting at its first name in order, at
    /// that condition's position.
    fn cycle(&mut self, start: usize) {
        let mut members: Vec<String> = self.cond_stack[start..].to_vec();
        let Some(first) = members
            .iter()
            .enumerate()
            .min_by_key(|(_, n)| *n)
            .map(|(i, _)| i)
        else {
            return;
        };
        members.rotate_left(first);
        if self.cycles.contains(&members) {
            return;
        }
        let at = self.t.conditions.get(members[0].as_str()).copied();
        let shown = format!("{} -> {}", members.join(" -> "), members[0]);
        self.cycles.push(members);
        if let Some(at) = at {
            let _ = self.error(
                at,
                format!("the conditions refer to each other in a cycle: {shown}"),
                "a condition cannot depend on itself",
            );
        }
    }

    /// A condition expression, inside condition `owner`.
    fn cond_expr(&mut self, n: &Node, owner: &str) -> Decided {
        let (name, arg) = match (&n.tag, &n.value) {
            (Some(tag), _) if tag.starts_with('!') && !tag.starts_with("!!") => {
                let short = &tag[1..];
                let name = if short == "Condition" {
                    short.to_owned()
                } else {
                    format!("Fn::{short}")
                };
                (name, n)
            }
            (None, Value::Map(entries)) if entries.len() == 1 => {
                (entries[0].0.name.clone(), &entries[0].1)
            }
            _ => {
                let _ = self.error(
                    n,
                    format!("a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition, found {}", n.describe()),
                    "for example `!Equals [!Ref Env, prod]`",
                );
                return Ok(false);
            }
        };
        let items: &[Node] = match &arg.value {
            Value::Seq(items) => items,
            _ => &[],
        };
        match name.as_str() {
            "Condition" => match arg.as_str() {
                Some(c) => self.condition(c, arg),
                None => {
                    let _ = self.shape(n, "Condition", "a condition's name");
                    Ok(false)
                }
            },
            "Fn::Equals" => {
                let [a, b] = items else {
                    let _ = self.shape(n, "Fn::Equals", "[value, value]");
                    return Ok(false);
                };
                let (a, b) = (self.eval(a), self.eval(b));
                if a.unknown().is_some() || b.unknown().is_some() {
                    return Err(owner.to_owned());
                }
                Ok(same(&a, &b))
            }
            "Fn::Not" => match items {
                [c] => self.cond_expr(c, owner).map(|v| !v),
                _ => {
                    let _ = self.shape(n, "Fn::Not", "[condition]");
                    Ok(false)
                }
            },
            "Fn::And" | "Fn::Or" => {
                if !(2..=10).contains(&items.len()) {
                    let _ = self.shape(n, &name, "a list of 2 to 10 conditions");
                    return Ok(false);
                }
                let values: Vec<Decided> = items.iter().map(|c| self.cond_expr(c, owner)).collect();
                let decisive = name == "Fn::Or";
                if values.contains(&Ok(decisive)) {
                    return Ok(decisive);
                }
                match values.into_iter().find_map(Result::err) {
                    Some(var) => Err(var),
                    None => Ok(!decisive),
                }
            }
            other => {
                let _ = self.error(
                    n,
                    format!("`{other}` is not a condition function"),
                    "use Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition",
                );
                Ok(false)
            }
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
    "Fn::Equals (in Conditions)",
];

/// `Fn::Equals`: values compare as CloudFormation compares them, as text.
fn same(a: &Ev, b: &Ev) -> bool {
    match (&a.value, &b.value) {
        (EvValue::List(x), EvValue::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => match (a.text(), b.text()) {
            (Some(x), Some(y)) => x == y,
            _ => a.value == b.value,
        },
    }
}

/// The partition of a context: as given, else derived from the region when it is a
/// standard one (`cn-*` in `aws-cn`, `us-gov-*` in `aws-us-gov`, other commercial
/// regions in `aws`); unknown otherwise.
pub(crate) fn partition_of(ctx: &hlaudit_model::Context) -> Option<String> {
    if let Some(p) = &ctx.partition {
        return Some(p.clone());
    }
    let region = ctx.region.as_deref()?;
    let parts: Vec<&str> = region.split('-').collect();
    let standard = parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && parts[0].len() == 2;
    if !standard || region.contains("-iso") {
        return None;
    }
    Some(
        if region.starts_with("cn-") {
            "aws-cn"
        } else if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
        .to_owned(),
    )
}

fn url_suffix(partition: &str) -> &'static str {
    if partition == "aws-cn" {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

/// The closest of `names` to `name`, when close enough to suggest.
pub(crate) fn closest<'n>(name: &str, names: Vec<&'n str>) -> Option<&'n str> {
    names
        .into_iter()
        .map(|n| (edit_distance(&name.to_lowercase(), &n.to_lowercase()), n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// JSON as `Fn::ToJsonString` writes it: compact, keys in the order written.
fn compact_json(v: &Ev, out: &mut String) {
    match &v.value {
        EvValue::Null | EvValue::NoValue | EvValue::Unknown(_) => out.push_str("null"),
        EvValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        EvValue::Number(n) => {
            if serde_json::from_str::<serde_json::Number>(n).is_ok() {
                out.push_str(n);
            } else {
                out.push_str(&json_string(n));
            }
        }
        EvValue::String(s) | EvValue::Json(s, _) => out.push_str(&json_string(s)),
        EvValue::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                compact_json(item, out);
            }
            out.push(']');
        }
        EvValue::Map(entries) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_string(&k.name));
                out.push(':');
                compact_json(item, out);
            }
            out.push('}');
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"hello world"), "aGVsbG8gd29ybGQ=");
    }

    #[test]
    fn partitions_follow_the_region() {
        let ctx = |r: &str| hlaudit_model::Context {
            region: Some(r.into()),
            ..Default::default()
        };
        assert_eq!(partition_of(&ctx("us-east-1")).as_deref(), Some("aws"));
        assert_eq!(partition_of(&ctx("cn-north-1")).as_deref(), Some("aws-cn"));
        assert_eq!(
            partition_of(&ctx("us-gov-west-1")).as_deref(),
            Some("aws-us-gov")
        );
        assert_eq!(partition_of(&ctx("us-iso-east-1")), None);
        assert_eq!(partition_of(&ctx("moon")), None);
        assert_eq!(partition_of(&hlaudit_model::Context::default()), None);
    }

    #[test]
    fn suggestions_are_close_names_only() {
        assert_eq!(closest("KmsKye", vec!["KmsKey", "Store"]), Some("KmsKey"));
        assert_eq!(closest("Zebra", vec!["KmsKey", "Store"]), None);
    }
}
