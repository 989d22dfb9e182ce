//! Compact JWS (signed JWT) parsing and verification with asymmetric keys only, for the registry's own
//! tokens and for the identity tokens the exchanges accept (GitHub Actions, OIDC issuers, Kubernetes).
//!
//! Every key fixes its one algorithm: an Ed25519 key verifies `EdDSA`, an RSA key `RS256`, a P-256 key
//! `ES256`, a P-384 key `ES384`. A token naming another algorithm is refused before any signature check, so
//! neither `alg: none` nor the HS256-with-the-public-key confusion can get through, whatever the header says.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::Value;

/// Why a token was refused. The texts are what a client gets in `errors[0].message` (never the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("not a JWT: expected three base64url parts separated by dots")]
    Malformed,
    #[error("unreadable JWT {0}: {1}")]
    Unreadable(&'static str, String),
    #[error("algorithm {0} is not accepted: tokens must be signed with a public-key algorithm")]
    RefusedAlgorithm(String),
    #[error("algorithm {alg} does not match the {key} key it names")]
    AlgorithmMismatch { alg: String, key: &'static str },
    #[error("no key with id {0:?} (known: {1})")]
    UnknownKey(String, String),
    #[error("signature does not match the issuer's keys")]
    BadSignature,
    #[error("token has no exp claim")]
    NoExpiry,
    #[error("token expired at {0} (now {1})")]
    Expired(String, String),
    #[error("token not valid before {0} (now {1})")]
    NotYetValid(String, String),
    #[error("wrong issuer: expected {expected}, got {got}")]
    WrongIssuer { expected: String, got: String },
    #[error("wrong audience: expected {expected}, got {got}")]
    WrongAudience { expected: String, got: String },
    #[error("{0}")]
    Claims(String),
}

#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
}

/// A parsed, not yet verified token.
#[derive(Debug, Clone)]
pub struct Unverified<'a> {
    pub header: Header,
    pub claims: Value,
    signing_input: &'a str,
    signature: Vec<u8>,
}

pub fn parse(token: &str) -> Result<Unverified<'_>, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let decode = |what: &'static str, part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|e| JwtError::Unreadable(what, e.to_string()))
    };
    let header: Header = serde_json::from_slice(&decode("header", h)?)
        .map_err(|e| JwtError::Unreadable("header", e.to_string()))?;
    let claims: Value = serde_json::from_slice(&decode("claims", c)?)
        .map_err(|e| JwtError::Unreadable("claims", e.to_string()))?;
    if !claims.is_object() {
        return Err(JwtError::Unreadable("claims", "not a JSON object".into()));
    }
    let signature = decode("signature", s)?;
    Ok(Unverified {
        header,
        claims,
        signing_input: &token[..h.len() + 1 + c.len()],
        signature,
    })
}

/// A public verification key and the one algorithm it verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// 32 raw bytes.
    Ed25519(Vec<u8>),
    /// Big-endian modulus and exponent.
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// Uncompressed SEC1 point (0x04 || x || y).
    P256(Vec<u8>),
    P384(Vec<u8>),
}

impl Key {
    pub fn algorithm(&self) -> &'static str {
        match self {
            Key::Ed25519(_) => "EdDSA",
            Key::Rsa { .. } => "RS256",
            Key::P256(_) => "ES256",
            Key::P384(_) => "ES384",
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Key::Ed25519(_) => "Ed25519",
            Key::Rsa { .. } => "RSA",
            Key::P256(_) => "P-256",
            Key::P384(_) => "P-384",
        }
    }

    fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            Key::Ed25519(pk) => UnparsedPublicKey::new(&signature::ED25519, pk)
                .verify(message, sig)
                .is_ok(),
            Key::Rsa { n, e } => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
                .is_ok(),
            Key::P256(pk) => UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, pk)
                .verify(message, sig)
                .is_ok(),
            Key::P384(pk) => UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, pk)
                .verify(message, sig)
                .is_ok(),
        }
    }

    /// A key of a JWKS (`kty` OKP/Ed25519, RSA, EC P-256/P-384), with its `kid`.
    pub fn from_jwk(jwk: &Value) -> Result<(Option<String>, Key), String> {
        let field = |name: &str| -> Result<Vec<u8>, String> {
            let v = jwk[name]
                .as_str()
                .ok_or_else(|| format!("JWK without {name}"))?;
            URL_SAFE_NO_PAD
                .decode(v.trim_end_matches('='))
                .map_err(|e| format!("JWK {name}: {e}"))
        };
        let kid = jwk["kid"].as_str().map(str::to_owned);
        let key = match (jwk["kty"].as_str(), jwk["crv"].as_str()) {
            (Some("OKP"), Some("Ed25519")) => Key::Ed25519(field("x")?),
            (Some("RSA"), _) => Key::Rsa {
                n: field("n")?,
                e: field("e")?,
            },
            (Some("EC"), Some(crv @ ("P-256" | "P-384"))) => {
                let mut point = vec![0x04];
                point.extend(field("x")?);
                point.extend(field("y")?);
                if crv == "P-256" {
                    Key::P256(point)
                } else {
                    Key::P384(point)
                }
            }
            (kty, crv) => return Err(format!("unsupported JWK kty {kty:?} crv {crv:?}")),
        };
        if let Some(alg) = jwk["alg"].as_str()
            && alg != key.algorithm()
        {
            return Err(format!("JWK alg {alg} does not fit its {} key", key.kind()));
        }
        Ok((kid, key))
    }
}

impl Unverified<'_> {
    /// Verifies the signature with the key named by `kid` (or, without one, any key that fits the
    /// algorithm). The algorithm must be the key's own.
    pub fn verify(&self, keys: &[(Option<String>, Key)]) -> Result<(), JwtError> {
        let alg = self.header.alg.as_str();
        if alg.eq_ignore_ascii_case("none") || alg.starts_with("HS") || alg.is_empty() {
            return Err(JwtError::RefusedAlgorithm(alg.to_owned()));
        }
        let candidates: Vec<&Key> = match &self.header.kid {
            Some(kid) => {
                let named: Vec<&Key> = keys
                    .iter()
                    .filter(|(k, _)| k.as_deref() == Some(kid.as_str()))
                    .map(|(_, key)| key)
                    .collect();
                if named.is_empty() {
                    let known: Vec<&str> = keys.iter().filter_map(|(k, _)| k.as_deref()).collect();
                    return Err(JwtError::UnknownKey(kid.clone(), known.join(", ")));
                }
                named
            }
            None => keys.iter().map(|(_, key)| key).collect(),
        };
        if let Some(wrong) = candidates.iter().find(|k| k.algorithm() != alg)
            && candidates.iter().all(|k| k.algorithm() != alg)
        {
            return Err(JwtError::AlgorithmMismatch {
                alg: alg.to_owned(),
                key: wrong.kind(),
            });
        }
        let ok = candidates
            .iter()
            .filter(|k| k.algorithm() == alg)
            .any(|k| k.verify(self.signing_input.as_bytes(), &self.signature));
        if ok {
            Ok(())
        } else {
            Err(JwtError::BadSignature)
        }
    }

    /// `exp` (required), `nbf` and, when given, `iss` and `aud` (a string or a list that must contain it).
    pub fn check_claims(
        &self,
        now: i64,
        leeway: i64,
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> Result<(), JwtError> {
        let c = &self.claims;
        let at = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .map(|d| d.to_rfc3339())
                .unwrap_or_else(|| t.to_string())
        };
        let exp = c["exp"].as_i64().ok_or(JwtError::NoExpiry)?;
        if now >= exp + leeway {
            return Err(JwtError::Expired(at(exp), at(now)));
        }
        if let Some(nbf) = c["nbf"].as_i64()
            && now + leeway < nbf
        {
            return Err(JwtError::NotYetValid(at(nbf), at(now)));
        }
        if let Some(expected) = issuer {
            let got = c["iss"].as_str().unwrap_or_default();
            if got != expected {
                return Err(JwtError::WrongIssuer {
                    expected: expected.to_owned(),
                    got: if got.is_empty() {
                        "none".into()
                    } else {
                        got.to_owned()
                    },
                });
            }
        }
        if let Some(expected) = audience {
            let got: Vec<&str> = match &c["aud"] {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !got.contains(&expected) {
                return Err(JwtError::WrongAudience {
                    expected: expected.to_owned(),
                    got: format!("[{}]", got.join(", ")),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
