//! The coverage table every human-readable report shows for a live collection: how many
//! accounts and (account, region) pairs were attempted, read and failed, and which
//! failed. Built once here so the terminal, Markdown and HTML reports say the same.

use hlaudit_model::inventory::{Coverage, CoverageCounts, ScopeState};

/// Failed pairs listed by name; the rest are counted.
pub(crate) const MAX_FAILED_LISTED: usize = 20;

/// The table: counts, and the first failed pairs with how many more failed.
pub(crate) struct CoverageTable {
    /// The counts.
    pub counts: CoverageCounts,
    /// (account, region, errors) of failed pairs, at most [`MAX_FAILED_LISTED`].
    pub failed: Vec<(String, String, usize)>,
    /// Failed pairs not listed.
    pub more_failed: usize,
}

/// The table of `coverage`; `None` when it holds no scope (an offline input that does
/// not say what was attempted).
pub(crate) fn table(coverage: &Coverage) -> Option<CoverageTable> {
    let counts = coverage.counts()?;
    let failed: Vec<_> = coverage
        .scopes
        .iter()
        .filter(|s| s.state == ScopeState::Failed)
        .collect();
    Some(CoverageTable {
        counts,
        more_failed: failed.len().saturating_sub(MAX_FAILED_LISTED),
        failed: failed
            .into_iter()
            .take(MAX_FAILED_LISTED)
            .map(|s| (s.account.clone(), s.region.clone(), s.errors))
            .collect(),
    })
}

/// The rows of the counts table: (what, attempted, read, failed).
pub(crate) fn count_rows(c: &CoverageCounts) -> [(&'static str, usize, usize, usize); 2] {
    [
        ("accounts", c.accounts, c.accounts_read, c.accounts_failed),
        ("account-regions", c.scopes, c.scopes_read, c.scopes_failed),
    ]
}

/// The table as Markdown (an `### Coverage` section), or nothing.
pub(crate) fn markdown(coverage: &Coverage) -> String {
    let Some(t) = table(coverage) else {
        return String::new();
    };
    let mut md =
        String::from("### Coverage\n\n| | Attempted | Read | Failed |\n|---|---:|---:|---:|\n");
    for (what, attempted, read, failed) in count_rows(&t.counts) {
        md.push_str(&format!("| {what} | {attempted} | {read} | {failed} |\n"));
    }
    md.push('\n');
    if !t.failed.is_empty() {
        md.push_str("| Failed account | Region | Errors |\n|---|---|---:|\n");
        for (account, region, errors) in &t.failed {
            md.push_str(&format!(
                "| {} | {} | {errors} |\n",
                crate::markdown::escape(account),
                crate::markdown::escape(region)
            ));
        }
        if t.more_failed > 0 {
            md.push_str(&format!("\n_... and {} more failed._\n", t.more_failed));
        }
        md.push('\n');
    }
    md
}

/// The table as an HTML section (`<section class="coverage">`), or nothing.
pub(crate) fn html(coverage: &Coverage) -> String {
    let Some(t) = table(coverage) else {
        return String::new();
    };
    let e = crate::html::escape_text;
    let mut h = String::from(
        "<section class=\"coverage\" id=\"coverage\"><h2>Coverage</h2>\n<table>\
         <thead><tr><th></th><th>Attempted</th><th>Read</th><th>Failed</th></tr></thead><tbody>",
    );
    for (what, attempted, read, failed) in count_rows(&t.counts) {
        h.push_str(&format!(
            "<tr><th scope=\"row\">{what}</th><td>{attempted}</td><td>{read}</td><td>{failed}</td></tr>"
        ));
    }
    h.push_str("</tbody></table>\n");
    if !t.failed.is_empty() {
        h.push_str(
            "<table class=\"failed-scopes\"><thead><tr><th>Failed account</th><th>Region</th>\
             <th>Errors</th></tr></thead><tbody>",
        );
        for (account, region, errors) in &t.failed {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{errors}</td></tr>",
                e(account),
                e(region)
            ));
        }
        h.push_str("</tbody></table>\n");
        if t.more_failed > 0 {
            h.push_str(&format!("<p>... and {} more failed.</p>\n", t.more_failed));
        }
    }
    h.push_str("</section>\n");
    h
}

/// The table as lines of plain text (for the terminal report), or none.
pub(crate) fn text_lines(coverage: &Coverage) -> Vec<String> {
    let Some(t) = table(coverage) else {
        return Vec::new();
    };
    let mut lines = vec![format!(
        "{:<16} {:>9} {:>9} {:>9}",
        "coverage", "attempted", "read", "failed"
    )];
    for (what, attempted, read, failed) in count_rows(&t.counts) {
        lines.push(format!("{what:<16} {attempted:>9} {read:>9} {failed:>9}"));
    }
    for (account, region, errors) in &t.failed {
        lines.push(format!(
            "  failed: account {} in {} ({errors} error{})",
            hlaudit_model::invisible::escape(account),
            hlaudit_model::invisible::escape(region),
            if *errors == 1 { "" } else { "s" }
        ));
    }
    if t.more_failed > 0 {
        lines.push(format!("  ... and {} more failed", t.more_failed));
    }
    lines
}

#[cfg(test)]
mod tests {
    use hlaudit_model::inventory::ScopeCoverage;

    use super::*;

    fn scope(account: &str, region: &str, state: ScopeState) -> ScopeCoverage {
        ScopeCoverage {
            account: account.into(),
            region: region.into(),
            state,
            datastores: 1,
            errors: usize::from(state != ScopeState::Read),
        }
    }

    #[test]
    fn counts_accounts_and_pairs_by_state() {
        let coverage = Coverage {
            scopes: vec![
                scope("1", "a", ScopeState::Read),
                scope("1", "b", ScopeState::Partial),
                scope("2", "a", ScopeState::Failed),
                scope("2", "b", ScopeState::Read),
            ],
            ..Coverage::default()
        };
        let t = table(&coverage).unwrap();
        assert_eq!(
            count_rows(&t.counts),
            [("accounts", 2, 1, 1), ("account-regions", 4, 3, 1)]
        );
        assert_eq!(t.failed, vec![("2".into(), "a".into(), 1)]);
        let md = markdown(&coverage);
        assert!(md.contains("| accounts | 2 | 1 | 1 |"), "{md}");
        assert!(md.contains("| 2 | a | 1 |"), "{md}");
        let html = html(&coverage);
        assert!(
            html.contains("<th scope=\"row\">accounts</th><td>2</td><td>1</td><td>1</td>"),
            "{html}"
        );
        assert!(
            html.contains("<tr><td>2</td><td>a</td><td>1</td></tr>"),
            "{html}"
        );
        let text = text_lines(&coverage).join("\n");
        assert!(text.contains("failed: account 2 in a (1 error)"), "{text}");
    }

    #[test]
    fn long_failure_lists_are_cut() {
        let coverage = Coverage {
            scopes: (0..25)
                .map(|i| scope(&format!("{i:012}"), "r", ScopeState::Failed))
                .collect(),
            ..Coverage::default()
        };
        let t = table(&coverage).unwrap();
        assert_eq!((t.failed.len(), t.more_failed), (20, 5));
        assert!(markdown(&coverage).contains("and 5 more failed"));
    }

    #[test]
    fn offline_inputs_have_no_table() {
        assert!(table(&Coverage::default()).is_none());
        assert!(markdown(&Coverage::default()).is_empty());
        assert!(html(&Coverage::default()).is_empty());
        assert!(text_lines(&Coverage::default()).is_empty());
    }
}
