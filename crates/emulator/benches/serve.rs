//! What one request costs the emulator over loopback (connect, parse, route, serialise),
//! with 10,000 data stores in one partition: the first page, the last page (the
//! filter walks the whole partition), a describe and a tag listing.
//!
//! `cargo bench -p hlaudit-emulator --bench serve`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use hlaudit_emulator::auth::fake_authorization;
use hlaudit_emulator::{synthetic, Emulator};

const ACCOUNT: &str = "111122223333";

fn call(addr: SocketAddr, operation: &str, body: &str) -> usize {
    let mut s = TcpStream::connect(addr).unwrap();
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: HealthLake.{operation}\r\nX-Amz-Date: 20261129T000000Z\r\n\
         Authorization: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        fake_authorization("AKIDBENCH", "20261129", "us-east-1"),
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    assert!(
        out.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    out.len()
}

fn serve(c: &mut Criterion) {
    let records = synthetic::datastores(ACCOUNT, "us-east-1", 10_000, 1).unwrap();
    let first_arn = records[0].arn().unwrap_or_default().to_owned();
    let first_id = records[0].id().unwrap_or_default().to_owned();
    let emu = Emulator::builder()
        .records(records)
        .default_account(ACCOUNT)
        .start_blocking()
        .unwrap();
    let addr = emu.addr();

    // The token of the last page of 100.
    let mut token = String::new();
    for _ in 0..99 {
        let body = if token.is_empty() {
            r#"{"MaxResults":100}"#.to_owned()
        } else {
            format!(r#"{{"MaxResults":100,"NextToken":"{token}"}}"#)
        };
        let mut s = TcpStream::connect(addr).unwrap();
        let req = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: HealthLake.ListFHIRDatastores\r\n\
             X-Amz-Date: 20261129T000000Z\r\nAuthorization: {}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            fake_authorization("AKIDBENCH", "20261129", "us-east-1"),
            body.len()
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let json = out.split_once("\r\n\r\n").unwrap().1;
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        token = v["NextToken"].as_str().unwrap().to_owned();
    }
    let last_page = format!(r#"{{"MaxResults":100,"NextToken":"{token}"}}"#);

    let mut g = c.benchmark_group("emulator");
    g.measurement_time(Duration::from_secs(3)).sample_size(30);
    g.bench_function("list first page of 100", |b| {
        b.iter(|| call(addr, "ListFHIRDatastores", r#"{"MaxResults":100}"#))
    });
    g.bench_function("list last page of 100 (of 10,000)", |b| {
        b.iter(|| call(addr, "ListFHIRDatastores", &last_page))
    });
    let describe = format!(r#"{{"DatastoreId":"{first_id}"}}"#);
    g.bench_function("describe", |b| {
        b.iter(|| call(addr, "DescribeFHIRDatastore", &describe))
    });
    let tags = format!(r#"{{"ResourceARN":"{first_arn}"}}"#);
    g.bench_function("list tags", |b| {
        b.iter(|| call(addr, "ListTagsForResource", &tags))
    });
    g.finish();
    emu.shutdown_blocking().unwrap();
}

criterion_group!(benches, serve);
criterion_main!(benches);
