//! `mcp-registry publish`: publish a server.json from an image without a shell, curl or the Go CLI — a
//! Kubernetes Job with a projected service-account token (`--oidc-token-file`, exchanged at
//! `/v0/auth/oidc` first), or a static/registry token (`--token-file`).

use mcp_registry_client::RegistryClient;
use reqwest::Method;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug, Clone)]
pub struct PublishArgs {
    /// The server.json to publish.
    pub file: PathBuf,
    /// Base URL of the registry.
    #[arg(long)]
    pub registry: String,
    /// A bearer token in a file (static or registry token).
    #[arg(long, conflicts_with = "oidc_token_file")]
    pub token_file: Option<PathBuf>,
    /// An identity token in a file (a projected service-account token), exchanged at /v0/auth/oidc.
    #[arg(long)]
    pub oidc_token_file: Option<PathBuf>,
}

fn read(path: &PathBuf, what: &str) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{what} {}: {e}", path.display()))?
        .trim()
        .to_owned())
}

fn explain(status: reqwest::StatusCode, body: &Value) -> String {
    let reason = body["errors"][0]["message"].as_str().unwrap_or_default();
    let detail = body["detail"].as_str().unwrap_or_default();
    match reason {
        "" => format!("HTTP {}: {detail}", status.as_u16()),
        r => format!("HTTP {}: {detail}: {r}", status.as_u16()),
    }
}

pub async fn publish(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let doc: Value = serde_json::from_str(&read(&args.file, "server.json")?)
        .map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", args.file.display()))?;
    let client = RegistryClient::new(args.registry.clone(), None, Duration::from_secs(30))?;
    let token = match (&args.token_file, &args.oidc_token_file) {
        (Some(f), _) => read(f, "token file")?,
        (None, Some(f)) => {
            let identity = read(f, "OIDC token file")?;
            let r = client
                .send(
                    Method::POST,
                    "/v0/auth/oidc",
                    None,
                    Some(&json!({"oidc_token": identity})),
                )
                .await?;
            if !r.status.is_success() {
                eprintln!(
                    "error: token exchange refused: {}",
                    explain(r.status, &r.body)
                );
                return Ok(ExitCode::FAILURE);
            }
            r.body["registry_token"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("the exchange answered without registry_token"))?
                .to_owned()
        }
        (None, None) => anyhow::bail!("give --token-file or --oidc-token-file"),
    };
    let r = client
        .send(Method::POST, "/v0/publish", Some(&token), Some(&doc))
        .await?;
    if !r.status.is_success() {
        eprintln!("error: publish refused: {}", explain(r.status, &r.body));
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "published {}@{}",
        r.body["server"]["name"].as_str().unwrap_or("?"),
        r.body["server"]["version"].as_str().unwrap_or("?")
    );
    Ok(ExitCode::SUCCESS)
}
