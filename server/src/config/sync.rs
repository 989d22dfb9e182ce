//! `sync.*`: the sources this registry keeps itself in sync with (federation, [`crate::sync`]).

use super::duration;
use crate::model::Status;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SyncConfig {
    pub sources: Vec<SourceConfig>,
    /// How long a replica holds a source's lease without renewing it before another may take over (a
    /// run renews it after every page). Longer than one page takes; a crashed holder delays the next
    /// run by at most this.
    #[serde(with = "duration")]
    pub lease_ttl: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            sources: Vec::new(),
            lease_ttl: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// An MCP Registry API v0.1 endpoint, walked incrementally.
    #[default]
    Registry,
    /// A JSON or YAML file of server.json entries.
    File,
    /// A file of server.json entries in a git repository.
    Git,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum VersionsPolicy {
    #[default]
    All,
    /// Only versions the upstream marks latest when they are first seen.
    Latest,
}

/// One entry of `sync.sources`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SourceConfig {
    /// Owner of what it syncs; shown in `_meta` and in `GET /v0.1/admin/sync`. `[a-z0-9-]`, unique.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: SourceKind,
    /// Time between runs; `0s`: only on demand (`POST /v0.1/admin/sync`, `mcp-registry sync --once`).
    #[serde(with = "duration")]
    pub interval: Duration,
    /// `registry`: the base URL (`https://registry.modelcontextprotocol.io`).
    pub url: String,
    /// `file`: the file; `git`: the file's path inside the repository.
    pub path: String,
    /// `git`: the repository URL (https, ssh is not supported; `file://` or a path for local mirrors).
    pub repository: String,
    /// `git`: branch, tag or commit; empty: the remote's default branch.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// `registry`: a bearer token sent upstream; `git`: the password of `username` over https.
    pub token_file: String,
    /// `git`: the user name sent with `token_file` (GitHub, GitLab and Gitea accept any non-empty one).
    pub username: String,
    /// Extra PEM CA certificates trusted for this source (on top of the system's).
    pub ca_file: String,
    /// Only names matching one of these globs (`*` any run of characters); empty: every name.
    pub include: Vec<String>,
    /// No name matching one of these globs.
    pub exclude: Vec<String>,
    /// Only versions first seen with one of these statuses; a version already taken follows every
    /// change upstream (so a deletion upstream is never missed).
    pub statuses: Vec<Status>,
    pub versions: VersionsPolicy,
    /// `registry`: entries per page requested.
    pub page_size: usize,
    /// Bounds of one run; a run that reaches one stops there and the next run continues from it.
    pub max_pages: usize,
    pub max_items: usize,
    /// Largest response (registry page, file, git blob) accepted, in bytes.
    pub max_bytes: usize,
    /// Per request (registry page, git fetch).
    #[serde(with = "duration")]
    pub timeout: Duration,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            name: String::new(),
            kind: SourceKind::Registry,
            interval: DEFAULT_INTERVAL,
            url: String::new(),
            path: String::new(),
            repository: String::new(),
            git_ref: String::new(),
            token_file: String::new(),
            username: String::new(),
            ca_file: String::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            statuses: vec![Status::Active, Status::Deprecated, Status::Deleted],
            versions: VersionsPolicy::All,
            page_size: 100,
            max_pages: 10_000,
            max_items: 1_000_000,
            max_bytes: 16 * 1024 * 1024,
            timeout: Duration::from_secs(30),
        }
    }
}

/// The interval of a source that sets none, and of `serve --upstream`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(600);

impl SyncConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        use anyhow::bail;
        if self.lease_ttl < Duration::from_secs(5) {
            bail!("sync.lease_ttl must be at least 5s");
        }
        let mut seen: Vec<&str> = Vec::new();
        for (i, s) in self.sources.iter().enumerate() {
            let at = format!("sync.sources[{i}]");
            let valid_name = !s.name.is_empty()
                && s.name.len() <= 63
                && s.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid_name {
                bail!(
                    "{at}.name: '{}' must be 1-63 characters of a-z, 0-9 and '-'",
                    s.name
                );
            }
            if seen.contains(&s.name.as_str()) {
                bail!("{at}.name: '{}' is used by two sources", s.name);
            }
            seen.push(&s.name);
            let need = |key: &str, v: &str| {
                if v.is_empty() {
                    bail!("{at}.{key} is required for a {:?} source", s.kind);
                }
                Ok(())
            };
            match s.kind {
                SourceKind::Registry => {
                    need("url", &s.url)?;
                    let u = url::Url::parse(&s.url)
                        .map_err(|e| anyhow::anyhow!("{at}.url: '{}' is not a URL: {e}", s.url))?;
                    if !matches!(u.scheme(), "http" | "https") {
                        bail!("{at}.url: '{}' must be http(s)", s.url);
                    }
                }
                SourceKind::File => need("path", &s.path)?,
                SourceKind::Git => {
                    need("repository", &s.repository)?;
                    need("path", &s.path)?;
                    if s.repository.starts_with("ssh://")
                        || s.repository.contains('@') && !s.repository.contains("://")
                    {
                        bail!(
                            "{at}.repository: ssh URLs are not supported; use https with username and token_file"
                        );
                    }
                }
            }
            if s.page_size == 0 || s.page_size > 100 {
                bail!("{at}.page_size must be 1-100 (the API's maximum limit)");
            }
            if s.max_pages == 0 || s.max_items == 0 || s.max_bytes < 1024 {
                bail!("{at}: max_pages and max_items must be > 0 and max_bytes at least 1024");
            }
            if s.timeout.is_zero() {
                bail!("{at}.timeout must be longer than 0s");
            }
            if !s.interval.is_zero() && s.interval < Duration::from_secs(1) {
                bail!("{at}.interval must be 0s (on demand only) or at least 1s");
            }
            if s.statuses.is_empty() {
                bail!("{at}.statuses must name at least one status");
            }
        }
        Ok(())
    }
}

/// Whether `name` matches `glob`: `*` matches any run of characters (including `/` and `.`), every other
/// character itself.
pub fn glob_matches(glob: &str, name: &str) -> bool {
    let (g, n) = (glob.as_bytes(), name.as_bytes());
    let (mut gi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if gi < g.len() && g[gi] == b'*' {
            star = Some((gi, ni));
            gi += 1;
        } else if gi < g.len() && g[gi] == n[ni] {
            gi += 1;
            ni += 1;
        } else if let Some((sg, sn)) = star {
            gi = sg + 1;
            ni = sn + 1;
            star = Some((sg, sn + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_the_docs_say() {
        assert!(glob_matches("io.github.*", "io.github.acme/server"));
        assert!(glob_matches("*", "anything/at-all"));
        assert!(glob_matches("*/postgres*", "com.example/postgres-mcp"));
        assert!(!glob_matches("io.github.*", "com.github.acme/x"));
        assert!(glob_matches("com.example/a", "com.example/a"));
        assert!(!glob_matches("com.example/a", "com.example/ab"));
        assert!(glob_matches("a*b*c", "aXXbYYc"));
        assert!(!glob_matches("a*b*c", "aXXbYY"));
    }

    #[test]
    fn sources_are_checked_with_the_key_named() {
        let bad = |s: SourceConfig| {
            SyncConfig {
                sources: vec![s],
                ..Default::default()
            }
            .validate()
            .unwrap_err()
            .to_string()
        };
        let base = SourceConfig {
            name: "up".into(),
            url: "https://registry.example".into(),
            ..Default::default()
        };
        assert!(
            SyncConfig {
                sources: vec![base.clone()],
                ..Default::default()
            }
            .validate()
            .is_ok()
        );
        assert!(
            bad(SourceConfig {
                name: "Up Stream".into(),
                ..base.clone()
            })
            .contains("sync.sources[0].name")
        );
        assert!(
            bad(SourceConfig {
                url: String::new(),
                ..base.clone()
            })
            .contains("sync.sources[0].url is required")
        );
        assert!(
            bad(SourceConfig {
                url: "ftp://x".into(),
                ..base.clone()
            })
            .contains("http(s)")
        );
        assert!(
            bad(SourceConfig {
                kind: SourceKind::Git,
                path: "s.json".into(),
                ..base.clone()
            })
            .contains("repository is required")
        );
        assert!(
            bad(SourceConfig {
                page_size: 500,
                ..base.clone()
            })
            .contains("page_size")
        );
        let two = SyncConfig {
            sources: vec![base.clone(), base],
            ..Default::default()
        };
        assert!(
            two.validate()
                .unwrap_err()
                .to_string()
                .contains("used by two sources")
        );
    }
}
