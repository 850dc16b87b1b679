//! Problems that stop a collection before it starts. Everything that goes wrong once
//! requests are sent is data: a [`hlaudit_model::CollectionError`] in the inventory.

/// A collection that cannot start: its configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// No region to collect from.
    #[error("no region to collect from{}: {hint}; give --region or --regions, or set AWS_REGION or a region in the profile", profile_suffix(.profile))]
    NoRegion {
        /// The profile whose configuration gave no region, when one was named.
        profile: Option<String>,
        /// What was missing.
        hint: &'static str,
    },
    /// A region name that is not one.
    #[error("`{region}` (from {origin}) is not an AWS region name (expected e.g. us-east-1)")]
    InvalidRegion {
        /// The value given.
        region: String,
        /// Where it came from: a flag or an environment variable.
        origin: &'static str,
    },
    /// A setting out of its range.
    #[error("{setting} is {value}: expected {expected}")]
    InvalidSetting {
        /// The setting, named as the library field.
        setting: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// The accounts to collect could not be listed (Organizations, or the caller's own
    /// identity): hlaudit cannot say which accounts it would leave out, so it stops.
    #[error("cannot list the accounts to collect: {call} failed: {message}")]
    Organization {
        /// The call, e.g. `organizations:ListAccounts`.
        call: &'static str,
        /// The service's error code, or a kebab-case code for what failed on the way.
        code: String,
        /// The cause and the fix.
        message: String,
    },
    /// A profile named twice.
    #[error("profile `{0}` is named more than once")]
    DuplicateProfile(String),
}

fn profile_suffix(profile: &Option<String>) -> String {
    match profile {
        Some(p) => format!(" for profile `{p}`"),
        None => String::new(),
    }
}
