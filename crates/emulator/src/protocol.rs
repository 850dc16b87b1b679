//! HealthLake's wire protocol: awsJson 1.0 targets, request shapes and error bodies.
//!
//! Errors are sent as AWS sends them: an HTTP status and a JSON body whose `__type`
//! names the error. Errors of the HealthLake model carry their bare name
//! (`ValidationException`) and a `Message`; errors raised before a request reaches
//! the service (authentication, unknown target, unreadable body) carry the namespaced
//! name of AWS's front end (`com.amazon.coral.service#MissingAuthenticationTokenException`)
//! and a lower-case `message`. Both the Rust SDK and botocore strip the namespace.

use serde::Deserialize;
use serde_json::json;

/// The `X-Amz-Target` prefix of HealthLake.
pub const TARGET_PREFIX: &str = "HealthLake.";

/// The content type of every request and response.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// The operations the emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `ListFHIRDatastores`.
    ListFhirDatastores,
    /// `DescribeFHIRDatastore`.
    DescribeFhirDatastore,
    /// `ListTagsForResource`.
    ListTagsForResource,
    /// `CreateFHIRDatastore`.
    CreateFhirDatastore,
    /// `TagResource`.
    TagResource,
    /// `ListFHIRExportJobs`.
    ListFhirExportJobs,
    /// `ListFHIRImportJobs`.
    ListFhirImportJobs,
    /// `DescribeFHIRExportJob`.
    DescribeFhirExportJob,
    /// `DescribeFHIRImportJob`.
    DescribeFhirImportJob,
    /// `ListDataTransformationProfiles`.
    ListDataTransformationProfiles,
    /// `GetDataTransformationProfile`.
    GetDataTransformationProfile,
}

impl Operation {
    /// Every operation served.
    pub const ALL: [Operation; 11] = [
        Operation::ListFhirDatastores,
        Operation::DescribeFhirDatastore,
        Operation::ListTagsForResource,
        Operation::CreateFhirDatastore,
        Operation::TagResource,
        Operation::ListFhirExportJobs,
        Operation::ListFhirImportJobs,
        Operation::DescribeFhirExportJob,
        Operation::DescribeFhirImportJob,
        Operation::ListDataTransformationProfiles,
        Operation::GetDataTransformationProfile,
    ];

    /// The operation's API name, e.g. `ListFHIRDatastores`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::ListFhirDatastores => "ListFHIRDatastores",
            Operation::DescribeFhirDatastore => "DescribeFHIRDatastore",
            Operation::ListTagsForResource => "ListTagsForResource",
            Operation::CreateFhirDatastore => "CreateFHIRDatastore",
            Operation::TagResource => "TagResource",
            Operation::ListFhirExportJobs => "ListFHIRExportJobs",
            Operation::ListFhirImportJobs => "ListFHIRImportJobs",
            Operation::DescribeFhirExportJob => "DescribeFHIRExportJob",
            Operation::DescribeFhirImportJob => "DescribeFHIRImportJob",
            Operation::ListDataTransformationProfiles => "ListDataTransformationProfiles",
            Operation::GetDataTransformationProfile => "GetDataTransformationProfile",
        }
    }

    /// Whether the operation is about the region, not one data store (the
    /// transformation profile operations).
    pub fn is_about_region(self) -> bool {
        matches!(
            self,
            Operation::ListDataTransformationProfiles | Operation::GetDataTransformationProfile
        )
    }

    /// Whether the request names a data store by `DatastoreId` (the job operations):
    /// its ARN is then the request's resource, for the log and per-resource faults.
    pub fn names_datastore(self) -> bool {
        matches!(
            self,
            Operation::ListFhirExportJobs
                | Operation::ListFhirImportJobs
                | Operation::DescribeFhirExportJob
                | Operation::DescribeFhirImportJob
        )
    }

    /// The operation an `X-Amz-Target` value names, if it is one served here.
    pub fn from_target(target: &str) -> Option<Self> {
        let name = target.strip_prefix(TARGET_PREFIX)?;
        Self::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// An error response: HTTP status, `__type` and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The error's short name, e.g. `ValidationException`.
    pub code: &'static str,
    /// Whether the error comes from AWS's front end rather than the HealthLake model
    /// (namespaced `__type`, lower-case `message`).
    pub front_end: bool,
    /// The message.
    pub message: String,
}

impl ApiError {
    fn modeled(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            front_end: false,
            message: message.into(),
        }
    }

    fn coral(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            front_end: true,
            message: message.into(),
        }
    }

    /// `ValidationException`, HTTP 400.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::modeled(400, "ValidationException", message)
    }

    /// `ResourceNotFoundException`, HTTP 400.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::modeled(400, "ResourceNotFoundException", message)
    }

    /// `ThrottlingException`, HTTP 400 (the SDKs retry it as throttling).
    pub fn throttling() -> Self {
        Self::modeled(400, "ThrottlingException", "Rate exceeded")
    }

    /// `InternalServerException`, HTTP 500.
    pub fn internal() -> Self {
        Self::modeled(500, "InternalServerException", "Internal server error")
    }

    /// `ServiceUnavailableException`, HTTP 503.
    pub fn unavailable() -> Self {
        Self::coral(503, "ServiceUnavailableException", "Service unavailable")
    }

    /// `AccessDeniedException`, HTTP 400, as AWS's JSON services send it.
    pub fn access_denied(operation: &str, region: &str) -> Self {
        Self::modeled(
            400,
            "AccessDeniedException",
            format!("User is not authorized to perform: healthlake:{operation} in region {region}"),
        )
    }

    /// `ExpiredTokenException`, HTTP 400: the session token the request was signed
    /// with has expired.
    pub fn expired_token() -> Self {
        Self::coral(
            400,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        )
    }

    /// `UnrecognizedClientException`, HTTP 400: credentials the service does not know.
    pub fn unrecognized_client() -> Self {
        Self::coral(
            400,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    }

    /// `MissingAuthenticationTokenException`, HTTP 400: no `Authorization` header.
    pub fn missing_auth() -> Self {
        Self::coral(
            400,
            "MissingAuthenticationTokenException",
            "Request is missing Authentication Token",
        )
    }

    /// `IncompleteSignatureException`, HTTP 400: an `Authorization` header that is
    /// not a complete SigV4 header.
    pub fn incomplete_signature(message: impl Into<String>) -> Self {
        Self::coral(400, "IncompleteSignatureException", message)
    }

    /// `InvalidSignatureException`, HTTP 400: a scope for another service, or a
    /// date that disagrees with `X-Amz-Date`.
    pub fn invalid_signature(message: impl Into<String>) -> Self {
        Self::coral(400, "InvalidSignatureException", message)
    }

    /// `UnknownOperationException`, HTTP 400: a target HealthLake does not have (or
    /// the emulator does not serve).
    pub fn unknown_operation() -> Self {
        Self::coral(400, "UnknownOperationException", "")
    }

    /// `SerializationException`, HTTP 400: a body that is not the operation's input.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::coral(400, "SerializationException", message)
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        let value = if self.front_end {
            json!({
                "__type": format!("com.amazon.coral.service#{}", self.code),
                "message": self.message,
            })
        } else {
            json!({ "__type": self.code, "Message": self.message })
        };
        value.to_string()
    }
}

/// `ListFHIRDatastores` input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListInput {
    #[serde(default)]
    pub filter: Option<FilterInput>,
    #[serde(default)]
    pub next_token: Option<String>,
    #[serde(default)]
    pub max_results: Option<i64>,
}

/// `DatastoreFilter`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct FilterInput {
    #[serde(default)]
    pub datastore_name: Option<String>,
    #[serde(default)]
    pub datastore_status: Option<String>,
    #[serde(default)]
    pub created_before: Option<f64>,
    #[serde(default)]
    pub created_after: Option<f64>,
}

/// `DescribeFHIRDatastore` input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeInput {
    #[serde(default)]
    pub datastore_id: Option<String>,
}

/// `ListTagsForResource` input.
#[derive(Debug, Deserialize)]
pub(crate) struct ListTagsInput {
    #[serde(rename = "ResourceARN", default)]
    pub resource_arn: Option<String>,
}

/// A `Tag`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagInput {
    pub key: String,
    pub value: String,
}

/// `TagResource` input.
#[derive(Debug, Deserialize)]
pub(crate) struct TagResourceInput {
    #[serde(rename = "ResourceARN", default)]
    pub resource_arn: Option<String>,
    #[serde(rename = "Tags", default)]
    pub tags: Option<Vec<TagInput>>,
}

/// `CreateFHIRDatastore` input. Configuration objects are kept as JSON and checked
/// by building a record from them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateInput {
    #[serde(default)]
    pub datastore_name: Option<String>,
    #[serde(default)]
    pub datastore_type_version: Option<String>,
    #[serde(default)]
    pub sse_configuration: Option<serde_json::Value>,
    #[serde(default)]
    pub preload_data_config: Option<serde_json::Value>,
    #[serde(default)]
    pub client_token: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<TagInput>>,
    #[serde(default)]
    pub identity_provider_configuration: Option<serde_json::Value>,
    #[serde(default)]
    pub analytics_configuration: Option<serde_json::Value>,
    #[serde(default)]
    pub nlp_configuration: Option<serde_json::Value>,
    #[serde(default)]
    pub profile_configuration: Option<serde_json::Value>,
}

/// Parses an operation's input; an empty body is an empty object, as the SDKs send
/// for operations without input members.
pub(crate) fn parse_input<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| ApiError::serialization(e.to_string()))
}

/// The message AWS's validation layer gives, e.g. `1 validation error detected: Value
/// '0' at 'maxResults' failed to satisfy constraint: Member must have value greater
/// than or equal to 1`.
pub(crate) fn constraint(value: &str, member: &str, rule: &str) -> ApiError {
    ApiError::validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip() {
        for op in Operation::ALL {
            let target = format!("{TARGET_PREFIX}{}", op.name());
            assert_eq!(Operation::from_target(&target), Some(op));
        }
        assert_eq!(
            Operation::from_target("HealthLake.DeleteFHIRDatastore"),
            None
        );
        assert_eq!(Operation::from_target("Kms.ListFHIRDatastores"), None);
    }

    #[test]
    fn error_bodies_follow_the_two_conventions() {
        let v: serde_json::Value =
            serde_json::from_str(&ApiError::validation("bad").body()).unwrap();
        assert_eq!(
            v,
            json!({"__type": "ValidationException", "Message": "bad"})
        );
        let v: serde_json::Value = serde_json::from_str(&ApiError::missing_auth().body()).unwrap();
        assert_eq!(
            v["__type"],
            "com.amazon.coral.service#MissingAuthenticationTokenException"
        );
        assert_eq!(v["message"], "Request is missing Authentication Token");
    }

    #[test]
    fn empty_body_is_empty_input() {
        let input: ListInput = parse_input(b"").unwrap();
        assert!(input.filter.is_none());
        let e = parse_input::<ListInput>(br#"{"MaxResults": "ten"}"#).unwrap_err();
        assert_eq!(e.code, "SerializationException");
    }
}
