//! A template's sections as the evaluator needs them: parameters with the value each
//! takes, mappings, conditions and resources, checked for shape.

use std::collections::BTreeMap;

use crate::tree::{Key, Node, Value};
use crate::{IacError, Options};

/// The transform that makes a template a SAM template.
pub(crate) const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";
/// The transform that brings `Fn::ToJsonString`, `Fn::Length` and `FindInMap` defaults.
pub(crate) const LANGUAGE_EXTENSIONS: &str = "AWS::LanguageExtensions";

/// AWS transforms that do not change the resources a template writes out (SAM expands
/// only `AWS::Serverless::*` resources; the others add resources of their own).
const PREDICTABLE_TRANSFORMS: [&str; 4] = [
    SAM_TRANSFORM,
    LANGUAGE_EXTENSIONS,
    "AWS::SecretsManager-2020-07-23",
    "AWS::CodeDeployBlueGreen",
];

/// A parameter's value for this read.
#[derive(Debug, Clone)]
pub(crate) enum ParamValue {
    /// From `--parameter` or the `Default`.
    Known(String),
    /// Neither given nor defaulted, or resolved by AWS at deploy (an SSM parameter type):
    /// why, for the unknown's expression.
    Unknown(&'static str),
}

/// A declared parameter.
#[derive(Debug, Clone)]
pub(crate) struct Parameter {
    pub value: ParamValue,
    /// `CommaDelimitedList` and `List<...>` types: a `Ref` gives a list.
    pub is_list: bool,
}

/// A declared resource.
#[derive(Debug)]
pub(crate) struct Resource<'a> {
    pub key: &'a Key,
    pub node: &'a Node,
    pub type_name: &'a str,
    /// The name of its `Condition`, if any.
    pub condition: Option<&'a str>,
    pub properties: Option<&'a Node>,
}

/// The sections of a template.
#[derive(Debug)]
pub(crate) struct Template<'a> {
    pub parameters: BTreeMap<&'a str, Parameter>,
    pub mappings: Option<&'a Node>,
    pub conditions: BTreeMap<&'a str, &'a Node>,
    pub resources: Vec<Resource<'a>>,
    pub outputs: Option<&'a Node>,
    pub transforms: Vec<String>,
}

impl<'a> Template<'a> {
    /// Reads the sections, pushing what is wrong onto `errors`.
    pub(crate) fn new(
        file: &str,
        root: &'a Node,
        opts: &Options,
        errors: &mut Vec<IacError>,
    ) -> Template<'a> {
        let mut t = Template {
            parameters: BTreeMap::new(),
            mappings: root.get("Mappings"),
            conditions: BTreeMap::new(),
            resources: Vec::new(),
            outputs: root.get("Outputs"),
            transforms: transforms(root),
        };
        let err = |n: &Node, msg: String, hint: &str| {
            IacError::new(file, n.line as usize, n.column as usize, msg).with_hint(hint)
        };
        if let Some(params) = root.get("Parameters") {
            for (k, p) in entries(params) {
                match parameter(k, p, opts) {
                    Ok(param) => {
                        t.parameters.insert(k.name.as_str(), param);
                    }
                    Err((n, msg, hint)) => errors.push(err(n, msg, hint)),
                }
            }
        }
        if let Some(conds) = root.get("Conditions") {
            for (k, c) in entries(conds) {
                t.conditions.insert(k.name.as_str(), c);
            }
        }
        match root.get("Resources") {
            None => errors.push(
                IacError::new(file, 1, 1, "the template has no `Resources` section")
                    .with_hint("CloudFormation requires `Resources` with at least one resource"),
            ),
            Some(res) if !matches!(res.value, Value::Map(_)) => errors.push(err(
                res,
                format!("`Resources` must be a mapping, found {}", res.describe()),
                "write each resource as `LogicalId: {Type: ..., Properties: ...}`",
            )),
            Some(res) => {
                for (k, r) in entries(res) {
                    match resource(k, r) {
                        Ok(r) => t.resources.push(r),
                        Err((n, msg, hint)) => errors.push(err(n, msg, hint)),
                    }
                }
            }
        }
        t
    }

    /// Whether the template declares `transform`.
    pub(crate) fn has_transform(&self, transform: &str) -> bool {
        self.transforms.iter().any(|t| t == transform)
    }

    /// The transforms that are macros whose output cannot be predicted: all but the
    /// AWS transforms that leave other resources as written.
    pub(crate) fn macros(&self) -> impl Iterator<Item = &str> {
        self.transforms
            .iter()
            .map(String::as_str)
            .filter(|t| !PREDICTABLE_TRANSFORMS.contains(t))
    }

    /// The resource named `id`.
    pub(crate) fn resource(&self, id: &str) -> Option<&Resource<'a>> {
        self.resources.iter().find(|r| r.key.name == id)
    }
}

/// The keys a resource may have.
const RESOURCE_ATTRIBUTES: [&str; 9] = [
    "Type",
    "Properties",
    "Condition",
    "DependsOn",
    "Metadata",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "UpdatePolicy",
    "CreationPolicy",
];

type Problem<'a> = (&'a Node, String, &'static str);

/// The entries of a mapping (none for anything else).
pub(crate) fn entries(n: &Node) -> &[(Key, Node)] {
    match &n.value {
        Value::Map(e) => e,
        _ => &[],
    }
}

fn transforms(root: &Node) -> Vec<String> {
    // A transform is a name, or a mapping with `Name` and `Parameters` (`AWS::Include`).
    let name = |n: &Node| match &n.value {
        Value::Map(_) => n
            .get("Name")
            .and_then(Node::as_str)
            .unwrap_or("a transform without a name")
            .to_owned(),
        _ => n
            .as_str()
            .unwrap_or("a transform that is not a name")
            .to_owned(),
    };
    match root.get("Transform") {
        None => Vec::new(),
        Some(Node {
            value: Value::Seq(items),
            ..
        }) => items.iter().map(name).collect(),
        Some(t) => vec![name(t)],
    }
}

fn resource<'a>(key: &'a Key, node: &'a Node) -> Result<Resource<'a>, Problem<'a>> {
    if key.name.starts_with("Fn::ForEach") {
        return Err((
            node,
            format!("`{}` loops are not expanded", key.name),
            "write the resources out: a loop could declare data stores that would go unaudited",
        ));
    }
    let Value::Map(_) = node.value else {
        return Err((
            node,
            format!(
                "resource `{}` must be a mapping, found {}",
                key.name,
                node.describe()
            ),
            "write `Type:` and `Properties:` under the logical id",
        ));
    };
    let type_name = match node.get("Type") {
        Some(t) => match (&t.value, &t.tag) {
            (Value::String(s), None) => s.as_str(),
            _ => {
                return Err((
                    t,
                    format!("the `Type` of `{}` must be text", key.name),
                    "for example `Type: AWS::HealthLake::FHIRDatastore`",
                ))
            }
        },
        None => {
            return Err((
                node,
                format!("resource `{}` has no `Type`", key.name),
                "for example `Type: AWS::HealthLake::FHIRDatastore`",
            ))
        }
    };
    if type_name == crate::cfn_datastore::DATASTORE_TYPE {
        if let Some((k, _)) = entries(node)
            .iter()
            .find(|(k, _)| !RESOURCE_ATTRIBUTES.contains(&k.name.as_str()))
        {
            let at = node.get(&k.name).unwrap_or(node);
            return Err((
                at,
                format!(
                    "`{}` is not a resource attribute (resource `{}`)",
                    k.name, key.name
                ),
                "a resource has Type, Properties, Condition, DependsOn, Metadata, \
                 DeletionPolicy, UpdateReplacePolicy, UpdatePolicy and CreationPolicy",
            ));
        }
    }
    let condition = match node.get("Condition") {
        None => None,
        Some(c) => match (&c.value, &c.tag) {
            (Value::String(s), None) => Some(s.as_str()),
            _ => {
                return Err((
                    c,
                    format!(
                        "the `Condition` of `{}` must be a condition's name",
                        key.name
                    ),
                    "name a condition declared under `Conditions`",
                ))
            }
        },
    };
    Ok(Resource {
        key,
        node,
        type_name,
        condition,
        properties: node.get("Properties"),
    })
}

fn parameter<'a>(key: &'a Key, p: &'a Node, opts: &Options) -> Result<Parameter, Problem<'a>> {
    let Some(type_node) = p.get("Type") else {
        return Err((
            p,
            format!("parameter `{}` has no `Type`", key.name),
            "add `Type: String` (or Number, CommaDelimitedList, ...)",
        ));
    };
    let type_name = type_node.as_str().unwrap_or("");
    if !is_parameter_type(type_name) {
        return Err((
            type_node,
            format!(
                "parameter `{}` has the unknown Type `{type_name}`",
                key.name
            ),
            "use String, Number, List<Number>, CommaDelimitedList, an AWS-specific type \
             (AWS::EC2::VPC::Id, ...) or an SSM parameter type",
        ));
    }
    let is_list = type_name == "CommaDelimitedList" || type_name.starts_with("List<");
    let given = opts.parameters.get(&key.name);
    let default = p.get("Default").and_then(Node::as_str);
    // An SSM parameter type is looked up by AWS at deploy: the text given is the name of
    // the SSM parameter, not the value.
    if type_name.starts_with("AWS::SSM::Parameter::Value<") {
        return Ok(Parameter {
            value: ParamValue::Unknown("an SSM parameter, looked up at deploy"),
            is_list,
        });
    }
    let (value, from) = match (given, default) {
        (Some(v), _) => (v.clone(), "--parameter"),
        (None, Some(d)) => (d.to_owned(), "Default"),
        (None, None) => {
            return Ok(Parameter {
                value: ParamValue::Unknown("parameter without Default or --parameter"),
                is_list,
            })
        }
    };
    check_value(key, p, type_node, type_name, &value, from)?;
    Ok(Parameter {
        value: ParamValue::Known(value),
        is_list,
    })
}

/// Checks `MinLength`/`MaxLength` (of text) and `MinValue`/`MaxValue` (of a number).
fn check_bounds<'a>(key: &'a Key, p: &'a Node, value: &str, from: &str) -> Option<Problem<'a>> {
    let number = |n: &Node| n.as_str().and_then(|s| s.parse::<f64>().ok());
    let length = value.chars().count() as f64;
    let checks: [(&str, Option<f64>, bool); 4] = [
        ("MinLength", Some(length), true),
        ("MaxLength", Some(length), false),
        ("MinValue", value.parse::<f64>().ok(), true),
        ("MaxValue", value.parse::<f64>().ok(), false),
    ];
    for (name, actual, is_min) in checks {
        let (Some(bound_node), Some(actual)) = (p.get(name), actual) else {
            continue;
        };
        let Some(bound) = number(bound_node) else {
            continue;
        };
        if (is_min && actual < bound) || (!is_min && actual > bound) {
            return Some((
                bound_node,
                format!(
                    "parameter `{}`: its {from} value `{value}` is outside its {name} of {}",
                    key.name,
                    bound_node.as_str().unwrap_or_default()
                ),
                "give a value within the parameter's bounds",
            ));
        }
    }
    None
}

/// Whether CloudFormation knows the parameter type.
fn is_parameter_type(t: &str) -> bool {
    matches!(
        t,
        "String" | "Number" | "List<Number>" | "CommaDelimitedList"
    ) || t.starts_with("AWS::")
        || t.starts_with("List<AWS::")
}

/// Checks a parameter's value against its `Type`, `AllowedValues` and `AllowedPattern`.
fn check_value<'a>(
    key: &'a Key,
    p: &'a Node,
    type_node: &'a Node,
    type_name: &str,
    value: &str,
    from: &str,
) -> Result<(), Problem<'a>> {
    let name = &key.name;
    let numbers = |v: &str| v.split(',').all(|x| crate::tree::is_number(x.trim()));
    let type_ok = match type_name {
        "Number" => crate::tree::is_number(value),
        "List<Number>" => numbers(value),
        _ => true,
    };
    if !type_ok {
        return Err((
            type_node,
            format!("parameter `{name}` is a {type_name}, but its {from} value `{value}` is not"),
            "give a number",
        ));
    }
    if let Some(problem) = check_bounds(key, p, value, from) {
        return Err(problem);
    }
    if let Some(allowed) = p.get("AllowedValues") {
        let values: Vec<&str> = match &allowed.value {
            Value::Seq(items) => items.iter().filter_map(Node::as_str).collect(),
            _ => Vec::new(),
        };
        let items: Vec<&str> =
            if type_name == "CommaDelimitedList" || type_name.starts_with("List<") {
                value.split(',').map(str::trim).collect()
            } else {
                vec![value]
            };
        if let Some(bad) = items.iter().find(|v| !values.contains(v)) {
            return Err((
                allowed,
                format!(
                    "parameter `{name}`: its {from} value `{bad}` is not one of the AllowedValues"
                ),
                "give one of the values listed here",
            ));
        }
    }
    if let Some((pattern, at)) = p
        .get("AllowedPattern")
        .and_then(|n| n.as_str().map(|s| (s, n)))
    {
        // CloudFormation matches the whole value.
        let Ok(re) = regex::Regex::new(&format!("^(?:{pattern})$")) else {
            return Err((
                at,
                format!("parameter `{name}`: the AllowedPattern is not a valid pattern"),
                "write a regular expression",
            ));
        };
        if !re.is_match(value) {
            return Err((
                at,
                format!(
                    "parameter `{name}`: its {from} value `{value}` does not match the AllowedPattern"
                ),
                "give a value that matches the pattern",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(text: &str, opts: &Options) -> (Vec<IacError>, Vec<(String, String)>) {
        let root = crate::tree::parse("t.yaml", text).unwrap_or_else(|e| panic!("{e}"));
        let mut errors = Vec::new();
        let t = Template::new("t.yaml", &root, opts, &mut errors);
        let params = t
            .parameters
            .iter()
            .map(|(k, p)| {
                let v = match &p.value {
                    ParamValue::Known(v) => v.clone(),
                    ParamValue::Unknown(why) => format!("? {why}"),
                };
                ((*k).to_owned(), v)
            })
            .collect();
        (errors, params)
    }

    #[test]
    fn parameters_take_the_given_value_over_the_default() {
        let text = "Parameters:\n  A:\n    Type: String\n    Default: x\n  B:\n    Type: String\n  C:\n    Type: AWS::SSM::Parameter::Value<String>\n    Default: /p\nResources: {}\n";
        let mut opts = Options::default();
        let (errors, params) = template(text, &opts);
        assert!(errors.is_empty());
        assert_eq!(params[0], ("A".into(), "x".into()));
        assert!(params[1].1.starts_with("? parameter without Default"));
        assert!(params[2].1.contains("SSM"));
        opts.parameters.insert("A".into(), "y".into());
        assert_eq!(template(text, &opts).1[0].1, "y");
    }

    #[test]
    fn parameter_values_are_checked_against_type_and_constraints() {
        let text = "Parameters:\n  L:\n    Type: String\n    Default: abcdef\n    MaxLength: 3\n  N:\n    Type: Number\n    Default: ten\n  P:\n    Type: String\n    Default: abc\n    AllowedPattern: '[a-z]{2}'\n  T:\n    Type: Strin\nResources: {}\n";
        let (errors, _) = template(text, &Options::default());
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(errors.len(), 4, "{messages:?}");
        assert!(messages[0].contains("outside its MaxLength of 3"));
        assert!(messages[1].contains("is a Number"));
        assert!(messages[2].contains("AllowedPattern"));
        assert!(messages[3].contains("unknown Type `Strin`"));
    }

    #[test]
    fn resources_need_a_type_and_known_attributes() {
        let text = "Resources:\n  A:\n    Properties: {}\n  S:\n    Type: AWS::HealthLake::FHIRDatastore\n    Propertys: {}\n";
        let (errors, _) = template(text, &Options::default());
        assert_eq!(errors.len(), 2);
        assert!(errors[0].message.contains("has no `Type`"));
        assert!(errors[1]
            .message
            .contains("`Propertys` is not a resource attribute"));
        let (errors, _) = template("Description: x\n", &Options::default());
        assert!(errors[0].message.contains("no `Resources`"));
    }
}
