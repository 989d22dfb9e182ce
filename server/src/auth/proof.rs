//! Domain proofs (`/v0/auth/dns`, `/v0/auth/http`): the client signs an RFC 3339 timestamp with a key whose
//! public half the domain publishes as `v=MCPv1; k=<algorithm>; p=<base64 key>` (a TXT record at the
//! apex, or the body of `https://<domain>/.well-known/mcp-registry-auth`). The rules and texts are the
//! official registry's: Ed25519 (32-byte key, 64-byte signature) or ECDSA P-384 (49-byte compressed key,
//! 96-byte r‖s signature over SHA-384), timestamps within ±15 s, fingerprints of the keys tried when no
//! published key matches (a stale record is the usual cause).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use regex::Regex;
use ring::signature::{self, UnparsedPublicKey};
use std::sync::LazyLock;

/// How far a proof's timestamp may be from the registry's clock.
pub const WINDOW_SECS: i64 = 15;

static RECORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"v=MCPv1;\s*k=([^;]+);\s*p=([A-Za-z0-9+/=]+)").expect("valid pattern")
});
static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$",
    )
    .expect("valid pattern")
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Ed25519(Vec<u8>),
    P384(Vec<u8>),
}

impl PublicKey {
    fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::Ed25519(_) => "ed25519",
            PublicKey::P384(_) => "ecdsap384",
        }
    }

    /// `<algorithm>:<first 8 characters of the base64 key>`, as the official messages print keys.
    pub fn fingerprint(&self) -> String {
        let raw = match self {
            PublicKey::Ed25519(k) | PublicKey::P384(k) => k,
        };
        let b64 = STANDARD.encode(raw);
        format!("{}:{}", self.algorithm(), &b64[..8.min(b64.len())])
    }

    fn check(&self, message: &[u8], sig: &[u8]) -> Result<(), String> {
        match self {
            PublicKey::Ed25519(pk) => {
                if sig.len() != 64 {
                    return Err("invalid signature size for Ed25519".into());
                }
                UnparsedPublicKey::new(&signature::ED25519, pk)
                    .verify(message, sig)
                    .map_err(|_| MISMATCH.into())
            }
            PublicKey::P384(compressed) => {
                use p384::ecdsa::signature::Verifier;
                if sig.len() != 96 {
                    return Err("invalid signature size for ECDSA P-384".into());
                }
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(compressed)
                    .map_err(|_| "failed to decompress ECDSA P-384 public key".to_string())?;
                let sig = p384::ecdsa::Signature::from_slice(sig)
                    .map_err(|_| MISMATCH_P384.to_string())?;
                // Like Go's ecdsa.Verify, a high-S signature is valid (p384 does not normalise S).
                key.verify(message, &sig).map_err(|_| MISMATCH_P384.into())
            }
        }
    }
}

const MISMATCH: &str = "Ed25519: signature does not match public key";
const MISMATCH_P384: &str = "ECDSA P-384: signature does not match public key";

/// One published record's key.
pub fn parse_key(algorithm: &str, b64: &str) -> Result<PublicKey, String> {
    let raw = STANDARD
        .decode(b64)
        .map_err(|e| format!("failed to decode public key: {e}"))?;
    match algorithm {
        "ed25519" if raw.len() == 32 => Ok(PublicKey::Ed25519(raw)),
        "ed25519" => Err("invalid Ed25519 public key size".into()),
        "ecdsap384" if raw.len() != 49 => Err("invalid ECDSA P-384 public key size".into()),
        "ecdsap384" if raw[0] != 2 && raw[0] != 3 => Err(
            "invalid ECDSA P-384 public key format (must be compressed, with a leading 0x02 or 0x03 byte)"
                .into(),
        ),
        "ecdsap384" => Ok(PublicKey::P384(raw)),
        other => Err(format!("unsupported public key algorithm: {other}")),
    }
}

/// The keys in the published strings (one TXT record each, or the one HTTP body), as the official
/// registry reads them: the first `v=MCPv1` match of each string; with one matching string its parse
/// error is the answer, with several the unreadable ones are skipped.
pub fn keys_in(strings: &[String], source: &str) -> Result<Vec<PublicKey>, String> {
    let matches: Vec<(String, String)> = strings
        .iter()
        .filter_map(|s| RECORD.captures(s))
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    match matches.as_slice() {
        [] => Err(format!("no MCP public key found in {source}")),
        [(k, p)] => Ok(vec![parse_key(k, p)?]),
        many => {
            let keys: Vec<PublicKey> = many
                .iter()
                .filter_map(|(k, p)| parse_key(k, p).ok())
                .collect();
            if keys.is_empty() {
                Err("no valid MCP public key found".into())
            } else {
                Ok(keys)
            }
        }
    }
}

/// The request checks before any key is fetched: domain, timestamp window, signature encoding.
pub fn check_request(
    domain: &str,
    timestamp: &str,
    signed_hex: &str,
    now: i64,
) -> Result<Vec<u8>, String> {
    if domain.is_empty()
        || domain.len() > 253
        || domain.parse::<std::net::IpAddr>().is_ok()
        || !domain.contains('.')
        || !DOMAIN.is_match(domain)
    {
        return Err("invalid domain format".into());
    }
    let lower = domain.to_ascii_lowercase();
    if lower == "github.io" || lower.ends_with(".github.io") {
        return Err(
            "github.io domains cannot be used with DNS/HTTP authentication; use GitHub authentication for io.github.* namespaces"
                .into(),
        );
    }
    let ts = chrono::DateTime::parse_from_rfc3339(timestamp)
        .map_err(|e| format!("invalid timestamp format: {e}"))?
        .timestamp();
    if ts < now - WINDOW_SECS || ts > now + WINDOW_SECS {
        return Err("timestamp outside valid window (±15 seconds)".into());
    }
    hex::decode(signed_hex).map_err(|e| format!("invalid signature format, must be hex: {e}"))
}

/// Verifies `signature` over the exact `timestamp` text against the published keys; the first that
/// matches wins. The error names the keys tried.
pub fn verify(keys: &[PublicKey], timestamp: &str, signature: &[u8]) -> Result<(), String> {
    let mut structural = None;
    for k in keys {
        match k.check(timestamp.as_bytes(), signature) {
            Ok(()) => return Ok(()),
            Err(e) if e == MISMATCH || e == MISMATCH_P384 => {}
            Err(e) => structural = Some(e),
        }
    }
    if let Some(e) = structural {
        return Err(e);
    }
    let prints: Vec<String> = keys.iter().map(PublicKey::fingerprint).collect();
    Err(match prints.as_slice() {
        [one] => format!(
            "signature verification failed (tried published key {one}); if this is not the key you are signing with, the published record may be stale"
        ),
        many => format!(
            "signature verification failed against all {} published keys (tried: {}); if you recently rotated keys, remove any stale records from the apex domain",
            many.len(),
            many.join(", ")
        ),
    })
}

/// `example.com` → `com.example`: the namespace a domain proves.
pub fn reversed(domain: &str) -> String {
    domain.split('.').rev().collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests;
