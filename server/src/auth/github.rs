//! `POST /v0/auth/github-at`: a GitHub access token (what `mcp-publisher login github` sends, from its
//! device flow or `--token`) for a registry token granting `io.github.<login>/*` and `io.github.<org>/*`
//! for every organization the user is an active admin of. The API base URL is configurable
//! (`auth.exchanges.github_at.api_url`) for GitHub Enterprise Server.

use super::jwt::Permission;
use serde_json::Value;
use std::time::Duration;

pub struct GithubApi {
    http: reqwest::Client,
    api_url: String,
}

/// GitHub names that may become a namespace part (the official rule).
fn plain(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl GithubApi {
    pub fn new(api_url: &str) -> anyhow::Result<GithubApi> {
        Ok(GithubApi {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .connect_timeout(Duration::from_secs(3))
                .user_agent(concat!("mcp-registry/", env!("CARGO_PKG_VERSION")))
                .build()?,
            api_url: api_url.trim_end_matches('/').to_owned(),
        })
    }

    async fn get(&self, token: &str, path: &str) -> Result<reqwest::Response, String> {
        self.http
            .get(format!("{}{path}", self.api_url))
            .bearer_auth(token)
            .header("accept", "application/vnd.github.v3+json")
            .header("x-github-api-version", "2022-11-28")
            .send()
            .await
            .map_err(|e| format!("GitHub API {path}: {e}"))
    }

    /// The login and its grants.
    pub async fn exchange(&self, token: &str) -> Result<(String, Vec<Permission>), String> {
        let resp = self.get(token, "/user").await?;
        if !resp.status().is_success() {
            return Err(format!(
                "GitHub API /user answered HTTP {} (is the token valid?)",
                resp.status().as_u16()
            ));
        }
        let user: Value = resp
            .json()
            .await
            .map_err(|e| format!("GitHub API /user: {e}"))?;
        let login = user["login"].as_str().unwrap_or_default().to_owned();
        if !plain(&login) {
            return Err(format!("GitHub login {login:?} cannot be a namespace"));
        }
        let mut grants = vec![Permission::publish(format!("io.github.{login}/*"))];
        for page in 1..=100 {
            let path = format!("/user/memberships/orgs?state=active&per_page=100&page={page}");
            let resp = self.get(token, &path).await?;
            let status = resp.status();
            if status == reqwest::StatusCode::FORBIDDEN {
                let h = resp.headers();
                let limited = h.get("x-ratelimit-remaining").is_some_and(|v| v == "0")
                    || h.contains_key("retry-after");
                if limited || h.contains_key("x-github-sso") {
                    return Err(
                        "GitHub refused the organization list (rate limit or SSO authorization)"
                            .into(),
                    );
                }
                // A token without read:org: the user's own namespace only, as officially.
                break;
            }
            if !status.is_success() {
                return Err(format!(
                    "GitHub API {path} answered HTTP {}",
                    status.as_u16()
                ));
            }
            let items: Vec<Value> = resp
                .json()
                .await
                .map_err(|e| format!("GitHub API {path}: {e}"))?;
            for m in &items {
                let org = m["organization"]["login"].as_str().unwrap_or_default();
                if m["state"] == "active" && m["role"] == "admin" && plain(org) {
                    grants.push(Permission::publish(format!("io.github.{org}/*")));
                }
            }
            if items.len() < 100 {
                return Ok((login, grants));
            }
        }
        Ok((login, grants))
    }
}
