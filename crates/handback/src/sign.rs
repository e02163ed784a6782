//! Signed reports: a digest proves nothing when anyone can recompute it, so a report can carry
//! an Ed25519 signature by a named signer, which only the holder of the secret key can make.
//!
//! The signature covers the report's digest (which covers the canonical report without the
//! digest and the signature), the report format, the key id and the signer's name, so none of
//! them can be changed without the signature failing. Keys are read from text the caller
//! supplies: the library does no I/O and draws no randomness (key generation takes a seed).
//!
//! Key files are canonical JSON:
//!
//! - secret (`NAME.key`): `format` `handback-secret-key/1`, `algorithm` `ed25519`, `key_id`,
//!   optional `signer`, `secret_key` and `public_key` (64 hex digits each);
//! - public (`NAME.pub`): `format` `handback-public-key/1`, `algorithm`, `key_id`, optional
//!   `signer`, `public_key`.
//!
//! The key id is the first 16 hex digits of the SHA-256 of the 32-byte public key.

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{json, Value as J};

use crate::canonical::{canonical, sha256};
use crate::diagnostic::{optional, required, At, Decoder};
use crate::pack::{decode_file, LoadError, SourceFile};

/// The signature algorithm, as reports and key files name it.
pub const ALGORITHM: &str = "ed25519";
/// The secret key file format.
pub const SECRET_FORMAT: &str = "handback-secret-key/1";
/// The public key file format.
pub const PUBLIC_FORMAT: &str = "handback-public-key/1";

/// A secret signing key and, optionally, the name of who signs with it.
pub struct SecretKey {
    key: SigningKey,
    /// The signer's name stored with the key, used when the caller names no one.
    pub signer: Option<String>,
}

/// A public key that checks signatures, and the signer's name if its file gives one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    /// The signer's name stored with the key.
    pub signer: Option<String>,
}

/// The key id: the first 16 hex digits of the SHA-256 of the public key's 32 bytes, short
/// enough to read aloud and compare, long enough that keys do not collide by accident.
fn key_id(key: &VerifyingKey) -> String {
    sha256(key.as_bytes()).chars().take(16).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes exactly `N` bytes of hex, or says what is wrong with the text.
fn unhex<const N: usize>(text: &str) -> Result<[u8; N], String> {
    if let Some((i, c)) = text.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "`{c}` at character {} is not a hexadecimal digit; expected {} hex digits ({N} bytes)",
            i + 1,
            2 * N
        ));
    }
    if text.len() != 2 * N {
        return Err(format!(
            "expected {} hex digits ({N} bytes), found {}",
            2 * N,
            text.len()
        ));
    }
    let mut out = [0u8; N];
    for (slot, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
        *slot = u8::from_str_radix(pair, 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

impl SecretKey {
    /// A key from 32 random bytes (the caller draws them: the library reads no randomness).
    pub fn from_seed(seed: &[u8; 32], signer: Option<String>) -> SecretKey {
        SecretKey {
            key: SigningKey::from_bytes(seed),
            signer,
        }
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
            signer: self.signer.clone(),
        }
    }

    /// The key id (of the public key).
    pub fn key_id(&self) -> String {
        key_id(&self.key.verifying_key())
    }

    /// The secret key file's text.
    pub fn file_text(&self) -> String {
        let mut v = json!({
            "format": SECRET_FORMAT,
            "algorithm": ALGORITHM,
            "key_id": self.key_id(),
            "secret_key": hex(self.key.as_bytes()),
            "public_key": hex(self.key.verifying_key().as_bytes()),
        });
        if let (Some(s), Some(map)) = (&self.signer, v.as_object_mut()) {
            map.insert("signer".into(), json!(s));
        }
        canonical(&v)
    }

    /// Reads a secret key file; every problem is located (file, line:column, JSON path).
    pub fn load(file: &SourceFile) -> Result<SecretKey, LoadError> {
        let mut diagnostics = Vec::new();
        let key = decode_file(file, &mut diagnostics, |d, at| decode_key(d, at, true));
        match key {
            Some(KeyFile {
                secret: Some(key),
                signer,
                ..
            }) if diagnostics.is_empty() => Ok(SecretKey { key, signer }),
            _ => Err(LoadError::new(diagnostics)),
        }
    }
}

impl PublicKey {
    /// The key id.
    pub fn key_id(&self) -> String {
        key_id(&self.key)
    }

    /// The public key file's text.
    pub fn file_text(&self) -> String {
        let mut v = json!({
            "format": PUBLIC_FORMAT,
            "algorithm": ALGORITHM,
            "key_id": self.key_id(),
            "public_key": hex(self.key.as_bytes()),
        });
        if let (Some(s), Some(map)) = (&self.signer, v.as_object_mut()) {
            map.insert("signer".into(), json!(s));
        }
        canonical(&v)
    }

    /// Reads a public key file; every problem is located (file, line:column, JSON path).
    pub fn load(file: &SourceFile) -> Result<PublicKey, LoadError> {
        let mut diagnostics = Vec::new();
        let key = decode_file(file, &mut diagnostics, |d, at| decode_key(d, at, false));
        match key {
            Some(KeyFile {
                public: Some(key),
                signer,
                ..
            }) if diagnostics.is_empty() => Ok(PublicKey { key, signer }),
            _ => Err(LoadError::new(diagnostics)),
        }
    }
}

struct KeyFile {
    secret: Option<SigningKey>,
    public: Option<VerifyingKey>,
    signer: Option<String>,
}

fn decode_key(d: &mut Decoder, at: At<'_, '_>, secret: bool) -> Option<KeyFile> {
    let (want, other, other_name) = if secret {
        (
            SECRET_FORMAT,
            PUBLIC_FORMAT,
            "a public key file; this needs the secret key file (`NAME.key`)",
        )
    } else {
        (PUBLIC_FORMAT, SECRET_FORMAT, "a secret key file; this needs the public key file (`NAME.pub`), and the secret key should not leave its owner")
    };
    // A key file of the wrong kind: say that once rather than list every field it lacks or has.
    if let Some((f, pos)) = crate::diagnostic::member_string(at.json, "format") {
        if f == other {
            d.report(
                pos,
                &format!("{}.format", at.path),
                format!("this is {other_name}"),
            );
            return None;
        }
    }
    let mut fields = vec!["format", "algorithm", "key_id", "signer", "public_key"];
    if secret {
        fields.push("secret_key");
    }
    let obj = d.object(at, &fields)?;
    let format = required(d, &obj, "format", |d, at| {
        let f = d.string(at)?;
        if f != want {
            d.error(at, format!("expected `{want}`, found `{f}`"));
            return None;
        }
        Some(f)
    });
    // Not a key file: its other fields mean nothing.
    format.as_ref()?;
    required(d, &obj, "algorithm", |d, at| {
        let a = d.string(at)?;
        if a != ALGORITHM {
            d.error(
                at,
                format!("expected `{ALGORITHM}` (the only algorithm), found `{a}`"),
            );
        }
        Some(())
    });
    let signer = optional(d, &obj, "signer", |d, at| d.text(at));
    let bytes = |d: &mut Decoder, at: At<'_, '_>| -> Option<[u8; 32]> {
        let s = d.string(at)?;
        unhex::<32>(&s).map_err(|e| d.error(at, e)).ok()
    };
    let public_at = obj.require(d, "public_key");
    let public = public_at.as_ref().and_then(|(json, path)| {
        let at = At { json, path };
        let b = bytes(d, at)?;
        VerifyingKey::from_bytes(&b)
            .map_err(|_| {
                d.error(
                    at,
                    "the bytes are not an Ed25519 public key (not a point on the curve)".into(),
                )
            })
            .ok()
    });
    let secret_key = if secret {
        required(d, &obj, "secret_key", |d, at| {
            bytes(d, at).map(|b| SigningKey::from_bytes(&b))
        })
    } else {
        None
    };
    if let (Some(s), Some(p), Some((json, path))) = (&secret_key, &public, &public_at) {
        if s.verifying_key() != *p {
            d.error(
                At { json, path },
                "`public_key` does not belong to `secret_key`; the file was damaged or assembled from two keys".into(),
            );
        }
    }
    let expected_id = secret_key
        .as_ref()
        .map(|s| key_id(&s.verifying_key()))
        .or_else(|| public.as_ref().map(key_id));
    required(d, &obj, "key_id", |d, at| {
        let id = d.string(at)?;
        if let Some(expected) = &expected_id {
            if &id != expected {
                d.error(
                    at,
                    format!("`{id}` is not this key's id; the key's id is `{expected}` (the first 16 hex digits of the SHA-256 of the public key)"),
                );
            }
        }
        Some(())
    });
    Some(KeyFile {
        secret: secret_key,
        public,
        signer,
    })
}

/// What a report says about who signed it, as found by [`crate::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signed {
    /// The report carries no signature.
    Unsigned,
    /// Signed, but no public key was given to check the signature against.
    NotChecked {
        /// Who the report says signed it.
        signer: String,
        /// The id of the key it says it was signed with.
        key_id: String,
    },
    /// Signed, and the signature is valid under the public key given.
    Valid {
        /// Who signed it.
        signer: String,
        /// The key id.
        key_id: String,
    },
}

/// The text a report's signature is made over: the canonical JSON of the report format, the
/// digest, the algorithm, the key id and the signer.
fn message(format: &str, digest: &str, key_id: &str, signer: &str) -> String {
    canonical(&json!({
        "format": format,
        "digest": digest,
        "algorithm": ALGORITHM,
        "key_id": key_id,
        "signer": signer,
    }))
}

/// Signs a report made by [`crate::report`]: adds the signature block beside `digest`. The
/// digest already covers everything else, so the report's content is not re-read. `signer`
/// names who signs (the caller chooses it, or uses the key's stored name).
///
/// ```
/// use chrono::NaiveDate;
/// use handback::sign::{sign, SecretKey, Signed};
/// use handback::{report, verify, EvidenceBuilder, ObservationDraft, Options, ReportInputs, VerifyInputs};
///
/// let pack = handback::default_pack()?;
/// let day = NaiveDate::from_ymd_opt(2016, 8, 11).unwrap();
/// let evidence = EvidenceBuilder::new("Example Council")
///     .observe(ObservationDraft::new("mtfs", "children.mtfs_adopted", true, day, "Minutes", "item 4"))
///     .build(&pack)?;
/// let options = Options::new(day);
/// let text = report(&ReportInputs { pack: &pack, evidence: &evidence, options: &options, directions: None, with_plan: false });
/// // The caller draws the seed from its own source of randomness; the library reads none.
/// let key = SecretKey::from_seed(&[7; 32], None);
/// let signed = sign(&text, &key, "Commissioners' Office")?;
/// let public = key.public();
/// let check = VerifyInputs { report: &signed, pack: &pack, evidence: None, directions: None, key: Some(&public) };
/// assert!(matches!(verify(&check), Ok(Signed::Valid { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign(report: &str, key: &SecretKey, signer: &str) -> Result<String, String> {
    let mut value: J =
        crate::report::parse(report).map_err(|e| format!("the report is not valid JSON ({e})"))?;
    let (Some(format), Some(digest)) = (
        value.get("format").and_then(J::as_str).map(str::to_string),
        value.get("digest").and_then(J::as_str).map(str::to_string),
    ) else {
        return Err("the text is not a Handback report (it has no `format` and `digest`)".into());
    };
    if signer.trim().is_empty() {
        return Err("the signer's name is empty".into());
    }
    let key_id = key.key_id();
    let signature = key
        .key
        .sign(message(&format, &digest, &key_id, signer).as_bytes());
    let block = json!({
        "algorithm": ALGORITHM,
        "key_id": key_id,
        "signer": signer,
        "value": hex(&signature.to_bytes()),
    });
    match value.as_object_mut() {
        Some(map) => {
            map.insert("signature".into(), block);
            Ok(canonical(&value))
        }
        None => Err("the text is not a Handback report (not a JSON object)".into()),
    }
}

/// Reads a report's signature block: who, which key, and whether it is well formed.
pub(crate) fn block(report: &J) -> Result<Option<(String, String)>, String> {
    let Some(b) = report.get("signature") else {
        return Ok(None);
    };
    let field = |k: &str| b.get(k).and_then(J::as_str);
    if field("algorithm") != Some(ALGORITHM) {
        return Err(format!(
            "the report's signature block names algorithm {}, not `{ALGORITHM}`",
            b.get("algorithm").map(J::to_string).unwrap_or("(none)".into())
        ));
    }
    match (field("signer"), field("key_id"), field("value")) {
        (Some(s), Some(k), Some(_)) => Ok(Some((s.to_string(), k.to_string()))),
        _ => Err("the report's signature block lacks `signer`, `key_id` or `value`".into()),
    }
}

/// Checks a report's signature under a public key; the error says why it fails.
pub(crate) fn check(report: &J, key: &PublicKey) -> Result<(String, String), String> {
    let Some((signer, claimed)) = block(report)? else {
        return Err("the report is not signed, so there is no signature to check against the key given; sign reports with `--sign KEYFILE`".into());
    };
    let given = key.key_id();
    let text = |v: Option<&J>| v.and_then(J::as_str).unwrap_or("").to_string();
    let value = text(report.get("signature").and_then(|b| b.get("value")));
    let bytes = unhex::<64>(&value).map_err(|e| format!("the report's signature is damaged: {e}"))?;
    let signature = ed25519_dalek::Signature::from_bytes(&bytes);
    let format = text(report.get("format"));
    let digest = text(report.get("digest"));
    match key
        .key
        .verify(message(&format, &digest, &claimed, &signer).as_bytes(), &signature)
    {
        Ok(()) => Ok((signer, claimed)),
        Err(_) if claimed != given => Err(format!(
            "the report says it was signed by {signer} with key `{claimed}`, but the key given is `{given}`{}: the signature does not verify with it",
            key.signer.as_ref().map(|s| format!(" ({s})")).unwrap_or_default()
        )),
        Err(_) => Err(format!(
            "the signature does not match the report's digest, signer and key id under key `{given}`: the report's digest or signature block was changed after signing"
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile {
            name: "k.key".into(),
            label: "k.key".into(),
            text: text.into(),
        }
    }

    #[test]
    fn key_files_round_trip_and_ids_are_the_public_key_hash() {
        let key = SecretKey::from_seed(&[7; 32], Some("Lead Commissioner".into()));
        let again = SecretKey::load(&file(&key.file_text())).unwrap();
        assert_eq!(again.key.as_bytes(), key.key.as_bytes());
        assert_eq!(again.signer.as_deref(), Some("Lead Commissioner"));
        let public = PublicKey::load(&file(&key.public().file_text())).unwrap();
        assert_eq!(public, key.public());
        assert_eq!(key.key_id(), sha256(key.key.verifying_key().as_bytes())[..16]);
    }

    #[test]
    fn bad_key_files_are_located() {
        let key = SecretKey::from_seed(&[7; 32], None);
        let text = key.file_text();
        let errors = |text: &str, secret: bool| -> String {
            let e = if secret {
                SecretKey::load(&file(text)).err()
            } else {
                PublicKey::load(&file(text)).err()
            };
            e.unwrap().to_string()
        };
        let short = text.replacen("\"secret_key\": \"", "\"secret_key\": \"0", 1);
        let e = errors(&short, true);
        assert!(e.contains("k.key:"), "{e}");
        assert!(
            e.contains("$.secret_key: expected 64 hex digits (32 bytes), found 65"),
            "{e}"
        );
        let e = errors(
            &text.replacen("\"public_key\": \"", "\"public_key\": \"g", 1),
            true,
        );
        assert!(
            e.contains("$.public_key: `g` at character 1 is not a hexadecimal digit"),
            "{e}"
        );
        let e = errors(&text, false);
        assert!(
            e.contains("$.format: this is a secret key file; this needs the public key file"),
            "{e}"
        );
        let e = errors(&key.public().file_text(), true);
        assert!(e.contains("$.format: this is a public key file"), "{e}");
        let other = SecretKey::from_seed(&[8; 32], None);
        let pk = |k: &SecretKey| hex(k.key.verifying_key().as_bytes());
        let e = errors(&text.replace(&pk(&key), &pk(&other)), true);
        assert!(e.contains("`public_key` does not belong to `secret_key`"), "{e}");
        let e = errors(&text.replace(&key.key_id(), "0123456789abcdef"), true);
        assert!(
            e.contains("$.key_id: `0123456789abcdef` is not this key's id"),
            "{e}"
        );
        let e = errors("{\"format\": ", true);
        assert!(e.starts_with("k.key:1:"), "{e}");
    }
}
