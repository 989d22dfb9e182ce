//! From `auth.jwt` and `auth.exchanges` to the registry's token keys and the enabled exchanges, once at
//! start (`Config::resolve`). Every error names its configuration key.

use super::exchange::Exchanges;
use super::jwt::{self, RegistryKeys};
use super::lookup::{self, Dns, WellKnown};
use super::oidc::{ClaimRule, Issuer, IssuerSettings};
use crate::config::{Config, OidcIssuerConfig, read_secret_file};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;

/// What [`build`] makes: the registry's token keys (when a signing key is configured or an exchange needs
/// one) and the exchanges (when any is enabled).
pub type Built = (Option<Arc<RegistryKeys>>, Option<Arc<Exchanges>>);

pub fn build(config: &Config) -> anyhow::Result<Built> {
    let a = &config.auth;
    let ex = &a.exchanges;
    // `auth.dev_mode` (`serve --dev-auth`) turns on the exchanges a laptop can use: none, dns, http.
    let (none_on, dns_on, http_on) = (
        ex.none.enabled || a.dev_mode,
        ex.dns.enabled || a.dev_mode,
        ex.http.enabled || a.dev_mode,
    );
    let oidc_on = ex.github_oidc.enabled || ex.github_at.enabled || !ex.oidc.issuers.is_empty();
    let any_exchange = none_on || dns_on || http_on || oidc_on;
    let keys = registry_keys(config, any_exchange)?.map(Arc::new);
    let Some(keys) = keys.clone().filter(|_| any_exchange) else {
        return Ok((keys, None));
    };
    let resolver = |key: &str, addr: &str| -> anyhow::Result<_> {
        let server = (!addr.is_empty())
            .then(|| addr.parse::<SocketAddr>())
            .transpose()
            .with_context(|| format!("{key}: '{addr}' is not an address like 10.96.0.10:53"))?;
        lookup::resolver(server, ex.dns.timeout).with_context(|| key.to_owned())
    };
    let dns = dns_on
        .then(|| resolver("auth.exchanges.dns.resolver", &ex.dns.resolver).map(Dns::new))
        .transpose()?;
    let http = if http_on {
        let h = &ex.http;
        let ca = (!h.ca_file.is_empty())
            .then(|| std::fs::read(&h.ca_file))
            .transpose()
            .with_context(|| format!("auth.exchanges.http.ca_file: cannot read {}", h.ca_file))?;
        Some(WellKnown::new(
            resolver("auth.exchanges.http.resolver", &h.resolver)?,
            ca.as_deref(),
            h.port,
            h.allow_private_addresses,
            h.timeout,
        )?)
    } else {
        None
    };
    let github_oidc = ex
        .github_oidc
        .enabled
        .then(|| github_issuer(config))
        .transpose()?;
    let oidc = ex
        .oidc
        .issuers
        .iter()
        .enumerate()
        .map(|(i, c)| oidc_issuer(i, c))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let github_at = ex
        .github_at
        .enabled
        .then(|| super::github::GithubApi::new(&ex.github_at.api_url))
        .transpose()?;
    let exchanges = Exchanges {
        github_at,
        keys: keys.clone(),
        anonymous: none_on.then(|| ex.none.namespace.clone()),
        dns,
        http,
        github_oidc,
        oidc,
    };
    Ok((Some(keys), Some(Arc::new(exchanges))))
}

fn issuer_client(ca_file: &str, key: &str) -> anyhow::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .connect_timeout(std::time::Duration::from_secs(3))
        .user_agent(concat!("mcp-registry/", env!("CARGO_PKG_VERSION")));
    if !ca_file.is_empty() {
        let pem =
            std::fs::read(ca_file).with_context(|| format!("{key}: cannot read {ca_file}"))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem).with_context(|| key.to_owned())? {
            b = b.add_root_certificate(cert);
        }
    }
    Ok(b.build()?)
}

/// GitHub Actions as an issuer: `repository_owner` (a plain name) → `io.github.<owner>/*`.
fn github_issuer(config: &Config) -> anyhow::Result<Issuer> {
    let g = &config.auth.exchanges.github_oidc;
    let audience = if !g.audience.is_empty() {
        g.audience.clone()
    } else {
        audience_of(&config.server.public_url).ok_or_else(|| {
            anyhow::anyhow!(
                "auth.exchanges.github_oidc.audience: set it, or server.public_url (mcp-publisher asks GitHub for the audience scheme://host of its --registry)"
            )
        })?
    };
    let settings = IssuerSettings {
        name: "github-oidc".into(),
        issuer: g.issuer.clone(),
        audience,
        jwks_url: g.jwks_url.clone(),
        required: vec![ClaimRule {
            path: "repository_owner".into(),
            pattern: "*".into(),
        }],
        publish: vec!["io.github.{claims.repository_owner}/*".into()],
        edit: vec![],
        admin_when: vec![],
    };
    Ok(Issuer::new(
        settings,
        issuer_client("", "auth.exchanges.github_oidc")?,
        None,
    ))
}

/// `https://Registry.Example.com:8443/x` → `https://registry.example.com:8443`, as mcp-publisher derives it.
pub fn audience_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url.trim()).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    Some(match u.port() {
        Some(p) => format!("{}://{host}:{p}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    })
}

/// The service-account issuer of the cluster the registry runs in.
const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

fn oidc_issuer(i: usize, c: &OidcIssuerConfig) -> anyhow::Result<Issuer> {
    let key = format!("auth.exchanges.oidc.issuers[{i}]");
    let kube = match c.preset.as_str() {
        "" => false,
        "kubernetes" => true,
        other => anyhow::bail!("{key}.preset: unknown preset {other:?} (known: kubernetes)"),
    };
    let or = |v: &str, default: &str| {
        if v.is_empty() && kube {
            default.to_owned()
        } else {
            v.to_owned()
        }
    };
    let issuer = or(&c.issuer, "https://kubernetes.default.svc.cluster.local");
    let jwks_url = or(&c.jwks_url, "https://kubernetes.default.svc/openid/v1/jwks");
    let ca_file = or(&c.ca_file, &format!("{SA_DIR}/ca.crt"));
    let bearer = or(&c.bearer_token_file, &format!("{SA_DIR}/token"));
    anyhow::ensure!(!issuer.is_empty(), "{key}.issuer is required");
    anyhow::ensure!(
        !c.audience.is_empty(),
        "{key}.audience is required (the aud identity tokens must carry)"
    );
    let mut publish = c.publish.clone();
    if publish.is_empty() && kube {
        publish.push("io.k8s.{claims[\"kubernetes.io\"].namespace}/*".into());
    }
    let rules = |m: &std::collections::BTreeMap<String, String>| {
        m.iter()
            .map(|(path, pattern)| ClaimRule {
                path: path.clone(),
                pattern: pattern.clone(),
            })
            .collect::<Vec<_>>()
    };
    let settings = IssuerSettings {
        name: if c.name.is_empty() {
            issuer.clone()
        } else {
            c.name.clone()
        },
        issuer,
        audience: c.audience.clone(),
        jwks_url,
        required: rules(&c.required_claims),
        publish,
        edit: c.edit.clone(),
        admin_when: rules(&c.admin_when),
    };
    anyhow::ensure!(
        !settings.publish.is_empty()
            || !settings.edit.is_empty()
            || !settings.admin_when.is_empty(),
        "{key}: grants nothing (set publish, edit or admin_when)"
    );
    let client = issuer_client(&ca_file, &format!("{key}.ca_file"))?;
    Ok(Issuer::new(
        settings,
        client,
        (!bearer.is_empty()).then_some(bearer),
    ))
}

fn registry_keys(config: &Config, needed: bool) -> anyhow::Result<Option<RegistryKeys>> {
    let j = &config.auth.jwt;
    let signer = if j.signing_key_file.is_empty() {
        if !needed {
            return Ok(None);
        }
        anyhow::ensure!(
            config.auth.dev_mode,
            "auth.jwt.signing_key_file is required when a token exchange is enabled (an Ed25519 key: \
             `openssl genpkey -algorithm ed25519`, or 32 random bytes in hex)"
        );
        // Development only: a key of this process, so tokens do not survive a restart or another replica.
        tracing::warn!(
            "auth.dev_mode without auth.jwt.signing_key_file: registry tokens are signed with a key made up at start"
        );
        let seed: [u8; 32] = rand_seed();
        ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).expect("32-byte seed")
    } else {
        let text = read_secret_file("auth.jwt.signing_key_file", &j.signing_key_file)?;
        jwt::parse_private_key(&text)
            .map_err(|e| anyhow::anyhow!("auth.jwt.signing_key_file: {e}"))?
    };
    let mut extra = Vec::new();
    for (i, f) in j.verification_key_files.iter().enumerate() {
        let key = format!("auth.jwt.verification_key_files[{i}]");
        let text = read_secret_file(&key, f)?;
        extra.push(jwt::parse_public_key(&text).map_err(|e| anyhow::anyhow!("{key}: {e}"))?);
    }
    let issuer = if !j.issuer.is_empty() {
        j.issuer.clone()
    } else if !config.server.public_url.is_empty() {
        config.server.public_url.trim_end_matches('/').to_owned()
    } else {
        "mcp-registry".to_owned()
    };
    anyhow::ensure!(j.ttl.as_secs() >= 10, "auth.jwt.ttl must be at least 10s");
    Ok(Some(RegistryKeys::new(
        signer,
        extra,
        issuer.clone(),
        issuer,
        j.ttl,
    )))
}

fn rand_seed() -> [u8; 32] {
    use ring::rand::SecureRandom;
    let mut seed = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut seed)
        .expect("the system's random source");
    seed
}
