//! Canonical JSON and digests: the bytes an auditor compares.
//!
//! Canonical JSON here is serde_json's pretty form of a `serde_json::Value` whose objects keep
//! their keys sorted (serde_json's default map is ordered), with a final newline. Numbers are
//! printed by serde_json's shortest round-trip algorithm, the same on every platform; there are
//! no floats formatted by the locale, no map iteration order, no clock. SHA-256 digests are taken
//! over these bytes.

use sha2::{Digest, Sha256};

use crate::json::{Json, Kind};

/// A value's canonical text.
pub fn canonical(value: &serde_json::Value) -> String {
    match serde_json::to_string_pretty(&Sorted(value)) {
        Ok(s) => s + "\n",
        Err(_) => String::new(),
    }
}

/// A value serialised with every object's keys in sorted order, whatever order they were built
/// in (serde_json's map keeps insertion order if any crate in the build enables its
/// `preserve_order` feature), without copying the value: the copy once doubled the peak memory
/// of digesting a large evidence file.
pub(crate) struct Sorted<'a>(pub &'a serde_json::Value);

impl serde::Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let mut out = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    out.serialize_entry(k, &Sorted(v))?;
                }
                out.end()
            }
            serde_json::Value::Array(items) => {
                let mut out = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&Sorted(item))?;
                }
                out.end()
            }
            other => other.serialize(s),
        }
    }
}

/// The SHA-256 of some bytes, as lowercase hex.
pub fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a value's canonical text.
pub fn digest(value: &serde_json::Value) -> String {
    digest_of(&Sorted(value))
}

/// The SHA-256 of the canonical text of anything that serialises as a canonical value would
/// (keys sorted), written straight into the hash: the text is never held whole.
pub(crate) fn digest_of(value: &impl serde::Serialize) -> String {
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hashing = Hashing(Sha256::new());
    // INVARIANT: the same bytes as `canonical`: serde_json's pretty form, then a newline; a
    // value that cannot be written digests as the empty text, as `canonical` gives.
    if serde_json::to_writer_pretty(&mut hashing, value).is_err() {
        return sha256(b"");
    }
    hashing.0.update(b"\n");
    hex(&hashing.0.finalize())
}

/// A positioned JSON tree as a plain value (positions dropped).
pub(crate) fn value(json: &Json) -> serde_json::Value {
    match &json.kind {
        Kind::Null => serde_json::Value::Null,
        Kind::Bool(b) => serde_json::Value::Bool(*b),
        Kind::Number(n) => serde_json::Number::from_f64(*n)
            .map(serde_json::Value::Number)
            .unwrap_or_default(),
        Kind::String(s) => serde_json::Value::String(s.clone()),
        Kind::Array(items) => serde_json::Value::Array(items.iter().map(value).collect()),
        Kind::Object(members) => {
            serde_json::Value::Object(members.iter().map(|m| (m.key.clone(), value(&m.value))).collect())
        }
    }
}

/// Normalises text for comparing a quote with its source: whitespace runs become one space, and
/// typographic quotes and dashes their plain forms, so line breaks and smart quotes in a PDF
/// export do not count as changes.
pub fn normalise_quote(text: &str) -> String {
    let plain: String = text
        .chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201c}' | '\u{201d}' => '"',
            '\u{2013}' | '\u{2014}' => '-',
            c => c,
        })
        .collect();
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_keys_at_every_depth() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b": 1, "a": {"d": [1.5, 2], "c": null}}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"a": {"c": null, "d": [1.5, 2]}, "b": 1}"#).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(digest(&a), digest(&b));
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn quotes_compare_modulo_layout_and_typography() {
        assert_eq!(
            normalise_quote("the Council\u{2019}s  \n officer"),
            "the Council's officer"
        );
    }
}
