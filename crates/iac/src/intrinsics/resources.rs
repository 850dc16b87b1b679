//! What `Ref` and `Fn::GetAtt` of a resource of the same template give: the ARN it will
//! have, where the account, region and partition are known and AWS's naming is
//! predictable, with placeholders for what AWS assigns at deploy; unknown otherwise.

use hlaudit_model::Context;

use super::{Ev, EvValue, Evaluator, KEY_ID_PLACEHOLDER, VERSION_PLACEHOLDER};
use crate::tree::Node;

impl Evaluator<'_, '_> {
    /// `Ref` (attr `None`) or `Fn::GetAtt` of a resource of this template.
    pub(super) fn resource_value(&mut self, id: &str, attr: Option<&str>, at: &Node) -> Ev {
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
                        (EvValue::Unknown(e), _) => Err(format!("{written} uses {e}")),
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
            (EvValue::Unknown(e), _) => return Err(format!("{written} uses {e}")),
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
}

/// The partition of a context: as given, else derived from the region when it is a
/// standard one (`cn-*` in `aws-cn`, `us-gov-*` in `aws-us-gov`, other commercial
/// regions in `aws`); unknown otherwise.
pub(crate) fn partition_of(ctx: &Context) -> Option<String> {
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

pub(super) fn url_suffix(partition: &str) -> &'static str {
    if partition == "aws-cn" {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_the_region() {
        let ctx = |r: &str| Context {
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
        assert_eq!(partition_of(&Context::default()), None);
    }
}
