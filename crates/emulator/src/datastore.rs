//! `DatastoreProperties` JSON objects, built field by field.
//!
//! Data stores are made in several places: generated sets in [`synthetic`],
//! `CreateFHIRDatastore`, the tests of this crate and hlaudit's end-to-end tests.
//! [`DatastoreJson`] is the one way they all spell the fields, so a field AWS renames is
//! renamed once. It lives here rather than in the test-support crate (`hlaudit-testkit`)
//! because the emulator library itself needs it, and the emulator, which ships a binary
//! for demos, should not depend on a test-only crate.
//!
//! The builder writes what it is told and checks nothing: tests need records AWS would
//! never send as much as ones it would. [`hlaudit_model::Record::from_value`] checks.
//!
//! [`synthetic`]: crate::synthetic

use serde_json::{json, Map, Value};

/// A `DatastoreProperties` object under construction: `DatastoreId` and `DatastoreArn`
/// from the start, every other field only when set.
///
/// ```
/// use hlaudit_emulator::datastore::DatastoreJson;
/// let store = DatastoreJson::new("123456789012", "us-east-1", "a1b2")
///     .name("claims")
///     .status("ACTIVE")
///     .created_at(1_700_000_000)
///     .customer_managed_key("arn:aws:kms:us-east-1:123456789012:key/k")
///     .aws_auth()
///     .build();
/// assert_eq!(store["DatastoreArn"], "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/a1b2");
/// assert_eq!(store["SseConfiguration"]["KmsEncryptionConfig"]["CmkType"], "CUSTOMER_MANAGED_KMS_KEY");
/// assert!(hlaudit_model::Record::from_value(&store).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DatastoreJson {
    region: String,
    id: String,
    fields: Map<String, Value>,
}

impl DatastoreJson {
    /// Data store `id` of `account` in `region`: its `DatastoreId` and `DatastoreArn`.
    pub fn new(account: &str, region: &str, id: &str) -> Self {
        let mut fields = Map::new();
        fields.insert("DatastoreId".to_owned(), json!(id));
        fields.insert(
            "DatastoreArn".to_owned(),
            json!(format!(
                "arn:aws:healthlake:{region}:{account}:datastore/fhir/{id}"
            )),
        );
        DatastoreJson {
            region: region.to_owned(),
            id: id.to_owned(),
            fields,
        }
    }

    /// Sets any field to any value, as is (fields no builder method knows, values of the
    /// wrong type, fields of later API versions).
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(name.to_owned(), value.into());
        self
    }

    /// Removes a field, `DatastoreId` and `DatastoreArn` included.
    pub fn without(mut self, name: &str) -> Self {
        self.fields.remove(name);
        self
    }

    /// `DatastoreName`.
    pub fn name(self, name: impl Into<String>) -> Self {
        self.field("DatastoreName", name.into())
    }

    /// `DatastoreStatus` (`ACTIVE`, `CREATING`, `DELETED`, ...).
    pub fn status(self, status: &str) -> Self {
        self.field("DatastoreStatus", status)
    }

    /// `CreatedAt`: epoch seconds as an integer or a fraction, or a timestamp text.
    pub fn created_at(self, when: impl Into<Value>) -> Self {
        self.field("CreatedAt", when)
    }

    /// `DatastoreTypeVersion` (`R4`).
    pub fn type_version(self, version: &str) -> Self {
        self.field("DatastoreTypeVersion", version)
    }

    /// `DatastoreEndpoint` as AWS forms it from the region and the id.
    pub fn endpoint(self) -> Self {
        let url = format!(
            "https://healthlake.{}.amazonaws.com/datastore/{}/r4/",
            self.region, self.id
        );
        self.field("DatastoreEndpoint", url)
    }

    /// `SseConfiguration` with this `KmsEncryptionConfig`, as is.
    pub fn kms_encryption_config(self, config: Value) -> Self {
        self.field("SseConfiguration", json!({ "KmsEncryptionConfig": config }))
    }

    /// Encrypted with an AWS-owned key.
    pub fn aws_owned_key(self) -> Self {
        self.kms_encryption_config(json!({"CmkType": "AWS_OWNED_KMS_KEY"}))
    }

    /// Encrypted with the customer-managed key `key_id` (an ARN, an alias or an id).
    pub fn customer_managed_key(self, key_id: &str) -> Self {
        self.kms_encryption_config(
            json!({"CmkType": "CUSTOMER_MANAGED_KMS_KEY", "KmsKeyId": key_id}),
        )
    }

    /// Authorised by AWS IAM (`AWS_AUTH`, no fine-grained authorisation).
    pub fn aws_auth(self) -> Self {
        self.field(
            "IdentityProviderConfiguration",
            json!({"AuthorizationStrategy": "AWS_AUTH", "FineGrainedAuthorizationEnabled": false}),
        )
    }

    /// Authorised by SMART on FHIR (`SMART_ON_FHIR_V1`): `metadata` is the text of the
    /// `Metadata` field (AWS holds the SMART configuration as a JSON document in a
    /// string), `lambda` the ARN of the identity provider's Lambda function.
    pub fn smart_on_fhir(self, fine_grained: bool, metadata: &str, lambda: &str) -> Self {
        self.field(
            "IdentityProviderConfiguration",
            json!({
                "AuthorizationStrategy": "SMART_ON_FHIR_V1",
                "FineGrainedAuthorizationEnabled": fine_grained,
                "Metadata": metadata,
                "IdpLambdaArn": lambda,
            }),
        )
    }

    /// `PreloadDataConfig` with this `PreloadDataType` (`SYNTHEA`).
    pub fn preload(self, data_type: &str) -> Self {
        self.field("PreloadDataConfig", json!({ "PreloadDataType": data_type }))
    }

    /// `ErrorCause`, as AWS sets it on a data store that failed to be created.
    pub fn error_cause(self, message: &str, category: &str) -> Self {
        self.field(
            "ErrorCause",
            json!({"ErrorMessage": message, "ErrorCategory": category}),
        )
    }

    /// The `DatastoreArn` set (or set by [`field`](Self::field)), when it is text.
    pub fn arn(&self) -> Option<&str> {
        self.fields.get("DatastoreArn").and_then(Value::as_str)
    }

    /// The object.
    pub fn build(self) -> Value {
        Value::Object(self.fields)
    }
}

impl From<DatastoreJson> for Value {
    fn from(store: DatastoreJson) -> Value {
        store.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_set_is_written() {
        let bare = DatastoreJson::new("1", "eu-west-2", "x").build();
        assert_eq!(
            bare,
            json!({"DatastoreId": "x", "DatastoreArn": "arn:aws:healthlake:eu-west-2:1:datastore/fhir/x"})
        );
        let full = DatastoreJson::new("1", "eu-west-2", "x")
            .type_version("R4")
            .endpoint()
            .smart_on_fhir(
                true,
                "{\"issuer\":\"i\"}",
                "arn:aws:lambda:eu-west-2:1:function:f",
            )
            .preload("SYNTHEA")
            .error_cause("m", "NON_RETRYABLE_ERROR")
            .field("FutureField", json!([1]))
            .without("DatastoreId")
            .build();
        assert_eq!(
            full["DatastoreEndpoint"],
            "https://healthlake.eu-west-2.amazonaws.com/datastore/x/r4/"
        );
        assert_eq!(
            full["IdentityProviderConfiguration"]["Metadata"],
            "{\"issuer\":\"i\"}"
        );
        assert_eq!(full["PreloadDataConfig"]["PreloadDataType"], "SYNTHEA");
        assert_eq!(full["ErrorCause"]["ErrorCategory"], "NON_RETRYABLE_ERROR");
        assert_eq!(full["FutureField"], json!([1]));
        assert!(full.get("DatastoreId").is_none());
    }
}
