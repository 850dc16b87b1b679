//! Text helpers of the evaluator: JSON as `Fn::ToJsonString` writes it, base64 for
//! `Fn::Base64`, and the closest name for a hint.

use super::{Ev, EvValue};

/// The closest of `names` to `name`, when close enough to suggest.
pub(crate) fn closest<'n>(name: &str, names: Vec<&'n str>) -> Option<&'n str> {
    names
        .into_iter()
        .map(|n| (edit_distance(&name.to_lowercase(), &n.to_lowercase()), n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// JSON as `Fn::ToJsonString` writes it: compact, keys in the order written.
pub(super) fn compact_json(v: &Ev, out: &mut String) {
    match &v.value {
        EvValue::Null | EvValue::NoValue | EvValue::Unknown(_) => out.push_str("null"),
        EvValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        EvValue::Number(n) => {
            if serde_json::from_str::<serde_json::Number>(n).is_ok() {
                out.push_str(n);
            } else {
                out.push_str(&json_string(n));
            }
        }
        EvValue::String(s) | EvValue::Json(s, _) => out.push_str(&json_string(s)),
        EvValue::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                compact_json(item, out);
            }
            out.push(']');
        }
        EvValue::Map(entries) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_string(&k.name));
                out.push(':');
                compact_json(item, out);
            }
            out.push('}');
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

pub(super) fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"hello world"), "aGVsbG8gd29ybGQ=");
    }

    #[test]
    fn suggestions_are_close_names_only() {
        assert_eq!(closest("KmsKye", vec!["KmsKey", "Store"]), Some("KmsKey"));
        assert_eq!(closest("Zebra", vec!["KmsKey", "Store"]), None);
    }
}
