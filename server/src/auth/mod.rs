//! Bearer-token authorization for writes. Two kinds of token are accepted:
//!
//! - static tokens, known by their SHA-256 (`Config::resolve` hashes the configured ones), each with the
//!   namespaces it may publish to;
//! - registry tokens ([`jwt`]): short-lived JWTs the token exchanges ([`exchange`]) issue, carrying the
//!   official `permissions` (publish/edit per name pattern).
//!
//! Reads are anonymous.

pub mod exchange;
pub mod github;
pub mod jws;
pub mod jwt;
pub mod lookup;
pub mod oidc;
pub mod proof;
pub mod setup;

use crate::validation::pattern_allows;
use jwt::{Action, RegistryKeys};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// Who is calling, after the token was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    /// Name patterns it may publish to (and change the status of).
    pub namespaces: Vec<String>,
    /// Name patterns whose published versions it may edit (PUT); registry tokens only.
    pub edit: Vec<String>,
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

    /// May change the status of versions of `server_name`: `publish` or `edit` permission, as officially.
    pub fn can_change_status(&self, server_name: &str) -> bool {
        self.can_publish(server_name) || self.can_edit(server_name)
    }

    /// May edit published versions of `server_name` (PUT), the official `edit` permission.
    pub fn can_edit(&self, server_name: &str) -> bool {
        self.admin || self.edit.iter().any(|p| pattern_allows(p, server_name))
    }

    /// What a verified registry token may do.
    fn of_claims(c: &jwt::Claims) -> Principal {
        let of = |action: Action| -> Vec<String> {
            c.permissions
                .iter()
                .filter(|p| p.action == action)
                .map(|p| p.resource.clone())
                .collect()
        };
        let (namespaces, edit) = (of(Action::Publish), of(Action::Edit));
        // `*` for both actions is the official global admin (generic OIDC's `*` permissions).
        let admin = namespaces.iter().any(|p| p == "*") && edit.iter().any(|p| p == "*");
        Principal {
            name: format!("{}:{}", c.auth_method, c.auth_method_sub),
            namespaces,
            edit,
            admin,
        }
    }

    pub fn patterns(&self) -> String {
        if self.admin {
            "* (admin)".into()
        } else {
            format!("[{}]", self.namespaces.join(", "))
        }
    }

    /// The official 403 detail for a publish outside the token's namespaces (`buildPermissionErrorMessage`),
    /// including its advice for GitHub organization namespaces.
    pub fn publish_refusal(&self, name: &str) -> String {
        let mut msg = String::from("You do not have permission to publish this server");
        if self.namespaces.is_empty() {
            msg.push_str(". You do not have any publish permissions");
        } else {
            msg.push_str(". You have permission to publish: ");
            msg.push_str(&self.namespaces.join(", "));
        }
        msg.push_str(". Attempting to publish: ");
        msg.push_str(name);
        if name.starts_with("io.github.") {
            msg.push_str(GITHUB_ORG_ADVICE);
        }
        msg
    }
}

const GITHUB_ORG_ADVICE: &str = ". If you're trying to publish under a GitHub organization namespace, you must be an \
    Owner of that organization and authenticate with a credential that can read your organization role. The \
    interactive 'mcp-publisher login github' flow cannot read organization roles; instead publish from GitHub \
    Actions (which uses OIDC), or run 'mcp-publisher login github --token <classic PAT with the read:org scope>'. \
    See https://modelcontextprotocol.io/registry/authentication";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("Invalid Authorization header format. Expected 'Bearer <token>'")]
    Malformed,
    #[error("Invalid or expired Registry JWT token")]
    UnknownToken,
    /// A registry token that failed verification; the reason goes to `errors[0].message`.
    #[error("Invalid or expired Registry JWT token")]
    BadJwt(String),
}

#[derive(Debug, Clone, Default)]
pub struct TokenSet {
    by_hash: HashMap<[u8; 32], Principal>,
    dev_mode: bool,
    /// Verifies registry tokens; `None` when no exchange and no JWT key is configured.
    registry: Option<Arc<RegistryKeys>>,
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
                    edit: Vec::new(),
                    admin: g.admin,
                };
                (g.sha256, p)
            })
            .collect();
        TokenSet {
            by_hash,
            dev_mode,
            registry: None,
        }
    }

    /// Also accept registry tokens verified by `keys`.
    pub fn with_registry_tokens(mut self, keys: Arc<RegistryKeys>) -> TokenSet {
        self.registry = Some(keys);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty() && !self.dev_mode && self.registry.is_none()
    }

    /// Check an `Authorization` header value: `Bearer ` in any case (as officially), then the token.
    pub fn authorize(&self, header: &str) -> Result<Principal, AuthError> {
        let token = header
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("Bearer "))
            .map(|_| header[7..].trim())
            .ok_or(AuthError::Malformed)?;
        if token.is_empty() {
            return Err(AuthError::UnknownToken);
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(p) = self.by_hash.get(&digest) {
            return Ok(p.clone());
        }
        // A JWT is checked as a registry token, and a bad one is refused with its reason, even in dev
        // mode (an expired token must say so, not silently become an admin).
        if let Some(keys) = &self.registry
            && RegistryKeys::looks_like_jwt(token)
        {
            return keys
                .verify(token)
                .map(|c| Principal::of_claims(&c))
                .map_err(|e| AuthError::BadJwt(e.to_string()));
        }
        if self.dev_mode {
            return Ok(Principal {
                name: "dev-mode".into(),
                namespaces: vec!["*".into()],
                edit: vec!["*".into()],
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
        assert!(!p.can_edit("com.example/server"));
        assert_eq!(set.authorize("bearer s3cret").unwrap(), p);
        assert_eq!(set.authorize("Bearer nope"), Err(AuthError::UnknownToken));
        assert_eq!(set.authorize("Basic abc"), Err(AuthError::Malformed));
        assert_eq!(set.authorize("Bearer "), Err(AuthError::UnknownToken));
        assert_eq!(set.authorize("BEARER s3cret").unwrap(), p);
        assert_eq!(set.authorize("Bearer"), Err(AuthError::Malformed));
    }

    #[test]
    fn admin_may_do_everything() {
        let set = TokenSet::new(vec![grant("root", &[], true)], false);
        let p = set.authorize("Bearer root").unwrap();
        assert!(p.admin && p.can_edit("any.thing/x") && p.can_publish("any.thing/x"));
        assert_eq!(p.patterns(), "* (admin)");
    }

    #[test]
    fn publish_refusal_is_the_official_text() {
        let set = TokenSet::new(
            vec![grant("t", &["com.example/*", "io.github.me/x"], false)],
            false,
        );
        let p = set.authorize("Bearer t").unwrap();
        assert_eq!(
            p.publish_refusal("org.other/x"),
            "You do not have permission to publish this server. You have permission to publish: \
             com.example/*, io.github.me/x. Attempting to publish: org.other/x"
        );
        let msg = p.publish_refusal("io.github.org/x");
        assert!(
            msg.ends_with("See https://modelcontextprotocol.io/registry/authentication"),
            "{msg}"
        );
        assert!(
            msg.contains("Attempting to publish: io.github.org/x. If you're trying"),
            "{msg}"
        );
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
