//! Writes N realistic HealthLake data stores in the `list-fhir-datastores` shape, for the
//! evaluation benchmark (`bench/check-100k.sh`).
//!
//! The mix follows what an organisation's inventory looks like: mostly ACTIVE stores, some
//! failed or deleted ones; AWS-owned and customer managed keys (some in another region or
//! account, some given as a key id or alias); SigV4 and SMART on FHIR (v1 and v2) with a
//! SMART metadata document of 0.8 to 1.5 KB held in a string, sometimes with weaknesses
//! (plain PKCE, http endpoints, implicit grants, unpinned Lambda ARNs); backups with
//! various retention and restore points; preloaded Synthea data. Deterministic for a
//! given N (a fixed linear congruential generator), so runs compare.
//!
//! Usage: `gen_datastores N OUT.json`

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const REGIONS: [&str; 5] = [
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-2",
];

fn metadata(r: &mut Lcg, i: u64) -> String {
    let scheme = if r.below(20) == 0 { "http" } else { "https" };
    let host = format!("idp{}.clinic{}.example.org", r.below(50), i % 997);
    let mut caps = vec![
        "launch-ehr",
        "launch-standalone",
        "client-public",
        "client-confidential-symmetric",
        "context-ehr-patient",
        "context-standalone-patient",
        "sso-openid-connect",
        "permission-patient",
        "permission-user",
        "permission-v2",
    ];
    let keep = 3 + r.below(caps.len() as u64 - 3) as usize;
    caps.truncate(keep);
    if r.below(10) == 0 {
        caps.push("permission-offline");
    }
    let pkce = if r.below(15) == 0 {
        r#"["S256","plain"]"#
    } else {
        r#"["S256"]"#
    };
    let grants = if r.below(25) == 0 {
        r#"["authorization_code","implicit"]"#
    } else {
        r#"["authorization_code","client_credentials"]"#
    };
    let caps_json: Vec<String> = caps.iter().map(|c| format!("\"{c}\"")).collect();
    let mut m = format!(
        r#"{{"issuer":"{scheme}://{host}/oauth2","jwks_uri":"https://{host}/oauth2/keys","authorization_endpoint":"{scheme}://{host}/oauth2/authorize","token_endpoint":"https://{host}/oauth2/token","token_endpoint_auth_methods_supported":["client_secret_basic","private_key_jwt"],"grant_types_supported":{grants},"scopes_supported":["openid","fhirUser","launch","launch/patient","patient/*.rs","user/*.rs","offline_access"],"response_types_supported":["code"],"capabilities":[{}],"code_challenge_methods_supported":{pkce}"#,
        caps_json.join(",")
    );
    if r.below(3) > 0 {
        let _ = write!(
            m,
            r#","introspection_endpoint":"https://{host}/oauth2/introspect","revocation_endpoint":"https://{host}/oauth2/revoke","management_endpoint":"https://{host}/user/manage""#
        );
    }
    m.push('}');
    m
}

fn record(r: &mut Lcg, i: u64) -> String {
    let region = r.pick(&REGIONS);
    let account = format!("{:012}", 100_000_000_000 + r.below(40));
    let id = format!(
        "{:032x}",
        (i.wrapping_mul(0x9e37_79b9_7f4a_7c15)) as u128 | ((i as u128) << 64)
    );
    let arn = format!("arn:aws:healthlake:{region}:{account}:datastore/fhir/{id}");
    let status = match r.below(40) {
        0 => "CREATE_FAILED",
        1 => "DELETED",
        2 => "UPDATING",
        3 => "CREATING",
        _ => "ACTIVE",
    };
    let created = 1_600_000_000 + r.below(170_000_000);
    let name = match r.below(30) {
        0 => format!("patient-jane.doe@example.com-{i}"),
        1 => format!("import-123-45-{:04}", i % 10_000),
        _ => format!(
            "{}-fhir-store-{i}",
            r.pick(&["prod", "dev", "staging", "research", "clinic"])
        ),
    };
    let mut s = format!(
        r#"{{"DatastoreId":"{id}","DatastoreArn":"{arn}","DatastoreName":"{name}","DatastoreStatus":"{status}","CreatedAt":{created}.{:03},"DatastoreTypeVersion":"R4","DatastoreEndpoint":"https://healthlake.{region}.amazonaws.com/datastore/{id}/r4/""#,
        r.below(1000)
    );
    match r.below(4) {
        0 => s.push_str(
            r#","SseConfiguration":{"KmsEncryptionConfig":{"CmkType":"AWS_OWNED_KMS_KEY"}}"#,
        ),
        _ => {
            let key_region = if r.below(20) == 0 {
                "eu-central-1"
            } else {
                region
            };
            let key_account = if r.below(20) == 0 {
                "999999999999".to_owned()
            } else {
                account.clone()
            };
            let key = match r.below(12) {
                0 => "alias/healthlake".to_owned(),
                1 => format!("{:08x}-1111-2222-3333-444455556666", r.next()),
                _ => format!(
                    "arn:aws:kms:{key_region}:{key_account}:key/{:08x}-1111-2222-3333-444455556666",
                    r.next()
                ),
            };
            let _ = write!(
                s,
                r#","SseConfiguration":{{"KmsEncryptionConfig":{{"CmkType":"CUSTOMER_MANAGED_KMS_KEY","KmsKeyId":"{key}"}}}}"#
            );
        }
    }
    if r.below(5) == 0 {
        s.push_str(r#","PreloadDataConfig":{"PreloadDataType":"SYNTHEA"}"#);
    }
    match r.below(5) {
        0 => s.push_str(r#","IdentityProviderConfiguration":{"AuthorizationStrategy":"AWS_AUTH","FineGrainedAuthorizationEnabled":false}"#),
        n => {
            let strategy = if n < 4 { "SMART_ON_FHIR" } else { "SMART_ON_FHIR_V1" };
            let md = serde_json::to_string(&metadata(r, i)).unwrap_or_default();
            let qualifier = match r.below(4) {
                0 => "",
                1 => ":$LATEST",
                2 => ":live",
                _ => ":7",
            };
            let _ = write!(
                s,
                r#","IdentityProviderConfiguration":{{"AuthorizationStrategy":"{strategy}","FineGrainedAuthorizationEnabled":{},"Metadata":{md},"IdpLambdaArn":"arn:aws:lambda:{region}:{account}:function:smart-idp-{}{qualifier}"}}"#,
                r.below(4) > 0,
                i % 100
            );
        }
    }
    if status == "CREATE_FAILED" {
        s.push_str(r#","ErrorCause":{"ErrorMessage":"The KMS key is not accessible.","ErrorCategory":"NON_RETRYABLE_ERROR"}"#);
    }
    if r.below(4) > 0 {
        let latest = 1_767_225_600 - r.below(200_000);
        let _ = write!(
            s,
            r#","BackupStatusInfo":{{"Configuration":{{"Status":"ENABLED","BackupType":"CONTINUOUS","RetentionPeriodInDays":{},"BackupTagsEnabled":true}},"BackupEnabledAt":{created},"EarliestRestorePoint":{created},"LatestRestorePoint":{latest}}}"#,
            [1, 7, 14, 35][r.below(4) as usize]
        );
    } else {
        s.push_str(r#","BackupStatusInfo":{"Configuration":{"Status":"DISABLED"}}"#);
    }
    if r.below(10) == 0 {
        s.push_str(r#","AnalyticsConfiguration":{"Status":"ENABLED"},"NlpConfiguration":{"Status":"ENABLED"}"#);
    }
    s.push('}');
    s
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(n), Some(out)) = (
        args.first().and_then(|n| n.parse::<u64>().ok()),
        args.get(1),
    ) else {
        eprintln!("usage: gen_datastores N OUT.json");
        return ExitCode::from(2);
    };
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot create {out}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut w = std::io::BufWriter::new(file);
    let mut r = Lcg(0x5eed);
    let mut ok = writeln!(w, "{{\n  \"DatastorePropertiesList\": [").is_ok();
    for i in 0..n {
        let sep = if i + 1 < n { "," } else { "" };
        ok &= writeln!(w, "    {}{sep}", record(&mut r, i)).is_ok();
    }
    ok &= writeln!(w, "  ]\n}}").is_ok() && w.flush().is_ok();
    if !ok {
        eprintln!("cannot write {out}");
        return ExitCode::from(2);
    }
    println!("wrote {n} data stores to {out}");
    ExitCode::SUCCESS
}
