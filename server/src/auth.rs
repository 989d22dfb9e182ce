//! Bearer-token authorization for writes. Tokens are known by their SHA-256 (`Config::resolve` hashes the
//! configured ones), each with the namespaces it may publish to; reads are anonymous.

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

/// One configured token, resolved: its SHA-256 and what it may do (built by `Config::resolve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub name: String,
    pub sha256: [u8; 32],
    pub namespaces: Vec<String>,
    pub admin: bool,
}

impl TokenSet {
    pub fn new(grants: Vec<Grant>, dev_mode: bool) -> TokenSet {
        let by_hash = grants
            .into_iter()
            .map(|g| {
                let p = Principal {
                    name: g.name,
                    namespaces: g.namespaces,
                    admin: g.admin,
                };
                (g.sha256, p)
            })
            .collect();
        TokenSet { by_hash, dev_mode }
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

    fn grant(token: &str, namespaces: &[&str], admin: bool) -> Grant {
        Grant {
            name: "t".into(),
            sha256: Sha256::digest(token.as_bytes()).into(),
            namespaces: namespaces.iter().map(|n| n.to_string()).collect(),
            admin,
        }
    }

    #[test]
    fn hashed_token_grants_its_namespaces_only() {
        let set = TokenSet::new(vec![grant("s3cret", &["com.example/*"], false)], false);
        let p = set.authorize("Bearer s3cret").unwrap();
        assert!(p.can_publish("com.example/server"));
        assert!(!p.can_publish("com.other/server"));
        assert!(!p.can_edit());
        assert_eq!(set.authorize("bearer s3cret").unwrap(), p);
        assert_eq!(set.authorize("Bearer nope"), Err(AuthError::UnknownToken));
        assert_eq!(set.authorize("Basic abc"), Err(AuthError::Malformed));
        assert_eq!(set.authorize("Bearer "), Err(AuthError::Malformed));
    }

    #[test]
    fn admin_may_do_everything() {
        let set = TokenSet::new(vec![grant("root", &[], true)], false);
        let p = set.authorize("Bearer root").unwrap();
        assert!(p.admin && p.can_edit() && p.can_publish("any.thing/x"));
        assert_eq!(p.patterns(), "* (admin)");
    }

    #[test]
    fn dev_mode_accepts_any_token_as_admin() {
        let set = TokenSet::new(vec![], true);
        assert!(!set.is_empty());
        assert!(set.authorize("Bearer whatever").unwrap().admin);
        assert_eq!(set.authorize("Token x"), Err(AuthError::Malformed));
        assert!(TokenSet::new(vec![], false).is_empty());
    }
}
