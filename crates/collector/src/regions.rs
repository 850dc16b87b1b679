//! The regions where HealthLake is offered: the one table `--regions all` expands to.

use crate::error::CollectorError;

/// The regions where AWS HealthLake is offered, from the service's endpoint table
/// ("AWS HealthLake endpoints and quotas" in the AWS General Reference). This is the
/// only copy of the list; `HLAUDIT_HEALTHLAKE_REGIONS` (comma-separated) replaces it
/// when AWS adds a region before hlaudit does.
pub const HEALTHLAKE_REGIONS: [&str; 8] = [
    "ap-south-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "us-east-1",
    "us-east-2",
    "us-west-2",
];

/// The environment variable that replaces [`HEALTHLAKE_REGIONS`].
pub const REGIONS_ENV: &str = "HLAUDIT_HEALTHLAKE_REGIONS";

/// The regions `--regions all` means: the value of [`REGIONS_ENV`] when it is set and
/// not empty, otherwise [`HEALTHLAKE_REGIONS`].
pub fn healthlake_regions() -> Result<Vec<String>, CollectorError> {
    match std::env::var(REGIONS_ENV) {
        Ok(value) if !value.trim().is_empty() => parse_region_list(&value).map_err(|e| match e {
            CollectorError::InvalidRegion { region, .. } => CollectorError::InvalidRegion {
                region,
                origin: REGIONS_ENV,
            },
            other => other,
        }),
        _ => Ok(HEALTHLAKE_REGIONS.iter().map(|r| (*r).to_owned()).collect()),
    }
}

/// The regions [`healthlake_regions`] gives, or [`HEALTHLAKE_REGIONS`] when
/// [`REGIONS_ENV`] is unusable: for messages, which must not fail.
pub(crate) fn known_healthlake_regions() -> Vec<String> {
    healthlake_regions()
        .unwrap_or_else(|_| HEALTHLAKE_REGIONS.iter().map(|r| (*r).to_owned()).collect())
}

/// Parses a comma-separated region list (`us-east-1,eu-west-2`), trimming blanks and
/// dropping repeats while keeping the order given.
pub fn parse_region_list(list: &str) -> Result<Vec<String>, CollectorError> {
    let mut regions: Vec<String> = Vec::new();
    for part in list.split(',') {
        let region = part.trim();
        if region.is_empty() {
            continue;
        }
        validate_region(region, "--regions")?;
        if !regions.iter().any(|r| r == region) {
            regions.push(region.to_owned());
        }
    }
    if regions.is_empty() {
        return Err(CollectorError::NoRegion {
            profile: None,
            hint: "the region list is empty",
        });
    }
    Ok(regions)
}

/// Checks that `region` looks like an AWS region name (`us-east-1`, `us-gov-west-1`,
/// `cn-north-1`): lower-case words joined by `-`, ending in a number. The name travels
/// into an endpoint host name and a signature scope, so anything else is refused early.
pub fn validate_region(region: &str, origin: &'static str) -> Result<(), CollectorError> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(CollectorError::InvalidRegion {
            region: region.to_owned(),
            origin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_valid_sorted_unique_regions() {
        for r in HEALTHLAKE_REGIONS {
            validate_region(r, "table").unwrap();
        }
        let mut sorted = HEALTHLAKE_REGIONS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, HEALTHLAKE_REGIONS.to_vec());
    }

    #[test]
    fn parses_lists_keeping_order_and_dropping_repeats() {
        assert_eq!(
            parse_region_list(" eu-west-2, us-east-1,,eu-west-2 ").unwrap(),
            vec!["eu-west-2", "us-east-1"]
        );
        assert!(matches!(
            parse_region_list(" , "),
            Err(CollectorError::NoRegion { .. })
        ));
    }

    #[test]
    fn refuses_names_that_are_not_regions() {
        for bad in [
            "US-EAST-1",
            "us-east",
            "useast1",
            "us-east-1/x",
            "us--1",
            "../etc-1",
        ] {
            assert!(
                matches!(
                    validate_region(bad, "--regions"),
                    Err(CollectorError::InvalidRegion { .. })
                ),
                "{bad}"
            );
        }
        validate_region("us-gov-west-1", "--regions").unwrap();
    }
}
