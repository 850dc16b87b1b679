//! Writes a large synthetic snapshot for benchmarks (`bench/snapshot-rss.sh`).
//!
//! ```text
//! cargo run --release -p hlaudit-model --example gen_snapshot -- SHAPE MEGABYTES OUT
//! ```
//!
//! `SHAPE` is `list` (the pretty-printed output of `aws healthlake list-fhir-datastores`,
//! 4-space indent as the AWS CLI prints it) or `jsonl` (one record per line). Records are
//! realistic `DatastoreProperties` objects with unique ids spread over accounts and regions;
//! the output is deterministic.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufWriter, Write};
use std::process::ExitCode;

const REGIONS: [&str; 6] = [
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "ap-southeast-2",
];
const STATUSES: [&str; 4] = ["ACTIVE", "ACTIVE", "ACTIVE", "CREATE_FAILED"];

fn record(i: u64) -> String {
    let id = format!("{:032x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i);
    let account = format!("{:012}", 100_000_000_000 + (i % 97) * 1_000_003);
    let region = REGIONS[(i % REGIONS.len() as u64) as usize];
    let status = STATUSES[(i % STATUSES.len() as u64) as usize];
    let created = 1_600_000_000 + (i * 7919) % 150_000_000;
    let (sse, auth) = if i.is_multiple_of(3) {
        (
            r#"{"KmsEncryptionConfig":{"CmkType":"AWS_OWNED_KMS_KEY"}}"#.to_owned(),
            r#"{"AuthorizationStrategy":"AWS_AUTH","FineGrainedAuthorizationEnabled":false}"#
                .to_owned(),
        )
    } else {
        (
            format!(
                r#"{{"KmsEncryptionConfig":{{"CmkType":"CUSTOMER_MANAGED_KMS_KEY","KmsKeyId":"arn:aws:kms:{region}:{account}:key/{:08x}-0b48-4005-884f-383cac02c306"}}}}"#,
                i as u32
            ),
            format!(
                r#"{{"AuthorizationStrategy":"SMART_ON_FHIR","FineGrainedAuthorizationEnabled":true,"Metadata":"{{\"issuer\":\"https://idp{}.example.org/oauth2\",\"authorization_endpoint\":\"https://idp.example.org/oauth2/authorize\",\"token_endpoint\":\"https://idp.example.org/oauth2/token\",\"capabilities\":[\"launch-ehr\",\"sso-openid-connect\"]}}","IdpLambdaArn":"arn:aws:lambda:{region}:{account}:function:smart-auth-{}"}}"#,
                i % 50,
                i % 50
            ),
        )
    };
    format!(
        r#"{{"DatastoreId":"{id}","DatastoreArn":"arn:aws:healthlake:{region}:{account}:datastore/fhir/{id}","DatastoreName":"store-{i}","DatastoreStatus":"{status}","CreatedAt":{created}.{:03},"DatastoreTypeVersion":"R4","DatastoreEndpoint":"https://healthlake.{region}.amazonaws.com/datastore/{id}/r4/","SseConfiguration":{sse},"PreloadDataConfig":{{"PreloadDataType":"SYNTHEA"}},"IdentityProviderConfiguration":{auth}}}"#,
        i % 1000
    )
}

/// Re-indents a compact JSON object the way the AWS CLI prints it, nested `depth` deep.
fn pretty(compact: &str, depth: usize) -> String {
    let value: serde_json::Value = serde_json::from_str(compact).unwrap_or_default();
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    let _ = serde::Serialize::serialize(&value, &mut ser);
    let text = String::from_utf8_lossy(&out).into_owned();
    let pad = "    ".repeat(depth);
    let mut lines = text.lines();
    let mut s = lines.next().unwrap_or_default().to_owned();
    for l in lines {
        s.push('\n');
        s.push_str(&pad);
        s.push_str(l);
    }
    s
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [shape, mb, out] = args.as_slice() else {
        eprintln!("usage: gen_snapshot list|jsonl MEGABYTES OUT");
        return ExitCode::from(2);
    };
    let Ok(mb) = mb.parse::<u64>() else {
        eprintln!("MEGABYTES must be a number");
        return ExitCode::from(2);
    };
    let target = mb * 1_000_000;
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{out}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    let mut i = 0u64;
    let result = (|| -> std::io::Result<()> {
        if shape == "list" {
            w.write_all(b"{\n    \"DatastorePropertiesList\": [")?;
            while written < target {
                let rec = pretty(&record(i), 2);
                let sep: &[u8] = if i == 0 {
                    b"\n        "
                } else {
                    b",\n        "
                };
                w.write_all(sep)?;
                w.write_all(rec.as_bytes())?;
                written += (sep.len() + rec.len()) as u64;
                i += 1;
            }
            w.write_all(b"\n    ]\n}\n")?;
        } else {
            while written < target {
                let rec = record(i);
                w.write_all(rec.as_bytes())?;
                w.write_all(b"\n")?;
                written += rec.len() as u64 + 1;
                i += 1;
            }
        }
        w.flush()
    })();
    if let Err(e) = result {
        eprintln!("{out}: {e}");
        return ExitCode::from(2);
    }
    println!("wrote {i} records, {written} bytes, to {out}");
    ExitCode::SUCCESS
}
