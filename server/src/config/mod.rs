//! Configuration: defaults ← YAML file ← `MCP_REGISTRY_*` environment ← flags. Every key is documented in
//! `docs/configuration.md`; unknown keys anywhere are errors that name the key (a typo must not silently
//! fall back to a default). Secrets come from files (`*_file`), never only inline.

mod auth;
mod env;
mod resolve;
mod secrets;
mod sync;

pub use auth::{
    ANONYMOUS_NAMESPACE, AuthConfig, DnsExchange, ExchangesConfig, GithubAtExchange,
    GithubOidcExchange, HttpExchange, JwtConfig, NoneExchange, OidcExchange, OidcIssuerConfig,
    ReadAccess, TokenConfig,
};
pub use resolve::{RedisTarget, Settings, StoreTarget};
pub use secrets::read_secret_file;
pub use sync::{
    DEFAULT_INTERVAL, SourceConfig, SourceKind, SyncConfig, VersionsPolicy, glob_matches,
};

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Prefix of every environment variable the server reads.
pub const ENV_PREFIX: &str = "MCP_REGISTRY_";
/// The one variable that is not a key: where the config file is.
pub const ENV_CONFIG_FILE: &str = "MCP_REGISTRY_CONFIG";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub cache: CacheConfig,
    pub rate_limit: RateLimitConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub sync: SyncConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: String,
    pub public_url: String,
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    pub body_limit: usize,
    #[serde(with = "duration")]
    pub shutdown_drain: Duration,
    #[serde(with = "duration")]
    pub shutdown_grace: Duration,
    pub cors_allowed_origins: Vec<String>,
    pub gzip: bool,
    pub max_connections: usize,
    pub max_header_bytes: usize,
    #[serde(with = "duration")]
    pub header_read_timeout: Duration,
    #[serde(with = "duration")]
    pub idle_timeout: Duration,
    #[serde(with = "duration")]
    pub body_read_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            request_timeout: Duration::from_secs(30),
            body_limit: 1024 * 1024,
            shutdown_drain: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(30),
            cors_allowed_origins: vec!["*".into()],
            gzip: true,
            max_connections: 1024,
            max_header_bytes: 64 * 1024,
            header_read_timeout: Duration::from_secs(10),
            // Longer than the idle timeout of the balancers in front (60 s for nginx and most cloud
            // ones): the balancer closes first, so no request races the close.
            idle_timeout: Duration::from_secs(75),
            body_read_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Sqlite,
    Postgres,
    Mongodb,
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
            format!("unknown storage backend '{s}': expected sqlite, postgres or mongodb")
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub backend: Backend,
    pub migrate_on_start: bool,
    /// How long a request waits for a database connection (PostgreSQL pool, MongoDB server selection)
    /// before it is answered 503: an outage fails fast instead of queueing requests.
    #[serde(with = "duration")]
    pub connect_timeout: Duration,
    /// How long the store may be unreachable before `/readyz` fails (once it has been ready).
    #[serde(with = "duration")]
    pub unready_after: Duration,
    pub sqlite: SqliteConfig,
    pub postgres: PostgresConfig,
    pub mongodb: MongoConfig,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            backend: Backend::Sqlite,
            migrate_on_start: true,
            connect_timeout: Duration::from_secs(2),
            unready_after: Duration::from_secs(30),
            sqlite: SqliteConfig::default(),
            postgres: PostgresConfig::default(),
            mongodb: MongoConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SqliteConfig {
    pub path: PathBuf,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        SqliteConfig {
            path: PathBuf::from("./data/registry.db"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    pub url: String,
    pub url_file: String,
    pub password_file: String,
    pub max_connections: u32,
    pub migration_url: String,
    pub migration_url_file: String,
    pub migration_password_file: String,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            url: String::new(),
            url_file: String::new(),
            password_file: String::new(),
            max_connections: 10,
            migration_url: String::new(),
            migration_url_file: String::new(),
            migration_password_file: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MongoConfig {
    pub uri: String,
    pub uri_file: String,
    pub password_file: String,
    pub database: String,
}

impl Default for MongoConfig {
    fn default() -> Self {
        MongoConfig {
            uri: String::new(),
            uri_file: String::new(),
            password_file: String::new(),
            database: "mcp_registry".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    pub key_prefix: String,
    pub redis_url: String,
    pub redis_password_file: String,
    #[serde(with = "duration")]
    pub ttl: Duration,
    /// Bytes the in-process cache may hold (without Redis); Redis bounds its own memory.
    pub max_bytes: usize,
    pub required_for_readiness: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            key_prefix: "mcp-registry".into(),
            redis_url: String::new(),
            redis_password_file: String::new(),
            ttl: Duration::from_secs(30),
            max_bytes: 64 * 1024 * 1024,
            required_for_readiness: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Reads (GET/HEAD) per client address. Generous: clients walk whole listings (`thv` pages at
    /// `limit=1`), and inside a cluster many of them share one source address (a node, an egress proxy).
    pub reads_per_ip_per_minute: u32,
    pub read_burst: u32,
    /// Writes per client address, as the official registry's ingress limits every request.
    pub writes_per_ip_per_minute: u32,
    pub write_burst: u32,
    /// Writes per authenticated token (keyed on the token's identity, not on the header's spelling).
    pub writes_per_token_per_minute: u32,
    /// How many proxies in front of the server append to `X-Forwarded-For` (ingress controller, load
    /// balancer): the client address is the entry the outermost of them appended. 0: the peer address.
    pub trusted_proxies: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            reads_per_ip_per_minute: 3000,
            read_burst: 1000,
            // The official registry's ingress: 180 requests/minute per client IP, burst multiplier 3.
            writes_per_ip_per_minute: 180,
            write_burst: 540,
            writes_per_token_per_minute: 60,
            trusted_proxies: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Json,
            level: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Text,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    pub enabled: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { enabled: true }
    }
}

/// Flag overrides from the command line (highest precedence).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub backend: Option<Backend>,
    pub sqlite_path: Option<PathBuf>,
    pub dev_auth: bool,
    /// `--upstream URL`: a `registry` source named `upstream` with the default interval.
    pub upstream: Option<String>,
}

impl Config {
    /// Load with the documented precedence. `file` falls back to `$MCP_REGISTRY_CONFIG`.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(file, &env, overrides)
    }

    /// [`Config::load`] with an explicit environment (tests must not depend on the process's).
    pub fn load_from(
        file: Option<&Path>,
        env_vars: &[(String, String)],
        overrides: &Overrides,
    ) -> anyhow::Result<Config> {
        let mut value = serde_json::to_value(Config::default())?;
        let env_file = env_vars
            .iter()
            .find(|(k, _)| k == ENV_CONFIG_FILE)
            .map(|(_, v)| PathBuf::from(v));
        if let Some(path) = file.map(Path::to_path_buf).or(env_file) {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
            let file_value: serde_json::Value = serde_norway::from_str(&text).map_err(|e| {
                anyhow::anyhow!("config file {} is not valid YAML: {e}", path.display())
            })?;
            if !file_value.is_null() {
                env::check_known_keys(&value, &file_value, "", &path)?;
                merge(&mut value, file_value);
            }
        }
        env::apply(&mut value, env_vars)?;
        let mut config: Config = serde_json::from_value(value)
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        if let Some(l) = &overrides.listen {
            config.server.listen = l.clone();
        }
        if let Some(b) = overrides.backend {
            config.storage.backend = b;
        }
        if let Some(p) = &overrides.sqlite_path {
            config.storage.sqlite.path = p.clone();
        }
        if overrides.dev_auth {
            config.auth.dev_mode = true;
        }
        if let Some(url) = &overrides.upstream {
            if config.sync.sources.iter().any(|s| s.name == "upstream") {
                anyhow::bail!(
                    "--upstream: sync.sources already has a source named 'upstream'; drop one of them"
                );
            }
            config.sync.sources.push(SourceConfig {
                name: "upstream".into(),
                kind: SourceKind::Registry,
                url: url.clone(),
                ..SourceConfig::default()
            });
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks that need more than types and no file: addresses parse, the chosen backend is configured.
    /// Secret files and token entries are checked when they are read, once, by [`Config::resolve`].
    pub fn validate(&self) -> anyhow::Result<()> {
        use anyhow::bail;
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            bail!(
                "server.listen: '{}' is not an address like 127.0.0.1:8080 or 0.0.0.0:8080",
                self.server.listen
            );
        }
        if self.server.body_limit < 1024 {
            bail!(
                "server.body_limit: {} bytes is too small (minimum 1024)",
                self.server.body_limit
            );
        }
        let srv = &self.server;
        if srv.max_connections == 0 {
            bail!("server.max_connections must be at least 1");
        }
        if srv.max_header_bytes < 1024 {
            bail!(
                "server.max_header_bytes: {} bytes is too small (minimum 1024)",
                srv.max_header_bytes
            );
        }
        for (key, d) in [
            ("server.header_read_timeout", srv.header_read_timeout),
            ("server.idle_timeout", srv.idle_timeout),
            ("server.body_read_timeout", srv.body_read_timeout),
            ("server.request_timeout", srv.request_timeout),
        ] {
            if d.is_zero() {
                bail!("{key} must be longer than 0s");
            }
        }
        if srv.body_read_timeout >= srv.request_timeout {
            bail!(
                "server.body_read_timeout ({}) must be shorter than server.request_timeout ({}): a slow body is answered 408 before the request times out",
                humantime::format_duration(srv.body_read_timeout),
                humantime::format_duration(srv.request_timeout)
            );
        }
        match self.storage.backend {
            Backend::Sqlite => {
                if self.storage.sqlite.path.as_os_str().is_empty() {
                    bail!("storage.sqlite.path must not be empty");
                }
            }
            Backend::Postgres => {
                let pg = &self.storage.postgres;
                if pg.url.is_empty() && pg.url_file.is_empty() && std::env::var("PGHOST").is_err() {
                    bail!(
                        "storage.backend is postgres but neither storage.postgres.url, storage.postgres.url_file nor PGHOST is set"
                    );
                }
                if pg.max_connections == 0 {
                    bail!("storage.postgres.max_connections must be at least 1");
                }
            }
            Backend::Mongodb => {
                let m = &self.storage.mongodb;
                if m.uri.is_empty() && m.uri_file.is_empty() {
                    bail!(
                        "storage.backend is mongodb but neither storage.mongodb.uri nor storage.mongodb.uri_file is set"
                    );
                }
            }
        }
        if !self.cache.redis_url.is_empty() {
            use redis::IntoConnectionInfo;
            self.cache
                .redis_url
                .as_str()
                .into_connection_info()
                .map_err(|e| anyhow::anyhow!("cache.redis_url: {e}"))?;
        }
        let rl = &self.rate_limit;
        if rl.enabled
            && [
                rl.reads_per_ip_per_minute,
                rl.read_burst,
                rl.writes_per_ip_per_minute,
                rl.write_burst,
                rl.writes_per_token_per_minute,
            ]
            .contains(&0)
        {
            bail!(
                "rate_limit: every rate and burst must be > 0 when rate_limit.enabled is true (turn the limiter off with rate_limit.enabled: false)"
            );
        }
        self.sync.validate()?;
        // A bare word that is not a level parses as a target name and silences every log: refuse it.
        const LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace", "off"];
        let bare_word = !self.log.level.contains(['=', ',', ':', '[']);
        if (bare_word && !LEVELS.contains(&self.log.level.to_ascii_lowercase().as_str()))
            || tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err()
        {
            bail!(
                "log.level: '{}' is not a level (error, warn, info, debug, trace) or a tracing filter",
                self.log.level
            );
        }
        Ok(())
    }

    /// The merged configuration as YAML with every secret value replaced, for `config print`.
    pub fn redacted_yaml(&self) -> String {
        let mut c = self.clone();
        for s in [
            &mut c.storage.postgres.url,
            &mut c.storage.postgres.migration_url,
            &mut c.storage.mongodb.uri,
            &mut c.cache.redis_url,
        ] {
            *s = redact_url(s);
        }
        serde_norway::to_string(&c).unwrap_or_default()
    }
}

/// Hide the password in a `scheme://user:password@host…` URL, also in forms `url` cannot parse
/// (multi-host MongoDB URIs): everything between the first `:` after `://` and the last `@` goes.
pub fn redact_url(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[start..];
    let Some(at) = rest.rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:REDACTED{}",
            &url[..start],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

/// Deep-merge `over` into `base` (objects merge key by key; everything else replaces).
fn merge(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Durations as humantime strings (`500ms`, `30s`, `5m`).
mod duration {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(|e| {
            serde::de::Error::custom(format!(
                "'{s}' is not a duration like 500ms, 30s or 5m ({e})"
            ))
        })
    }
}

#[cfg(test)]
mod tests;
