//! Collecting many accounts: which accounts (an AWS Organization's ACTIVE accounts,
//! those under some organizational units, or a list), and a credential set for each,
//! assumed through STS from the base credentials.
//!
//! Credentials never cross accounts: each account gets its own [`SdkConfig`] whose
//! credentials provider assumes that account's role (and assumes it again before the
//! credentials expire, through the SDK's identity cache), and the assumed credentials
//! are checked with STS `GetCallerIdentity` to belong to that account before anything
//! is listed with them. An account whose role cannot be assumed is a collection error
//! naming the account, the role and the likely causes; the other accounts go on.
//!
//! The organization's own listing failing is fatal ([`CollectorError::Organization`]):
//! without it, hlaudit cannot say which accounts it did not look at.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::sts::AssumeRoleProvider;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_organizations::types::AccountStatus;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use hlaudit_model::CollectionError;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::error::CollectorError;
use crate::failure::{self, Call};
use crate::limiter::{Caller, LimitKey};
use crate::retry::Retrier;
use crate::sdk;

/// The operation of a collection error for a role that could not be assumed.
pub(crate) const ASSUME_ROLE: &str = "AssumeRole";

/// The default role session name.
pub const DEFAULT_SESSION_NAME: &str = "hlaudit";

/// Which accounts to collect, and how to get into them.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSelection {
    /// List the ACTIVE accounts of the organization (Organizations `ListAccounts`, from
    /// the management account or a delegated administrator).
    pub org: bool,
    /// Only the accounts under these organizational units (recursively); needs `org`.
    pub ous: Vec<String>,
    /// Only these accounts (with `org`: those of them that are ACTIVE members).
    pub accounts: Vec<String>,
    /// Never these accounts.
    pub exclude: Vec<String>,
    /// The role assumed in each account.
    pub role: RoleSettings,
}

/// The role hlaudit assumes in each account.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleSettings {
    /// The role, by name or by ARN template.
    pub role: RoleTemplate,
    /// `ExternalId` of `AssumeRole`, when the trust policy requires one.
    pub external_id: Option<String>,
    /// `RoleSessionName` (shows in the member accounts' CloudTrail).
    pub session_name: String,
    /// `DurationSeconds`; `None` leaves the role's default (one hour). Credentials are
    /// assumed again before they expire, so long runs need no longer sessions.
    pub duration: Option<Duration>,
}

/// How the role of an account is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleTemplate {
    /// The same role name in every account: `arn:PARTITION:iam::ACCOUNT:role/NAME`,
    /// the partition taken from the caller.
    Name(String),
    /// An ARN with `{account}` and `{partition}` placeholders.
    Arn(String),
}

impl RoleTemplate {
    /// The role ARN in `account`.
    pub fn arn(&self, partition: &str, account: &str) -> String {
        match self {
            RoleTemplate::Name(name) => {
                let name = name.trim_start_matches('/');
                format!("arn:{partition}:iam::{account}:role/{name}")
            }
            RoleTemplate::Arn(template) => template
                .replace("{account}", account)
                .replace("{partition}", partition),
        }
    }
}

/// One account to collect: its credentials, or why there are none.
pub(crate) struct Member {
    pub account: String,
    /// The role assumed in it; `None` for the caller's own account, which is collected
    /// with the base credentials.
    pub role: Option<String>,
    pub access: Result<SdkConfig, Box<CollectionError>>,
}

/// An account selected, with the credential set that will speak for it, not yet used:
/// building it calls nothing, so a collection can start each account's listing as soon
/// as its role is [verified](verify) instead of after every account's.
#[derive(Clone)]
pub(crate) struct Candidate {
    pub account: String,
    /// The role to assume in it; `None` for the caller's own account, which is
    /// collected with the base credentials.
    pub role: Option<Role>,
    /// The credential set: the base one, or one whose provider assumes `role` on first
    /// use (and again before the credentials expire).
    pub sdk: SdkConfig,
}

/// A role to assume in one account, and the credentials it gave, held for every client
/// of the account's credential set.
#[derive(Clone, Debug)]
pub(crate) struct Role {
    pub arn: String,
    credentials: Arc<RoleCredentials>,
}

/// How long before they expire assumed credentials are replaced.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// `AssumeRoleProvider`'s credentials, kept until [`REFRESH_BEFORE`] their expiry, so
/// that checking a role (one `AssumeRole`, whose answer names the account) and the
/// account's first requests share one `AssumeRole` instead of each asking STS.
#[derive(Debug)]
struct RoleCredentials {
    provider: AssumeRoleProvider,
    held: tokio::sync::Mutex<Option<Credentials>>,
}

impl RoleCredentials {
    async fn get(&self) -> aws_credential_types::provider::Result {
        let mut held = self.held.lock().await;
        if let Some(c) = held.as_ref() {
            let fresh = c
                .expiry()
                .is_none_or(|e| e > SystemTime::now() + REFRESH_BEFORE);
            if fresh {
                return Ok(c.clone());
            }
        }
        let assumed = self.provider.provide_credentials().await?;
        *held = Some(assumed.clone());
        Ok(assumed)
    }
}

/// The shared [`RoleCredentials`] as an SDK credentials provider.
#[derive(Debug)]
struct HeldRole(Arc<RoleCredentials>);

impl ProvideCredentials for HeldRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.0.get())
    }
}

/// The accounts `selection` names, in account order, each with its (unused) credential
/// set. Calls STS `GetCallerIdentity` for the caller and, with `org`, Organizations; no
/// role is assumed yet.
pub(crate) async fn candidates(
    base: &SdkConfig,
    selection: &AccountSelection,
    region: &str,
    retrier: &Arc<Retrier>,
) -> Result<Vec<Candidate>, CollectorError> {
    let (me, partition) = caller(base, region, retrier).await?;
    let mut accounts: BTreeSet<String> = if selection.org {
        organization_accounts(base, selection, region, retrier).await?
    } else {
        selection.accounts.iter().cloned().collect()
    };
    if selection.org && !selection.accounts.is_empty() {
        let wanted: HashSet<&String> = selection.accounts.iter().collect();
        for a in &selection.accounts {
            if !accounts.contains(a) {
                tracing::warn!("account {a} is not an ACTIVE account of the organization");
            }
        }
        accounts.retain(|a| wanted.contains(a));
    }
    for a in &selection.exclude {
        accounts.remove(a);
    }
    tracing::info!(accounts = accounts.len(), caller = %me, "accounts selected");
    let mut out = Vec::with_capacity(accounts.len());
    for account in accounts {
        if account == me {
            out.push(Candidate {
                account,
                role: None,
                sdk: base.clone(),
            });
            continue;
        }
        let role_arn = selection.role.role.arn(&partition, &account);
        let (sdk, role) = role_config(base, &selection.role, role_arn, region).await;
        out.push(Candidate {
            account,
            role: Some(role),
            sdk,
        });
    }
    Ok(out)
}

/// The accounts selected and a checked credential set for each (the roles assumed at
/// most `concurrency` at a time), in account order.
pub(crate) async fn members(
    base: &SdkConfig,
    selection: &AccountSelection,
    region: &str,
    retrier: &Arc<Retrier>,
    concurrency: usize,
) -> Result<Vec<Member>, CollectorError> {
    let candidates = candidates(base, selection, region, retrier).await?;
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (order, candidate) in candidates.into_iter().enumerate() {
        let (role, gate, retrier) = (selection.role.clone(), gate.clone(), retrier.clone());
        let region = region.to_owned();
        tasks.spawn(async move {
            let entered = match &candidate.role {
                None => Ok(()),
                Some(assumed) => {
                    let _permit = gate.acquire_owned().await;
                    let (sdk, account) = (&candidate.sdk, &candidate.account);
                    verify(sdk, &role, assumed, account, &region, &retrier).await
                }
            };
            (order, candidate, entered)
        });
    }
    let mut members = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok((order, candidate, entered)) = joined else {
            continue;
        };
        let Candidate { account, role, sdk } = candidate;
        members.insert(
            order,
            Member {
                account,
                role: role.map(|r| r.arn),
                access: entered.map(|()| sdk),
            },
        );
    }
    Ok(members.into_values().collect())
}

/// The base credentials' account and partition (from STS `GetCallerIdentity`).
pub(crate) async fn caller(
    base: &SdkConfig,
    region: &str,
    retrier: &Arc<Retrier>,
) -> Result<(String, String), CollectorError> {
    let client = sdk::sts(base, region);
    let key = LimitKey {
        caller: Caller::of(None, None),
        region: region.to_owned(),
        service: "sts",
    };
    let requests = Semaphore::new(1);
    let identity = retrier
        .call(&key, "GetCallerIdentity", &requests, || {
            client.get_caller_identity().send()
        })
        .await
        .map_err(|gave_up| {
            let endpoint = sdk::replaced_endpoint("sts", None);
            let call = Call {
                service: "sts",
                operation: "GetCallerIdentity",
                region,
                profile: None,
                endpoint: endpoint.as_deref(),
            };
            let f = failure::describe(&gave_up.error, &call);
            CollectorError::Organization {
                call: "sts:GetCallerIdentity",
                code: f.code,
                message: f.message,
            }
        })?;
    let account = identity.account().unwrap_or_default().to_owned();
    let partition = identity
        .arn()
        .and_then(|arn| arn.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
        .to_owned();
    Ok((account, partition))
}

/// The organization's ACTIVE accounts (under `selection.ous`, when given).
async fn organization_accounts(
    base: &SdkConfig,
    selection: &AccountSelection,
    region: &str,
    retrier: &Arc<Retrier>,
) -> Result<BTreeSet<String>, CollectorError> {
    let config = aws_sdk_organizations::config::Builder::from(base)
        .region(Region::new(region.to_owned()))
        .build();
    let client = aws_sdk_organizations::Client::from_conf(config);
    let key = LimitKey {
        caller: Caller::of(None, None),
        region: region.to_owned(),
        service: "organizations",
    };
    let requests = Semaphore::new(1);
    let mut active = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let page = retrier
            .call(&key, "ListAccounts", &requests, || {
                client.list_accounts().set_next_token(token.clone()).send()
            })
            .await
            .map_err(|g| org_call_error(&g.error, "ListAccounts", region))?;
        for a in page.accounts() {
            if a.status() == Some(&AccountStatus::Active) {
                active.extend(a.id().map(str::to_owned));
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    // An organization always holds its management account, which is never suspended or
    // closed: a listing without one ACTIVE account is not the organization's, and auditing
    // none of it would pass silently.
    if active.is_empty() {
        return Err(CollectorError::Organization {
            call: "organizations:ListAccounts",
            code: "no-active-account".to_owned(),
            message: "it listed no ACTIVE account, yet every organization holds its \
                      management account, active; the answer cannot be the organization's \
                      (an endpoint that does not implement Organizations?), so nothing is \
                      collected"
                .to_owned(),
        });
    }
    if selection.ous.is_empty() {
        return Ok(active);
    }

    let mut under = BTreeSet::new();
    let mut queue: Vec<String> = selection.ous.clone();
    let mut seen: HashSet<String> = HashSet::new();
    while let Some(parent) = queue.pop() {
        if !seen.insert(parent.clone()) {
            continue;
        }
        let mut token: Option<String> = None;
        loop {
            let page = retrier
                .call(&key, "ListAccountsForParent", &requests, || {
                    client
                        .list_accounts_for_parent()
                        .parent_id(&parent)
                        .set_next_token(token.clone())
                        .send()
                })
                .await
                .map_err(|g| org_call_error(&g.error, "ListAccountsForParent", region))?;
            under.extend(
                page.accounts()
                    .iter()
                    .filter_map(|a| a.id().map(str::to_owned)),
            );
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        let mut token: Option<String> = None;
        loop {
            let page = retrier
                .call(&key, "ListOrganizationalUnitsForParent", &requests, || {
                    client
                        .list_organizational_units_for_parent()
                        .parent_id(&parent)
                        .set_next_token(token.clone())
                        .send()
                })
                .await
                .map_err(|g| {
                    org_call_error(&g.error, "ListOrganizationalUnitsForParent", region)
                })?;
            queue.extend(
                page.organizational_units()
                    .iter()
                    .filter_map(|ou| ou.id().map(str::to_owned)),
            );
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(active.intersection(&under).cloned().collect())
}

/// The error of an Organizations call that failed after retries.
fn org_call_error<E>(
    error: &SdkError<E, HttpResponse>,
    operation: &'static str,
    region: &str,
) -> CollectorError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let endpoint = sdk::replaced_endpoint("organizations", None);
    let call = Call {
        service: "organizations",
        operation,
        region,
        profile: None,
        endpoint: endpoint.as_deref(),
    };
    organization_error(operation, &failure::describe(error, &call))
}

fn organization_error(operation: &'static str, f: &failure::Failure) -> CollectorError {
    let hint = if f.code.contains("AccessDenied") || f.code == "AWSOrganizationsNotInUseException" {
        "; --org needs the organization's management account or a delegated administrator \
         with organizations:ListAccounts (and organizations:ListAccountsForParent and \
         organizations:ListOrganizationalUnitsForParent for --ou); or name the accounts with \
         --accounts instead of --org"
    } else {
        ""
    };
    CollectorError::Organization {
        call: match operation {
            "ListAccounts" => "organizations:ListAccounts",
            "ListAccountsForParent" => "organizations:ListAccountsForParent",
            _ => "organizations:ListOrganizationalUnitsForParent",
        },
        code: f.code.clone(),
        message: format!("{}{hint}", f.message),
    }
}

/// The credential set of `role_arn`: the base credentials assume it on first use.
async fn role_config(
    base: &SdkConfig,
    role: &RoleSettings,
    role_arn: String,
    region: &str,
) -> (SdkConfig, Role) {
    let mut builder = AssumeRoleProvider::builder(&role_arn)
        .session_name(&role.session_name)
        .region(Region::new(region.to_owned()))
        .configure(base);
    if let Some(id) = &role.external_id {
        builder = builder.external_id(id);
    }
    if let Some(d) = role.duration {
        builder = builder.session_length(d);
    }
    let credentials = Arc::new(RoleCredentials {
        provider: builder.build().await,
        held: tokio::sync::Mutex::new(None),
    });
    let sdk = base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(HeldRole(
            credentials.clone(),
        )))
        .build();
    let role = Role {
        arn: role_arn,
        credentials,
    };
    (sdk, role)
}

/// Checks that `sdk` (the credential set of `assumed`) works and speaks for `account`:
/// assumes the role, whose answer names the account (asking STS `GetCallerIdentity`
/// only when it does not). A failure names the account, the role and the usual causes.
pub(crate) async fn verify(
    sdk: &SdkConfig,
    role: &RoleSettings,
    assumed: &Role,
    account: &str,
    region: &str,
    retrier: &Arc<Retrier>,
) -> Result<(), Box<CollectionError>> {
    let role_arn = assumed.arn.as_str();
    let wrong_account = |actual: &str| {
        Box::new(CollectionError {
            account: Some(account.to_owned()),
            region: None,
            operation: ASSUME_ROLE.to_owned(),
            resource: Some(role_arn.to_owned()),
            code: "wrong-account".to_owned(),
            message: format!(
                "the credentials of role {role_arn} belong to account {actual}, not {account}; \
                 nothing of account {account} was collected with them (check --role-arn)"
            ),
        })
    };
    match assumed.credentials.get().await {
        Ok(c) => match c.account_id() {
            Some(id) if id.as_str() == account => return Ok(()),
            Some(id) => return Err(wrong_account(id.as_str())),
            None => {}
        },
        Err(e) => {
            let chain = failure::chain(&e);
            let code = assume_role_code(&chain);
            return Err(Box::new(CollectionError {
                account: Some(account.to_owned()),
                region: None,
                operation: ASSUME_ROLE.to_owned(),
                resource: Some(role_arn.to_owned()),
                code: code.to_owned(),
                message: format!(
                    "could not assume role {role_arn} in account {account}: {chain}; {}",
                    assume_role_hint(code, role.external_id.is_some())
                ),
            }));
        }
    }
    // The answer did not name the account: ask STS whose the credentials are.
    let client = sdk::sts(sdk, region);
    let key = LimitKey {
        caller: Caller::of(Some(account), None),
        region: region.to_owned(),
        service: "sts",
    };
    let requests = Semaphore::new(1);
    let error = |code: &str, message: String| {
        Box::new(CollectionError {
            account: Some(account.to_owned()),
            region: None,
            operation: ASSUME_ROLE.to_owned(),
            resource: Some(role_arn.to_owned()),
            code: code.to_owned(),
            message,
        })
    };
    match retrier
        .call(&key, "GetCallerIdentity", &requests, || {
            client.get_caller_identity().send()
        })
        .await
    {
        Ok(identity) if identity.account() == Some(account) => Ok(()),
        Ok(identity) => Err(wrong_account(identity.account().unwrap_or("?"))),
        Err(gave_up) => {
            let chain = failure::chain(&gave_up.error);
            let code = assume_role_code(&chain);
            Err(error(
                code,
                format!(
                    "could not assume role {role_arn} in account {account}: {chain}; {}",
                    assume_role_hint(code, role.external_id.is_some())
                ),
            ))
        }
    }
}

/// The AWS error code in an AssumeRole failure's message chain, else a generic one.
fn assume_role_code(chain: &str) -> &'static str {
    if chain.contains("AccessDenied") || chain.contains("not authorized") {
        "AccessDenied"
    } else if chain.contains("RegionDisabled") {
        "RegionDisabledException"
    } else if chain.contains("ExpiredToken") {
        "ExpiredToken"
    } else {
        "assume-role-failed"
    }
}

/// What usually causes an AssumeRole failure, and the fix.
fn assume_role_hint(code: &str, external_id_given: bool) -> String {
    match code {
        "AccessDenied" => {
            let external = if external_id_given {
                "the --external-id given does not match the trust policy's sts:ExternalId condition"
            } else {
                "the trust policy requires an external id (give it with --external-id)"
            };
            format!(
                "usual causes: the role does not exist in this account or its trust policy \
                 does not allow the caller to sts:AssumeRole; {external}; or a service \
                 control policy denies sts:AssumeRole or the role (docs/collect.md shows \
                 the role's trust policy and a StackSet template)"
            )
        }
        "RegionDisabledException" => "STS is not activated in this region for the account: \
             activate it in IAM's account settings, or collect from another region"
            .to_owned(),
        "ExpiredToken" => "the base credentials expired: renew them and run again".to_owned(),
        _ => "check that the role exists and its trust policy allows the caller".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_follow_the_partition_and_account() {
        let name = RoleTemplate::Name("hlaudit-audit".into());
        assert_eq!(
            name.arn("aws-us-gov", "111122223333"),
            "arn:aws-us-gov:iam::111122223333:role/hlaudit-audit"
        );
        let path = RoleTemplate::Name("/audit/hlaudit".into());
        assert_eq!(path.arn("aws", "1"), "arn:aws:iam::1:role/audit/hlaudit");
        let arn = RoleTemplate::Arn("arn:{partition}:iam::{account}:role/x-{account}".into());
        assert_eq!(arn.arn("aws", "2"), "arn:aws:iam::2:role/x-2");
    }

    #[test]
    fn assume_role_failures_get_their_hint() {
        let chain = "service error: AccessDenied: User: arn:aws:iam::1:user/u is not authorized to perform: sts:AssumeRole";
        let code = assume_role_code(chain);
        assert_eq!(code, "AccessDenied");
        let hint = assume_role_hint(code, false);
        assert!(
            hint.contains("trust policy")
                && hint.contains("--external-id")
                && hint.contains("service control policy")
        );
        assert!(assume_role_hint(code, true).contains("does not match"));
        assert_eq!(assume_role_code("connection refused"), "assume-role-failed");
    }
}
