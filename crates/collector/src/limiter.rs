//! Client-side rate limiting that adapts to throttling: one limiter per
//! (caller, region, service), since that is the unit AWS throttles by.
//!
//! A limiter does nothing until its service throttles. From then on it spaces the
//! attempts it lets through evenly at a rate that follows AIMD over windows of one
//! second. A window with fewer than [`MIN_ANSWERS`] answers changes nothing (a few
//! answers say nothing about a rate: a throttled first page must not set the pace of
//! the thousand tag calls that follow). With `share` the throttled fraction of a
//! window's answers, the next rate is `rate * (1 - share / 2) + RATE_STEP * (1 - share)`,
//! `rate` being the limit in force, or for the first limit the rate that was sent:
//!
//! - a region that throttles every call halves the rate each window, down to
//!   [`MIN_RATE`]; once it recovers, each window without throttling adds
//!   [`RATE_STEP`] times the number of such windows in a row (5, 10, 15, ... requests
//!   per second), so the rate climbs back within seconds;
//! - against a service that throttles what exceeds its quota `Q`, sending at `R` gets a
//!   share of `1 - Q/R`, so the rate moves to about `(R + Q) / 2`: it closes half the gap
//!   to the quota each second instead of dropping far below it;
//! - throttling that does not depend on the rate (a share `p` whatever is sent) settles
//!   at `2 * RATE_STEP * (1 - p) / p` requests per second (40 for 20%) instead of
//!   collapsing: the rate is adjusted once per window, not once per throttled answer.
//!
//! Attempts are given start times (a virtual schedule, as in the generic cell rate
//! algorithm) rather than tokens, so waiting attempts are served in order and none
//! spins. The schedule and the rate are plain data ([`Aimd`]), tested without sleeping.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The length of the windows the rate is adjusted over.
pub(crate) const WINDOW: Duration = Duration::from_secs(1);

/// The lowest rate, in requests per second: a region that throttles everything is
/// still asked about once a second, so the collection sees it recover.
pub(crate) const MIN_RATE: f64 = 1.0;

/// The rate added after a window without throttling, in requests per second (times
/// the number of such windows in a row).
pub(crate) const RATE_STEP: f64 = 5.0;

/// A window with fewer answers leaves the rate as it is.
pub(crate) const MIN_ANSWERS: u32 = 10;

/// Attempts may start this far behind the schedule (a short burst after an idle
/// spell), so a limiter that was idle does not make the next attempts wait.
const BURST: Duration = Duration::from_millis(200);

/// Who is limited: AWS applies its request quotas per account, region and service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct LimitKey {
    /// The account the requests are signed for, or the credential set when its
    /// account is not known.
    pub caller: Caller,
    /// The region the requests are sent to.
    pub region: String,
    /// The IAM service prefix: `healthlake`, `kms`, `sts`.
    pub service: &'static str,
}

/// Whose quota a request counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Caller {
    /// An account id.
    Account(String),
    /// A credential set whose account is not known: the profile name, or `None` for
    /// the default chain.
    Profile(Option<String>),
}

impl Caller {
    /// The account when known, else the credential set.
    pub(crate) fn of(account: Option<&str>, profile: Option<&str>) -> Self {
        match account {
            Some(a) => Caller::Account(a.to_owned()),
            None => Caller::Profile(profile.map(str::to_owned)),
        }
    }
}

/// What an attempt's answer tells the limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// The service throttled the request.
    Throttled,
    /// Any other answer (an error that is not throttling counts too: the service
    /// answered without pushing back).
    Answered,
}

/// The state of one limiter: the rate, the schedule and the current window.
#[derive(Debug, Clone)]
pub(crate) struct Aimd {
    /// Requests per second; `None` until the first throttled window.
    rate: Option<f64>,
    /// When the next attempt may start.
    next: Instant,
    window_start: Instant,
    sent: u32,
    answered: u32,
    throttled: u32,
    /// Windows without throttling in a row.
    clean: u32,
}

impl Aimd {
    pub(crate) fn new(now: Instant) -> Self {
        Aimd {
            rate: None,
            next: now,
            window_start: now,
            sent: 0,
            answered: 0,
            throttled: 0,
            clean: 0,
        }
    }

    /// The rate in force, `None` while unlimited.
    pub(crate) fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Books an attempt and returns when it may start (`now` or later).
    pub(crate) fn reserve(&mut self, now: Instant) -> Instant {
        self.roll(now);
        self.sent += 1;
        let Some(rate) = self.rate else {
            return now;
        };
        let start = self.next.max(now.checked_sub(BURST).unwrap_or(now));
        self.next = start + Duration::from_secs_f64(1.0 / rate);
        start.max(now)
    }

    /// Records an attempt's answer.
    pub(crate) fn record(&mut self, now: Instant, signal: Signal) {
        self.roll(now);
        self.answered += 1;
        if signal == Signal::Throttled {
            self.throttled += 1;
        }
    }

    /// Closes the window when it has run its length, adjusting the rate.
    fn roll(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed < WINDOW {
            return;
        }
        if self.answered < MIN_ANSWERS {
            // Too few answers to say anything about a rate: a quiet spell (a region's
            // pages, calls waiting out their backoff) neither sets nor moves it.
        } else if self.throttled > 0 {
            self.clean = 0;
            let share = f64::from(self.throttled) / f64::from(self.answered);
            // The first limit starts from the rate that was throttled; later ones
            // from the limit in force, not from what a quieter window happened to
            // send, or a lull would pin the rate low when the work comes back.
            let sent = f64::from(self.sent) / elapsed.as_secs_f64();
            let base = self.rate.unwrap_or(sent);
            let next = base * (1.0 - share / 2.0) + RATE_STEP * (1.0 - share);
            self.rate = Some(next.max(MIN_RATE));
        } else if let Some(rate) = self.rate {
            self.clean = self.clean.saturating_add(1);
            self.rate = Some(rate + RATE_STEP * f64::from(self.clean));
        }
        self.window_start = now;
        self.sent = 0;
        self.answered = 0;
        self.throttled = 0;
    }
}

/// One limiter, shared by every call to its (caller, region, service).
#[derive(Debug)]
pub(crate) struct Limiter {
    state: Mutex<Aimd>,
}

impl Limiter {
    fn new() -> Self {
        Limiter {
            state: Mutex::new(Aimd::new(Instant::now())),
        }
    }

    fn state(&self) -> MutexGuard<'_, Aimd> {
        // The state is plain numbers, valid whatever a panicking holder did.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for this attempt's turn.
    pub(crate) async fn acquire(&self) {
        let now = Instant::now();
        let start = self.state().reserve(now);
        if start > now {
            tokio::time::sleep_until(start.into()).await;
        }
    }

    /// Records an attempt's answer.
    pub(crate) fn record(&self, signal: Signal) {
        self.state().record(Instant::now(), signal);
    }

    /// The rate in force, `None` while unlimited.
    pub(crate) fn rate(&self) -> Option<f64> {
        self.state().rate()
    }
}

/// Every limiter of a collection, created on first use.
#[derive(Debug, Default)]
pub(crate) struct Limiters {
    by_key: Mutex<HashMap<LimitKey, Arc<Limiter>>>,
}

impl Limiters {
    /// The limiter of `key`.
    pub(crate) fn get(&self, key: &LimitKey) -> Arc<Limiter> {
        let mut map = self.by_key.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(key.clone())
            .or_insert_with(|| Arc::new(Limiter::new()))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `per_second` attempts spread over each second of `seconds`, each answered
    /// with `throttled(second, i)`, and returns the rate after each second.
    fn drive(
        aimd: &mut Aimd,
        t0: Instant,
        seconds: u32,
        per_second: u32,
        throttled: impl Fn(u32, u32) -> bool,
    ) -> Vec<Option<f64>> {
        let mut rates = Vec::new();
        for s in 0..seconds {
            for i in 0..per_second {
                let at = t0
                    + Duration::from_secs(u64::from(s))
                    + Duration::from_secs_f64(f64::from(i) / f64::from(per_second));
                aimd.reserve(at);
                let signal = if throttled(s, i) {
                    Signal::Throttled
                } else {
                    Signal::Answered
                };
                aimd.record(at, signal);
            }
            rates.push(aimd.rate());
        }
        rates
    }

    #[test]
    fn unlimited_until_throttled() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(t0);
        let rates = drive(&mut aimd, t0, 3, 100, |_, _| false);
        assert!(rates.iter().all(Option::is_none), "{rates:?}");
        // Unlimited: every attempt may start at once.
        assert_eq!(
            aimd.reserve(t0 + Duration::from_secs(3)),
            t0 + Duration::from_secs(3)
        );
    }

    #[test]
    fn a_region_that_throttles_everything_halves_each_window_down_to_the_floor() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(t0);
        let rates = drive(&mut aimd, t0, 12, 100, |_, _| true);
        assert_eq!(rates[0], None, "the first window is still open");
        let limited: Vec<f64> = rates.iter().flatten().copied().collect();
        assert!((45.0..=55.0).contains(&limited[0]), "{rates:?}");
        assert!(limited.windows(2).all(|w| w[1] <= w[0]), "{rates:?}");
        assert_eq!(limited.last(), Some(&MIN_RATE));
    }

    #[test]
    fn a_few_answers_do_not_set_the_rate() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(t0);
        // One throttled page a second, as a region's first page retried.
        let rates = drive(&mut aimd, t0, 5, 1, |_, _| true);
        assert!(rates.iter().all(Option::is_none), "{rates:?}");
        let rates = drive(&mut aimd, t0 + WINDOW * 5, 2, 10, |_, _| true);
        assert!(rates.last().copied().flatten().is_some(), "{rates:?}");
    }

    #[test]
    fn recovers_faster_and_faster_once_throttling_stops() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(t0);
        drive(&mut aimd, t0, 8, 20, |_, _| true);
        let low = aimd.rate().unwrap();
        assert_eq!(low, MIN_RATE);
        let rates = drive(&mut aimd, t0 + WINDOW * 8, 5, 20, |_, _| false);
        let gains: Vec<f64> = rates
            .windows(2)
            .map(|w| w[1].unwrap() - w[0].unwrap())
            .collect();
        assert!(gains.windows(2).all(|g| g[1] > g[0]), "{rates:?}");
        assert!(
            rates.last().copied().flatten().unwrap() >= 50.0,
            "{rates:?}"
        );
    }

    #[test]
    fn random_throttling_slows_down_but_does_not_collapse() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(t0);
        // One answer in five throttled, at 200 attempts a second for a minute.
        let rates = drive(&mut aimd, t0, 60, 200, |_, i| i % 5 == 0);
        let last = rates.last().copied().flatten().unwrap();
        // The equilibrium of `rate * share / 2 = RATE_STEP * (1 - share)` is 40.
        assert!((30.0..=60.0).contains(&last), "{rates:?}");
    }

    #[test]
    fn converges_near_a_quota_instead_of_far_below_it() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(t0);
        let quota = 20.0;
        let mut offered = 200.0_f64;
        for s in 0..30u32 {
            let n = offered.round() as u32;
            for i in 0..n {
                let at = t0
                    + Duration::from_secs(u64::from(s))
                    + Duration::from_secs_f64(f64::from(i) / f64::from(n));
                aimd.reserve(at);
                let signal = if f64::from(i) >= quota {
                    Signal::Throttled
                } else {
                    Signal::Answered
                };
                aimd.record(at, signal);
            }
            offered = aimd.rate().unwrap_or(offered);
        }
        assert!((quota..=quota * 2.0).contains(&offered), "{offered}");
    }

    #[test]
    fn spaces_attempts_at_the_rate_in_order() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(t0);
        aimd.rate = Some(10.0);
        aimd.next = t0;
        let starts: Vec<Duration> = (0..4).map(|_| aimd.reserve(t0) - t0).collect();
        assert_eq!(
            starts,
            [0, 100, 200, 300].map(Duration::from_millis),
            "{starts:?}"
        );
    }

    #[test]
    fn keys_by_caller_region_and_service() {
        let limiters = Limiters::default();
        let key = |account: &str, region: &str, service| LimitKey {
            caller: Caller::of(Some(account), None),
            region: region.to_owned(),
            service,
        };
        let a = limiters.get(&key("1", "us-east-1", "healthlake"));
        assert!(Arc::ptr_eq(
            &a,
            &limiters.get(&key("1", "us-east-1", "healthlake"))
        ));
        for other in [
            key("2", "us-east-1", "healthlake"),
            key("1", "eu-west-2", "healthlake"),
            key("1", "us-east-1", "kms"),
        ] {
            assert!(!Arc::ptr_eq(&a, &limiters.get(&other)), "{other:?}");
        }
    }
}
