//! Command line: `serve`, `migrate`, `import`, `validate`, `healthcheck`, `smoke`, `publish`, `config`, `token`,
//! `version`. Each subcommand is a small function over the same configuration and application builder.

mod client;
mod import;
mod publish;
mod sync;

use crate::config::{Backend, Config, LogFormat, Overrides};

use crate::{app, serve};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "mcp-registry",
    version,
    about = "A self-hosted MCP server registry (official MCP Registry API v0.1)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    /// YAML config file (default: $MCP_REGISTRY_CONFIG, else built-in defaults).
    #[arg(long, short = 'c', value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the registry HTTP server.
    Serve {
        #[command(flatten)]
        config: ConfigArgs,
        /// Address to listen on (overrides server.listen).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Storage backend (overrides storage.backend).
        #[arg(long, value_name = "sqlite|postgres|mongodb")]
        backend: Option<Backend>,
        /// SQLite database file (overrides storage.sqlite.path).
        #[arg(long, value_name = "FILE")]
        sqlite_path: Option<PathBuf>,
        /// Accept any bearer token as admin (local development only).
        #[arg(long)]
        dev_auth: bool,
        /// Keep in sync with this MCP registry (adds a `registry` source named `upstream` to sync.sources).
        #[arg(long, value_name = "URL")]
        upstream: Option<String>,
    },
    /// Run the configured sync sources (sync.sources) and print each run's report.
    Sync {
        #[command(flatten)]
        config: ConfigArgs,
        /// Run once and exit (the only mode: the server schedules runs itself).
        #[arg(long, required = true)]
        once: bool,
        /// Only this source.
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Like `serve --upstream`: sync from this registry as source `upstream`.
        #[arg(long, value_name = "URL")]
        upstream: Option<String>,
    },
    /// Apply or inspect database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Bulk-load a JSON array of server.json documents from a file or an http(s) URL.
    Import(import::ImportArgs),
    /// Validate a server.json file as POST /v0.1/validate would; exit 1 when invalid.
    Validate {
        /// The server.json file ('-' for stdin).
        file: PathBuf,
    },
    /// Exit 0 when URL answers 2xx (for probes and helm test hooks in images without curl).
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:8080/readyz")]
        url: String,
        /// Give up after this long.
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        timeout: std::time::Duration,
    },
    /// Run an API smoke test against a running registry; exit non-zero on the first failure.
    Smoke(client::SmokeArgs),
    /// Publish a server.json with a token file, or an identity token exchanged at /v0/auth/oidc.
    Publish(publish::PublishArgs),
    /// Check or print the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Token helpers.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Print version and build information.
    Version,
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum MigrateAction {
    /// Apply pending migrations (idempotent; safe to run concurrently).
    Up,
    /// Show applied and pending migrations; exit 1 when some are pending.
    Status,
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum ConfigAction {
    /// Load and validate the configuration (including secret files) without starting.
    Check,
    /// Print the merged configuration with secrets redacted.
    Print,
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum TokenAction {
    /// Read a token on stdin and print the sha256 to put in auth.tokens.
    Hash,
}

fn init_logging(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn load(config: &ConfigArgs, overrides: &Overrides) -> anyhow::Result<Config> {
    Config::load(config.config.as_deref(), overrides)
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            config,
            listen,
            backend,
            sqlite_path,
            dev_auth,
            upstream,
        } => {
            let overrides = Overrides {
                listen,
                backend,
                sqlite_path,
                dev_auth,
                upstream,
            };
            let config = load(&config, &overrides)?;
            init_logging(config.log.format, &config.log.level);
            tracing::info!(
                listen = %config.server.listen,
                backend = ?config.storage.backend,
                version = env!("CARGO_PKG_VERSION"),
                "starting mcp-registry"
            );
            // Migrate (when configured) before listening, so nothing accepts connections it cannot answer.
            let listen = config.server.listen.clone();
            let state = app::build_state(config.resolve()?).await?;
            let listener = serve::bind(&listen).await?;
            serve::run(state, listener, serve::termination_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { action, config } => {
            let config = load(&config, &Overrides::default())?;
            init_logging(LogFormat::Text, "warn");
            let store = app::open_store(&config.resolve()?.store).await?;
            match action {
                MigrateAction::Up => {
                    let applied =
                        app::migrate_with_retry(&store, std::time::Duration::from_secs(60)).await?;
                    if applied.is_empty() {
                        println!("{}: schema is current; nothing to apply", store.backend());
                    } else {
                        println!("{}: applied migrations {applied:?}", store.backend());
                    }
                    Ok(ExitCode::SUCCESS)
                }
                MigrateAction::Status => {
                    let s = store.schema_state().await?;
                    for v in &s.known {
                        let state = if s.applied.contains(v) {
                            "applied"
                        } else {
                            "pending"
                        };
                        println!("{v}  {state}");
                    }
                    Ok(if s.is_current() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    })
                }
            }
        }
        Command::Import(args) => import::run(args).await,
        Command::Sync {
            config,
            once: _,
            source,
            upstream,
        } => {
            let overrides = Overrides {
                upstream,
                ..Overrides::default()
            };
            let config = load(&config, &overrides)?;
            init_logging(LogFormat::Text, "warn");
            sync::run_once(config, source.as_deref()).await
        }
        Command::Validate { file } => client::validate_file(&file),
        Command::Healthcheck { url, timeout } => client::healthcheck(&url, timeout).await,
        Command::Smoke(args) => client::smoke(args).await,
        Command::Publish(args) => publish::publish(args).await,
        Command::Config { action, config } => {
            let config = load(&config, &Overrides::default())?;
            match action {
                ConfigAction::Check => {
                    let backend = config.storage.backend;
                    // Reads every secret file too: a check that passes means `serve` can start.
                    config.resolve()?;
                    println!("configuration is valid (storage: {backend:?})");
                }
                ConfigAction::Print => print!("{}", config.redacted_yaml()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            action: TokenAction::Hash,
        } => {
            let mut token = String::new();
            std::io::stdin().read_line(&mut token)?;
            let token = token.trim(); // as the server trims the bearer value
            if token.is_empty() {
                anyhow::bail!("no token on stdin");
            }
            println!("{}", crate::auth::sha256_hex(token));
            Ok(ExitCode::SUCCESS)
        }
        Command::Version => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::api::ops::build_info())?
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
