//! `auth.*`: static tokens, the registry's own JWTs and the token exchanges.

use super::duration;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub dev_mode: bool,
    /// Who may read: `anonymous` (default, as officially) or `token` (private reads).
    pub read: ReadAccess,
    pub tokens: Vec<TokenConfig>,
    pub tokens_file: String,
    pub jwt: JwtConfig,
    pub exchanges: ExchangesConfig,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReadAccess {
    #[default]
    Anonymous,
    Token,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sha256: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token_file: String,
    pub namespaces: Vec<String>,
    pub admin: bool,
}

/// Registry tokens (`auth.jwt`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JwtConfig {
    /// Ed25519 private key (hex seed or PKCS#8 PEM) that signs registry tokens.
    pub signing_key_file: String,
    /// Further Ed25519 public keys (hex or PEM) whose tokens are accepted: the previous signing key while
    /// its tokens run out.
    pub verification_key_files: Vec<String>,
    /// `iss` and `aud` of registry tokens; empty: `server.public_url`, else `mcp-registry`.
    pub issuer: String,
    #[serde(with = "duration")]
    pub ttl: Duration,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            signing_key_file: String::new(),
            verification_key_files: Vec::new(),
            issuer: String::new(),
            // The official lifetime: a leaked token is worth little, and the CLI logs in again.
            ttl: Duration::from_secs(300),
        }
    }
}

/// The token exchanges (`auth.exchanges.*`), each off unless enabled.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ExchangesConfig {
    pub none: NoneExchange,
    pub dns: DnsExchange,
    pub http: HttpExchange,
    pub github_at: GithubAtExchange,
    pub github_oidc: GithubOidcExchange,
    pub oidc: OidcExchange,
}

/// `POST /v0/auth/github-at`: GitHub access tokens (`mcp-publisher login github`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GithubAtExchange {
    pub enabled: bool,
    /// GitHub's REST API; GitHub Enterprise Server: `https://HOST/api/v3`.
    pub api_url: String,
    /// OAuth app client ID served in `/v0/health` as `github_client_id`, for the CLI's device flow.
    pub client_id: String,
}

impl Default for GithubAtExchange {
    fn default() -> Self {
        GithubAtExchange {
            enabled: false,
            api_url: "https://api.github.com".into(),
            client_id: String::new(),
        }
    }
}

/// `POST /v0/auth/github-oidc`: GitHub Actions ID tokens; `repository_owner` → `io.github.<owner>/*`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GithubOidcExchange {
    pub enabled: bool,
    pub issuer: String,
    /// The `aud` the token must carry; empty: `server.public_url` as scheme://host, what
    /// `mcp-publisher login github-oidc --registry URL` asks GitHub for.
    pub audience: String,
    /// Empty: the issuer's discovery document.
    pub jwks_url: String,
}

impl Default for GithubOidcExchange {
    fn default() -> Self {
        GithubOidcExchange {
            enabled: false,
            issuer: "https://token.actions.githubusercontent.com".into(),
            audience: String::new(),
            jwks_url: String::new(),
        }
    }
}

/// `POST /v0/auth/oidc`: identity tokens of the configured issuers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct OidcExchange {
    pub issuers: Vec<OidcIssuerConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct OidcIssuerConfig {
    pub name: String,
    /// `kubernetes`: the cluster's own service-account issuer, with its defaults below.
    pub preset: String,
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
    /// CA bundle for the issuer's HTTPS endpoints (a cluster's CA).
    pub ca_file: String,
    /// Bearer token sent to the JWKS endpoint, read at every fetch (a rotating service-account token).
    pub bearer_token_file: String,
    /// Claim path → exact value or `*` glob, all required.
    pub required_claims: std::collections::BTreeMap<String, String>,
    /// Permission templates, e.g. `com.acme.{claims.team}/*`.
    pub publish: Vec<String>,
    pub edit: Vec<String>,
    /// Claim path → value or glob, all matching: the token is an admin.
    pub admin_when: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NoneExchange {
    pub enabled: bool,
    /// What anonymous tokens may publish and edit.
    pub namespace: String,
}

/// The official anonymous namespace.
pub const ANONYMOUS_NAMESPACE: &str = "io.modelcontextprotocol.anonymous/*";

impl Default for NoneExchange {
    fn default() -> Self {
        NoneExchange {
            enabled: false,
            namespace: ANONYMOUS_NAMESPACE.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DnsExchange {
    pub enabled: bool,
    /// `IP:PORT` of the DNS server to ask; empty: the system's resolver configuration.
    pub resolver: String,
    #[serde(with = "duration")]
    pub timeout: Duration,
}

impl Default for DnsExchange {
    fn default() -> Self {
        DnsExchange {
            enabled: false,
            resolver: String::new(),
            timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpExchange {
    pub enabled: bool,
    /// PEM bundle of extra CAs to trust for `https://<domain>/.well-known/mcp-registry-auth`.
    pub ca_file: String,
    /// `IP:PORT` of the DNS server that resolves the domains; empty: the system's.
    pub resolver: String,
    /// Port of the well-known URL (443 except in tests and unusual private setups).
    pub port: u16,
    /// Connect to loopback, private and link-local addresses too (private networks, tests).
    pub allow_private_addresses: bool,
    #[serde(with = "duration")]
    pub timeout: Duration,
}

impl Default for HttpExchange {
    fn default() -> Self {
        HttpExchange {
            enabled: false,
            ca_file: String::new(),
            resolver: String::new(),
            port: 443,
            allow_private_addresses: false,
            timeout: Duration::from_secs(10),
        }
    }
}
