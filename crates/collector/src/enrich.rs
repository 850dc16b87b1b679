//! What is fetched beside each record: its tags and the state of its KMS key.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use hlaudit_model::{CollectionError, Record};
use serde_json::{Map, Value};
use tokio::sync::{watch, OnceCell, Semaphore};

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::capture::CaptureBody;
use crate::failure::{self, Call};
use crate::limiter::{Caller, LimitKey};
use crate::retry::{AttemptError, GaveUp, Retrier};
use crate::sdk;

/// The enrichment key of the KMS key state.
pub const KMS_KEY_ENRICHMENT: &str = "KmsKey";

/// What one data store needs fetched, taken from its record.
#[derive(Debug, Clone)]
pub(crate) struct EnrichTarget {
    pub index: usize,
    pub arn: String,
    pub account: Option<String>,
    pub region: String,
    /// `(region of the key, KmsKeyId)` when the data store uses a customer managed key.
    pub kms_key: Option<(String, String)>,
    /// Whose request quota the calls count against (the credentials' account).
    pub caller: Caller,
}

impl EnrichTarget {
    pub(crate) fn of(index: usize, record: &Record, account: Option<&str>, caller: Caller) -> Self {
        // Collected records are data stores that exist, so ARN and region are known.
        let region = record.region().unwrap_or_default().to_owned();
        let kms_key = customer_managed_key(record).map(|id| {
            let key_region = key_region(&id).unwrap_or_else(|| region.clone());
            (key_region, id)
        });
        EnrichTarget {
            index,
            arn: record.arn().unwrap_or_default().to_owned(),
            account: account.map(str::to_owned).or_else(|| {
                record
                    .account()
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
            }),
            region,
            kms_key,
            caller,
        }
    }
}

/// What was fetched for one data store.
#[derive(Debug, Default)]
pub(crate) struct Enrichment {
    pub index: usize,
    pub tags: Option<BTreeMap<String, String>>,
    pub kms_key: Option<Value>,
    pub errors: Vec<CollectionError>,
}

/// The `KmsKeyId` of a data store encrypted with a customer managed key.
fn customer_managed_key(record: &Record) -> Option<String> {
    let props = record.properties();
    let config = props.get("SseConfiguration")?.get("KmsEncryptionConfig")?;
    if config.get("CmkType")?.as_str()? != "CUSTOMER_MANAGED_KMS_KEY" {
        return None;
    }
    config
        .get("KmsKeyId")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The region of a key given as an ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`).
fn key_region(key_id: &str) -> Option<String> {
    let mut parts = key_id.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    if parts.next()? != "kms" {
        return None;
    }
    parts.next().filter(|r| !r.is_empty()).map(str::to_owned)
}

/// The account of a key given as an ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`).
fn key_account(key_id: &str) -> Option<&str> {
    let mut parts = key_id.splitn(6, ':');
    (parts.next()? == "arn").then_some(())?;
    let _partition = parts.next()?;
    (parts.next()? == "kms").then_some(())?;
    let _region = parts.next()?;
    parts.next().filter(|a| !a.is_empty())
}

type KeyResult = Result<Value, (String, String, &'static str)>;

/// Each key's description, fetched once.
type KeyCells = HashMap<(String, String), Arc<OnceCell<KeyResult>>>;

/// The credentials a collection holds for one account, and whose quota they count
/// against.
#[derive(Debug, Clone)]
pub(crate) struct AccountAccess {
    pub sdk: aws_config::SdkConfig,
    pub caller: Caller,
}

/// The KMS side of a collection: one client per account and region, and each key
/// described once however many data stores share it.
///
/// A key is described in its own account and region: a key ARN names both. When the
/// key's account is another account the collection holds credentials for (a key shared
/// across the organization), it is described with that account's credentials, as its
/// owner sees it; otherwise with the data store's credentials, which the key policy may
/// or may not allow (a refusal is an ERROR for the data store).
#[derive(Debug)]
pub(crate) struct KmsDescriber {
    sdk: aws_config::SdkConfig,
    caller: Caller,
    retrier: Arc<Retrier>,
    /// The account of `sdk`'s credentials, when known.
    own_account: Option<String>,
    /// The credentials of the other accounts of the collection.
    accounts: Arc<HashMap<String, AccountAccess>>,
    /// For the accounts entered through a role: whether the role was assumed, once
    /// known (`None` until then).
    entries: Arc<HashMap<String, watch::Receiver<Option<bool>>>>,
    clients: Mutex<HashMap<(Option<String>, String), aws_sdk_kms::Client>>,
    keys: Mutex<KeyCells>,
}

impl KmsDescriber {
    pub(crate) fn new(sdk: aws_config::SdkConfig, caller: Caller, retrier: Arc<Retrier>) -> Self {
        KmsDescriber {
            sdk,
            caller,
            retrier,
            own_account: None,
            accounts: Arc::default(),
            entries: Arc::default(),
            clients: Mutex::new(HashMap::new()),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Describes keys of the other accounts in `accounts` with their own credentials;
    /// `own_account` is the account of this describer's credentials.
    pub(crate) fn with_accounts(
        mut self,
        own_account: Option<String>,
        accounts: Arc<HashMap<String, AccountAccess>>,
    ) -> Self {
        self.own_account = own_account;
        self.accounts = accounts;
        self
    }

    /// Waits, for the accounts in `entries`, until their role has been tried: a key of
    /// such an account is described with its credentials only once they work.
    pub(crate) fn with_entries(
        mut self,
        entries: Arc<HashMap<String, watch::Receiver<Option<bool>>>>,
    ) -> Self {
        self.entries = entries;
        self
    }

    /// The credentials to describe `key_id` with: its account's, when the key is
    /// another account's and the collection holds working credentials for it.
    async fn access_for(&self, key_id: &str) -> (Option<String>, &aws_config::SdkConfig, &Caller) {
        let own = (None, &self.sdk, &self.caller);
        let Some(account) = key_account(key_id) else {
            return own;
        };
        if Some(account) == self.own_account.as_deref() {
            return own;
        }
        let Some(a) = self.accounts.get(account) else {
            return own;
        };
        if let Some(entry) = self.entries.get(account) {
            let mut entry = entry.clone();
            let entered = entry.wait_for(Option::is_some).await.map(|v| *v);
            if !matches!(entered, Ok(Some(true))) {
                return own;
            }
        }
        (Some(account.to_owned()), &a.sdk, &a.caller)
    }

    fn client(
        &self,
        account: Option<String>,
        sdk_config: &aws_config::SdkConfig,
        region: &str,
    ) -> aws_sdk_kms::Client {
        let mut clients = match self.clients.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        clients
            .entry((account, region.to_owned()))
            .or_insert_with(|| sdk::kms(sdk_config, region))
            .clone()
    }

    async fn describe(&self, region: &str, key_id: &str, requests: &Semaphore) -> KeyResult {
        let cell = {
            let mut keys = match self.keys.lock() {
                Ok(k) => k,
                Err(poisoned) => poisoned.into_inner(),
            };
            keys.entry((region.to_owned(), key_id.to_owned()))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| self.describe_uncached(region, key_id, requests))
            .await
            .clone()
    }

    /// `DescribeKey`'s `KeyMetadata` exactly as sent, plus the fields of
    /// `GetKeyRotationStatus` (`KeyRotationEnabled`, `RotationPeriodInDays`, ...).
    async fn describe_uncached(
        &self,
        region: &str,
        key_id: &str,
        requests: &Semaphore,
    ) -> KeyResult {
        let (account, sdk_config, caller) = self.access_for(key_id).await;
        let client = self.client(account, sdk_config, region);
        let key = LimitKey {
            caller: caller.clone(),
            region: region.to_owned(),
            service: "kms",
        };
        let described = self
            .retrier
            .call(&key, "DescribeKey", requests, || async {
                let capture = CaptureBody::default();
                client
                    .describe_key()
                    .key_id(key_id)
                    .customize()
                    .interceptor(capture.clone())
                    .send()
                    .await
                    .map_err(AttemptError::Sdk)?;
                body_field(capture.take(), "KeyMetadata").ok_or_else(|| {
                    AttemptError::Unreadable("the response holds no KeyMetadata object".to_owned())
                })
            })
            .await;
        let mut metadata = described.map_err(|g| kms_failure(g, "DescribeKey", region))?;
        let rotation = self
            .retrier
            .call(&key, "GetKeyRotationStatus", requests, || async {
                let capture = CaptureBody::default();
                client
                    .get_key_rotation_status()
                    .key_id(key_id)
                    .customize()
                    .interceptor(capture.clone())
                    .send()
                    .await
                    .map_err(AttemptError::Sdk)?;
                capture
                    .take()
                    .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok())
                    .ok_or_else(|| {
                        AttemptError::Unreadable("the response is not a JSON object".to_owned())
                    })
            })
            .await;
        match rotation {
            Ok(body) => {
                for (k, v) in body {
                    if k != "KeyId" {
                        metadata.insert(k, v);
                    }
                }
            }
            // Keys that cannot rotate (asymmetric, HMAC, imported, custom key stores)
            // answer UnsupportedOperationException; their rotation state is then
            // simply absent.
            Err(g) => {
                let (code, message, operation) = kms_failure(g, "GetKeyRotationStatus", region);
                if code != "UnsupportedOperationException" {
                    return Err((code, message, operation));
                }
            }
        }
        Ok(Value::Object(metadata))
    }
}

/// A KMS call that failed for good, as a key result's error.
fn kms_failure<E>(
    gave_up: GaveUp<AttemptError<SdkError<E, HttpResponse>>>,
    operation: &'static str,
    region: &str,
) -> (String, String, &'static str)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let tried = gave_up.tried();
    match gave_up.error {
        AttemptError::Sdk(err) => {
            let f = failure::describe(&err, &kms_call(operation, region));
            (f.code, format!("{}{tried}", f.message), operation)
        }
        AttemptError::Unreadable(why) => {
            let (code, message, operation) = invalid(operation, &why);
            (code, format!("{message}{tried}"), operation)
        }
    }
}

fn kms_call<'a>(operation: &'static str, region: &'a str) -> Call<'a> {
    Call {
        service: "kms",
        operation,
        region,
        profile: None,
        endpoint: None,
    }
}

fn invalid(operation: &'static str, message: &str) -> (String, String, &'static str) {
    ("invalid-response".to_owned(), message.to_owned(), operation)
}

fn body_field(body: Option<Vec<u8>>, field: &str) -> Option<Map<String, Value>> {
    let mut top = serde_json::from_slice::<Map<String, Value>>(&body?).ok()?;
    match top.remove(field)? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Fetches the tags and the KMS key state of one data store, each call holding a
/// permit of `requests`. A failed call is a collection error for that data store.
pub(crate) async fn enrich(
    target: EnrichTarget,
    healthlake: Option<aws_sdk_healthlake::Client>,
    kms: Option<Arc<KmsDescriber>>,
    requests: Arc<Semaphore>,
    retrier: Arc<Retrier>,
) -> Enrichment {
    let mut out = Enrichment {
        index: target.index,
        ..Enrichment::default()
    };
    if let Some(client) = healthlake {
        let key = LimitKey {
            caller: target.caller.clone(),
            region: target.region.clone(),
            service: "healthlake",
        };
        let result = retrier
            .call(&key, "ListTagsForResource", &requests, || {
                client
                    .list_tags_for_resource()
                    .resource_arn(&target.arn)
                    .send()
            })
            .await;
        match result {
            Ok(output) => {
                out.tags = Some(
                    output
                        .tags()
                        .iter()
                        .map(|t| (t.key().to_owned(), t.value().to_owned()))
                        .collect(),
                );
            }
            Err(gave_up) => {
                let endpoint = sdk::replaced_endpoint("healthlake", None);
                let call = Call {
                    service: "healthlake",
                    operation: "ListTagsForResource",
                    region: &target.region,
                    profile: None,
                    endpoint: endpoint.as_deref(),
                };
                let f = failure::describe(&gave_up.error, &call);
                tracing::info!(arn = %target.arn, code = %f.code, "tags could not be listed");
                let message = format!("{}{}", f.message, gave_up.tried());
                out.errors
                    .push(error(&target, "ListTagsForResource", f.code, message));
            }
        }
    }
    if let (Some(kms), Some((key_region, key_id))) = (kms, &target.kms_key) {
        match kms.describe(key_region, key_id, &requests).await {
            Ok(value) => out.kms_key = Some(value),
            Err((code, message, operation)) => {
                tracing::info!(arn = %target.arn, %code, "KMS key {key_id} could not be described");
                let message = format!("KMS key {key_id} in {key_region}: {message}");
                out.errors.push(error(&target, operation, code, message));
            }
        }
    }
    out
}

fn error(target: &EnrichTarget, operation: &str, code: String, message: String) -> CollectionError {
    CollectionError {
        account: target.account.clone(),
        region: Some(target.region.clone()),
        operation: operation.to_owned(),
        resource: Some(target.arn.clone()),
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(sse: &str) -> Record {
        Record::from_value(
            &serde_json::from_str(&format!(
                r#"{{"DatastoreId":"a","DatastoreArn":"arn:aws:healthlake:eu-west-2:111122223333:datastore/fhir/a",
                    "SseConfiguration":{sse}}}"#
            ))
            .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn finds_customer_managed_keys_and_their_region() {
        let r = record(
            r#"{"KmsEncryptionConfig":{"CmkType":"CUSTOMER_MANAGED_KMS_KEY","KmsKeyId":"arn:aws:kms:us-east-1:111122223333:key/k1"}}"#,
        );
        let t = EnrichTarget::of(3, &r, None, Caller::of(None, None));
        assert_eq!(
            t.kms_key,
            Some((
                "us-east-1".to_owned(),
                "arn:aws:kms:us-east-1:111122223333:key/k1".to_owned()
            ))
        );
        assert_eq!(t.account.as_deref(), Some("111122223333"));
        let r = record(
            r#"{"KmsEncryptionConfig":{"CmkType":"CUSTOMER_MANAGED_KMS_KEY","KmsKeyId":"k2"}}"#,
        );
        assert_eq!(
            EnrichTarget::of(0, &r, None, Caller::of(None, None)).kms_key,
            Some(("eu-west-2".to_owned(), "k2".to_owned()))
        );
        let r = record(r#"{"KmsEncryptionConfig":{"CmkType":"AWS_OWNED_KMS_KEY"}}"#);
        assert_eq!(
            EnrichTarget::of(0, &r, None, Caller::of(None, None)).kms_key,
            None
        );
    }

    #[test]
    fn reads_key_regions_from_arns_only() {
        assert_eq!(
            key_region("arn:aws-cn:kms:cn-north-1:1:key/x").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(key_region("alias/mine"), None);
        assert_eq!(
            key_account("arn:aws:kms:eu-west-2:444455556666:key/k"),
            Some("444455556666")
        );
        assert_eq!(key_account("arn:aws:kms:eu-west-2::key/k"), None);
        assert_eq!(key_account("1234abcd-12ab-34cd-56ef-1234567890ab"), None);
        assert_eq!(key_account("arn:aws:s3:::bucket"), None);
        assert_eq!(key_region("arn:aws:s3:::bucket"), None);
    }
}
