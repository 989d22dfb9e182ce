//! The registry's own tokens: short-lived Ed25519-signed JWTs, issued by the exchanges (`/v0/auth/*`) and
//! accepted as bearer tokens next to the static ones.
//!
//! Claims are the official registry's (`auth_method`, `auth_method_sub`, `permissions: [{action,
//! resource}]`) plus `iss`, `aud`, `iat`, `nbf`, `exp`, all checked on the way back in (the official
//! server checks only `exp` and `nbf`). The header carries a `kid` (a fingerprint of the public key), so
//! several verification keys can be configured while one signs: rotate by signing with a new key and
//! keeping the old public key for verification until its last token expired (`auth.jwt.ttl`).

use super::jws::{self, JwtError, Key};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Publish,
    Edit,
}

/// One official permission: `action` on names matching `resource` (`*` suffix: prefix match).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub action: Action,
    pub resource: String,
}

impl Permission {
    pub fn publish(resource: impl Into<String>) -> Permission {
        Permission {
            action: Action::Publish,
            resource: resource.into(),
        }
    }
    pub fn edit(resource: impl Into<String>) -> Permission {
        Permission {
            action: Action::Edit,
            resource: resource.into(),
        }
    }
}

/// The claims of a registry token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub auth_method: String,
    pub auth_method_sub: String,
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// Signing and verification keys, issuer, audience and lifetime of registry tokens.
pub struct RegistryKeys {
    signer: Ed25519KeyPair,
    kid: String,
    verifiers: Vec<(Option<String>, Key)>,
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
}

impl std::fmt::Debug for RegistryKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryKeys")
            .field("kid", &self.kid)
            .field("verifiers", &self.verifiers.len())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// `kid` of a public key: the first 16 hex digits of its SHA-256.
pub fn key_id(public: &[u8]) -> String {
    hex::encode(&Sha256::digest(public)[..8])
}

/// Reads an Ed25519 private key: a hex 32-byte seed (the official `MCP_REGISTRY_JWT_PRIVATE_KEY` form) or
/// a PKCS#8 PEM (`openssl genpkey -algorithm ed25519`).
pub fn parse_private_key(text: &str) -> Result<Ed25519KeyPair, String> {
    let text = text.trim();
    if let Some(der) = pem_body(text, "PRIVATE KEY") {
        return Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map_err(|e| format!("not an Ed25519 PKCS#8 key: {e}"));
    }
    let seed = hex::decode(text).map_err(|_| {
        "expected a hex Ed25519 seed (64 hex digits) or a PEM PRIVATE KEY".to_string()
    })?;
    Ed25519KeyPair::from_seed_unchecked(&seed)
        .map_err(|_| format!("an Ed25519 seed is 32 bytes, this is {}", seed.len()))
}

/// Reads an Ed25519 public key: 32 bytes in hex, or a PEM PUBLIC KEY (SubjectPublicKeyInfo).
pub fn parse_public_key(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let raw = match pem_body(text, "PUBLIC KEY") {
        // An Ed25519 SubjectPublicKeyInfo is a 12-byte prefix and the 32-byte key.
        Some(der)
            if der.len() == 44
                && der.starts_with(&[0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70]) =>
        {
            der[12..].to_vec()
        }
        Some(_) => return Err("not an Ed25519 PUBLIC KEY".into()),
        None => hex::decode(text)
            .map_err(|_| "expected 64 hex digits or a PEM PUBLIC KEY".to_string())?,
    };
    if raw.len() != 32 {
        return Err(format!(
            "an Ed25519 public key is 32 bytes, this is {}",
            raw.len()
        ));
    }
    Ok(raw)
}

fn pem_body(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text.strip_prefix(&begin)?.split(&end).next()?;
    let b64: String = body.split_whitespace().collect();
    STANDARD.decode(b64).ok()
}

impl RegistryKeys {
    /// `signer` signs; its public key and `extra_public` verify.
    pub fn new(
        signer: Ed25519KeyPair,
        extra_public: Vec<Vec<u8>>,
        issuer: String,
        audience: String,
        ttl: Duration,
    ) -> RegistryKeys {
        let own = signer.public_key().as_ref().to_vec();
        let kid = key_id(&own);
        let verifiers = std::iter::once(own)
            .chain(extra_public)
            .map(|pk| (Some(key_id(&pk)), Key::Ed25519(pk)))
            .collect();
        RegistryKeys {
            signer,
            kid,
            verifiers,
            issuer,
            audience,
            ttl,
        }
    }

    /// A token for `method`/`sub` with `permissions`; returns it and its expiry (Unix seconds).
    pub fn issue(&self, method: &str, sub: &str, permissions: Vec<Permission>) -> (String, i64) {
        let now = chrono::Utc::now().timestamp();
        let exp = now + self.ttl.as_secs() as i64;
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            nbf: now,
            exp,
            auth_method: method.to_owned(),
            auth_method_sub: sub.to_owned(),
            permissions,
        };
        let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"))
        );
        let sig = self.signer.sign(input.as_bytes());
        (
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())),
            exp,
        )
    }

    /// Whether `token` looks like a JWT at all (three dot-separated parts): static tokens never do.
    pub fn looks_like_jwt(token: &str) -> bool {
        token.split('.').count() == 3
    }

    /// Verifies signature, algorithm, `exp`, `nbf`, `iss` and `aud`, then reads the claims.
    pub fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        let t = jws::parse(token)?;
        t.verify(&self.verifiers)?;
        let now = chrono::Utc::now().timestamp();
        t.check_claims(now, 0, Some(&self.issuer), Some(&self.audience))?;
        serde_json::from_value(t.claims)
            .map_err(|e| JwtError::Claims(format!("registry token claims: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(seed: u8) -> RegistryKeys {
        RegistryKeys::new(
            Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).unwrap(),
            vec![],
            "https://registry.example".into(),
            "https://registry.example".into(),
            Duration::from_secs(300),
        )
    }

    #[test]
    fn issued_tokens_verify_and_carry_their_permissions() {
        let k = keys(1);
        let (t, exp) = k.issue(
            "dns",
            "example.com",
            vec![Permission::publish("com.example/*")],
        );
        let c = k.verify(&t).unwrap();
        assert_eq!(c.auth_method, "dns");
        assert_eq!(c.permissions, vec![Permission::publish("com.example/*")]);
        assert_eq!(c.exp, exp);
        assert!(exp - chrono::Utc::now().timestamp() <= 300);
    }

    #[test]
    fn another_registrys_key_or_a_rotated_out_key_is_refused_and_a_kept_one_accepted() {
        let (old, new) = (keys(1), keys(2));
        let (t, _) = old.issue("none", "anonymous", vec![]);
        assert!(matches!(new.verify(&t), Err(JwtError::UnknownKey(..))));
        let rotated = RegistryKeys::new(
            Ed25519KeyPair::from_seed_unchecked(&[2; 32]).unwrap(),
            vec![
                Ed25519KeyPair::from_seed_unchecked(&[1; 32])
                    .unwrap()
                    .public_key()
                    .as_ref()
                    .to_vec(),
            ],
            "https://registry.example".into(),
            "https://registry.example".into(),
            Duration::from_secs(300),
        );
        assert!(
            rotated.verify(&t).is_ok(),
            "the old public key still verifies"
        );
    }

    #[test]
    fn wrong_issuer_or_audience_is_refused() {
        let k = keys(1);
        let (t, _) = k.issue("none", "anonymous", vec![]);
        let other = RegistryKeys::new(
            Ed25519KeyPair::from_seed_unchecked(&[1; 32]).unwrap(),
            vec![],
            "https://registry.example".into(),
            "https://other.example".into(),
            Duration::from_secs(300),
        );
        assert!(matches!(
            other.verify(&t),
            Err(JwtError::WrongAudience { .. })
        ));
    }

    #[test]
    fn key_formats() {
        assert!(parse_private_key(&"11".repeat(32)).is_ok());
        assert!(parse_private_key("zz").unwrap_err().contains("hex"));
        assert!(
            parse_private_key(&"11".repeat(31))
                .unwrap_err()
                .contains("31")
        );
        // openssl genpkey -algorithm ed25519 (a test key).
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEbHYmlWrp3vPpqKAvXmiEaUdnF8rA4GxfpJ6mpq2yV7\n-----END PRIVATE KEY-----\n";
        let pair = parse_private_key(pem).unwrap();
        let spki = {
            let mut d = vec![
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ];
            d.extend_from_slice(pair.public_key().as_ref());
            format!(
                "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
                STANDARD.encode(d)
            )
        };
        assert_eq!(parse_public_key(&spki).unwrap(), pair.public_key().as_ref());
        assert_eq!(
            parse_public_key(&hex::encode(pair.public_key().as_ref())).unwrap(),
            pair.public_key().as_ref()
        );
    }
}
