//! The length and count limits of the ASFF fields hlaudit writes, and how values are
//! fitted to them.
//!
//! The limits are those of the Security Hub API reference (`AwsSecurityFinding` and the
//! types it holds) and the ASFF user guide. Where the format documents no limit for a field
//! hlaudit fills from text someone else wrote (a resource id, a status reason, a
//! requirement), hlaudit sets one of its own, stated below, so no value is unbounded.
//! Lengths are UTF-16 code units (see [`len`]).

use std::collections::BTreeMap;

use hlaudit_model::invisible;

use super::AsffFinding;

/// The marker that ends a value that was cut.
pub const TRUNCATED: &str = "… [truncated]";
/// What a blank value is written as (the format's strings must hold a non-space).
pub const BLANK: &str = "(blank)";

/// `Id`: 512.
pub const ID: usize = 512;
/// `GeneratorId`: 512.
pub const GENERATOR_ID: usize = 512;
/// `Title`: 256.
pub const TITLE: usize = 256;
/// `Description`: 1024.
pub const DESCRIPTION: usize = 1024;
/// `Region`: 16.
pub const REGION: usize = 16;
/// `Remediation.Recommendation.Text`: 512.
pub const RECOMMENDATION_TEXT: usize = 512;
/// A URL (`SourceUrl`, `Remediation.Recommendation.Url`): no documented limit; hlaudit
/// leaves out a URL longer than 2048 rather than cut it (a cut URL leads nowhere).
pub const URL: usize = 2048;
/// `Note.Text`: 512.
pub const NOTE_TEXT: usize = 512;
/// `Note.UpdatedBy`: 512.
pub const NOTE_UPDATED_BY: usize = 512;
/// `Types`: at most 50 entries.
pub const TYPES: usize = 50;
/// One entry of `Types`: no documented limit; hlaudit's own, 256.
pub const TYPE: usize = 256;
/// `ProductFields`: at most 50 entries.
pub const PRODUCT_FIELDS: usize = 50;
/// A `ProductFields` key: 128.
pub const PRODUCT_FIELD_KEY: usize = 128;
/// A `ProductFields` value: 2048.
pub const PRODUCT_FIELD_VALUE: usize = 2048;
/// `Resources`: at most 32 entries.
pub const RESOURCES: usize = 32;
/// `Resources[].Id`: no documented limit; hlaudit's own, 512 (an ARN is far shorter).
pub const RESOURCE_ID: usize = 512;
/// `Resources[].Tags`: at most 50 tags (AWS's tag limit).
pub const TAGS: usize = 50;
/// A tag key: 128.
pub const TAG_KEY: usize = 128;
/// A tag value: 256.
pub const TAG_VALUE: usize = 256;
/// `Resources[].Details.Other`: at most 50 entries.
pub const OTHER: usize = 50;
/// A `Details.Other` key: fewer than 128.
pub const OTHER_KEY: usize = 127;
/// A `Details.Other` value: fewer than 1024.
pub const OTHER_VALUE: usize = 1023;
/// `Compliance.RelatedRequirements`: at most 32 entries.
pub const RELATED_REQUIREMENTS: usize = 32;
/// One requirement: no documented limit; hlaudit's own, 256.
pub const REQUIREMENT: usize = 256;
/// `Compliance.StatusReasons`: no documented limit; hlaudit writes at most 2.
pub const STATUS_REASONS: usize = 2;
/// A status reason's `Description`: no documented limit; hlaudit's own, 1024 (as
/// `Description`).
pub const STATUS_REASON_DESCRIPTION: usize = 1024;

/// A whole finding, as JSON: Security Hub refuses one over 240 KB; hlaudit counts
/// 240,000 bytes.
pub const FINDING_BYTES: usize = 240_000;
/// Findings in one `BatchImportFindings` request: at most 100.
pub const BATCH_FINDINGS: usize = 100;
/// One `BatchImportFindings` request: at most 6 MB; hlaudit counts 6,000,000 bytes.
pub const BATCH_BYTES: usize = 6_000_000;

/// What the last entry of a list or map says when entries were left out so that the
/// finding fits [`FINDING_BYTES`].
pub const SHRUNK: &str = "… [truncated: entries left out to fit 240 KB]";

/// The length the limits count: UTF-16 code units, never fewer than the characters, so a
/// value within a limit by this count is within it however the service counts.
pub fn len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `s` with its invisible characters written by code point, [`BLANK`] when it is blank,
/// and cut to at most `max` (see [`cut`]).
pub fn text(s: &str, max: usize) -> String {
    let shown = invisible::escape(s);
    if shown.trim().is_empty() {
        return BLANK.to_owned();
    }
    cut(&shown, max)
}

/// Text hlaudit's policies wrote (a title, a remediation): its line breaks and runs of
/// white space laid out for a terminal become one space each, then as [`text`]. Record
/// text never goes through here: a line break in a data store's name is shown by code
/// point, so two names never look alike.
pub fn prose(s: &str, max: usize) -> String {
    text(&s.split_whitespace().collect::<Vec<_>>().join(" "), max)
}

/// `s` cut on a character boundary to at most `max` code units, ending with
/// [`TRUNCATED`] when it was cut; `s` itself when it fits.
pub fn cut(s: &str, max: usize) -> String {
    if len(s) <= max {
        return s.to_owned();
    }
    let room = max.saturating_sub(len(TRUNCATED));
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if used + c.len_utf16() > room {
            break;
        }
        used += c.len_utf16();
        end = i + c.len_utf8();
    }
    let mut out = s[..end].trim_end().to_owned();
    out.push_str(TRUNCATED);
    out
}

/// A URL when it is present, not blank, has no invisible character and fits [`URL`].
pub fn url(s: Option<&str>) -> Option<String> {
    let s = s?.trim();
    let fits = !s.is_empty() && len(s) <= URL && !invisible::contains_invisible(s);
    fits.then(|| s.to_owned())
}

/// A list cut to at most `max` entries, each fitted with [`text`] to `each`; when entries
/// were left out, the last kept one says how many (`… [truncated: 7 more]`).
pub fn list(items: impl IntoIterator<Item = String>, max: usize, each: usize) -> Vec<String> {
    let items: Vec<String> = items.into_iter().collect();
    if items.len() <= max {
        return items.iter().map(|s| text(s, each)).collect();
    }
    let keep = max.saturating_sub(1);
    let mut out: Vec<String> = items[..keep].iter().map(|s| text(s, each)).collect();
    out.push(omitted(items.len() - keep));
    out
}

/// The limits of a map: entries, key and value lengths.
#[derive(Debug, Clone, Copy)]
pub struct MapLimits {
    /// Entries.
    pub entries: usize,
    /// Code units per key.
    pub key: usize,
    /// Code units per value.
    pub value: usize,
}

/// `ProductFields`.
pub const PRODUCT_FIELDS_MAP: MapLimits = MapLimits {
    entries: PRODUCT_FIELDS,
    key: PRODUCT_FIELD_KEY,
    value: PRODUCT_FIELD_VALUE,
};
/// `Resources[].Tags`.
pub const TAGS_MAP: MapLimits = MapLimits {
    entries: TAGS,
    key: TAG_KEY,
    value: TAG_VALUE,
};
/// `Resources[].Details.Other`.
pub const OTHER_MAP: MapLimits = MapLimits {
    entries: OTHER,
    key: OTHER_KEY,
    value: OTHER_VALUE,
};

/// The key under which a map that was cut says how many entries were left out.
pub const OMITTED_KEY: &str = "hlaudit/Truncated";

/// A map fitted to `limits`: keys and values fitted with [`text`] (a key that then equals
/// an earlier one keeps the earlier entry), and, when there are more entries than fit,
/// the first ones in order and an [`OMITTED_KEY`] entry saying how many were left out.
pub fn map(
    entries: impl IntoIterator<Item = (String, String)>,
    limits: MapLimits,
) -> BTreeMap<String, String> {
    let mut fitted: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (k, v) in entries {
        let k = text(&k, limits.key);
        if seen.insert(k.clone()) {
            let v = text(&v, limits.value);
            fitted.push((k, v));
        }
    }
    if fitted.len() <= limits.entries {
        return fitted.into_iter().collect();
    }
    let keep = limits.entries.saturating_sub(1);
    let left_out = fitted.len() - keep;
    let mut out: BTreeMap<String, String> = fitted.into_iter().take(keep).collect();
    out.insert(OMITTED_KEY.to_owned(), omitted(left_out));
    out
}

/// `… [truncated: N more]`.
fn omitted(n: usize) -> String {
    format!("… [truncated: {n} more]")
}

/// Every way `f` breaks a limit of this module or the format's rule that strings hold a
/// non-space on one line (`.*\S.*`), as `FIELD: problem`; empty for a finding Security Hub
/// accepts. [`super::findings`] only returns findings without any; the check is public so
/// that a finding built or changed elsewhere can be checked before it is sent.
pub fn violations(f: &AsffFinding) -> Vec<String> {
    let mut v = Violations::default();
    v.text("Id", &f.id, ID);
    v.text("GeneratorId", &f.generator_id, GENERATOR_ID);
    v.text("Title", &f.title, TITLE);
    v.text("Description", &f.description, DESCRIPTION);
    v.text("ProductArn", &f.product_arn, usize::MAX);
    if f.aws_account_id.len() != 12 || !f.aws_account_id.bytes().all(|b| b.is_ascii_digit()) {
        v.0.push(format!(
            "AwsAccountId: `{}` is not 12 digits",
            f.aws_account_id
        ));
    }
    if let Some(r) = &f.region {
        v.text("Region", r, REGION);
    }
    v.list("Types", &f.types, TYPES, TYPE);
    if let Some(r) = &f.remediation {
        if let Some(t) = &r.recommendation.text {
            v.text("Remediation.Recommendation.Text", t, RECOMMENDATION_TEXT);
        }
        if let Some(u) = &r.recommendation.url {
            v.text("Remediation.Recommendation.Url", u, URL);
        }
    }
    if let Some(u) = &f.source_url {
        v.text("SourceUrl", u, URL);
    }
    v.map("ProductFields", &f.product_fields, PRODUCT_FIELDS_MAP);
    if f.resources.is_empty() || f.resources.len() > RESOURCES {
        v.0.push(format!("Resources: {} entries", f.resources.len()));
    }
    for r in &f.resources {
        v.text("Resources[].Type", &r.type_, usize::MAX);
        v.text("Resources[].Id", &r.id, RESOURCE_ID);
        if let Some(tags) = &r.tags {
            v.map("Resources[].Tags", tags, TAGS_MAP);
        }
        if let Some(d) = &r.details {
            v.map("Resources[].Details.Other", &d.other, OTHER_MAP);
        }
    }
    if let Some(c) = &f.compliance {
        v.list(
            "Compliance.RelatedRequirements",
            &c.related_requirements,
            RELATED_REQUIREMENTS,
            REQUIREMENT,
        );
        if c.status_reasons.len() > STATUS_REASONS {
            v.0.push(format!(
                "Compliance.StatusReasons: {} entries",
                c.status_reasons.len()
            ));
        }
        for r in &c.status_reasons {
            v.text(
                "Compliance.StatusReasons[].ReasonCode",
                &r.reason_code,
                usize::MAX,
            );
            if let Some(d) = &r.description {
                v.text(
                    "Compliance.StatusReasons[].Description",
                    d,
                    STATUS_REASON_DESCRIPTION,
                );
            }
        }
    }
    if let Some(n) = &f.note {
        v.text("Note.Text", &n.text, NOTE_TEXT);
        v.text("Note.UpdatedBy", &n.updated_by, NOTE_UPDATED_BY);
    }
    if size(f) > FINDING_BYTES {
        v.0.push(format!(
            "the finding: {} bytes, more than {FINDING_BYTES}",
            size(f)
        ));
    }
    v.0
}

/// The size of a finding as JSON, in bytes (compact, as a request carries it).
pub fn size(f: &AsffFinding) -> usize {
    serde_json::to_vec(f).map_or(usize::MAX, |v| v.len())
}

/// Shrinks `f` until it fits [`FINDING_BYTES`]: while it is too large, the largest of its
/// lists and maps (`ProductFields`, the resource's tags and `Details.Other`, `Types`,
/// `RelatedRequirements`) keeps the first half of its entries and ends with [`SHRUNK`].
/// Every string is already within its own limit, so a few halvings always suffice.
pub(crate) fn fit_size(f: &mut AsffFinding) {
    for _ in 0..64 {
        if size(f) <= FINDING_BYTES {
            return;
        }
        let resource = f.resources.first();
        let candidates = [
            map_weight(&f.product_fields),
            resource.and_then(|r| r.tags.as_ref()).map_or(0, map_weight),
            resource
                .and_then(|r| r.details.as_ref())
                .map_or(0, |d| map_weight(&d.other)),
            list_weight(&f.types),
            f.compliance
                .as_ref()
                .map_or(0, |c| list_weight(&c.related_requirements)),
        ];
        let Some((largest, _)) = candidates.iter().enumerate().max_by_key(|(_, w)| **w) else {
            return;
        };
        match largest {
            0 => halve_map(&mut f.product_fields),
            1 => {
                if let Some(t) = f.resources.first_mut().and_then(|r| r.tags.as_mut()) {
                    halve_map(t);
                }
            }
            2 => {
                if let Some(d) = f.resources.first_mut().and_then(|r| r.details.as_mut()) {
                    halve_map(&mut d.other);
                }
            }
            3 => {
                halve_list(&mut f.types);
                if let Some(p) = f.finding_provider_fields.as_mut() {
                    p.types = f.types.clone();
                }
            }
            _ => {
                if let Some(c) = f.compliance.as_mut() {
                    halve_list(&mut c.related_requirements);
                }
            }
        }
    }
}

/// Keeps the first half of a map's entries and says some were left out.
fn halve_map(m: &mut BTreeMap<String, String>) {
    m.remove(OMITTED_KEY);
    let keep = m.len() / 2;
    *m = std::mem::take(m).into_iter().take(keep).collect();
    m.insert(OMITTED_KEY.to_owned(), SHRUNK.to_owned());
}

/// Keeps the first half of a list and says some entries were left out.
fn halve_list(l: &mut Vec<String>) {
    if l.last().is_some_and(|s| s.starts_with("… [truncated")) {
        l.pop();
    }
    l.truncate(l.len() / 2);
    l.push(SHRUNK.to_owned());
}

/// Bytes of text a map holds, as JSON roughly counts them.
fn map_weight(m: &BTreeMap<String, String>) -> usize {
    m.iter().map(|(k, v)| k.len() + v.len() + 6).sum()
}

/// Bytes of text a list holds, as JSON roughly counts them.
fn list_weight(l: &[String]) -> usize {
    l.iter().map(|s| s.len() + 3).sum()
}

/// The problems [`violations`] found so far.
#[derive(Default)]
struct Violations(Vec<String>);

impl Violations {
    fn text(&mut self, field: &str, s: &str, max: usize) {
        if len(s) > max {
            self.0
                .push(format!("{field}: {} code units, more than {max}", len(s)));
        }
        if s.trim().is_empty() {
            self.0.push(format!("{field}: blank"));
        }
        if s.contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) {
            self.0.push(format!("{field}: a line break"));
        }
    }

    fn list(&mut self, field: &str, items: &[String], max: usize, each: usize) {
        if items.len() > max {
            self.0
                .push(format!("{field}: {} entries, more than {max}", items.len()));
        }
        for s in items {
            self.text(field, s, each);
        }
    }

    fn map(&mut self, field: &str, m: &BTreeMap<String, String>, limits: MapLimits) {
        if m.len() > limits.entries {
            self.0.push(format!(
                "{field}: {} entries, more than {}",
                m.len(),
                limits.entries
            ));
        }
        for (k, val) in m {
            self.text(&format!("{field} key"), k, limits.key);
            self.text(&format!("{field}[{k}]"), val, limits.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_character_boundaries_with_a_marker() {
        assert_eq!(cut("short", 10), "short");
        let long = "é".repeat(300);
        let c = cut(&long, TITLE);
        assert!(len(&c) <= TITLE, "{}", len(&c));
        assert!(c.ends_with(TRUNCATED));
        // Astral characters count two code units each.
        let emoji = "🩺".repeat(200);
        let c = cut(&emoji, TITLE);
        assert!(len(&c) <= TITLE);
        assert!(c.starts_with('🩺') && c.ends_with(TRUNCATED));
    }

    #[test]
    fn shows_control_characters_by_code_point_and_never_writes_blank() {
        assert_eq!(text("a\nb\u{1b}[31m", 100), "a\\u{a}b\\u{1b}[31m");
        assert_eq!(text("  \t", 100), "  \\u{9}");
        assert_eq!(text("   ", 100), BLANK);
        assert_eq!(text("", 100), BLANK);
    }

    #[test]
    fn prose_is_laid_out_on_one_line() {
        assert_eq!(
            prose("Move it:\n\n1. Create\t the key.", 100),
            "Move it: 1. Create the key."
        );
        assert_eq!(prose("\u{202e}x", 100), "\\u{202e}x");
    }

    #[test]
    fn lists_and_maps_say_how_much_was_left_out() {
        let l = list(
            (0..40).map(|i| i.to_string()),
            RELATED_REQUIREMENTS,
            REQUIREMENT,
        );
        assert_eq!(l.len(), RELATED_REQUIREMENTS);
        assert_eq!(l.last().map(String::as_str), Some("… [truncated: 9 more]"));
        let m = map(
            (0..60).map(|i| (format!("k{i:02}"), String::new())),
            TAGS_MAP,
        );
        assert_eq!(m.len(), TAGS);
        assert_eq!(m[OMITTED_KEY], "… [truncated: 11 more]");
        assert_eq!(m["k00"], BLANK);
    }

    #[test]
    fn urls_are_kept_whole_or_left_out() {
        assert_eq!(url(Some(" https://x ")), Some("https://x".to_owned()));
        assert_eq!(url(Some(&"x".repeat(URL + 1))), None);
        assert_eq!(url(Some("https://x\u{202e}")), None);
        assert_eq!(url(None), None);
    }
}
