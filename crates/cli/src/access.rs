//! `hlaudit collect --check-access`: the collector's access checks as a table or JSON on
//! stdout, a count on stderr, and the outcome (an error when a permission is missing or
//! could not be checked).

use std::io::Write;

use anyhow::{anyhow, Context, Result};
use clap::ValueEnum;
use comfy_table::{presets, ContentArrangement, Table};
use hlaudit_collector::{check_access, AccessCheck, AccessResult};
use hlaudit_model::invisible::escape;

use crate::aws_args::AwsArgs;
use crate::exit::Outcome;
use crate::stdio::{self, errln};

/// Output formats of `collect --check-access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// A JSON array, one object per permission checked.
    Json,
}

/// Checks every permission the collection would need, prints the checks in `format`
/// and says how the run ends: [`Outcome::Error`] when any is missing or could not be
/// checked.
pub fn run(aws: &AwsArgs, format: Format) -> Result<Outcome> {
    let config = aws.to_config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let checks = runtime.block_on(async {
        tokio::select! {
            result = check_access(&config) => result.map_err(anyhow::Error::from),
            _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
        }
    });
    runtime.shutdown_background();
    let checks = checks?;
    let mut out = std::io::BufWriter::new(stdio::stdout());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &checks)?;
            writeln!(out)?;
        }
        Format::Table => writeln!(out, "{}", table(&checks))?,
    }
    out.flush()?;
    let count = Count::of(&checks);
    errln!("{count}");
    Ok(if count.missing() == 0 {
        Outcome::Clean
    } else {
        Outcome::Error
    })
}

/// One row per check: who, where, which permission, and what came of it (with the
/// code and the hint when it is missing).
fn table(checks: &[AccessCheck]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["Account", "Region", "Permission", "Result"]);
    // Codes and messages carry service text: invisible characters are shown by code
    // point.
    for c in checks {
        let who = match (&c.account, &c.profile) {
            (Some(a), _) => a.clone(),
            (None, Some(p)) => format!("profile {p}"),
            (None, None) => "-".to_owned(),
        };
        table.add_row([
            escape(&who).into_owned(),
            escape(c.region.as_deref().unwrap_or("-")).into_owned(),
            c.permission.action().to_owned(),
            escape(&result_text(&c.result)).into_owned(),
        ]);
    }
    table
}

fn result_text(result: &AccessResult) -> String {
    match result {
        AccessResult::Granted => "ok".to_owned(),
        AccessResult::Denied { code, message } => format!("DENIED {code}: {message}"),
        AccessResult::Failed { code, message } => format!("FAILED {code}: {message}"),
        AccessResult::NotTested { reason } => format!("not tested: {reason}"),
    }
}

/// How many checks came to each result.
#[derive(Debug, Default, PartialEq, Eq)]
struct Count {
    granted: usize,
    denied: usize,
    failed: usize,
    not_tested: usize,
}

impl Count {
    fn of(checks: &[AccessCheck]) -> Self {
        let mut n = Count::default();
        for c in checks {
            match c.result {
                AccessResult::Granted => n.granted += 1,
                AccessResult::Denied { .. } => n.denied += 1,
                AccessResult::Failed { .. } => n.failed += 1,
                AccessResult::NotTested { .. } => n.not_tested += 1,
            }
        }
        n
    }

    fn missing(&self) -> usize {
        self.denied + self.failed
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = self.granted + self.missing() + self.not_tested;
        write!(
            f,
            "{total} permission check(s): {} granted, {} denied, {} failed, {} not tested",
            self.granted, self.denied, self.failed, self.not_tested
        )?;
        if self.missing() > 0 {
            write!(f, "; a collection with these settings would be incomplete")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlaudit_collector::Permission;

    fn check(account: Option<&str>, permission: Permission, result: AccessResult) -> AccessCheck {
        AccessCheck {
            account: account.map(str::to_owned),
            profile: Some("prod".to_owned()),
            region: Some("us-east-1".to_owned()),
            permission,
            resource: None,
            result,
        }
    }

    #[test]
    fn the_table_names_each_permission_and_its_result() {
        let checks = [
            check(
                Some("111122223333"),
                Permission::ListFhirDatastores,
                AccessResult::Granted,
            ),
            check(
                None,
                Permission::ListTagsForResource,
                AccessResult::Denied {
                    code: "AccessDeniedException".to_owned(),
                    message: "access denied".to_owned(),
                },
            ),
            check(
                None,
                Permission::DescribeKey,
                AccessResult::NotTested {
                    reason: "no data store in this region".to_owned(),
                },
            ),
        ];
        insta::assert_snapshot!("table", table(&checks).to_string());
        insta::assert_snapshot!("json", serde_json::to_string_pretty(&checks).unwrap());
        let count = Count::of(&checks);
        assert_eq!(count.missing(), 1);
        assert_eq!(
            count.to_string(),
            "3 permission check(s): 1 granted, 1 denied, 0 failed, 1 not tested; \
             a collection with these settings would be incomplete"
        );
    }
}
