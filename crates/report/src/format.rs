//! The output formats, by name, for command lines and configuration files.

use std::fmt;
use std::str::FromStr;

/// One output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Human-readable text grouped by severity, coloured on a terminal.
    Terminal,
    /// The versioned JSON report (see [`crate::json`]).
    Json,
    /// SARIF 2.1.0 for code scanning (see [`crate::sarif`]).
    Sarif,
    /// JUnit XML for CI test tabs (see [`crate::junit`]).
    Junit,
    /// Markdown for a CI job summary or a pull-request comment.
    Markdown,
    /// One self-contained HTML page.
    Html,
    /// The compliance view as CSV, one row per framework and control (see
    /// [`crate::compliance_csv`]).
    ComplianceCsv,
    /// The AWS Security Finding Format, a JSON array as Security Hub's
    /// `BatchImportFindings` takes it (see [`crate::asff`]).
    Asff,
    /// OCSF Compliance Finding events as JSON Lines (see [`crate::ocsf`]).
    Ocsf,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 9] = [
        Format::Terminal,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Markdown,
        Format::Html,
        Format::ComplianceCsv,
        Format::Asff,
        Format::Ocsf,
    ];

    /// The name used on the command line, e.g. `sarif`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Terminal => "terminal",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::ComplianceCsv => "compliance-csv",
            Format::Asff => "asff",
            Format::Ocsf => "ocsf",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Terminal => "txt",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "xml",
            Format::Markdown => "md",
            Format::Html => "html",
            Format::ComplianceCsv => "csv",
            Format::Asff => "json",
            Format::Ocsf => "jsonl",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown format name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown report format `{0}`; expected one of terminal, json, sarif, junit, markdown, html, compliance-csv, asff, ocsf"
)]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "terminal" | "text" | "txt" => Ok(Format::Terminal),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "junit" | "xml" => Ok(Format::Junit),
            "markdown" | "md" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            "compliance-csv" => Ok(Format::ComplianceCsv),
            "asff" => Ok(Format::Asff),
            "ocsf" => Ok(Format::Ocsf),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
        assert_eq!("MD".parse::<Format>(), Ok(Format::Markdown));
        assert!("pdf".parse::<Format>().is_err());
    }
}
