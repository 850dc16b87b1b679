//! Timestamps as HealthLake and the AWS CLI print them.
//!
//! The API and AWS CLI v1 print epoch seconds, integer or fractional (`1603761064.881`);
//! AWS CLI v2 prints ISO 8601 with an offset (`2020-10-27T01:11:04.881000+00:00`). Both are
//! accepted; a [`Timestamp`] is always UTC internally.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A point in time, UTC, millisecond precision or better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

/// Why a value is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// A number outside the range of representable dates, or not finite.
    #[error("epoch seconds {0} are out of range")]
    OutOfRange(String),
    /// A string that is neither epoch seconds nor ISO 8601 with an offset.
    #[error("`{0}` is neither epoch seconds nor an ISO 8601 date-time with an offset")]
    Unparsable(String),
    /// A JSON value that is neither a number nor a string.
    #[error("expected epoch seconds (a number) or an ISO 8601 string, found {0}")]
    WrongType(&'static str),
    /// A date outside the years 0000 to 9999 (in UTC), which RFC 3339 cannot write, so
    /// hlaudit could not read back what it wrote.
    #[error("`{0}` is outside the years 0000 to 9999")]
    YearOutOfRange(String),
}

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Timestamp(Utc::now())
    }

    /// From epoch seconds, integer or fractional.
    pub fn from_epoch_seconds(secs: f64) -> Result<Self, TimestampError> {
        if !secs.is_finite() {
            return Err(TimestampError::OutOfRange(secs.to_string()));
        }
        let whole = secs.floor();
        // Microsecond rounding: epoch seconds as f64 carry ~0.1 us of noise at today's dates,
        // and the API's precision is milliseconds.
        let micros = ((secs - whole) * 1e6).round() as u32;
        let nanos = micros * 1000;
        let (whole, nanos) = if nanos >= 1_000_000_000 {
            (whole + 1.0, 0)
        } else {
            (whole, nanos)
        };
        if whole < i64::MIN as f64 || whole > i64::MAX as f64 {
            return Err(TimestampError::OutOfRange(secs.to_string()));
        }
        let t = Utc
            .timestamp_opt(whole as i64, nanos)
            .single()
            .map(Timestamp)
            .ok_or_else(|| TimestampError::OutOfRange(secs.to_string()))?;
        // The number is written out only for the error: formatting a double costs more
        // than the rest of this.
        t.within_rfc3339_years(|| secs.to_string())
    }

    /// Itself when its UTC year is one RFC 3339 can write (0000 to 9999), so that every
    /// timestamp hlaudit accepts reads back from what it writes.
    fn within_rfc3339_years(self, input: impl FnOnce() -> String) -> Result<Self, TimestampError> {
        if (0..=9999).contains(&self.0.year()) {
            Ok(self)
        } else {
            Err(TimestampError::YearOutOfRange(input()))
        }
    }

    /// Parses ISO 8601 / RFC 3339 with an offset, or a string of epoch seconds.
    pub fn parse(s: &str) -> Result<Self, TimestampError> {
        let t = s.trim();
        if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
            return Timestamp(dt.with_timezone(&Utc)).within_rfc3339_years(|| s.to_owned());
        }
        // ISO 8601 also allows a space-free offset like +0000 and a lower-case t/z.
        if let Ok(dt) = DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z") {
            return Timestamp(dt.with_timezone(&Utc)).within_rfc3339_years(|| s.to_owned());
        }
        if let Ok(secs) = t.parse::<f64>() {
            return Self::from_epoch_seconds(secs);
        }
        Err(TimestampError::Unparsable(s.to_owned()))
    }

    /// From a JSON value: a number of epoch seconds or a string.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, TimestampError> {
        match v {
            serde_json::Value::Number(n) => match n.as_f64() {
                Some(f) => Self::from_epoch_seconds(f),
                None => Err(TimestampError::OutOfRange(n.to_string())),
            },
            serde_json::Value::String(s) => Self::parse(s),
            serde_json::Value::Null => Err(TimestampError::WrongType("null")),
            serde_json::Value::Bool(_) => Err(TimestampError::WrongType("a boolean")),
            serde_json::Value::Array(_) => Err(TimestampError::WrongType("an array")),
            serde_json::Value::Object(_) => Err(TimestampError::WrongType("an object")),
        }
    }

    /// Epoch seconds with fractional milliseconds, as the API prints them.
    pub fn epoch_seconds(&self) -> f64 {
        self.0.timestamp() as f64 + f64::from(self.0.timestamp_subsec_nanos()) / 1e9
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2020-10-27T01:11:04.881Z`.
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Timestamp::from_json(&v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_forms_agree_with_iso() {
        let a = Timestamp::from_epoch_seconds(1603761064.881).unwrap();
        let b = Timestamp::parse("2020-10-27T01:11:04.881000+00:00").unwrap();
        let c = Timestamp::parse("1603761064.881").unwrap();
        assert_eq!(a.to_rfc3339(), "2020-10-27T01:11:04.881Z");
        assert_eq!(a, b);
        assert_eq!(a, c);
        let d = Timestamp::parse("2020-10-26T20:11:04.881-05:00").unwrap();
        assert_eq!(a, d);
    }

    #[test]
    fn rejects_garbage() {
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::from_json(&serde_json::json!(true)).is_err());
        assert!(Timestamp::from_epoch_seconds(f64::NAN).is_err());
    }

    #[test]
    fn refuses_years_rfc_3339_cannot_write() {
        // found by the mutation harness (tests/tests/robustness.rs): these were accepted,
        // then written as `+57389-06-29T...` or `-0031-04-24T...`, which do not read back
        for bad in [
            "1748874031748",
            "-99999999999",
            "-63135596800",
            "253402300800",
        ] {
            let err = Timestamp::parse(bad).unwrap_err();
            assert!(
                matches!(err, TimestampError::YearOutOfRange(_)),
                "{bad}: {err}"
            );
        }
        assert!(Timestamp::parse("0000-01-01T00:30:00+01:00").is_err());
        for ok in ["-62167219200", "253402300799.5", "9999-12-31T23:59:59Z"] {
            let t = Timestamp::parse(ok).unwrap();
            assert_eq!(Timestamp::parse(&t.to_rfc3339()).unwrap(), t, "{ok}");
        }
    }
}
