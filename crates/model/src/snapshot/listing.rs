//! Pages of `aws healthlake list-fhir-datastores`, `list-fhir-export-jobs` and
//! `list-fhir-import-jobs` output, and what a caller's word that they are every page of
//! their listings can and cannot settle.
//!
//! The AWS CLI does not page through these operations by itself (botocore has no paginator
//! for them): it prints one page and a `NextToken`. Read alone, such a page is an
//! `incomplete-listing` collection error ([`incomplete_listing`]). A user who saved every
//! page with a `--next-token` loop can say so ([`super::ReadOptions::pages_complete`]);
//! [`vouch`] then checks what the pages themselves show and fails closed on the rest,
//! for each kind of listing on its own:
//!
//! - pages are grouped by what one listing covers: the account and region of a data
//!   store listing's ARNs, the data store (`DatastoreId`) of a job listing; a group none
//!   of whose pages is a last page (one without a `NextToken`) is still incomplete, its
//!   last page missing;
//! - an empty page names no account or region: an empty last page can end a group that
//!   has none, when there are at least as many empty last pages as such groups (the
//!   warning names which); an empty page with a `NextToken` is part of some listing, so it
//!   needs a last page somewhere among the inputs;
//! - a page holding records of several accounts or regions (of several data stores) is
//!   not one page of one listing: with a `NextToken` it stays incomplete;
//! - two pages with the same `NextToken` are a `pagination-loop` error: one listing never
//!   hands out a token twice, so a page was saved twice or the loop did not move on.
//!
//! What the pages cannot show (a page in the middle that was never saved) is the caller's
//! word: every listing taken as complete that way gets a `vouched-listing` warning, so a
//! report shows that completeness was asserted, not observed. The same data store on two
//! pages is settled as for any two inputs (see `assemble`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::NextToken;
use crate::inventory::{CollectionError, Warning};
use crate::kind::Kind;
use crate::record::Source;

/// The operation a listing page is the output of.
const OPERATION: &str = "ListFHIRDatastores";

/// What to do about a page that is not the last one.
const ADVICE: &str = "the AWS CLI prints one page of list-fhir-datastores and does not fetch \
     the next by itself: run `hlaudit collect`, which reads every page, or save every page \
     with a `--next-token` loop until no NextToken is printed and give them all together \
     with --pages-complete (see docs/snapshot.md)";

/// What to do about a job listing's page that is not the last one.
const JOB_ADVICE: &str = "the AWS CLI prints one page of a job listing and does not fetch \
     the next by itself: run `hlaudit collect`, which reads every page of every data \
     store's jobs, or save every page with a `--next-token` loop until no NextToken is \
     printed and give them all together with --pages-complete (see docs/snapshot.md)";

/// The operation whose pages hold records of `kind`, and what to do about a page that
/// is not the last one; `None` for a kind whose listings cannot be vouched for.
fn listing(kind: Kind) -> Option<(&'static str, &'static str)> {
    match kind {
        Kind::Datastore => Some((OPERATION, ADVICE)),
        Kind::ExportJob => Some(("ListFHIRExportJobs", JOB_ADVICE)),
        Kind::ImportJob => Some(("ListFHIRImportJobs", JOB_ADVICE)),
        Kind::TransformationProfile => None,
    }
}

/// Whether pages of records of `kind` can be vouched for with `--pages-complete`.
pub(crate) fn can_vouch(kind: Kind) -> bool {
    listing(kind).is_some()
}

/// The `incomplete-listing` error of a page with a `NextToken`, read without the caller's
/// word that the other pages are given too. `kind` is the kind of the listing's records.
pub(crate) fn incomplete_listing(file: &str, token: &NextToken, kind: Kind) -> CollectionError {
    // The AWS CLI pages through profiles itself: a NextToken means the output was cut short
    // (`--max-items`, `--no-paginate`).
    let (operation, advice) = listing(kind).unwrap_or((
        "ListDataTransformationProfiles",
        "the AWS CLI reads every page of list-data-transformation-profiles unless \
         --max-items or --no-paginate stops it: run it without them, or run `hlaudit \
         collect`",
    ));
    CollectionError {
        account: None,
        region: None,
        operation: operation.to_owned(),
        resource: None,
        code: "incomplete-listing".to_owned(),
        message: format!(
            "{}: the listing has a NextToken, so more {}s exist than this page holds; \
             {advice}",
            at(file, token),
            kind.noun()
        ),
    }
}

/// `file:line:column` of a token.
fn at(file: &str, token: &NextToken) -> String {
    format!("{file}:{}:{}", token.line, token.column)
}

/// What one listing covers: for data stores an account and a region, as a record's ARN
/// names them; for jobs the data store's id (and `None`).
pub(crate) type Place = (Option<String>, Option<String>);

/// The place of a record of a listing that can be vouched for.
pub(crate) fn place_of(r: &crate::record::Record) -> Option<Place> {
    match r.identity() {
        crate::identity::Identity::Job(j) => Some((Some(j.datastore_id.clone()), None)),
        _ if r.kind() == Kind::Datastore => Some((
            r.account().map(str::to_owned),
            r.region().map(str::to_owned),
        )),
        _ => None,
    }
}

/// One list output: its name, the kind of its records, their places, and its `NextToken`.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub(crate) file: String,
    pub(crate) kind: Kind,
    pub(crate) places: BTreeSet<Place>,
    pub(crate) next_token: Option<NextToken>,
}

impl Page {
    fn token_at(&self) -> Option<String> {
        self.next_token.as_ref().map(|t| at(&self.file, t))
    }
}

/// What [`vouch`] found: the listings it cannot take as complete, and the ones taken as
/// complete on the caller's word.
#[derive(Debug, Default)]
pub(crate) struct Vouched {
    pub(crate) errors: Vec<CollectionError>,
    pub(crate) warnings: Vec<Warning>,
}

/// Settles a set of pages the caller says are every page of their listings (see the
/// module documentation for the rules), each kind of listing on its own.
pub(crate) fn vouch(pages: &[Page]) -> Vouched {
    let mut out = Vouched::default();
    for kind in [Kind::Datastore, Kind::ExportJob, Kind::ImportJob] {
        let of_kind: Vec<&Page> = pages.iter().filter(|p| p.kind == kind).collect();
        if !of_kind.is_empty() {
            vouch_kind(kind, &of_kind, &mut out);
        }
    }
    out
}

/// [`vouch`] for the pages of one kind of listing.
fn vouch_kind(kind: Kind, pages: &[&Page], out: &mut Vouched) {
    let Some((_, advice)) = listing(kind) else {
        return;
    };
    let error = |place: Option<&Place>, message: String| error(kind, place, message);
    let places = |set: &BTreeSet<Place>| places(kind, set);
    repeated_tokens(kind, pages, out);

    let mut groups: BTreeMap<&Place, Vec<&Page>> = BTreeMap::new();
    let (mut empty_last, mut empty_open) = (Vec::new(), Vec::new());
    for &page in pages {
        let mut each = page.places.iter();
        match (each.next(), each.next(), &page.next_token) {
            (None, _, None) => empty_last.push(page),
            (None, _, Some(_)) => empty_open.push(page),
            (Some(place), None, _) => groups.entry(place).or_default().push(page),
            (Some(_), Some(_), None) => {}
            (Some(_), Some(_), Some(_)) => out.errors.push(error(
                None,
                format!(
                    "{}: this page holds {}s of {}, so it is not one page of one listing \
                     and --pages-complete cannot vouch for it; {advice}",
                    page.token_at().unwrap_or_default(),
                    kind.noun(),
                    places(&page.places)
                ),
            )),
        }
    }

    let open: Vec<(&Place, &Vec<&Page>)> = groups
        .iter()
        .filter(|(_, g)| g.iter().all(|p| p.next_token.is_some()))
        .map(|(k, g)| (*k, g))
        .collect();
    let ended_by_empty = !open.is_empty() && empty_last.len() >= open.len();
    for (place, group) in &groups {
        if !group.iter().any(|p| p.next_token.is_some()) {
            continue; // one page, or pages of which none needed the caller's word
        }
        let is_open = group.iter().all(|p| p.next_token.is_some());
        if is_open && !ended_by_empty {
            let also = match empty_last.len() {
                0 => String::new(),
                n => format!(
                    " (the {n} empty page{} without a NextToken cannot end all {} listings \
                     that lack a last page)",
                    plural(n),
                    open.len()
                ),
            };
            out.errors.push(error(
                Some(place),
                format!(
                    "{}: --pages-complete was given, but every page of the listing of {} \
                     carries a NextToken ({}): its last page, the one without a NextToken, \
                     is missing{also}; {advice}",
                    group[0].token_at().unwrap_or_default(),
                    listing_of(kind, place),
                    names(group)
                ),
            ));
            continue;
        }
        let end = if is_open {
            format!(
                "; its last page is taken to be one of the empty pages without a NextToken ({})",
                names(&empty_last)
            )
        } else {
            String::new()
        };
        out.warnings.push(vouched(
            group,
            format!(
                "the listing of {} is taken as complete from {} page{} ({}) on the word of \
                 --pages-complete{end}; that no page in between is missing was asserted, \
                 not observed",
                listing_of(kind, place),
                group.len(),
                plural(group.len()),
                names(group)
            ),
        ));
    }

    let any_last = pages.iter().any(|p| p.next_token.is_none());
    for page in empty_open {
        let token_at = page.token_at().unwrap_or_default();
        if any_last {
            out.warnings.push(vouched(
                &[page],
                format!(
                    "{token_at}: an empty page with a NextToken is taken as part of a listing \
                     whose other pages are given, on the word of --pages-complete"
                ),
            ));
        } else {
            out.errors.push(error(
                None,
                format!(
                    "{token_at}: this empty page has a NextToken, and no page without one \
                     was given, so its listing's last page is missing; {advice}"
                ),
            ));
        }
    }
}

/// A `pagination-loop` error for each page whose `NextToken` an earlier page carries.
fn repeated_tokens(kind: Kind, pages: &[&Page], out: &mut Vouched) {
    let mut first: HashMap<&str, &Page> = HashMap::new();
    for &page in pages {
        let Some(token) = &page.next_token else {
            continue;
        };
        match first.get(token.value.as_str()) {
            None => {
                first.insert(&token.value, page);
            }
            Some(earlier) => {
                let place = (page.places.len() == 1)
                    .then(|| page.places.iter().next())
                    .flatten();
                let mut e = error(
                    kind,
                    place,
                    format!(
                        "{}: this page carries the same NextToken as {}: one listing never \
                         hands out a token twice, so the same page was saved twice or the \
                         loop did not pass the new token on; give each page once, or save \
                         the pages again",
                        page.token_at().unwrap_or_default(),
                        earlier.token_at().unwrap_or_default()
                    ),
                );
                e.code = "pagination-loop".to_owned();
                out.errors.push(e);
            }
        }
    }
}

/// An `incomplete-listing` error of a listing of `kind`: of its account and region (data
/// stores), or about its data store (jobs).
fn error(kind: Kind, place: Option<&Place>, message: String) -> CollectionError {
    let operation = listing(kind).map_or(OPERATION, |(operation, _)| operation);
    let (first, second) = place.cloned().unwrap_or_default();
    let (account, region, resource) = match kind {
        Kind::Datastore => (first, second, None),
        _ => (None, None, first),
    };
    CollectionError {
        account,
        region,
        operation: operation.to_owned(),
        resource,
        code: "incomplete-listing".to_owned(),
        message,
    }
}

/// The `vouched-listing` warning, at the first page's `NextToken`.
fn vouched(group: &[&Page], message: String) -> Warning {
    let source = group.iter().find_map(|p| {
        p.next_token.as_ref().map(|t| Source {
            file: Arc::from(p.file.as_str()),
            line: u32::try_from(t.line).unwrap_or(u32::MAX),
            column: u32::try_from(t.column).unwrap_or(u32::MAX),
        })
    });
    Warning {
        code: "vouched-listing".to_owned(),
        message,
        source,
    }
}

/// What the listing of a place lists: "account A in region R" (data stores), "the export
/// jobs of data store D" (jobs).
fn listing_of(kind: Kind, place: &Place) -> String {
    let shown = places(kind, &BTreeSet::from([place.clone()]));
    match kind {
        Kind::Datastore => shown,
        _ => format!("the {}s of {shown}", kind.noun()),
    }
}

/// "account A in region R" (data stores) or "data store D" (jobs), for each place.
fn places(kind: Kind, places: &BTreeSet<Place>) -> String {
    let shown: Vec<String> = places
        .iter()
        .map(|(first, second)| {
            let known = |v: &Option<String>| v.as_deref().unwrap_or("(unknown)").to_owned();
            match kind {
                Kind::Datastore => {
                    format!("account {} in region {}", known(first), known(second))
                }
                _ => format!("data store {}", known(first)),
            }
        })
        .collect();
    shown.join(" and ")
}

/// The pages' names, the first few of a long list.
fn names(pages: &[&Page]) -> String {
    const SHOWN: usize = 5;
    let mut out: Vec<&str> = pages.iter().take(SHOWN).map(|p| p.file.as_str()).collect();
    let more = pages.len().saturating_sub(SHOWN);
    let more = format!("and {more} more");
    if pages.len() > SHOWN {
        out.push(&more);
    }
    out.join(", ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(file: &str, places: &[(&str, &str)], token: Option<&str>) -> Page {
        Page {
            file: file.to_owned(),
            kind: Kind::Datastore,
            places: places
                .iter()
                .map(|(a, r)| (Some((*a).to_owned()), Some((*r).to_owned())))
                .collect(),
            next_token: token.map(|t| NextToken {
                value: t.to_owned(),
                line: 3,
                column: 2,
            }),
        }
    }

    const A: (&str, &str) = ("111122223333", "us-east-1");
    const B: (&str, &str) = ("111122223333", "eu-west-2");

    fn codes(v: &Vouched) -> Vec<&str> {
        v.errors.iter().map(|e| e.code.as_str()).collect()
    }

    #[test]
    fn a_listing_with_its_last_page_is_taken_as_complete_with_a_warning() {
        let v = vouch(&[
            page("p1.json", &[A], Some("t1")),
            page("p2.json", &[A], Some("t2")),
            page("p3.json", &[A], None),
        ]);
        assert!(v.errors.is_empty(), "{:?}", v.errors);
        assert_eq!(v.warnings.len(), 1);
        let w = &v.warnings[0];
        assert_eq!(w.code, "vouched-listing");
        assert!(w.message.contains("3 pages (p1.json, p2.json, p3.json)"));
        assert!(w.message.contains("asserted, not observed"));
        assert_eq!(w.source.as_ref().unwrap().to_string(), "p1.json:3:2");
    }

    #[test]
    fn a_listing_without_its_last_page_stays_incomplete() {
        let v = vouch(&[
            page("p1.json", &[A], Some("t1")),
            page("p2.json", &[A], Some("t2")),
            page("b.json", &[B], None),
        ]);
        assert_eq!(codes(&v), vec!["incomplete-listing"]);
        let e = &v.errors[0];
        assert_eq!(
            (e.account.as_deref(), e.region.as_deref()),
            (Some(A.0), Some(A.1))
        );
        assert!(e
            .message
            .starts_with("p1.json:3:2: --pages-complete was given"));
        assert!(e.message.contains("last page"));
        assert!(e.message.contains("hlaudit collect"));
        // The other region's single page needed nobody's word.
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    }

    #[test]
    fn the_last_page_of_another_region_does_not_end_a_listing() {
        let v = vouch(&[page("a.json", &[A], Some("t")), page("b.json", &[B], None)]);
        assert_eq!(codes(&v), vec!["incomplete-listing"]);
        assert_eq!(v.errors[0].region.as_deref(), Some(A.1));
    }

    #[test]
    fn empty_last_pages_end_open_listings_only_when_there_are_enough() {
        let v = vouch(&[
            page("a1.json", &[A], Some("t")),
            page("end.json", &[], None),
        ]);
        assert!(v.errors.is_empty(), "{:?}", v.errors);
        assert!(v.warnings[0]
            .message
            .contains("empty pages without a NextToken (end.json)"));

        let v = vouch(&[
            page("a1.json", &[A], Some("t")),
            page("b1.json", &[B], Some("u")),
            page("end.json", &[], None),
        ]);
        assert_eq!(codes(&v), vec!["incomplete-listing"; 2]);
        assert!(v.errors[0].message.contains("cannot end all 2 listings"));

        let v = vouch(&[
            page("a1.json", &[A], Some("t")),
            page("b1.json", &[B], Some("u")),
            page("end1.json", &[], None),
            page("end2.json", &[], None),
        ]);
        assert!(v.errors.is_empty(), "{:?}", v.errors);
        assert_eq!(v.warnings.len(), 2);
    }

    #[test]
    fn an_empty_page_with_a_token_needs_a_last_page_somewhere() {
        let v = vouch(&[page("e.json", &[], Some("t"))]);
        assert_eq!(codes(&v), vec!["incomplete-listing"]);
        let v = vouch(&[page("e.json", &[], Some("t")), page("a.json", &[A], None)]);
        assert!(v.errors.is_empty());
        assert_eq!(
            v.warnings[0].source.as_ref().unwrap().to_string(),
            "e.json:3:2"
        );
    }

    #[test]
    fn a_page_of_several_regions_is_not_one_page() {
        let v = vouch(&[
            page("m.json", &[A, B], Some("t")),
            page("a.json", &[A], None),
        ]);
        assert_eq!(codes(&v), vec!["incomplete-listing"]);
        assert!(v.errors[0].message.contains("not one page of one listing"));
        // Without a token such a file is no page that needs anyone's word.
        let v = vouch(&[page("m.json", &[A, B], None)]);
        assert!(v.errors.is_empty() && v.warnings.is_empty());
    }

    #[test]
    fn the_same_token_on_two_pages_is_a_pagination_loop() {
        let v = vouch(&[
            page("p1.json", &[A], Some("t1")),
            page("p1-copy.json", &[A], Some("t1")),
            page("p2.json", &[A], None),
        ]);
        assert_eq!(codes(&v), vec!["pagination-loop"]);
        let e = &v.errors[0];
        assert!(e
            .message
            .starts_with("p1-copy.json:3:2: this page carries the same NextToken as p1.json:3:2"));
    }

    /// A page of `kind` jobs of these data stores.
    fn jobs(file: &str, kind: Kind, stores: &[&str], token: Option<&str>) -> Page {
        Page {
            kind,
            places: stores
                .iter()
                .map(|d| (Some((*d).to_owned()), None))
                .collect(),
            ..page(file, &[], token)
        }
    }

    #[test]
    fn job_listings_are_settled_per_data_store_and_kind() {
        use Kind::{ExportJob, ImportJob};
        // Two pages of one data store's export jobs, the last one without a token.
        let v = vouch(&[
            jobs("e1.json", ExportJob, &["d1"], Some("t1")),
            jobs("e2.json", ExportJob, &["d1"], None),
        ]);
        assert!(v.errors.is_empty(), "{:?}", v.errors);
        assert_eq!(v.warnings.len(), 1);
        assert!(v.warnings[0]
            .message
            .starts_with("the listing of the export jobs of data store d1 is taken as complete"));
        // The last page of another data store's, or of its import jobs, ends nothing.
        let v = vouch(&[
            jobs("e1.json", ExportJob, &["d1"], Some("t1")),
            jobs("e2.json", ExportJob, &["d2"], None),
            jobs("i1.json", ImportJob, &["d1"], None),
        ]);
        assert_eq!(codes(&v), vec!["incomplete-listing"]);
        let e = &v.errors[0];
        assert_eq!(e.operation, "ListFHIRExportJobs");
        assert_eq!(e.resource.as_deref(), Some("d1"));
        assert_eq!((e.account.as_deref(), e.region.as_deref()), (None, None));
        assert!(e.message.contains("--next-token"), "{}", e.message);
        // Nor does a data store listing's empty last page end a job listing.
        let v = vouch(&[
            jobs("e1.json", ExportJob, &["d1"], Some("t1")),
            page("end.json", &[], None),
        ]);
        assert_eq!(codes(&v), vec!["incomplete-listing"]);
        // A page of two data stores' jobs is not one listing's.
        let v = vouch(&[
            jobs("m.json", ImportJob, &["d1", "d2"], Some("t")),
            jobs("i.json", ImportJob, &["d1"], None),
        ]);
        assert_eq!(codes(&v), vec!["incomplete-listing"]);
        assert!(v.errors[0]
            .message
            .contains("holds import jobs of data store d1 and data store d2"));
        assert_eq!(v.errors[0].operation, "ListFHIRImportJobs");
    }

    #[test]
    fn a_single_last_page_needs_no_word() {
        let v = vouch(&[page("a.json", &[A], None), page("e.json", &[], None)]);
        assert!(v.errors.is_empty() && v.warnings.is_empty());
    }
}
