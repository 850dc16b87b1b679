//! The SigV4 `Authorization` header: its credential scope gives the request's access
//! key and region.
//!
//! Signatures are not verified (the emulator holds no secrets), but the header's
//! shape is checked as strictly as AWS checks it before verifying, so a client that
//! signs wrongly (another service, another date, a missing part) fails here as it
//! would against AWS.

use crate::protocol::ApiError;

/// The service name a HealthLake credential scope must carry.
pub const SERVICE: &str = "healthlake";

/// What the credential scope of a request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The access key id.
    pub access_key: String,
    /// The scope's date, `YYYYMMDD`.
    pub date: String,
    /// The region the request was signed for.
    pub region: String,
}

/// Parses `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/healthlake/aws4_request,
/// SignedHeaders=..., Signature=...` and checks its date against `X-Amz-Date`.
pub fn parse(authorization: Option<&str>, amz_date: Option<&str>) -> Result<Scope, ApiError> {
    let header = authorization.ok_or_else(ApiError::missing_auth)?;
    let rest = header.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| {
        let algorithm = header.split_whitespace().next().unwrap_or("");
        ApiError::incomplete_signature(format!(
            "Unsupported AWS 'algorithm': '{algorithm}' (expected AWS4-HMAC-SHA256)"
        ))
    })?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        let (key, value) = part.split_once('=').ok_or_else(|| {
            ApiError::incomplete_signature(format!(
                "Authorization header has a part without '=': '{part}'"
            ))
        })?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => {
                return Err(ApiError::incomplete_signature(format!(
                    "Authorization header has an unknown part '{key}'"
                )))
            }
        };
        if slot.replace(value).is_some() {
            return Err(ApiError::incomplete_signature(format!(
                "Authorization header names '{key}' twice"
            )));
        }
    }
    let credential = need(credential, "Credential")?;
    let signed_headers = need(signed_headers, "SignedHeaders")?;
    let signature = need(signature, "Signature")?;

    if !signed_headers
        .split(';')
        .all(|h| !h.is_empty() && h.bytes().all(|b| !b.is_ascii_uppercase()))
        || !signed_headers.split(';').any(|h| h == "host")
    {
        return Err(ApiError::incomplete_signature(format!(
            "SignedHeaders '{signed_headers}' must be lower-case names separated by ';' and include 'host'"
        )));
    }
    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(ApiError::incomplete_signature(
            "Signature must be 64 lower-case hexadecimal digits",
        ));
    }

    let fields: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = fields[..] else {
        return Err(ApiError::incomplete_signature(format!(
            "Credential should have 5 '/'-separated parts (AKID/YYYYMMDD/REGION/SERVICE/aws4_request), found {}",
            fields.len()
        )));
    };
    if access_key.is_empty() || !access_key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::incomplete_signature(
            "Credential access key id must be non-empty printable ASCII",
        ));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::incomplete_signature(format!(
            "Credential date '{date}' is not YYYYMMDD"
        )));
    }
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(ApiError::incomplete_signature(format!(
            "Credential region '{region}' is not a region name"
        )));
    }
    if service != SERVICE {
        return Err(ApiError::invalid_signature(format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        )));
    }
    if terminator != "aws4_request" {
        return Err(ApiError::invalid_signature(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }

    let amz_date = amz_date.ok_or_else(|| {
        ApiError::incomplete_signature(
            "Authorization header requires existence of a 'X-Amz-Date' header",
        )
    })?;
    let valid_amz_date = amz_date.len() == 16
        && amz_date.as_bytes()[8] == b'T'
        && amz_date.ends_with('Z')
        && amz_date[..8].bytes().all(|b| b.is_ascii_digit())
        && amz_date[9..15].bytes().all(|b| b.is_ascii_digit());
    if !valid_amz_date {
        return Err(ApiError::incomplete_signature(format!(
            "X-Amz-Date '{amz_date}' is not YYYYMMDDTHHMMSSZ"
        )));
    }
    if &amz_date[..8] != date {
        return Err(ApiError::invalid_signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{date}' != '{}', from '{amz_date}'.",
            &amz_date[..8]
        )));
    }

    Ok(Scope {
        access_key: access_key.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
    })
}

/// A well-formed `Authorization` header with a fake signature, for tests and tools
/// that talk to the emulator without an SDK. Pair it with `X-Amz-Date:
/// {date}T000000Z`.
pub fn fake_authorization(access_key: &str, date: &str, region: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/{date}/{region}/{SERVICE}/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={}",
        "0".repeat(64)
    )
}

fn need<'a>(v: Option<&'a str>, name: &str) -> Result<&'a str, ApiError> {
    v.filter(|v| !v.is_empty()).ok_or_else(|| {
        ApiError::incomplete_signature(format!("Authorization header requires '{name}' parameter"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: Option<&str> = Some("20261129T055000Z");

    #[test]
    fn reads_the_scope() {
        let h = fake_authorization("AKIDEXAMPLE", "20261129", "eu-west-2");
        let scope = parse(Some(&h), DATE).unwrap();
        assert_eq!(scope.access_key, "AKIDEXAMPLE");
        assert_eq!(scope.region, "eu-west-2");
        assert_eq!(scope.date, "20261129");
    }

    #[test]
    fn refuses_what_aws_refuses() {
        let code = |h: Option<&str>, d: Option<&str>| parse(h, d).unwrap_err().code;
        assert_eq!(code(None, DATE), "MissingAuthenticationTokenException");
        assert_eq!(
            code(Some("Bearer abc"), DATE),
            "IncompleteSignatureException"
        );
        let good = fake_authorization("AKID", "20261129", "us-east-1");
        assert_eq!(
            code(Some(&good.replace("/healthlake/", "/kms/")), DATE),
            "InvalidSignatureException"
        );
        assert_eq!(
            code(Some(&good.replace("aws4_request", "aws4")), DATE),
            "InvalidSignatureException"
        );
        assert_eq!(
            code(Some(&good), Some("20261130T000000Z")),
            "InvalidSignatureException"
        );
        assert_eq!(code(Some(&good), None), "IncompleteSignatureException");
        assert_eq!(
            code(Some(&good.replace("Signature=0", "Signature=Z")), DATE),
            "IncompleteSignatureException"
        );
        let no_signature = good.split(", Signature").next().unwrap().to_owned();
        assert_eq!(
            code(Some(&no_signature), DATE),
            "IncompleteSignatureException"
        );
        assert_eq!(
            code(Some(&good.replace("us-east-1", "US East")), DATE),
            "IncompleteSignatureException"
        );
        assert_eq!(
            code(Some(&good.replace("20261129/", "2026-11-29/")), DATE),
            "IncompleteSignatureException"
        );
    }
}
