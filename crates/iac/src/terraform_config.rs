//! The `configuration` section of a plan: what the `.tf` files say about a resource, for
//! what the plan itself cannot say.
//!
//! Two questions are asked of it. Whether an attribute that is "known after apply" is
//! written in the configuration at all: an optional attribute left out is computed by
//! the service (its schema default applies), while one written as `aws_kms_key.k.arn`
//! is a value nobody knows before apply. And, for the latter, which references give it,
//! so a finding can say `known after apply (module.health.aws_kms_key.k.arn)`. Also the
//! region of the `awscc` provider configuration.

use serde_json::{Map, Value as Json};

/// The `configuration` section, parsed.
pub(crate) struct Configuration<'a> {
    root: &'a Json,
    /// Input variable values (the plan's top-level `variables`).
    variables: Option<&'a Json>,
}

/// A resource's configuration: its `expressions` and the module calls leading to it.
pub(crate) struct ResourceConfig<'a> {
    expressions: &'a Json,
    /// From the root: (instance address prefix `module.a["x"]`, module call).
    calls: Vec<(String, &'a Json)>,
    /// The configuration of the resource's provider, when found.
    provider: Option<&'a Json>,
    config: &'a Configuration<'a>,
}

/// What the configuration writes at an attribute path.
#[derive(Debug, PartialEq)]
pub(crate) enum Written {
    /// Not written: the provider or service decides the value.
    No,
    /// Written as a constant.
    Constant,
    /// Written as an expression over these references (possibly none).
    Expression(Vec<String>),
}

impl<'a> Configuration<'a> {
    /// The configuration of a plan (`configuration`) and its input variable values.
    pub(crate) fn new(root: &'a Json, variables: Option<&'a Json>) -> Self {
        Configuration { root, variables }
    }

    /// The configuration of the managed resource `kind.name` in the module instance
    /// `module_address` (`module.health["a"]`, empty for the root module).
    pub(crate) fn resource(
        &'a self,
        module_address: &str,
        kind: &str,
        name: &str,
    ) -> Option<ResourceConfig<'a>> {
        let mut module = self.root.get("root_module")?;
        let mut calls = Vec::new();
        let mut prefix = String::new();
        for (call, index) in module_path(module_address)? {
            let c = module.get("module_calls")?.get(&call)?;
            prefix = format!(
                "{}{}module.{call}{index}",
                prefix,
                if prefix.is_empty() { "" } else { "." }
            );
            calls.push((prefix.clone(), c));
            module = c.get("module")?;
        }
        let resource = module.get("resources")?.as_array()?.iter().find(|r| {
            r.get("mode").and_then(Json::as_str) == Some("managed")
                && r.get("type").and_then(Json::as_str) == Some(kind)
                && r.get("name").and_then(Json::as_str) == Some(name)
        })?;
        let provider = resource
            .get("provider_config_key")
            .and_then(Json::as_str)
            .and_then(|key| self.provider(key));
        Some(ResourceConfig {
            expressions: resource.get("expressions").unwrap_or(&Json::Null),
            calls,
            provider,
            config: self,
        })
    }

    /// The provider configuration named `key` (`awscc`, `awscc.west`, `health:awscc`).
    fn provider(&self, key: &str) -> Option<&'a Json> {
        let configs = self.root.get("provider_config")?;
        configs
            .get(key)
            .or_else(|| configs.get(key.rsplit(':').next().unwrap_or(key)))
    }

    /// The `awscc` provider configuration of the root module.
    pub(crate) fn default_provider(&self) -> Option<&'a Json> {
        self.provider("awscc")
    }

    /// The region a provider configuration names: a constant, or an input variable
    /// whose value the plan holds.
    pub(crate) fn region_of(&self, provider: &Json) -> Option<String> {
        let region = provider.get("expressions")?.get("region")?;
        if let Some(s) = region.get("constant_value").and_then(Json::as_str) {
            return Some(s.to_owned());
        }
        let refs = references(region);
        let [only] = refs.as_slice() else {
            return None;
        };
        let name = only.strip_prefix("var.")?;
        self.variables?
            .get(name)?
            .get("value")?
            .as_str()
            .map(str::to_owned)
    }
}

impl ResourceConfig<'_> {
    /// What the configuration writes at the attribute path `path` (snake_case names).
    pub(crate) fn written(&self, path: &[&str]) -> Written {
        let Some((first, rest)) = path.split_first() else {
            return Written::No;
        };
        let Some(mut node) = self.expressions.get(*first) else {
            return Written::No;
        };
        let mut rest = rest.iter();
        loop {
            // A nested block is a list of blocks; audit the first.
            if let Json::Array(items) = node {
                match items.first() {
                    Some(n) => node = n,
                    None => return Written::No,
                }
                continue;
            }
            let Json::Object(map) = node else {
                return Written::No;
            };
            if let Some(constant) = map.get("constant_value") {
                let mut value = constant;
                for name in rest {
                    match value.get(*name) {
                        Some(Json::Null) | None => return Written::No,
                        Some(v) => value = v,
                    }
                }
                return Written::Constant;
            }
            if is_expression(map) {
                return Written::Expression(self.qualify(0, &references(node)));
            }
            let Some(name) = rest.next() else {
                return Written::Expression(Vec::new());
            };
            match map.get(*name) {
                Some(n) => node = n,
                None => return Written::No,
            }
        }
    }

    /// `known after apply`, with the references that give the value when known.
    pub(crate) fn unknown_expression(&self, path: &[&str]) -> String {
        match self.written(path) {
            Written::Expression(refs) if !refs.is_empty() => {
                format!("known after apply ({})", refs.join(", "))
            }
            _ => "known after apply".to_owned(),
        }
    }

    /// The region of the resource's provider configuration.
    pub(crate) fn region(&self) -> Option<String> {
        self.provider
            .or_else(|| self.config.default_provider())
            .and_then(|p| self.config.region_of(p))
    }

    /// References as seen from the root: `var.x` in a module is followed to the
    /// module call's argument, other references get the module instance's address.
    fn qualify(&self, skip: usize, refs: &[String]) -> Vec<String> {
        let depth = self.calls.len().saturating_sub(skip);
        let mut out = Vec::new();
        for r in refs {
            let followed = match (r.strip_prefix("var."), depth.checked_sub(1)) {
                (Some(var), Some(at)) => self.calls[at]
                    .1
                    .get("expressions")
                    .and_then(|e| e.get(var.split('.').next().unwrap_or(var)))
                    .map(|e| self.qualify(skip + 1, &references(e))),
                _ => None,
            };
            match followed {
                Some(list) if !list.is_empty() => out.extend(list),
                _ => out.push(match depth.checked_sub(1) {
                    Some(at) => format!("{}.{r}", self.calls[at].0),
                    None => r.clone(),
                }),
            }
        }
        out.dedup();
        out
    }
}

/// Whether an object is an expression (`constant_value`, `references`, or nothing when
/// neither is known) rather than the attributes of a nested block.
fn is_expression(map: &Map<String, Json>) -> bool {
    map.is_empty()
        || map.contains_key("references")
        || map.keys().all(|k| k == "constant_value" || k == "source")
}

/// The references of an expression that name values (`aws_kms_key.k.arn`), without
/// those another one refines (`aws_kms_key.k`) and without `count.index`, `each.*`,
/// `path.*` and `terraform.*`.
fn references(expression: &Json) -> Vec<String> {
    let all: Vec<&str> = expression
        .get("references")
        .and_then(Json::as_array)
        .map(|l| l.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    let wanted = |r: &str| {
        !["count.", "each.", "path.", "terraform."]
            .iter()
            .any(|p| r.starts_with(p))
    };
    let refined = |r: &str| {
        all.iter().any(|o| {
            o.len() > r.len() && o.starts_with(r) && matches!(o.as_bytes()[r.len()], b'.' | b'[')
        })
    };
    let mut out: Vec<String> = Vec::new();
    for r in all.iter().copied().filter(|r| wanted(r)) {
        if !refined(r) && !out.iter().any(|o| o == r) {
            out.push(r.to_owned());
        }
    }
    out
}

/// The module calls of a module instance address: `module.a["x"].module.b[0]` gives
/// `[("a", "[\"x\"]"), ("b", "[0]")]`; `None` when it is not such an address.
pub(crate) fn module_path(address: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = address;
    while !rest.is_empty() {
        rest = rest.strip_prefix("module.")?;
        let name_end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        let (name, after) = rest.split_at(name_end);
        if name.is_empty() {
            return None;
        }
        let index_len = index_length(after)?;
        out.push((name.to_owned(), after[..index_len].to_owned()));
        rest = &after[index_len..];
        if !rest.is_empty() {
            rest = rest.strip_prefix('.')?;
        }
    }
    Some(out)
}

/// The length of the instance key (`[0]`, `["a.b"]`) at the start of `s`, 0 when none.
fn index_length(s: &str) -> Option<usize> {
    if !s.starts_with('[') {
        return Some(0);
    }
    let b = s.as_bytes();
    let mut i = 1;
    let mut in_string = false;
    while i < b.len() {
        match b[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b']' if !in_string => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn module_addresses_split_into_calls_and_keys() {
        assert_eq!(module_path(""), Some(vec![]));
        assert_eq!(
            module_path("module.a[\"x.y]\"].module.b[0]"),
            Some(vec![
                ("a".into(), "[\"x.y]\"]".into()),
                ("b".into(), "[0]".into())
            ])
        );
        assert_eq!(module_path("aws_kms_key.k"), None);
        assert_eq!(module_path("module.a["), None);
    }

    fn config() -> Json {
        json!({
            "provider_config": {
                "awscc": {"name": "awscc", "expressions": {"region": {"references": ["var.region"]}}}
            },
            "root_module": {
                "resources": [{
                    "address": "awscc_healthlake_fhir_datastore.a", "mode": "managed",
                    "type": "awscc_healthlake_fhir_datastore", "name": "a",
                    "provider_config_key": "awscc",
                    "expressions": {
                        "datastore_type_version": {"constant_value": "R4"},
                        "identity_provider_configuration": {"constant_value": {"authorization_strategy": "AWS_AUTH"}},
                        "sse_configuration": {"references": ["aws_kms_key.k.arn", "aws_kms_key.k"]}
                    }
                }],
                "module_calls": {"health": {
                    "source": "./health",
                    "expressions": {"key_arn": {"references": ["aws_kms_key.shared.arn", "aws_kms_key.shared"]}},
                    "module": {"resources": [{
                        "mode": "managed", "type": "awscc_healthlake_fhir_datastore", "name": "main",
                        "provider_config_key": "module.health:awscc",
                        "expressions": {"sse_configuration": {"references": ["var.key_arn", "each.key"]},
                                        "datastore_name": {"references": ["local.name"]}}
                    }]}
                }}
            }
        })
    }

    #[test]
    fn written_attributes_and_their_references() {
        let c = config();
        let vars = json!({"region": {"value": "eu-west-1"}});
        let conf = Configuration::new(&c, Some(&vars));
        let r = conf
            .resource("", "awscc_healthlake_fhir_datastore", "a")
            .unwrap();
        assert_eq!(r.written(&["preload_data_config"]), Written::No);
        assert_eq!(r.written(&["datastore_type_version"]), Written::Constant);
        assert_eq!(
            r.written(&[
                "identity_provider_configuration",
                "fine_grained_authorization_enabled"
            ]),
            Written::No
        );
        assert_eq!(
            r.unknown_expression(&["sse_configuration", "kms_encryption_config", "kms_key_id"]),
            "known after apply (aws_kms_key.k.arn)"
        );
        assert_eq!(r.region().as_deref(), Some("eu-west-1"));

        let m = conf
            .resource(
                "module.health[\"a\"]",
                "awscc_healthlake_fhir_datastore",
                "main",
            )
            .unwrap();
        assert_eq!(
            m.unknown_expression(&["sse_configuration"]),
            "known after apply (aws_kms_key.shared.arn)"
        );
        assert_eq!(
            m.unknown_expression(&["datastore_name"]),
            "known after apply (module.health[\"a\"].local.name)"
        );
        assert_eq!(m.region().as_deref(), Some("eu-west-1"));
        assert!(conf.resource("module.other", "x", "y").is_none());
    }
}
