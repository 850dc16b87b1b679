//! Progress reporting: the collector tells, the caller draws (or not).

/// What the collector has done so far. Every method has an empty default, so an
/// implementation overrides only what it shows. Called from several tasks at once.
pub trait Progress: Send + Sync {
    /// The regions to list are known: `count` (profile, region) pairs in all.
    fn regions_planned(&self, count: usize) {
        let _ = count;
    }

    /// One `ListFHIRDatastores` page of `region` brought `records` data stores.
    fn page_listed(&self, region: &str, records: usize) {
        let _ = (region, records);
    }

    /// The listing of one region ended (completely or with an error).
    fn region_done(&self, region: &str) {
        let _ = region;
    }

    /// One data store is complete: its tags and KMS key were fetched (or skipped).
    fn record_done(&self) {}
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
