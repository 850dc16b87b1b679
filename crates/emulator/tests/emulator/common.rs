//! A minimal HTTP/1.1 client that signs nothing but sends a well-formed SigV4 header,
//! the SDK's client of the emulator, and generated data.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use aws_sdk_healthlake::config::retry::RetryConfig;
use aws_sdk_healthlake::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_healthlake::Client;
use hlaudit_emulator::auth::fake_authorization;
use hlaudit_emulator::datastore::DatastoreJson;
use hlaudit_emulator::RunningEmulator;
use hlaudit_model::Record;
use serde_json::{json, Value};

pub const ACCOUNT: &str = "111122223333";
pub const OTHER_ACCOUNT: &str = "444455556666";
pub const KEY: &str = "AKIDTESTACCOUNT1";
pub const OTHER_KEY: &str = "AKIDTESTACCOUNT2";
pub const DATE: &str = "20261129";

/// How a request authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    Signed { key: &'a str, region: &'a str },
    Raw(&'a str),
}

pub fn signed(region: &str) -> Auth<'_> {
    Auth::Signed { key: KEY, region }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// Whether the body has all the bytes `Content-Length` announced.
    pub complete: bool,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The error code as the SDKs read it: `__type` without its namespace.
    pub fn error_code(&self) -> String {
        let t = self.json()["__type"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        t.rsplit('#').next().unwrap_or_default().to_owned()
    }
}

/// Sends one request with `Connection: close` and reads the whole response.
pub fn call(addr: SocketAddr, target: Option<&str>, body: &str, auth: Auth<'_>) -> Resp {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Date: {DATE}T101500Z\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(t) = target {
        req.push_str(&format!("X-Amz-Target: {t}\r\n"));
    }
    match auth {
        Auth::None => {}
        Auth::Signed { key, region } => req.push_str(&format!(
            "Authorization: {}\r\n",
            fake_authorization(key, DATE, region)
        )),
        Auth::Raw(h) => req.push_str(&format!("Authorization: {h}\r\n")),
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let complete = headers
        .get("content-length")
        .map(|l| l.parse::<usize>().unwrap() == body.len())
        .unwrap_or(true);
    Resp {
        status,
        headers,
        body: body.to_owned(),
        complete,
    }
}

/// Calls a HealthLake operation signed for `region` with the default test key.
pub fn op(addr: SocketAddr, operation: &str, region: &str, body: Value) -> Resp {
    call(
        addr,
        Some(&format!("HealthLake.{operation}")),
        &body.to_string(),
        signed(region),
    )
}

/// Walks every page of `ListFHIRDatastores`, returning the data stores and the number
/// of pages.
pub fn list_all(
    addr: SocketAddr,
    auth: Auth<'_>,
    filter: Option<Value>,
    max: Option<u64>,
) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({});
        if let Some(f) = &filter {
            body["Filter"] = f.clone();
        }
        if let Some(m) = max {
            body["MaxResults"] = json!(m);
        }
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let r = call(
            addr,
            Some("HealthLake.ListFHIRDatastores"),
            &body.to_string(),
            auth,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        pages += 1;
        out.extend(
            v["DatastorePropertiesList"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
        match v.get("NextToken").and_then(Value::as_str) {
            Some(t) => {
                assert_ne!(Some(t), token.as_deref(), "NextToken repeated");
                token = Some(t.to_owned());
            }
            None => return (out, pages),
        }
        assert!(pages < 10_000, "pagination does not end");
    }
}

pub const STATUSES: [&str; 3] = ["ACTIVE", "CREATING", "DELETED"];

/// Data store `i` of an account and region: name `store-i`, status by `i % 3`,
/// created an hour apart from 2023-11-14T22:13:20Z, tags `Index` and `Env`.
pub fn record(account: &str, region: &str, i: usize) -> Record {
    let salt: u32 = region.bytes().chain(account.bytes()).map(u32::from).sum();
    let id = format!("{salt:08x}{i:024x}");
    let props = DatastoreJson::new(account, region, &id)
        .name(format!("store-{i}"))
        .status(STATUSES[i % 3])
        .created_at(1_700_000_000.0 + (i as f64) * 3600.0 + 0.25)
        .type_version("R4")
        .endpoint()
        .aws_owned_key()
        .aws_auth()
        .build();
    let tags = BTreeMap::from([
        ("Index".to_owned(), i.to_string()),
        (
            "Env".to_owned(),
            if i.is_multiple_of(2) { "prod" } else { "dev" }.to_owned(),
        ),
    ]);
    Record::from_value(&props).unwrap().with_tags(tags)
}

pub fn records(account: &str, region: &str, n: usize) -> Vec<Record> {
    (0..n).map(|i| record(account, region, i)).collect()
}

pub fn ids(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|v| v["DatastoreId"].as_str().unwrap().to_owned())
        .collect()
}

/// An SDK client of the emulator in `region`, making at most `max_attempts` attempts
/// per call (retries wait a millisecond or so).
pub fn sdk_client(emu: &RunningEmulator, region: &str, max_attempts: u32) -> Client {
    let config = aws_sdk_healthlake::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        // No default HTTPS client is compiled in (see the workspace manifest).
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        )
        .region(Region::new(region.to_owned()))
        .endpoint_url(emu.endpoint_url())
        .credentials_provider(Credentials::new(KEY, "sdk-test-secret", None, None, "test"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(max_attempts)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .build();
    Client::from_conf(config)
}
