//! Keeping the response body of an operation as the service sent it.
//!
//! The SDK's typed outputs drop fields their model does not know, but a record must
//! keep every field AWS sends, including ones added after this SDK was built. An
//! interceptor attached to one call copies the body of the successful attempt's
//! response after the SDK has read it, so the caller takes the records from the exact
//! bytes and uses the typed output only for what the SDK is sure of (`NextToken`).

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::retry::AttemptError;

/// An interceptor that keeps the body of the last successful (2xx) response of the
/// call it is attached to. Each retry overwrites what an earlier attempt left, so the
/// body kept is the one the typed output was read from.
#[derive(Debug, Clone, Default)]
pub(crate) struct CaptureBody {
    slot: Arc<Mutex<Option<Vec<u8>>>>,
}

impl CaptureBody {
    /// Takes the body kept, if a successful response was read.
    pub(crate) fn take(&self) -> Option<Vec<u8>> {
        match self.slot.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }

    /// Takes the body kept; none kept is an unreadable answer (retried), since the
    /// records could not be kept as sent.
    pub(crate) fn body<E>(&self) -> Result<Vec<u8>, AttemptError<E>> {
        self.take().ok_or_else(|| {
            AttemptError::Unreadable(
                "the response body was not available to keep the records as sent".to_owned(),
            )
        })
    }
}

impl Intercept for CaptureBody {
    fn name(&self) -> &'static str {
        "hlaudit::CaptureBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        if !response.status().is_success() {
            return Ok(());
        }
        // Non-streaming operations read the whole body into memory before
        // deserializing, so the bytes are there.
        let body = response.body().bytes().map(<[u8]>::to_vec);
        let mut slot = match self.slot.lock() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = body;
        Ok(())
    }
}
