//! The operations: each takes the request's partition and JSON body and returns the
//! response body or an [`ApiError`].

use std::collections::BTreeMap;

use hlaudit_model::record::DATASTORE_STATUSES;
use hlaudit_model::{Arn, Record, Timestamp};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::datastore::DatastoreJson;
use crate::faults::{fnv1a, splitmix64};
use crate::protocol::{
    constraint, parse_input, ApiError, CreateInput, DescribeInput, FilterInput, ListInput,
    ListTagsInput, TagInput, TagResourceInput,
};
use crate::state::{Datastore, Store};

/// Who is asking, and how the listing behaves for them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub account: &'a str,
    pub region: &'a str,
    /// Page size when the request gives no `MaxResults`.
    pub page_size: usize,
    /// Answer a request carrying a `NextToken` with the same token (a pagination loop).
    pub loop_tokens: bool,
    /// Seed for generated data store ids.
    pub seed: u64,
}

/// A successful response body and what the request log records about it.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub body: String,
    /// Items in a listing page (data stores, jobs, profiles).
    pub returned: Option<usize>,
    /// The `NextToken` sent back.
    pub next_token: Option<String>,
    /// Whether the pagination-loop fault shaped this response.
    pub looped: bool,
}

impl Outcome {
    pub(crate) fn body(body: String) -> Self {
        Outcome {
            body,
            returned: None,
            next_token: None,
            looped: false,
        }
    }
}

/// The largest `MaxResults` the API accepts.
pub const MAX_RESULTS: usize = 500;

#[derive(Serialize)]
struct ListOutput<'a> {
    #[serde(rename = "DatastorePropertiesList")]
    list: Vec<&'a RawValue>,
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// `ListFHIRDatastores`.
pub(crate) fn list(store: &Store, ctx: Ctx<'_>, body: &[u8]) -> Result<Outcome, ApiError> {
    let input: ListInput = parse_input(body)?;
    let page = match input.max_results {
        None => ctx.page_size,
        Some(n) if n < 1 => {
            return Err(constraint(
                &n.to_string(),
                "maxResults",
                "Member must have value greater than or equal to 1",
            ))
        }
        Some(n) if n > MAX_RESULTS as i64 => {
            return Err(constraint(
                &n.to_string(),
                "maxResults",
                "Member must have value less than or equal to 500",
            ))
        }
        Some(n) => usize::try_from(n).unwrap_or(MAX_RESULTS),
    };
    let filter = input.filter.unwrap_or_default();
    validate_filter(&filter)?;
    let fingerprint = fnv1a(&[
        ctx.account.as_bytes(),
        ctx.region.as_bytes(),
        format!("{filter:?}").as_bytes(),
    ]);
    let selected: Vec<&Datastore> = store
        .list(ctx.account, ctx.region)
        .iter()
        .filter(|d| matches(&filter, d))
        .collect();
    let offset = match &input.next_token {
        None => 0,
        Some(token) => decode_token(token, fingerprint, selected.len())?,
    };
    let end = offset.saturating_add(page).min(selected.len());
    let mut next_token = (end < selected.len()).then(|| encode_token(fingerprint, end));
    let mut looped = false;
    if ctx.loop_tokens {
        // A request carrying a token gets it back; a first page always gets one (even
        // when everything fits on it), so the loop happens whatever the data size.
        let token = input
            .next_token
            .clone()
            .or_else(|| next_token.clone())
            .unwrap_or_else(|| encode_token(fingerprint, end));
        looped = input.next_token.is_some() || next_token.is_none();
        next_token = Some(token);
    }
    let page: Vec<&RawValue> = selected[offset..end].iter().map(|d| &*d.wire).collect();
    let returned = page.len();
    let out = ListOutput {
        list: page,
        next_token: next_token.clone(),
    };
    Ok(Outcome {
        body: to_json(&out)?,
        returned: Some(returned),
        next_token,
        looped,
    })
}

fn validate_filter(filter: &FilterInput) -> Result<(), ApiError> {
    if let Some(name) = &filter.datastore_name {
        let len = name.chars().count();
        if !(1..=256).contains(&len) {
            return Err(constraint(
                name,
                "filter.datastoreName",
                "Member must have length between 1 and 256",
            ));
        }
    }
    if let Some(status) = &filter.datastore_status {
        if !DATASTORE_STATUSES.contains(&status.as_str()) {
            return Err(constraint(
                status,
                "filter.datastoreStatus",
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    DATASTORE_STATUSES.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Whether a data store passes the filter. `DatastoreName` matches exactly (the API
/// reference only says "filter data store results by name"; an exact match never
/// returns a store the caller did not name). `CreatedBefore`/`CreatedAfter` are strict
/// bounds; a store without `CreatedAt` fails any date bound.
fn matches(filter: &FilterInput, d: &Datastore) -> bool {
    let r = &d.record;
    if let Some(name) = &filter.datastore_name {
        if r.name() != Some(name.as_str()) {
            return false;
        }
    }
    if let Some(status) = &filter.datastore_status {
        if r.status() != Some(status.as_str()) {
            return false;
        }
    }
    let created = r.created_at().map(|t| t.epoch_seconds());
    if let Some(before) = filter.created_before {
        if !created.is_some_and(|c| c < before) {
            return false;
        }
    }
    if let Some(after) = filter.created_after {
        if !created.is_some_and(|c| c > after) {
            return false;
        }
    }
    true
}

/// A token is the listing's fingerprint (account, region, filter) and the offset of
/// the next page, as 24 hex digits: opaque to clients, and a token from another
/// listing is refused.
pub(crate) fn encode_token(fingerprint: u64, offset: usize) -> String {
    format!(
        "{fingerprint:016x}{:08x}",
        offset as u64 ^ (fingerprint & 0xffff_ffff)
    )
}

pub(crate) fn decode_token(token: &str, fingerprint: u64, len: usize) -> Result<usize, ApiError> {
    let invalid = || ApiError::validation(format!("Invalid NextToken: '{token}'"));
    if token.len() != 24 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let fp = u64::from_str_radix(&token[..16], 16).map_err(|_| invalid())?;
    let masked = u64::from_str_radix(&token[16..], 16).map_err(|_| invalid())?;
    if fp != fingerprint {
        return Err(invalid());
    }
    let offset = usize::try_from(masked ^ (fingerprint & 0xffff_ffff)).map_err(|_| invalid())?;
    if offset > len {
        return Err(invalid());
    }
    Ok(offset)
}

/// `DescribeFHIRDatastore`.
pub(crate) fn describe(store: &Store, ctx: Ctx<'_>, body: &[u8]) -> Result<Outcome, ApiError> {
    let input: DescribeInput = parse_input(body)?;
    let id = input
        .datastore_id
        .ok_or_else(|| constraint("null", "datastoreId", "Member must not be null"))?;
    let d = store
        .by_id(ctx.account, ctx.region, &id)
        .ok_or_else(|| ApiError::not_found(format!("Datastore with ID {id} does not exist")))?;
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(rename = "DatastoreProperties")]
        properties: &'a RawValue,
    }
    to_json(&Out {
        properties: &d.wire,
    })
    .map(Outcome::body)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagOut<'a> {
    key: &'a str,
    value: &'a str,
}

/// `ListTagsForResource`.
pub(crate) fn list_tags(store: &Store, ctx: Ctx<'_>, body: &[u8]) -> Result<Outcome, ApiError> {
    let input: ListTagsInput = parse_input(body)?;
    let arn = required_arn(input.resource_arn)?;
    let d = store
        .by_arn(ctx.account, ctx.region, &arn)
        .ok_or_else(|| not_found_arn(&arn))?;
    let tags: Vec<TagOut<'_>> = d
        .tags
        .iter()
        .map(|(key, value)| TagOut { key, value })
        .collect();
    to_json(&json!({ "Tags": tags })).map(Outcome::body)
}

/// `TagResource`.
pub(crate) fn tag(store: &mut Store, ctx: Ctx<'_>, body: &[u8]) -> Result<Outcome, ApiError> {
    let input: TagResourceInput = parse_input(body)?;
    let arn = required_arn(input.resource_arn)?;
    let tags = input
        .tags
        .ok_or_else(|| constraint("null", "tags", "Member must not be null"))?;
    let tags = validate_tags(tags)?;
    let d = store
        .by_arn_mut(ctx.account, ctx.region, &arn)
        .ok_or_else(|| not_found_arn(&arn))?;
    let mut merged = d.tags.clone();
    merged.extend(tags);
    if merged.len() > 50 {
        return Err(ApiError::validation(format!(
            "A data store can have at most 50 tags; this request would give it {}",
            merged.len()
        )));
    }
    d.tags = merged;
    Ok(Outcome::body("{}".to_owned()))
}

/// `CreateFHIRDatastore`. The data store is ACTIVE at once (the response says
/// CREATING, as AWS's does at that moment); a repeated `ClientToken` returns the data
/// store it created before.
pub(crate) fn create(store: &mut Store, ctx: Ctx<'_>, body: &[u8]) -> Result<Outcome, ApiError> {
    let input: CreateInput = parse_input(body)?;
    if let Some(token) = &input.client_token {
        if let Some(d) = store.by_client_token(ctx.account, ctx.region, token) {
            return create_output(d);
        }
    }
    match input.datastore_type_version.as_deref() {
        Some("R4") => {}
        Some(other) => {
            return Err(constraint(
                other,
                "datastoreTypeVersion",
                "Member must satisfy enum value set: [R4]",
            ))
        }
        None => {
            return Err(constraint(
                "null",
                "datastoreTypeVersion",
                "Member must not be null",
            ))
        }
    }
    if let Some(name) = &input.datastore_name {
        if !(1..=256).contains(&name.chars().count()) {
            return Err(constraint(
                name,
                "datastoreName",
                "Member must have length between 1 and 256",
            ));
        }
    }
    let tags = validate_tags(input.tags.unwrap_or_default())?;

    store.created += 1;
    let n = store.created;
    let h = fnv1a(&[
        ctx.account.as_bytes(),
        ctx.region.as_bytes(),
        &n.to_le_bytes(),
    ]);
    let id = format!(
        "{:016x}{:016x}",
        splitmix64(ctx.seed ^ h),
        splitmix64(h.rotate_left(17) ^ ctx.seed)
    );
    let (account, region) = (ctx.account, ctx.region);
    let now = Timestamp::now();
    let created_at = (now.0.timestamp_millis() as f64) / 1000.0;
    let mut props = DatastoreJson::new(account, region, &id)
        .status("ACTIVE")
        .created_at(created_at)
        .type_version("R4")
        .endpoint();
    props = match input.sse_configuration {
        Some(sse) => props.field("SseConfiguration", sse),
        None => props.aws_owned_key(),
    };
    props = match input.identity_provider_configuration {
        Some(idp) => props.field("IdentityProviderConfiguration", idp),
        None => props.aws_auth(),
    };
    let optional = [
        ("DatastoreName", input.datastore_name.map(Value::String)),
        ("PreloadDataConfig", input.preload_data_config),
        ("AnalyticsConfiguration", input.analytics_configuration),
        ("NlpConfiguration", input.nlp_configuration),
        ("ProfileConfiguration", input.profile_configuration),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            props = props.field(key, value);
        }
    }
    let props = props.build();
    let record = Record::from_value(&props)
        .map_err(|e| ApiError::validation(format!("{}: {}", e.path, e.message)))?
        .with_tags(tags);
    if let Some(token) = &input.client_token {
        store.remember_client_token(account, region, token, &id);
    }
    let d = store
        .insert(record)
        .map_err(|e| ApiError::validation(e.to_string()))?;
    create_output(d)
}

fn create_output(d: &Datastore) -> Result<Outcome, ApiError> {
    let r = &d.record;
    let endpoint = r
        .properties()
        .get("DatastoreEndpoint")
        .cloned()
        .unwrap_or(Value::Null);
    to_json(&json!({
        "DatastoreId": r.id(),
        "DatastoreArn": r.arn(),
        "DatastoreStatus": "CREATING",
        "DatastoreEndpoint": endpoint,
    }))
    .map(Outcome::body)
}

fn validate_tags(tags: Vec<TagInput>) -> Result<BTreeMap<String, String>, ApiError> {
    if tags.len() > 50 {
        return Err(constraint(
            &format!("{} tags", tags.len()),
            "tags",
            "Member must have length less than or equal to 50",
        ));
    }
    let mut out = BTreeMap::new();
    for tag in tags {
        if !(1..=128).contains(&tag.key.chars().count()) {
            return Err(constraint(
                &tag.key,
                "tags.member.key",
                "Member must have length between 1 and 128",
            ));
        }
        if tag.value.chars().count() > 256 {
            return Err(constraint(
                &tag.value,
                "tags.member.value",
                "Member must have length less than or equal to 256",
            ));
        }
        out.insert(tag.key, tag.value);
    }
    Ok(out)
}

fn required_arn(arn: Option<String>) -> Result<String, ApiError> {
    let arn = arn.ok_or_else(|| constraint("null", "resourceARN", "Member must not be null"))?;
    match Arn::parse(&arn) {
        Ok(parts) if parts.service == "healthlake" => Ok(arn),
        _ => Err(constraint(
            &arn,
            "resourceARN",
            "Member must satisfy regular expression pattern: ^arn:aws((-us-gov)|(-iso)|(-iso-b)|(-cn))?:healthlake:[a-z0-9-]+:\\d{12}:datastore/fhir/.{32}",
        )),
    }
}

fn not_found_arn(arn: &str) -> ApiError {
    ApiError::not_found(format!("Resource {arn} does not exist"))
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| {
        let mut err = ApiError::internal();
        err.message = e.to_string();
        err
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_other_listings() {
        let t = encode_token(42, 100);
        assert_eq!(t.len(), 24);
        assert_eq!(decode_token(&t, 42, 200), Ok(100));
        assert!(decode_token(&t, 43, 200).is_err());
        assert!(decode_token(&t, 42, 99).is_err());
        assert!(decode_token("not-a-token", 42, 200).is_err());
        assert!(decode_token(&"z".repeat(24), 42, 200).is_err());
    }
}
