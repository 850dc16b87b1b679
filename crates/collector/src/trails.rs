//! Who records the reads and writes of each data store: the CloudTrail trails whose
//! advanced event selectors select its HealthLake data events, and whether they log.
//!
//! Per (account, region) that holds data stores, `DescribeTrails` with
//! `includeShadowTrails` lists every trail that applies there: the region's own trails,
//! the multi-region trails of the account whatever their home region, and the
//! organization trails the account belongs to (those last two appear as *shadow* trails,
//! with their home region and, for an organization trail, the management account in
//! their ARN). Each trail is then read once per collection in its home region, by ARN:
//! `GetTrailStatus` (`IsLogging`) and `GetEventSelectors`, whose advanced selectors
//! `crate::selectors` evaluates against each data store's ARN.
//!
//! A trail is read with the credentials of the account that owns it when the collection
//! holds them (an organization trail read with the management account's role), else
//! with the data store account's credentials; CloudTrail may refuse a member account the
//! selectors of an organization trail, and then the trail is unknown. Fail closed: a
//! trail listing that fails, or a trail whose status or selectors cannot be read, is a
//! collection error (an ERROR finding) for every data store of the region, and the
//! unreadable trail is kept in the enrichment with its error and counts for nothing.
//!
//! The result is the `DataEvents` enrichment of each data store: the trails that record
//! any of its data events, each with how much of its reads and writes (`all`, `some`,
//! `none`) and whether it is logging.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use hlaudit_model::{CollectionError, Record};
use serde_json::{json, Map, Value};
use tokio::sync::{OnceCell, Semaphore};

use crate::capture::CaptureBody;
use crate::enrich::AccountAccess;
use crate::failure::{self, Call};
use crate::limiter::{Caller, LimitKey};
use crate::listing::RegionTarget;
use crate::retry::{AttemptError, GaveUp, Retrier};
use crate::sdk;
use crate::selectors::{self, Extent};

/// The enrichment key of the trails that record a data store's data events.
pub const DATA_EVENTS_ENRICHMENT: &str = "DataEvents";

/// A call that failed for good: (operation, code, message).
pub(crate) type Failed = (&'static str, String, String);

/// What is known of one trail after reading it in its home region.
#[derive(Debug, Clone)]
struct TrailState {
    /// `IsLogging` of `GetTrailStatus`.
    is_logging: bool,
    /// `LatestDeliveryError` of `GetTrailStatus`, when there is one.
    delivery_error: Option<String>,
    /// `AdvancedEventSelectors` of `GetEventSelectors`, as sent.
    advanced: Option<Value>,
}

type StateCell = Arc<OnceCell<Result<TrailState, Failed>>>;

/// The trails side of a collection, shared by every region task: one CloudTrail client
/// per (caller, region), and each trail read once however many regions and accounts
/// see it.
#[derive(Debug)]
pub(crate) struct TrailReader {
    retrier: Arc<Retrier>,
    /// The credentials of every account of the collection, to read a trail with its
    /// owner's.
    accounts: Arc<HashMap<String, AccountAccess>>,
    clients: Mutex<HashMap<(Caller, String), aws_sdk_cloudtrail::Client>>,
    /// Keyed by (who reads, trail ARN).
    states: Mutex<HashMap<(Caller, String), StateCell>>,
}

/// A [`TrailReader`] with the credentials of one credential set.
#[derive(Debug, Clone)]
pub(crate) struct AccountTrails {
    reader: Arc<TrailReader>,
    sdk: SdkConfig,
}

impl AccountTrails {
    /// What `collect --check-access` needs: `DescribeTrails` in `target`'s region and,
    /// when it lists a trail, the first one's ARN and what came of reading it (status,
    /// then selectors) as a collection reads it.
    pub(crate) async fn probe(
        &self,
        target: &RegionTarget,
        requests: &Semaphore,
    ) -> Result<Option<(String, Result<(), Failed>)>, Failed> {
        let access = AccountAccess {
            sdk: self.sdk.clone(),
            caller: target.caller(),
        };
        let listed = self
            .reader
            .describe_trails(&access, target, requests)
            .await?;
        let Some(first) = listed.first() else {
            return Ok(None);
        };
        let read = self.reader.state(first, &access, target, requests).await;
        Ok(Some((first.arn.clone(), read.map(|_| ()))))
    }

    /// See [`TrailReader::attach`].
    pub(crate) async fn attach(
        &self,
        records: &mut [Record],
        target: &RegionTarget,
        requests: &Semaphore,
    ) -> Vec<CollectionError> {
        self.reader
            .attach(records, target, &self.sdk, requests)
            .await
    }
}

/// One trail as `DescribeTrails` lists it in a region.
#[derive(Debug, Clone)]
struct ListedTrail {
    arn: String,
    home_region: String,
    description: Map<String, Value>,
}

impl TrailReader {
    pub(crate) fn new(
        retrier: Arc<Retrier>,
        accounts: Arc<HashMap<String, AccountAccess>>,
    ) -> Self {
        TrailReader {
            retrier,
            accounts,
            clients: Mutex::new(HashMap::new()),
            states: Mutex::new(HashMap::new()),
        }
    }

    /// The reader for the data stores listed with `sdk`'s credentials.
    pub(crate) fn with_credentials(self: &Arc<Self>, sdk: SdkConfig) -> AccountTrails {
        AccountTrails {
            reader: self.clone(),
            sdk,
        }
    }

    fn client(&self, access: &AccountAccess, region: &str) -> aws_sdk_cloudtrail::Client {
        let mut clients = match self.clients.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        clients
            .entry((access.caller.clone(), region.to_owned()))
            .or_insert_with(|| sdk::cloudtrail(&access.sdk, region))
            .clone()
    }

    /// Finds the trails of `target`'s region, reads each, and attaches the
    /// `DataEvents` enrichment to every record. Returns the collection errors, each
    /// naming the data store it leaves undecided.
    async fn attach(
        &self,
        records: &mut [Record],
        target: &RegionTarget,
        sdk_config: &SdkConfig,
        requests: &Semaphore,
    ) -> Vec<CollectionError> {
        if records.is_empty() {
            return Vec::new();
        }
        let access = AccountAccess {
            sdk: sdk_config.clone(),
            caller: target.caller(),
        };
        let listed = match self.describe_trails(&access, target, requests).await {
            Ok(listed) => listed,
            Err((operation, code, message)) => {
                tracing::info!(region = %target.region, %code, "trails could not be listed");
                return per_record(records, target, operation, &code, &message);
            }
        };
        let mut states = Vec::with_capacity(listed.len());
        let mut failures: Vec<(String, Failed)> = Vec::new();
        for trail in &listed {
            let state = self.state(trail, &access, target, requests).await;
            if let Err(f) = &state {
                failures.push((trail.arn.clone(), f.clone()));
            }
            states.push(state);
        }
        for record in records.iter_mut() {
            let arn = record.arn().unwrap_or_default().to_owned();
            let trails: Vec<Value> = listed
                .iter()
                .zip(&states)
                .filter_map(|(trail, state)| trail_entry(trail, state, &arn))
                .collect();
            record
                .enrichments
                .insert(DATA_EVENTS_ENRICHMENT.to_owned(), json!({"Trails": trails}));
        }
        let mut errors = Vec::new();
        for (arn, (operation, code, message)) in failures {
            let message = format!("trail {arn}: {message}");
            errors.extend(per_record(records, target, operation, &code, &message));
        }
        errors
    }

    /// `DescribeTrails` with shadow trails, each trail's description as sent.
    async fn describe_trails(
        &self,
        access: &AccountAccess,
        target: &RegionTarget,
        requests: &Semaphore,
    ) -> Result<Vec<ListedTrail>, Failed> {
        const OPERATION: &str = "DescribeTrails";
        let client = self.client(access, &target.region);
        let key = limit_key(&access.caller, &target.region);
        let body = self
            .read_json(&key, OPERATION, &target.region, requests, |capture| {
                client
                    .describe_trails()
                    .include_shadow_trails(true)
                    .customize()
                    .interceptor(capture)
                    .send()
            })
            .await?;
        let list = match body.get("trailList") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(list)) => list,
            Some(_) => return Err(unreadable(OPERATION, "trailList is not a list")),
        };
        list.iter()
            .map(|t| listed_trail(t, &target.region))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| unreadable(OPERATION, "a trail has no TrailARN"))
    }

    /// The status and selectors of `trail`, read once per (reader, trail).
    async fn state(
        &self,
        trail: &ListedTrail,
        access: &AccountAccess,
        target: &RegionTarget,
        requests: &Semaphore,
    ) -> Result<TrailState, Failed> {
        let reader = self.reader_for(&trail.arn, access, target);
        let cell = {
            let mut states = match self.states.lock() {
                Ok(s) => s,
                Err(poisoned) => poisoned.into_inner(),
            };
            states
                .entry((reader.caller.clone(), trail.arn.clone()))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| self.read_trail(trail, reader, requests))
            .await
            .clone()
    }

    /// The credentials to read a trail with: its owner's when the collection holds
    /// them, else the listing account's.
    fn reader_for(
        &self,
        trail_arn: &str,
        access: &AccountAccess,
        target: &RegionTarget,
    ) -> AccountAccess {
        match arn_account(trail_arn) {
            Some(owner) if Some(owner) != target.account.as_deref() => self
                .accounts
                .get(owner)
                .cloned()
                .unwrap_or_else(|| access.clone()),
            _ => access.clone(),
        }
    }

    async fn read_trail(
        &self,
        trail: &ListedTrail,
        reader: AccountAccess,
        requests: &Semaphore,
    ) -> Result<TrailState, Failed> {
        let region = trail.home_region.as_str();
        let client = self.client(&reader, region);
        let key = limit_key(&reader.caller, region);
        let status = self
            .read_json(&key, "GetTrailStatus", region, requests, |capture| {
                client
                    .get_trail_status()
                    .name(&trail.arn)
                    .customize()
                    .interceptor(capture)
                    .send()
            })
            .await?;
        let is_logging = status
            .get("IsLogging")
            .and_then(Value::as_bool)
            .ok_or_else(|| unreadable("GetTrailStatus", "the answer holds no IsLogging"))?;
        let delivery_error = status
            .get("LatestDeliveryError")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let mut selectors = self
            .read_json(&key, "GetEventSelectors", region, requests, |capture| {
                client
                    .get_event_selectors()
                    .trail_name(&trail.arn)
                    .customize()
                    .interceptor(capture)
                    .send()
            })
            .await?;
        Ok(TrailState {
            is_logging,
            delivery_error,
            advanced: selectors.remove("AdvancedEventSelectors"),
        })
    }

    /// One CloudTrail call, retried: `send` sends it with the interceptor that keeps
    /// the body, and the answer is that body as a JSON object. A call that fails for
    /// good is [`Failed`].
    async fn read_json<T, E, F, Fut>(
        &self,
        key: &LimitKey,
        operation: &'static str,
        region: &str,
        requests: &Semaphore,
        send: F,
    ) -> Result<Map<String, Value>, Failed>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        F: Fn(CaptureBody) -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    {
        self.retrier
            .call(key, operation, requests, || async {
                let capture = CaptureBody::default();
                send(capture.clone()).await.map_err(AttemptError::Sdk)?;
                json_object(capture.take())
            })
            .await
            .map_err(|g| failed(g, operation, region))
    }
}

fn limit_key(caller: &Caller, region: &str) -> LimitKey {
    LimitKey {
        caller: caller.clone(),
        region: region.to_owned(),
        service: "cloudtrail",
    }
}

/// The whole answer as a JSON object, or an attempt error worth retrying.
fn json_object<E>(body: Option<Vec<u8>>) -> Result<Map<String, Value>, AttemptError<E>> {
    body.and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok())
        .ok_or_else(|| AttemptError::Unreadable("the response is not a JSON object".to_owned()))
}

fn listed_trail(trail: &Value, region: &str) -> Option<ListedTrail> {
    let description = trail.as_object()?.clone();
    let arn = description.get("TrailARN")?.as_str()?.to_owned();
    let home_region = description
        .get("HomeRegion")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .or_else(|| arn_region(&arn).map(str::to_owned))
        .unwrap_or_else(|| region.to_owned());
    Some(ListedTrail {
        arn,
        home_region,
        description,
    })
}

/// The trail's entry in a data store's `DataEvents`, when it records any of its data
/// events or could not be read.
fn trail_entry(
    trail: &ListedTrail,
    state: &Result<TrailState, Failed>,
    datastore_arn: &str,
) -> Option<Value> {
    let mut entry = Map::new();
    for field in [
        "Name",
        "TrailARN",
        "HomeRegion",
        "IsMultiRegionTrail",
        "IsOrganizationTrail",
    ] {
        if let Some(v) = trail.description.get(field) {
            entry.insert(field.to_owned(), v.clone());
        }
    }
    entry.insert("HomeRegion".to_owned(), json!(trail.home_region));
    match state {
        Ok(state) => {
            let selection = selectors::evaluate(state.advanced.as_ref(), datastore_arn);
            if !selection.records_any() {
                return None;
            }
            entry.insert("IsLogging".to_owned(), json!(state.is_logging));
            if let Some(e) = &state.delivery_error {
                entry.insert("LatestDeliveryError".to_owned(), json!(e));
            }
            entry.insert("Reads".to_owned(), json!(selection.reads.name()));
            entry.insert("Writes".to_owned(), json!(selection.writes.name()));
            if selection.reads == Extent::Some || selection.writes == Extent::Some {
                entry.insert("NarrowedBy".to_owned(), json!(selection.narrowed_by));
            }
        }
        Err((operation, code, _)) => {
            entry.insert(
                "Error".to_owned(),
                json!({"Operation": operation, "Code": code}),
            );
        }
    }
    Some(Value::Object(entry))
}

/// One collection error per record of the region.
fn per_record(
    records: &[Record],
    target: &RegionTarget,
    operation: &str,
    code: &str,
    message: &str,
) -> Vec<CollectionError> {
    records
        .iter()
        .map(|r| CollectionError {
            account: target
                .account
                .clone()
                .or_else(|| r.account().filter(|a| !a.is_empty()).map(str::to_owned)),
            region: Some(target.region.clone()),
            operation: operation.to_owned(),
            resource: r.arn().map(str::to_owned),
            code: code.to_owned(),
            message: message.to_owned(),
        })
        .collect()
}

fn failed<E>(
    gave_up: GaveUp<AttemptError<SdkError<E, HttpResponse>>>,
    operation: &'static str,
    region: &str,
) -> Failed
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let tried = gave_up.tried();
    match gave_up.error {
        AttemptError::Sdk(err) => {
            let endpoint = sdk::replaced_endpoint("cloudtrail", None);
            let call = Call {
                service: "cloudtrail",
                operation,
                region,
                profile: None,
                endpoint: endpoint.as_deref(),
            };
            let f = failure::describe(&err, &call);
            (operation, f.code, format!("{}{tried}", f.message))
        }
        AttemptError::Unreadable(why) => {
            let (operation, code, message) = unreadable(operation, &why);
            (operation, code, format!("{message}{tried}"))
        }
    }
}

fn unreadable(operation: &'static str, why: &str) -> Failed {
    (operation, "invalid-response".to_owned(), why.to_owned())
}

/// The `n`th `:`-separated part of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`).
fn arn_part(arn: &str, n: usize) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    (parts.next()? == "arn").then_some(())?;
    parts.nth(n - 1).filter(|p| !p.is_empty())
}

fn arn_region(arn: &str) -> Option<&str> {
    arn_part(arn, 3)
}

fn arn_account(arn: &str) -> Option<&str> {
    arn_part(arn, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAIL: &str = "arn:aws:cloudtrail:eu-west-2:444455556666:trail/org";
    const STORE: &str = "arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/a";

    #[test]
    fn reads_home_region_and_account_from_trail_arns() {
        assert_eq!(arn_region(TRAIL), Some("eu-west-2"));
        assert_eq!(arn_account(TRAIL), Some("444455556666"));
        assert_eq!(arn_account("trail-name"), None);
        let listed = listed_trail(&json!({"TrailARN": TRAIL, "Name": "org"}), "us-east-1").unwrap();
        assert_eq!(listed.home_region, "eu-west-2");
        let listed = listed_trail(
            &json!({"TrailARN": TRAIL, "HomeRegion": "ap-south-1"}),
            "us-east-1",
        )
        .unwrap();
        assert_eq!(listed.home_region, "ap-south-1");
        assert!(listed_trail(&json!({"Name": "x"}), "us-east-1").is_none());
    }

    #[test]
    fn a_trail_is_read_with_its_owners_credentials_when_the_run_holds_them() {
        let sdk = aws_config::SdkConfig::builder().build();
        let owner = AccountAccess {
            sdk: sdk.clone(),
            caller: Caller::of(Some("444455556666"), None),
        };
        let accounts = Arc::new(HashMap::from([("444455556666".to_owned(), owner)]));
        let reader = TrailReader::new(
            Retrier::new(crate::retry::RetryPolicy::of(
                &crate::config::RetrySettings::default(),
            )),
            accounts,
        );
        let member = AccountAccess {
            sdk,
            caller: Caller::of(Some("111122223333"), None),
        };
        let target = RegionTarget {
            account: Some("111122223333".to_owned()),
            region: "us-east-1".to_owned(),
            profile: None,
        };
        // An organization trail of an account the run holds: its owner reads it.
        let org = reader.reader_for(TRAIL, &member, &target);
        assert_eq!(org.caller, Caller::of(Some("444455556666"), None));
        // The member's own trail, and a trail of an account the run does not hold: the
        // member reads them.
        let own = "arn:aws:cloudtrail:us-east-1:111122223333:trail/own";
        assert_eq!(
            reader.reader_for(own, &member, &target).caller,
            member.caller
        );
        let other = "arn:aws:cloudtrail:us-east-1:999988887777:trail/org";
        assert_eq!(
            reader.reader_for(other, &member, &target).caller,
            member.caller
        );
    }

    #[test]
    fn a_failure_is_an_error_for_every_data_store_of_the_region() {
        let records: Vec<Record> = ["a", "b"]
            .iter()
            .map(|id| {
                Record::from_value(&json!({
                    "DatastoreId": id,
                    "DatastoreArn": format!("arn:aws:healthlake:us-east-1:111122223333:datastore/fhir/{id}"),
                }))
                .unwrap()
            })
            .collect();
        let target = RegionTarget {
            account: None,
            region: "us-east-1".to_owned(),
            profile: None,
        };
        let errors = per_record(
            &records,
            &target,
            "DescribeTrails",
            "AccessDeniedException",
            "no",
        );
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[1].resource.as_deref(), records[1].arn());
        assert_eq!(errors[1].account.as_deref(), Some("111122223333"));
        assert_eq!(errors[1].operation, "DescribeTrails");
    }

    fn all_healthlake() -> Value {
        json!([{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": [selectors::FHIR_DATASTORE_TYPE]}]}])
    }

    #[test]
    fn entries_carry_the_trail_and_what_it_records() {
        let trail = listed_trail(
            &json!({"TrailARN": TRAIL, "Name": "org", "IsMultiRegionTrail": true,
                    "IsOrganizationTrail": true, "S3BucketName": "not-copied"}),
            "us-east-1",
        )
        .unwrap();
        let state = Ok(TrailState {
            is_logging: false,
            delivery_error: None,
            advanced: Some(all_healthlake()),
        });
        let entry = trail_entry(&trail, &state, STORE).unwrap();
        assert_eq!(
            entry,
            json!({"Name": "org", "TrailARN": TRAIL, "HomeRegion": "eu-west-2",
                   "IsMultiRegionTrail": true, "IsOrganizationTrail": true,
                   "IsLogging": false, "Reads": "all", "Writes": "all"})
        );
        let nothing = Ok(TrailState {
            is_logging: true,
            delivery_error: None,
            advanced: None,
        });
        assert!(trail_entry(&trail, &nothing, STORE).is_none());
        let failed: Result<TrailState, Failed> = Err((
            "GetEventSelectors",
            "AccessDeniedException".to_owned(),
            "no".to_owned(),
        ));
        let entry = trail_entry(&trail, &failed, STORE).unwrap();
        assert_eq!(entry["Error"]["Code"], "AccessDeniedException");
        assert!(entry.get("Reads").is_none());
    }
}
