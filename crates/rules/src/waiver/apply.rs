//! Applying waivers to a report: FAIL becomes WAIVED where an unexpired waiver matches.

use chrono::{Days, NaiveDate, TimeDelta, TimeZone, Utc};
use hlaudit_model::finding::AppliedWaiver;
use hlaudit_model::report::{Report, Resource};
use hlaudit_model::{Source, Status, Timestamp, Warning};

use crate::waiver::load::{Waiver, WaiverSet};

/// The default of `--warn-expiring`: waivers that stop applying within this many days are
/// listed.
pub const DEFAULT_WARN_EXPIRING_DAYS: u32 = 14;

/// How waivers are applied.
#[derive(Debug, Clone, Copy)]
pub struct WaiverOptions {
    /// The evaluation time (`--as-of`, else the start of the run).
    pub as_of: Timestamp,
    /// List waivers that stop applying within this many days of `as_of`.
    pub warn_expiring_days: u32,
}

impl WaiverOptions {
    /// Options at this time with the default warning window.
    pub fn at(as_of: Timestamp) -> Self {
        WaiverOptions {
            as_of,
            warn_expiring_days: DEFAULT_WARN_EXPIRING_DAYS,
        }
    }
}

/// A waiver worth telling the user about, and how many findings it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverNote {
    /// Where the waiver is written.
    pub source: Source,
    /// Its policy id or glob.
    pub policy: String,
    /// Its last day (`YYYY-MM-DD`), `None` when permanent.
    pub expires: Option<String>,
    /// FAIL findings it matched (for an expired waiver: the findings that are FAIL again).
    pub matched: usize,
}

/// What applying waivers did and what the waiver files need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaiverOutcome {
    /// FAIL findings turned into WAIVED.
    pub applied: usize,
    /// Waivers whose last day is before the evaluation time: they no longer apply.
    pub expired: Vec<WaiverNote>,
    /// Unexpired waivers that stop applying within the warning window.
    pub expiring: Vec<WaiverNote>,
    /// Unexpired waivers that matched no FAIL finding (the violation is fixed, the data
    /// store is gone, or the waiver is mistyped).
    pub unused: Vec<WaiverNote>,
}

impl WaiverOutcome {
    /// The outcome as report warnings (codes `expired-waiver`, `expiring-waiver`,
    /// `unused-waiver`), each pointing at the waiver.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut out = Vec::new();
        for n in &self.expired {
            let again = match n.matched {
                0 => "it matches no failing finding".to_owned(),
                1 => "1 finding is FAIL again".to_owned(),
                k => format!("{k} findings are FAIL again"),
            };
            out.push(warning(
                "expired-waiver",
                format!(
                    "the waiver for `{}` expired on {} and no longer applies; {again}",
                    n.policy,
                    n.expires.as_deref().unwrap_or("?")
                ),
                n,
            ));
        }
        for n in &self.expiring {
            out.push(warning(
                "expiring-waiver",
                format!(
                    "the waiver for `{}` expires on {} (covers {} finding{})",
                    n.policy,
                    n.expires.as_deref().unwrap_or("?"),
                    n.matched,
                    if n.matched == 1 { "" } else { "s" }
                ),
                n,
            ));
        }
        for n in &self.unused {
            out.push(warning(
                "unused-waiver",
                format!("the waiver for `{}` matched no failing finding", n.policy),
                n,
            ));
        }
        out
    }
}

fn warning(code: &str, message: String, n: &WaiverNote) -> Warning {
    Warning {
        code: code.to_owned(),
        message,
        source: Some(n.source.clone()),
    }
}

/// The first instant a waiver no longer applies: the start (00:00 UTC) of the day after
/// its last day. A waiver with `expires: 2026-06-30` applies through 2026-06-30T23:59:59Z.
pub(crate) fn end_of(expires: NaiveDate) -> Option<Timestamp> {
    let next = expires.checked_add_days(Days::new(1))?;
    let midnight = next.and_hms_opt(0, 0, 0)?;
    Utc.from_local_datetime(&midnight).single().map(Timestamp)
}

/// Whether a waiver has expired at `as_of` (permanent waivers never do).
fn expired(w: &Waiver, as_of: Timestamp) -> bool {
    match w.expires {
        None => false,
        // A date so far ahead that the day after overflows never expires.
        Some(d) => end_of(d).is_some_and(|end| as_of >= end),
    }
}

fn covers(w: &Waiver, policy_id: &str, r: &Resource) -> bool {
    w.policy.matches(policy_id)
        && w.kinds.as_ref().is_none_or(|ks| ks.contains(&r.kind))
        && w.resource.as_ref().is_none_or(|p| p.matches(&r.key()))
        // A scope key the resource does not know (a planned data store has no ARN, and
        // may have no account or region) does not match: a waiver never widens by accident.
        && w.arn.as_ref().is_none_or(|p| r.arn().is_some_and(|a| p.matches(a)))
        && w.account
            .as_ref()
            .is_none_or(|p| r.account.as_deref().is_some_and(|a| p.matches(a)))
        && w.region
            .as_ref()
            .is_none_or(|p| r.region.as_deref().is_some_and(|a| p.matches(a)))
        && (w.tags.is_empty()
            || r.tags.as_ref().is_some_and(|tags| {
                w.tags
                    .iter()
                    .all(|(k, p)| tags.get(k).is_some_and(|v| p.matches(v)))
            }))
}

/// Applies waivers to every FAIL finding of a report.
///
/// A FAIL finding about a resource becomes WAIVED, with [`AppliedWaiver`] set, when an
/// unexpired waiver covers it: the waiver's policy pattern matches the policy id, the
/// resource's kind is one of its `kinds` (when it names any), and every scope key it sets
/// (`resource`, matched against [`Resource::key`], `arn`, `account`, `region`, each tag)
/// matches the resource. A value the resource does not have (the ARN of a planned data
/// store or a job, tags that were not collected) matches no scope key (fail closed). The
/// first such waiver in file and list order is the one recorded. PASS, SKIP and ERROR
/// findings (and collection errors) are never waived.
///
/// A waiver applies through the end of its `expires` day, UTC; from 00:00 UTC the next day
/// it is expired: it waives nothing and is reported with how many findings are FAIL again.
/// The outcome's warnings are also appended to `report.warnings`, so every report format
/// carries them.
pub fn apply_waivers(report: &mut Report, set: &WaiverSet, opts: &WaiverOptions) -> WaiverOutcome {
    let as_of = opts.as_of;
    let is_expired: Vec<bool> = set.waivers.iter().map(|w| expired(w, as_of)).collect();
    let mut matched = vec![0usize; set.waivers.len()];
    let mut applied = 0;
    for i in 0..report.findings.len() {
        let f = &report.findings[i];
        if f.status != Status::Fail {
            continue;
        }
        let Some(index) = f.record_index() else {
            continue;
        };
        let (Some(policy), Some(resource)) = (
            report.policies.get(f.policy_index()),
            report.resources.get(index),
        ) else {
            continue;
        };
        let mut chosen = None;
        for (wi, w) in set.waivers.iter().enumerate() {
            if covers(w, &policy.id, resource) {
                matched[wi] += 1;
                if chosen.is_none() && !is_expired[wi] {
                    chosen = Some(wi);
                }
            }
        }
        if let Some(wi) = chosen {
            let w = &set.waivers[wi];
            let f = &mut report.findings[i];
            f.status = Status::Waived;
            f.set_waiver(Some(AppliedWaiver {
                source: w.source.clone(),
                reason: w.reason.clone(),
                approved_by: w.approved_by.clone(),
                expires: w.expires.map(|d| d.format("%Y-%m-%d").to_string()),
            }));
            applied += 1;
        }
    }
    let window = TimeDelta::try_days(i64::from(opts.warn_expiring_days)).unwrap_or(TimeDelta::MAX);
    let horizon = as_of.0.checked_add_signed(window).map(Timestamp);
    let mut outcome = WaiverOutcome {
        applied,
        ..WaiverOutcome::default()
    };
    for (wi, w) in set.waivers.iter().enumerate() {
        let note = WaiverNote {
            source: w.source.clone(),
            policy: w.policy.as_str().to_owned(),
            expires: w.expires.map(|d| d.format("%Y-%m-%d").to_string()),
            matched: matched[wi],
        };
        if is_expired[wi] {
            outcome.expired.push(note);
            continue;
        }
        let ends_soon = match (w.expires.and_then(end_of), horizon) {
            (Some(end), Some(h)) => end <= h,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if matched[wi] == 0 {
            outcome.unused.push(note.clone());
        }
        if ends_soon {
            outcome.expiring.push(note);
        }
    }
    report.warnings.extend(outcome.warnings());
    outcome
}
