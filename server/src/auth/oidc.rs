//! Identity tokens of OIDC issuers, exchanged for registry tokens: GitHub Actions (`/v0/auth/github-oidc`,
//! what `mcp-publisher login github-oidc` sends) and any number of configured issuers (`/v0/auth/oidc`) —
//! GitLab, a company IdP, a Kubernetes cluster's service-account tokens.
//!
//! Per issuer: the audience the token must carry, claims it must have (exact values or `*` globs), and
//! permission templates filled from its claims (`com.acme.{claims.team}/*`,
//! `io.k8s.{claims["kubernetes.io"].namespace}/*`). A claim used in a template must be a plain name
//! (letters, digits, `-`): a claim value can never widen a grant by smuggling in dots, slashes or `*`.
//!
//! Keys come from the issuer's JWKS (its discovery document's `jwks_uri`, or a configured URL), cached
//! for ten minutes and fetched again when a token names an unknown `kid` (at most every 30 s, so a flood
//! of made-up kids cannot hammer the issuer); every fetch has a timeout.

use super::jws::{self, Key};
use super::jwt::Permission;
use serde_json::Value;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const JWKS_TTL: Duration = Duration::from_secs(600);
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(30);
/// Clock skew tolerated on `exp`/`nbf` of identity tokens.
const LEEWAY_SECS: i64 = 30;

/// A claim rule: the claim at `path` must exist and match `pattern` (`*` matches any run of characters).
#[derive(Debug, Clone)]
pub struct ClaimRule {
    pub path: String,
    pub pattern: String,
}

#[derive(Debug, Clone)]
pub struct IssuerSettings {
    /// A name for logs and errors.
    pub name: String,
    pub issuer: String,
    pub audience: String,
    /// Empty: from the discovery document.
    pub jwks_url: String,
    pub required: Vec<ClaimRule>,
    pub publish: Vec<String>,
    pub edit: Vec<String>,
    /// Claims that, all matching, make the token an admin (`*` for publish and edit).
    pub admin_when: Vec<ClaimRule>,
}

pub struct Issuer {
    pub settings: IssuerSettings,
    http: reqwest::Client,
    /// File holding a bearer token for the JWKS request (a Kubernetes API server wants one), read at every
    /// fetch: service-account tokens rotate.
    bearer_file: Option<String>,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    keys: Vec<(Option<String>, Key)>,
    fetched: Option<Instant>,
}

/// A verified identity: who, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub sub: String,
    pub permissions: Vec<Permission>,
}

/// The value at a claim path: `a.b`, `["kubernetes.io"].namespace`, `claims.` prefix optional.
pub fn claim_at<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    let mut rest = path.trim();
    rest = rest.strip_prefix("claims").unwrap_or(rest);
    let mut v = claims;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
            continue;
        }
        let (key, after) = if let Some(r) = rest.strip_prefix("[\"") {
            let end = r.find("\"]")?;
            (&r[..end], &r[end + 2..])
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        v = v.get(key)?;
        rest = after;
    }
    Some(v)
}

fn glob(pattern: &str, value: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == value;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !value.starts_with(first) || !value[first.len()..].ends_with(last) {
        return false;
    }
    let mut pos = first.len();
    let end = value.len() - last.len();
    for mid in &parts[1..parts.len() - 1] {
        match value[pos..end].find(mid) {
            Some(i) => pos += i + mid.len(),
            None => return false,
        }
    }
    pos <= end
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn rule_holds(claims: &Value, r: &ClaimRule) -> bool {
    match claim_at(claims, &r.path) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(as_text)
            .any(|t| glob(&r.pattern, &t)),
        Some(v) => as_text(v).is_some_and(|t| glob(&r.pattern, &t)),
        None => false,
    }
}

/// Fills `{claims…}` in a template; `Err` names the claim that is missing or not a plain name.
pub fn render(template: &str, claims: &Value) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| format!("template {template:?} has an unclosed {{"))?;
        let path = &rest[start + 1..start + end];
        let value = claim_at(claims, path)
            .and_then(as_text)
            .ok_or_else(|| format!("claim {path} is missing"))?;
        if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!(
                "claim {path} = {value:?} is not a plain name (letters, digits, -)"
            ));
        }
        out.push_str(&value);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Issuer {
    pub fn new(
        settings: IssuerSettings,
        http: reqwest::Client,
        bearer_file: Option<String>,
    ) -> Issuer {
        Issuer {
            settings,
            http,
            bearer_file,
            cache: Mutex::new(Cache::default()),
        }
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        // A Kubernetes API server answers its JWKS only as application/jwk-set+json (406 otherwise).
        let mut req = self
            .http
            .get(url)
            .header("accept", "application/json, application/jwk-set+json");
        if let Some(f) = &self.bearer_file {
            let t = std::fs::read_to_string(f).map_err(|e| format!("cannot read {f}: {e}"))?;
            req = req.bearer_auth(t.trim());
        }
        let resp = req.send().await.map_err(|e| format!("GET {url}: {e}"))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("GET {url}: HTTP {}", status.as_u16()));
        }
        resp.json()
            .await
            .map_err(|e| format!("GET {url}: not JSON: {e}"))
    }

    async fn fetch_keys(&self) -> Result<Vec<(Option<String>, Key)>, String> {
        let url = if self.settings.jwks_url.is_empty() {
            let discovery = format!(
                "{}/.well-known/openid-configuration",
                self.settings.issuer.trim_end_matches('/')
            );
            let doc = self.get_json(&discovery).await?;
            doc["jwks_uri"]
                .as_str()
                .ok_or_else(|| format!("{discovery} has no jwks_uri"))?
                .to_owned()
        } else {
            self.settings.jwks_url.clone()
        };
        let jwks = self.get_json(&url).await?;
        let keys: Vec<_> = jwks["keys"]
            .as_array()
            .into_iter()
            .flatten()
            // Encryption keys and key types we do not verify with are skipped, not fatal.
            .filter(|k| k["use"].as_str().is_none_or(|u| u == "sig"))
            .filter_map(|k| Key::from_jwk(k).ok())
            .collect();
        if keys.is_empty() {
            return Err(format!("{url} has no usable signing key"));
        }
        Ok(keys)
    }

    /// The cached keys, fetched when stale or when `kid` is not among them (rate limited).
    async fn keys_for(&self, kid: Option<&str>) -> Result<Vec<(Option<String>, Key)>, String> {
        let (keys, fresh, may_refetch) = {
            let c = self.cache.lock().expect("cache lock");
            let age = c.fetched.map(|t| t.elapsed());
            (
                c.keys.clone(),
                age.is_some_and(|a| a < JWKS_TTL),
                age.is_none_or(|a| a >= REFETCH_AT_MOST_EVERY),
            )
        };
        let known = kid.is_none_or(|k| keys.iter().any(|(id, _)| id.as_deref() == Some(k)));
        if fresh && (known || !may_refetch) {
            return Ok(keys);
        }
        match self.fetch_keys().await {
            Ok(new) => {
                let mut c = self.cache.lock().expect("cache lock");
                c.keys = new.clone();
                c.fetched = Some(Instant::now());
                Ok(new)
            }
            // Keep serving known keys through an issuer hiccup.
            Err(e) if !keys.is_empty() => {
                tracing::warn!(issuer = %self.settings.name, error = %e, "JWKS refresh failed; using cached keys");
                Ok(keys)
            }
            Err(e) => Err(format!(
                "cannot fetch the keys of issuer {}: {e}",
                self.settings.name
            )),
        }
    }

    /// Verifies an identity token of this issuer and derives its permissions.
    pub async fn exchange(&self, token: &str) -> Result<Identity, String> {
        let s = &self.settings;
        let t = jws::parse(token).map_err(|e| e.to_string())?;
        let keys = self.keys_for(t.header.kid.as_deref()).await?;
        t.verify(&keys).map_err(|e| e.to_string())?;
        let now = chrono::Utc::now().timestamp();
        t.check_claims(now, LEEWAY_SECS, Some(&s.issuer), Some(&s.audience))
            .map_err(|e| e.to_string())?;
        let claims = &t.claims;
        for r in &s.required {
            if !rule_holds(claims, r) {
                let got = claim_at(claims, &r.path).map(Value::to_string);
                return Err(match got {
                    None => format!("required claim {} is missing", r.path),
                    Some(v) => format!("claim {} is {v}, expected {}", r.path, r.pattern),
                });
            }
        }
        let mut permissions = Vec::new();
        if !s.admin_when.is_empty() && s.admin_when.iter().all(|r| rule_holds(claims, r)) {
            permissions.push(Permission::publish("*"));
            permissions.push(Permission::edit("*"));
        }
        for (templates, make) in [
            (&s.publish, Permission::publish as fn(String) -> Permission),
            (&s.edit, Permission::edit as fn(String) -> Permission),
        ] {
            for tpl in templates {
                permissions.push(make(render(tpl, claims)?));
            }
        }
        if permissions.is_empty() {
            return Err(format!("issuer {} grants this token nothing", s.name));
        }
        let sub = claims["sub"].as_str().unwrap_or_default().to_owned();
        Ok(Identity { sub, permissions })
    }
}

/// The issuer among `issuers` that a token claims to come from (read unverified: only to pick the keys).
pub fn pick<'a>(issuers: &'a [Issuer], token: &str) -> Result<&'a Issuer, String> {
    let t = jws::parse(token).map_err(|e| e.to_string())?;
    let iss = t.claims["iss"].as_str().unwrap_or_default();
    issuers
        .iter()
        .find(|i| i.settings.issuer == iss)
        .ok_or_else(|| {
            let known: Vec<&str> = issuers.iter().map(|i| i.settings.issuer.as_str()).collect();
            format!("unknown issuer {iss:?} (accepted: {})", known.join(", "))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claim_paths_and_templates() {
        let c = json!({"team": "payments", "kubernetes.io": {"namespace": "team-a"}, "groups": ["x", "admins"]});
        assert_eq!(claim_at(&c, "claims.team"), Some(&json!("payments")));
        assert_eq!(
            claim_at(&c, "claims[\"kubernetes.io\"].namespace"),
            Some(&json!("team-a"))
        );
        assert_eq!(
            render("com.acme.{claims.team}/*", &c).unwrap(),
            "com.acme.payments/*"
        );
        assert_eq!(
            render("io.k8s.{claims[\"kubernetes.io\"].namespace}/*", &c).unwrap(),
            "io.k8s.team-a/*"
        );
        assert!(
            render("x.{claims.nope}/*", &c)
                .unwrap_err()
                .contains("missing")
        );
        let evil = json!({"team": "payments/*"});
        assert!(
            render("com.acme.{claims.team}/*", &evil)
                .unwrap_err()
                .contains("plain name")
        );
        assert!(rule_holds(
            &c,
            &ClaimRule {
                path: "groups".into(),
                pattern: "admin*".into()
            }
        ));
        assert!(!rule_holds(
            &c,
            &ClaimRule {
                path: "team".into(),
                pattern: "pay".into()
            }
        ));
    }

    #[test]
    fn globs() {
        assert!(glob(
            "repo:acme/*:ref:refs/heads/main",
            "repo:acme/api:ref:refs/heads/main"
        ));
        assert!(!glob(
            "repo:acme/*:ref:refs/heads/main",
            "repo:acme/api:ref:refs/heads/dev"
        ));
        assert!(glob("*", "anything"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("a*b*c", "aXc"));
        assert!(glob("exact", "exact") && !glob("exact", "exactly"));
    }
}
