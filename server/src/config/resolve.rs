//! From a loaded [`Config`] to what the server runs with: every secret file read once, connection URLs
//! parsed, tokens hashed. `Config` stays the printable document without secret values (`config print`);
//! [`Settings`] holds the secrets and is never printed. Every error names the configuration key.

use super::{AuthConfig, Backend, Config, PostgresConfig, TokenConfig, read_secret_file};
use crate::auth::{Grant, TokenSet, sha256_hex};
use sqlx::postgres::PgConnectOptions;
use std::path::PathBuf;
use std::str::FromStr;

/// A configuration with its secrets loaded: built once at start by [`Config::resolve`].
pub struct Settings {
    pub config: Config,
    pub store: StoreTarget,
    pub redis: Option<RedisTarget>,
    pub tokens: TokenSet,
    /// The enabled token exchanges (`auth.exchanges`), if any.
    pub exchanges: Option<std::sync::Arc<crate::auth::exchange::Exchanges>>,
}

/// Where the store lives, with credentials.
pub enum StoreTarget {
    Sqlite {
        path: PathBuf,
    },
    Postgres {
        app: Box<PgConnectOptions>,
        /// Options for migrations when they run as another role (`migration_url`/`migration_password_file`).
        migration: Option<Box<PgConnectOptions>>,
        max_connections: u32,
        connect_timeout: std::time::Duration,
    },
    Mongo {
        uri: String,
        password: Option<String>,
        database: String,
        connect_timeout: std::time::Duration,
    },
}

pub struct RedisTarget {
    pub url: String,
    pub password: Option<String>,
}

impl Config {
    /// Read every secret file the configuration names, parse the connection URLs and hash the tokens.
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let store = store_target(&self)?;
        let c = &self.cache;
        let redis = (!c.redis_url.is_empty())
            .then(|| -> anyhow::Result<RedisTarget> {
                Ok(RedisTarget {
                    url: c.redis_url.clone(),
                    password: optional_secret("cache.redis_password_file", &c.redis_password_file)?,
                })
            })
            .transpose()?;
        let mut tokens = TokenSet::new(grants(&self.auth)?, self.auth.dev_mode);
        let (keys, exchanges) = crate::auth::setup::build(&self)?;
        if let Some(keys) = keys {
            tokens = tokens.with_registry_tokens(keys);
        }
        Ok(Settings {
            config: self,
            store,
            redis,
            tokens,
            exchanges,
        })
    }
}

fn optional_secret(key: &str, file: &str) -> anyhow::Result<Option<String>> {
    (!file.is_empty())
        .then(|| read_secret_file(key, file))
        .transpose()
}

/// A URL given inline or, preferably, in a secret file (which wins when both are set).
fn url_from(inline: &str, file_key: &str, file: &str) -> anyhow::Result<Option<String>> {
    Ok(
        optional_secret(file_key, file)?
            .or_else(|| (!inline.is_empty()).then(|| inline.to_owned())),
    )
}

fn store_target(config: &Config) -> anyhow::Result<StoreTarget> {
    let s = &config.storage;
    Ok(match s.backend {
        Backend::Sqlite => StoreTarget::Sqlite {
            path: s.sqlite.path.clone(),
        },
        Backend::Postgres => {
            let (app, migration) = postgres_options(&s.postgres)?;
            StoreTarget::Postgres {
                app: Box::new(app),
                migration: migration.map(Box::new),
                max_connections: s.postgres.max_connections,
                connect_timeout: s.connect_timeout,
            }
        }
        Backend::Mongodb => {
            let m = &s.mongodb;
            StoreTarget::Mongo {
                uri: url_from(&m.uri, "storage.mongodb.uri_file", &m.uri_file)?.ok_or_else(
                    || {
                        anyhow::anyhow!(
                            "storage.mongodb.uri or storage.mongodb.uri_file is required"
                        )
                    },
                )?,
                password: optional_secret("storage.mongodb.password_file", &m.password_file)?,
                database: m.database.clone(),
                connect_timeout: s.connect_timeout,
            }
        }
    })
}

/// libpq-style options: URL (inline or file), then the password file; what the URL leaves out comes from
/// `PGHOST`/`PGUSER`/… and the password, failing all else, from `PGPASSWORD`, `PGPASSFILE` or `~/.pgpass`.
fn postgres_options(
    pg: &PostgresConfig,
) -> anyhow::Result<(PgConnectOptions, Option<PgConnectOptions>)> {
    let parse =
        |url: Option<&str>, pw_key: &str, pw_file: &str| -> anyhow::Result<PgConnectOptions> {
            let mut o = match url {
                Some(u) => PgConnectOptions::from_str(u).map_err(|e| {
                    anyhow::anyhow!("invalid PostgreSQL URL ({}): {e}", super::redact_url(u))
                })?,
                None => PgConnectOptions::new(),
            };
            if let Some(pw) = optional_secret(pw_key, pw_file)? {
                o = o.password(&pw);
            }
            Ok(o.application_name("mcp-registry"))
        };
    let app_url = url_from(&pg.url, "storage.postgres.url_file", &pg.url_file)?;
    let app = parse(
        app_url.as_deref(),
        "storage.postgres.password_file",
        &pg.password_file,
    )?;
    let mig_url = url_from(
        &pg.migration_url,
        "storage.postgres.migration_url_file",
        &pg.migration_url_file,
    )?;
    let migration = if mig_url.is_some() || !pg.migration_password_file.is_empty() {
        Some(parse(
            mig_url.as_deref().or(app_url.as_deref()),
            "storage.postgres.migration_password_file",
            &pg.migration_password_file,
        )?)
    } else {
        None
    };
    Ok((app, migration))
}

/// The token entries of `auth.tokens` and `auth.tokens_file`, checked and hashed.
fn grants(c: &AuthConfig) -> anyhow::Result<Vec<Grant>> {
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
        let origin = format!("auth.tokens_file {}:", c.tokens_file);
        entries.extend(more.into_iter().map(|t| (t, origin.clone())));
    }
    let mut grants: Vec<Grant> = Vec::with_capacity(entries.len());
    for (t, origin) in entries {
        let sha256 = token_hash(&t, &origin)?;
        if t.namespaces.is_empty() && !t.admin {
            anyhow::bail!(
                "{origin} token '{}' grants nothing: give it namespaces or admin: true",
                t.name
            );
        }
        if grants.iter().any(|g| g.sha256 == sha256) {
            anyhow::bail!(
                "{origin} token '{}' has the same secret as another token",
                t.name
            );
        }
        grants.push(Grant {
            name: t.name,
            sha256,
            namespaces: t.namespaces,
            admin: t.admin,
        });
    }
    Ok(grants)
}

fn token_hash(t: &TokenConfig, origin: &str) -> anyhow::Result<[u8; 32]> {
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
    hex::decode(&hex_hash)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| anyhow::anyhow!("{label}: sha256 must be 64 hex characters"))
}
