//! Amazon Resource Names: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The parts of an ARN. Parsing is lenient about the resource part (it may contain `:` and
/// `/`) and strict about the number of leading fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Arn {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: String,
    /// The service namespace, e.g. `healthlake`, `kms`, `lambda`.
    pub service: String,
    /// The region; empty for global resources.
    pub region: String,
    /// The 12-digit account id; empty for some resource types.
    pub account: String,
    /// Everything after the fifth colon, e.g. `datastore/fhir/ID` or `key/UUID`.
    pub resource: String,
}

/// Why a string is not an ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// The string does not start with `arn:`.
    #[error("does not start with `arn:`")]
    MissingPrefix,
    /// Fewer than six colon-separated fields.
    #[error("has {0} colon-separated fields, an ARN has at least 6")]
    TooFewFields(usize),
    /// The partition or service field is empty.
    #[error("has an empty {0}")]
    EmptyField(&'static str),
}

impl Arn {
    /// Parses `arn:partition:service:region:account:resource`.
    ///
    /// ```
    /// let arn = hlaudit_model::Arn::parse(
    ///     "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/abc",
    /// ).unwrap();
    /// assert_eq!(arn.region, "us-east-1");
    /// assert_eq!(arn.account, "123456789012");
    /// ```
    pub fn parse(s: &str) -> Result<Self, ArnError> {
        let [partition, service, region, account, resource] = Arn::split(s)?;
        Ok(Arn {
            partition: partition.to_owned(),
            service: service.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            resource: resource.to_owned(),
        })
    }

    /// What [`Arn::parse`] accepts, as the five fields borrowed from `s`: partition,
    /// service, region, account and resource (for reading a field without copying them).
    ///
    /// ```
    /// let [_, service, region, ..] = hlaudit_model::Arn::split("arn:aws:kms:eu-west-1:1:key/k").unwrap();
    /// assert_eq!((service, region), ("kms", "eu-west-1"));
    /// ```
    pub fn split(s: &str) -> Result<[&str; 5], ArnError> {
        let rest = s.strip_prefix("arn:").ok_or(ArnError::MissingPrefix)?;
        let mut parts = [""; 5];
        let mut n = 0;
        for (slot, part) in parts.iter_mut().zip(rest.splitn(5, ':')) {
            *slot = part;
            n += 1;
        }
        if n < 5 {
            return Err(ArnError::TooFewFields(n + 1));
        }
        if parts[0].is_empty() {
            return Err(ArnError::EmptyField("partition"));
        }
        if parts[1].is_empty() {
            return Err(ArnError::EmptyField("service"));
        }
        Ok(parts)
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_round_trips() {
        let s = "arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:idp:live";
        let arn = Arn::parse(s).unwrap();
        assert_eq!(arn.partition, "aws-us-gov");
        assert_eq!(arn.service, "lambda");
        assert_eq!(arn.resource, "function:idp:live");
        assert_eq!(arn.to_string(), s);
    }

    #[test]
    fn rejects_non_arns() {
        assert_eq!(Arn::parse("key/abc"), Err(ArnError::MissingPrefix));
        assert_eq!(Arn::parse("arn:aws:kms"), Err(ArnError::TooFewFields(3)));
        assert_eq!(
            Arn::parse("arn::kms:r:a:key/x"),
            Err(ArnError::EmptyField("partition"))
        );
    }
}
