//! Bearer-token authorization for writes. Tokens are configured by their SHA-256 (or read from a file and
//! hashed at start), each with the namespaces it may publish to; reads are anonymous.

use crate::config::{AuthConfig, TokenConfig, read_secret_file};
use crate::validation::pattern_allows;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Who is calling, after the token was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub namespaces: Vec<String>,
    pub admin: bool,
}

impl Principal {
    /// May publish (and change the status of) versions of `server_name`.
    pub fn can_publish(&self, server_name: &str) -> bool {
        self.admin
            || self
                .namespaces
                .iter()
                .any(|p| pattern_allows(p, server_name))
    }

    /// May edit published versions (PUT), the official `edit` permission.
    pub fn can_edit(&self) -> bool {
        self.admin
    }

    pub fn patterns(&self) -> String {
        if self.admin {
            "* (admin)".into()
        } else {
            format!("[{}]", self.namespaces.join(", "))
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("Invalid Authorization header: expected 'Bearer <token>'")]
    Malformed,
    #[error("Invalid or expired Registry JWT token")]
    UnknownToken,
}

#[derive(Debug, Clone, Default)]
pub struct TokenSet {
    by_hash: HashMap<[u8; 32], Principal>,
    dev_mode: bool,
}

pub fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn entry_hash(t: &TokenConfig, origin: &str) -> anyhow::Result<[u8; 32]> {
    let label = format!("{origin} token '{}'", t.name);
    if t.name.is_empty() {
        anyhow::bail!("{origin}: every token needs a name");
    }
    let hex_hash = match (t.sha256.is_empty(), t.token_file.is_empty()) {
        (false, true) => t.sha256.to_ascii_lowercase(),
        // Trimmed like the bearer value it is compared with.
        (true, false) => {
            sha256_hex(read_secret_file(&format!("{label} token_file"), &t.token_file)?.trim())
        }
        _ => anyhow::bail!("{label}: set exactly one of sha256 or token_file"),
    };
    let bytes = hex::decode(&hex_hash)
        .map_err(|_| anyhow::anyhow!("{label}: sha256 must be 64 hex characters"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("{label}: sha256 must be 64 hex characters"))
}

impl TokenSet {
    pub fn from_config(c: &AuthConfig) -> anyhow::Result<TokenSet> {
        let mut entries: Vec<(TokenConfig, String)> = c
            .tokens
            .iter()
            .cloned()
            .map(|t| (t, "auth.tokens:".to_owned()))
            .collect();
        if !c.tokens_file.is_empty() {
            let text = read_secret_file("auth.tokens_file", &c.tokens_file)?;
            let more: Vec<TokenConfig> = serde_norway::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "auth.tokens_file {}: expected a YAML list of tokens: {e}",
                    c.tokens_file
                )
            })?;
            entries.extend(
                more.into_iter()
                    .map(|t| (t, format!("auth.tokens_file {}:", c.tokens_file))),
            );
        }
        let mut by_hash = HashMap::new();
        for (t, origin) in entries {
            let hash = entry_hash(&t, &origin)?;
            if t.namespaces.is_empty() && !t.admin {
                anyhow::bail!(
                    "{origin} token '{}' grants nothing: give it namespaces or admin: true",
                    t.name
                );
            }
            let p = Principal {
                name: t.name.clone(),
                namespaces: t.namespaces.clone(),
                admin: t.admin,
            };
            if by_hash.insert(hash, p).is_some() {
                anyhow::bail!(
                    "{origin} token '{}' has the same secret as another token",
                    t.name
                );
            }
        }
        Ok(TokenSet {
            by_hash,
            dev_mode: c.dev_mode,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty() && !self.dev_mode
    }

    /// Check an `Authorization` header value.
    pub fn authorize(&self, header: &str) -> Result<Principal, AuthError> {
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Malformed)?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(p) = self.by_hash.get(&digest) {
            return Ok(p.clone());
        }
        if self.dev_mode {
            return Ok(Principal {
                name: "dev-mode".into(),
                namespaces: vec!["*".into()],
                admin: true,
            });
        }
        Err(AuthError::UnknownToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn cfg(tokens: Vec<TokenConfig>) -> AuthConfig {
        AuthConfig {
            tokens,
            ..Default::default()
        }
    }

    #[test]
    fn hashed_token_grants_its_namespaces_only() {
        let set = TokenSet::from_config(&cfg(vec![TokenConfig {
            name: "ci".into(),
            sha256: sha256_hex("s3cret"),
            namespaces: vec!["com.example/*".into()],
            ..Default::default()
        }]))
        .unwrap();
        let p = set.authorize("Bearer s3cret").unwrap();
        assert!(p.can_publish("com.example/server"));
        assert!(!p.can_publish("com.other/server"));
        assert!(!p.can_edit());
        assert_eq!(set.authorize("Bearer nope"), Err(AuthError::UnknownToken));
        assert_eq!(set.authorize("Basic abc"), Err(AuthError::Malformed));
        assert_eq!(set.authorize("Bearer "), Err(AuthError::Malformed));
    }

    #[test]
    fn token_file_is_hashed_at_start() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, "from-file").unwrap();
        let set = TokenSet::from_config(&cfg(vec![TokenConfig {
            name: "admin".into(),
            token_file: f.path().to_str().unwrap().into(),
            admin: true,
            ..Default::default()
        }]))
        .unwrap();
        let p = set.authorize("Bearer from-file").unwrap();
        assert!(p.admin && p.can_edit() && p.can_publish("any.thing/x"));
    }

    #[test]
    fn bad_entries_are_precise_errors() {
        let e = TokenSet::from_config(&cfg(vec![TokenConfig {
            name: "x".into(),
            sha256: "zz".into(),
            namespaces: vec!["a/*".into()],
            ..Default::default()
        }]))
        .unwrap_err()
        .to_string();
        assert!(e.contains("64 hex"), "{e}");
        let e = TokenSet::from_config(&cfg(vec![TokenConfig {
            name: "x".into(),
            sha256: sha256_hex("a"),
            ..Default::default()
        }]))
        .unwrap_err()
        .to_string();
        assert!(e.contains("grants nothing"), "{e}");
    }

    #[test]
    fn dev_mode_accepts_any_token_as_admin() {
        let set = TokenSet::from_config(&AuthConfig {
            dev_mode: true,
            ..Default::default()
        })
        .unwrap();
        assert!(set.authorize("Bearer whatever").unwrap().admin);
        assert_eq!(set.authorize("Token x"), Err(AuthError::Malformed));
    }
}
