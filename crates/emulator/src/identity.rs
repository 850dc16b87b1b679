//! Which account a request's credentials belong to, learned the way AWS knows it: from
//! the credentials themselves.
//!
//! Access keys mapped with `--access-key KEY=ACCOUNT` are known up front. With an STS
//! endpoint (`--sts-endpoint`, e.g. moto's server), any other key is looked up once by
//! asking that STS `GetCallerIdentity` with the request's access key id and session
//! token: moto ties the temporary credentials it issues (`AssumeRole`) to the role's
//! account, so a collector that signs account B's request with account A's assumed
//! credentials sees A's data stores, as it would on AWS. The emulator holds no secret,
//! and moto does not verify signatures, so the lookup is signed with a placeholder
//! secret. A key STS does not accept is refused (`UnrecognizedClientException`), never
//! served another account's data.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_credential_types::Credentials;
use aws_sdk_sts::config::{BehaviorVersion, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use tokio::sync::OnceCell;

use crate::protocol::ApiError;

/// Looks up and remembers the account of access keys through STS: each key once, however
/// many requests signed with it arrive together (they wait for the one lookup).
#[derive(Debug)]
pub(crate) struct StsAccounts {
    endpoint: String,
    known: Mutex<HashMap<String, Arc<OnceCell<String>>>>,
    http: std::sync::OnceLock<SharedHttpClient>,
}

impl StsAccounts {
    pub(crate) fn new(endpoint: String) -> Self {
        StsAccounts {
            endpoint,
            known: Mutex::new(HashMap::new()),
            http: std::sync::OnceLock::new(),
        }
    }

    /// The account of `access_key` (with `session_token`, sent in
    /// `X-Amz-Security-Token`). A lookup that fails is tried again by the next request.
    pub(crate) async fn account(
        &self,
        access_key: &str,
        session_token: Option<&str>,
    ) -> Result<String, ApiError> {
        let cell = self
            .lock()
            .entry(access_key.to_owned())
            .or_default()
            .clone();
        cell.get_or_try_init(|| self.look_up(access_key, session_token))
            .await
            .cloned()
    }

    async fn look_up(
        &self,
        access_key: &str,
        session_token: Option<&str>,
    ) -> Result<String, ApiError> {
        let http = self
            .http
            .get_or_init(|| {
                aws_smithy_http_client::Builder::new()
                    .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                    .build_https()
            })
            .clone();
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .http_client(http)
            .credentials_provider(Credentials::new(
                access_key,
                "the-emulator-holds-no-secret",
                session_token.map(str::to_owned),
                None,
                "hlaudit-emulator",
            ))
            .build();
        let answer = aws_sdk_sts::Client::from_conf(config)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| {
                tracing::warn!("STS does not know access key {access_key}: {e}");
                ApiError::unrecognized_client()
            })?;
        let account = answer
            .account()
            .ok_or_else(ApiError::unrecognized_client)?
            .to_owned();
        Ok(account)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<OnceCell<String>>>> {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
