//! Fault injection: what goes wrong, how often, and the deterministic dice that decide.
//!
//! Every random choice is a pure function of the run's seed, the request's content
//! (operation, account, region, body) and how many times that same request has been
//! seen before. Concurrency therefore does not change which attempt of which request
//! fails: a test that retries gets the same sequence of faults on every run.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::EmulatorError;

/// A set of regions a fault applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RegionSet {
    /// No region.
    #[default]
    None,
    /// Every region.
    All,
    /// The regions listed.
    Only(BTreeSet<String>),
}

impl RegionSet {
    /// The regions listed (empty gives [`RegionSet::None`]).
    pub fn only<I, S>(regions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let set: BTreeSet<String> = regions.into_iter().map(Into::into).collect();
        if set.is_empty() {
            RegionSet::None
        } else {
            RegionSet::Only(set)
        }
    }

    /// Whether `region` is in the set.
    pub fn contains(&self, region: &str) -> bool {
        match self {
            RegionSet::None => false,
            RegionSet::All => true,
            RegionSet::Only(set) => set.contains(region),
        }
    }
}

/// The faults of a run. The default injects nothing.
///
/// Rates are probabilities in `0.0..=1.0`, applied per request (per attempt: a retry
/// of a failed request draws again). One draw decides between throttling, a server
/// error and success, so `throttle_rate + server_error_rate` must not exceed 1; the
/// same holds for the two body faults, which only hit responses that would succeed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Seed of the dice; the same seed and the same requests give the same faults.
    pub seed: u64,
    /// Share of requests answered `ThrottlingException` (HTTP 400).
    pub throttle_rate: f64,
    /// Share of requests answered with a server error: `InternalServerException`
    /// (HTTP 500) or `ServiceUnavailableException` (HTTP 503), half each.
    pub server_error_rate: f64,
    /// Delay added before every response.
    pub latency: Duration,
    /// Share of successful responses whose JSON body is cut short (a complete HTTP
    /// response whose body is not valid JSON).
    pub malformed_body_rate: f64,
    /// Share of successful responses whose connection closes before the body
    /// announced by `Content-Length` is complete.
    pub truncated_body_rate: f64,
    /// Regions where `ListFHIRDatastores` paginates forever: the first page always
    /// carries a `NextToken` (even when everything fits on it) and a request carrying
    /// a token gets that same token back (a pagination loop).
    pub next_token_loop: RegionSet,
    /// Regions where every operation is answered `AccessDeniedException`.
    pub access_denied: RegionSet,
    /// Regions where every request is answered `ExpiredTokenException`, as AWS's front
    /// end answers a request signed with an expired session token.
    pub expired_token: RegionSet,
    /// Regions that throttle every request for a while, then recover: each region maps
    /// to how long, counted from the first request the emulator receives for it (after
    /// the faults were set). The other faults apply once the window has passed.
    pub throttle_windows: BTreeMap<String, Duration>,
    /// Data store ARNs whose `ListTagsForResource` and `TagResource` are answered
    /// `AccessDeniedException`, as an IAM policy denying that one resource makes AWS
    /// answer.
    pub denied_resources: BTreeSet<String>,
    /// `(operation, data store ARN)` pairs answered `AccessDeniedException`: one
    /// operation about one data store, e.g. `ListFHIRExportJobs` of one data store, as
    /// an IAM policy denying that action on that resource makes AWS answer. For the
    /// transformation profile operations, which are about a region, the pair names the
    /// region instead: `(ListDataTransformationProfiles, eu-west-2)`.
    pub denied_calls: BTreeSet<(String, String)>,
}

impl Faults {
    /// Checks that every rate is a probability and that the rates sharing a draw
    /// sum to at most 1.
    pub fn validate(&self) -> Result<(), EmulatorError> {
        let rates = [
            ("throttle_rate", self.throttle_rate),
            ("server_error_rate", self.server_error_rate),
            ("malformed_body_rate", self.malformed_body_rate),
            ("truncated_body_rate", self.truncated_body_rate),
        ];
        for (name, value) in rates {
            if !(0.0..=1.0).contains(&value) {
                return Err(EmulatorError::InvalidFault {
                    name,
                    value: value.to_string(),
                    expected: "a probability between 0 and 1",
                });
            }
        }
        let sum = self.throttle_rate + self.server_error_rate;
        if sum > 1.0 {
            return Err(EmulatorError::InvalidFault {
                name: "throttle_rate + server_error_rate",
                value: sum.to_string(),
                expected: "at most 1 (one draw decides between them)",
            });
        }
        let sum = self.malformed_body_rate + self.truncated_body_rate;
        if sum > 1.0 {
            return Err(EmulatorError::InvalidFault {
                name: "malformed_body_rate + truncated_body_rate",
                value: sum.to_string(),
                expected: "at most 1 (one draw decides between them)",
            });
        }
        Ok(())
    }
}

/// What the emulator did wrong on purpose, as recorded in the request log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// `ThrottlingException`, HTTP 400.
    Throttling,
    /// `InternalServerException` (500) or `ServiceUnavailableException` (503).
    ServerError,
    /// `AccessDeniedException` for a denied region or data store.
    AccessDenied,
    /// `ThrottlingException` inside a region's throttling window.
    ThrottlingWindow,
    /// `ExpiredTokenException` for a region whose credentials are treated as expired.
    ExpiredToken,
    /// A body that is not valid JSON.
    MalformedBody,
    /// A connection closed before the announced body was complete.
    TruncatedBody,
    /// `NextToken` returned unchanged.
    NextTokenLoop,
}

/// The error fault drawn for one request, before the operation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorFault {
    Throttling,
    InternalServer,
    Unavailable,
}

/// The body fault drawn for one successful response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFault {
    Malformed,
    Truncated,
}

/// The dice of one request: `key` identifies the request's content, `attempt` counts
/// how many times it was seen before.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dice {
    seed: u64,
    key: u64,
    attempt: u64,
}

impl Dice {
    pub(crate) fn new(seed: u64, key: u64, attempt: u64) -> Self {
        Dice { seed, key, attempt }
    }

    /// A number in `[0, 1)` for the draw named by `salt`.
    fn unit(&self, salt: u64) -> f64 {
        let mut x = splitmix64(self.seed ^ 0x9e37_79b9_7f4a_7c15);
        x = splitmix64(x ^ self.key);
        x = splitmix64(x ^ self.attempt);
        x = splitmix64(x ^ salt);
        // 53 random bits into the mantissa: uniform in [0, 1).
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn error_fault(&self, faults: &Faults) -> Option<ErrorFault> {
        let u = self.unit(1);
        if u < faults.throttle_rate {
            Some(ErrorFault::Throttling)
        } else if u < faults.throttle_rate + faults.server_error_rate {
            if self.unit(3) < 0.5 {
                Some(ErrorFault::InternalServer)
            } else {
                Some(ErrorFault::Unavailable)
            }
        } else {
            None
        }
    }

    pub(crate) fn body_fault(&self, faults: &Faults) -> Option<BodyFault> {
        let u = self.unit(2);
        if u < faults.malformed_body_rate {
            Some(BodyFault::Malformed)
        } else if u < faults.malformed_body_rate + faults.truncated_body_rate {
            Some(BodyFault::Truncated)
        } else {
            None
        }
    }
}

/// SplitMix64's output function: a fast, well-mixed bijection on `u64`.
pub(crate) fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// FNV-1a over byte strings, each followed by a separator so `("ab","c")` and
/// `("a","bc")` differ. Stable across runs and platforms (unlike `std`'s hasher).
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.iter().chain(std::iter::once(&0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate_of(faults: &Faults, n: u64) -> (usize, usize) {
        let mut errors = 0;
        let mut bodies = 0;
        for key in 0..n {
            let dice = Dice::new(faults.seed, key, 0);
            errors += usize::from(dice.error_fault(faults).is_some());
            bodies += usize::from(dice.body_fault(faults).is_some());
        }
        (errors, bodies)
    }

    #[test]
    fn rates_are_close_to_what_was_asked() {
        let faults = Faults {
            seed: 7,
            throttle_rate: 0.2,
            server_error_rate: 0.05,
            malformed_body_rate: 0.1,
            ..Faults::default()
        };
        let (errors, bodies) = rate_of(&faults, 20_000);
        assert!((4_600..=5_400).contains(&errors), "{errors}");
        assert!((1_800..=2_200).contains(&bodies), "{bodies}");
    }

    #[test]
    fn same_seed_same_faults_other_seed_other_faults() {
        let faults = Faults {
            seed: 1,
            throttle_rate: 0.5,
            ..Faults::default()
        };
        let draw = |f: &Faults| -> Vec<bool> {
            (0..64)
                .map(|k| Dice::new(f.seed, k, 0).error_fault(f).is_some())
                .collect()
        };
        assert_eq!(draw(&faults), draw(&faults));
        let other = Faults {
            seed: 2,
            ..faults.clone()
        };
        assert_ne!(draw(&faults), draw(&other));
    }

    #[test]
    fn zero_rates_never_fault_and_one_always_does() {
        let none = Faults::default();
        assert_eq!(rate_of(&none, 1_000), (0, 0));
        let all = Faults {
            throttle_rate: 1.0,
            truncated_body_rate: 1.0,
            ..Faults::default()
        };
        assert_eq!(rate_of(&all, 1_000), (1_000, 1_000));
    }

    #[test]
    fn validation_rejects_bad_rates() {
        let bad = Faults {
            throttle_rate: 1.5,
            ..Faults::default()
        };
        assert!(bad.validate().is_err());
        let sum = Faults {
            throttle_rate: 0.6,
            server_error_rate: 0.6,
            ..Faults::default()
        };
        assert!(sum.validate().is_err());
        let nan = Faults {
            malformed_body_rate: f64::NAN,
            ..Faults::default()
        };
        assert!(nan.validate().is_err());
        assert!(Faults::default().validate().is_ok());
    }

    #[test]
    fn region_sets() {
        assert!(!RegionSet::None.contains("us-east-1"));
        assert!(RegionSet::All.contains("us-east-1"));
        let only = RegionSet::only(["eu-west-1"]);
        assert!(only.contains("eu-west-1") && !only.contains("us-east-1"));
        assert_eq!(RegionSet::only(Vec::<String>::new()), RegionSet::None);
    }

    #[test]
    fn fnv_separates_parts() {
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
    }
}
