//! The compliance view as CSV, for auditors' spreadsheets: a header row, then one row per
//! framework and control (see [`hlaudit_model::compliance`]).
//!
//! Quoting follows RFC 4180: a field holding a comma, a double quote, CR or LF is quoted,
//! with its double quotes doubled; lines end with CRLF. A cell that starts with `=`, `+`,
//! `-` or `@` (or a tab or CR, which spreadsheets also read as the start of a formula) gets
//! a leading apostrophe, so opening the file never runs a formula (a control id such as
//! `-1` would otherwise be one).

use std::io::Write;

use hlaudit_model::compliance::ComplianceView;

use crate::ReportError;

/// The header row's cells.
pub const HEADER: [&str; 12] = [
    "framework",
    "control",
    "title",
    "status",
    "policies",
    "passing",
    "failing",
    "waived",
    "erroring",
    "not evaluated",
    "framework title",
    "catalogue scope",
];

/// Writes the view as CSV.
pub fn write(view: &ComplianceView, out: &mut dyn Write) -> Result<(), ReportError> {
    write_rows(view, out).map_err(ReportError::io("compliance CSV"))
}

fn write_rows(view: &ComplianceView, out: &mut dyn Write) -> std::io::Result<()> {
    write_row(out, HEADER.iter().map(|s| (*s).to_owned()))?;
    for f in &view.frameworks {
        for c in &f.controls {
            let n = c.counts;
            write_row(
                out,
                [
                    f.framework.clone(),
                    c.id.clone(),
                    c.title.clone(),
                    c.status.label().to_owned(),
                    c.policies.join(" "),
                    n.passing.to_string(),
                    n.failing.to_string(),
                    n.waived.to_string(),
                    n.erroring.to_string(),
                    n.not_evaluated.to_string(),
                    f.title.clone(),
                    f.scope.clone(),
                ],
            )?;
        }
    }
    Ok(())
}

fn write_row(out: &mut dyn Write, cells: impl IntoIterator<Item = String>) -> std::io::Result<()> {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(cell_text(&cell).as_bytes())?;
    }
    out.write_all(b"\r\n")
}

/// One cell: made formula-safe, then quoted when RFC 4180 requires it.
fn cell_text(cell: &str) -> String {
    let safe = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    };
    if safe.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formula_safe() {
        assert_eq!(cell_text("AC-3"), "AC-3");
        assert_eq!(cell_text("a, b"), "\"a, b\"");
        assert_eq!(cell_text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell_text("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell_text("+1"), "'+1");
        assert_eq!(cell_text("-1"), "'-1");
        assert_eq!(cell_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell_text(""), "");
    }
}
